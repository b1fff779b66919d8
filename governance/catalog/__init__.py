"""Catalog sync: the glossary and classifications as code, planned and applied to a catalog backend."""
