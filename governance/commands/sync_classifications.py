"""`smartflow-gov sync-classifications [--plan|--apply] [--prune]`: labels, assignments, detection rules."""

from __future__ import annotations

from governance.commands.catalog_sync import sync_command

command = sync_command(
    "sync-classifications",
    "classifications",
    "Sync labels as classification types, table/column classifications and detection rules.",
)
