"""Fixtures of the catalog tests (defined in catalog_env.py)."""

from catalog_env import catalog_env, purview_env

__all__ = ["catalog_env", "purview_env"]
