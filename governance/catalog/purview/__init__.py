"""Microsoft Purview as a catalog backend, in three parts: `transport` (endpoints, api-version, the shared
Azure transport), `read` (live state, paged), `write` (applying a plan). `backend` joins them."""
