"""Self-contained HTML (+ JSON) reports: the nightly quality report and the governance audit."""
