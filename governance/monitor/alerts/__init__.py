"""Alert rules as code: ARM plan/apply against Azure Monitor, and local evaluation with notifications."""
