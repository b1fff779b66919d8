"""Access-policy compliance: which warehouse roles can really read data carrying each classification label."""
