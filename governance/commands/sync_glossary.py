"""`smartflow-gov sync-glossary [--plan|--apply] [--prune]`: glossary terms, hierarchy, stewards, assignments."""

from __future__ import annotations

from governance.commands.catalog_sync import sync_command

command = sync_command(
    "sync-glossary",
    "glossary",
    "Sync glossary terms, hierarchy, stewards/experts, synonyms, related terms and term assignments.",
)
