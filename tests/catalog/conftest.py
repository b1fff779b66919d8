"""Fixtures of the catalog tests (defined in catalog_env.py and unified_env.py)."""

from catalog_env import catalog_env, purview_env
from unified_env import local_env, remote_env

__all__ = ["catalog_env", "local_env", "purview_env", "remote_env"]
