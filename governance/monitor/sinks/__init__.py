"""Where metrics go besides the local history: Azure Monitor custom metrics and Log Analytics."""
