"""Fixtures of the catalog tests."""
