"""Purview Unified Catalog as code: governance domains, terms, data products, critical data elements and
their relationships (SPEC §6.7) — desired state, deterministic ids, live read, plan, apply/prune, with the
embedded store (local_store) and the REST API (remote) behind one small interface."""
