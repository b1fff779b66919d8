"""The one way this project talks to Azure: credential, HTTP transport, redaction."""
