"""The `lineage build --output json` shape (SPEC §4, with this tool's additions) as typed models.

Built by `governance.lineage.build.Graph.result`; `dump()` gives the JSON the CLI prints and
`state_dir/lineage/graph.json` holds: field order is the output's order, optional fields appear only when
set (`source_columns` of a job landing an external system, `job` of a problem). Edges use the JSON key
`from` (a Python keyword: the field is `source`). Unknown keys are kept (`extra="allow"`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Number = int | float


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, by_alias=True)


class LineageJob(_Model):
    job: str
    kind: str
    inputs: list[str]
    outputs: list[str]
    lineage: str  # sql | declared | identity_by_name | external_source | none
    note: str
    where: str
    source_columns: dict[str, str] | None = None  # output column -> source attribute (external roots)


class DatasetEdge(_Model):
    source: str = Field(alias="from")
    to: str
    job: str


class ColumnEdge(_Model):
    source: str = Field(alias="from")  # dataset.column
    to: str
    job: str
    transformation: str  # identity | transformation | aggregation | masking | filter
    subtype: str | None


class LineageProblem(_Model):
    kind: str  # unknown_dataset | cycle | orphan | unparsed_sql | …
    severity: str  # error | warning
    where: str
    message: str
    job: str | None = None


class DatasetCoverage(_Model):
    dataset: str
    layer: str
    jobs: list[str]
    columns: int
    covered: int
    percent: Number
    uncovered: list[str]


class LineageCoverage(_Model):
    percent: Number
    covered: int
    columns: int
    datasets: list[DatasetCoverage]


class PropagationFinding(_Model):
    kind: str
    dataset: str
    column: str
    layer: str
    labels: list[str]
    declared: list[str]
    inherited_from: list[str]
    where: str
    message: str


class LineageSummary(_Model):
    datasets: int
    jobs: int
    edges: int
    column_edges: int
    errors: int
    warnings: int
    coverage_percent: Number | None
    propagation_findings: int


class LineageBuild(_Model):
    datasets: list[str]
    jobs: list[LineageJob]
    edges: list[DatasetEdge]
    column_edges: list[ColumnEdge]
    problems: list[LineageProblem]
    coverage: LineageCoverage | dict[str, Any]  # empty before the graph is checked
    propagation: list[PropagationFinding]
    layers: dict[str, str]
    summary: LineageSummary
