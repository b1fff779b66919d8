"""The `pii scan --output json` shape (SPEC §4, with this tool's additions) as typed models.

Built by the PII service; `dump()` gives the JSON the CLI prints and `state_dir/pii/last_scan.json` holds:
field order is the output's order, and optional fields appear only when they were set. Numbers keep
their type (`int | float`), so a `minimum_match_percent: 80` from YAML stays `80` in the JSON. Counts
and names only: no model here has a field for a sampled value. Unknown keys of older stored scans are
kept (`extra="allow"`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Number = int | float


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PiiFinding(_Model):
    dataset: str
    column: str
    label: str
    rule: str | None
    match_percent: Number | None
    sample_size: int
    status: Literal["undeclared", "confirmed", "not_detected"]
    layer: str
    distinct_matches: int | None = None
    in_text: bool = False
    evidence: str | None = None  # data | text | column_name
    minimum_match_percent: Number | None = None
    estimated: bool = False


class PiiDatasetScan(_Model):
    dataset: str
    layer: str
    engine: str
    sample_size: int
    columns_scanned: int
    columns_skipped: int
    queries: int
    seconds: Number
    rows_per_second: Number | None
    error: str | None
    carried_from: str | None
    extended_from: str | None = None
    rows_scanned: int | None = None
    # files, of_files, rows, of_rows: the data files a sample was drawn from, when not all of them
    sampled_from: dict[str, int] | None = None


class PiiSummary(_Model):
    undeclared: int
    confirmed: int
    not_detected: int
    blocking: int
    datasets: int
    failed_datasets: int


class PiiSuggest(_Model):
    path: str
    assignments: int


class PiiScanRun(_Model):
    run_id: str
    started_at: str
    engine: str
    sample: int | None
    seed: int
    rules: list[str]
    findings: list[PiiFinding]
    datasets: list[PiiDatasetScan]
    summary: PiiSummary
    suggest: PiiSuggest | None = None
