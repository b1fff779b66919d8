"""A small hospital project, not SmartFlow's: other names (3- and 2-level), other partitioning (a month
string, two columns with a space and a slash in a value, none), undeclared columns and `${VAR}` paths."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIG = """\
version: 1
lake: {root: "${TRIAL_LAKE}"}
state_dir: state
datasets:
  hospital.clinical.admissions:
    format: delta
    path: clinical/admissions
    layer: silver
    partitioning: [admit_month]
    partition_grain: month
  clinical.lab_results:
    format: delta
    path: clinical/lab_results
    layer: silver
    partitioning: [lab_site, result_date]
  ref.patients:
    format: delta
    path: ref/patients
    layer: silver
catalog:
  backend: local
  mode: apply
  local: {path: state/catalog.db}
"""

GLOSSARY = """\
glossary: StMary
terms:
  - name: Clinical Event
    definition: Anything that happens to a patient in care.
    status: Approved
  - name: Admission
    definition: A patient's stay in a ward.
    status: Approved
    parent: Clinical Event
    synonyms: [Inpatient Stay]
    assigned_to: [hospital.clinical.admissions]
  - name: Lab Result
    definition: A measured laboratory value.
    status: Draft
    parent: Clinical Event
    assigned_to: [clinical.lab_results.value]
"""

CLASSIFICATIONS = """\
labels:
  - {name: PII, description: Patient identifiable data}
assignments:
  - dataset: ref.patients
    table: [PII]
    columns: {full_name: [PII]}
"""

SUITE = """\
suite: labs
dataset: clinical.lab_results
incremental: {partition: result_date}
expectations:
  - type: expect_column_values_to_be_between
    kwargs: {column: value, min_value: 0, max_value: 7, mostly: 0.9}
  - type: expect_column_values_to_exist_in
    kwargs: {column: admission_id, dataset: hospital.clinical.admissions, other_column: admission_id}
"""


def write_lake(root: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    utc = dt.UTC
    adm = [
        {
            "admission_id": f"A{d}{i}",
            "admitted_at": dt.datetime(2026, 11, d, 8 + i, tzinfo=utc),
            "admit_month": "2026-11",
        }
        for d in (1, 2)
        for i in range(3)
    ]
    write_deltalake(
        str(root / "clinical/admissions"), pa.Table.from_pylist(adm), partition_by=["admit_month"]
    )
    labs = pa.Table.from_pylist(
        [
            {
                "admission_id": f"A{d}{i}",
                "value": None if i == 1 else Decimal("4.125") + 2 * i,
                "measured_at": dt.datetime(2026, 11, d, 9, i),
                "lab_site": ["North Wing", "Lab A/B"][i % 2],
                "result_date": dt.date(2026, 11, d),
            }
            for d in (1, 2)
            for i in range(3)
        ],
        pa.schema(
            [
                ("admission_id", pa.string()),
                ("value", pa.decimal128(10, 3)),
                ("measured_at", pa.timestamp("us")),
                ("lab_site", pa.string()),
                ("result_date", pa.date32()),
            ]
        ),
    )
    write_deltalake(str(root / "clinical/lab_results"), labs, partition_by=["lab_site", "result_date"])
    patients = [{"patient_id": f"P{i}", "full_name": f"Jane Doe{i}"} for i in range(3)]
    write_deltalake(str(root / "ref/patients"), pa.Table.from_pylist(patients))


@pytest.fixture
def hospital(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project folder; its lake lives elsewhere, named only through ${TRIAL_LAKE}."""
    project = tmp_path / "project"
    for rel, text in {
        "smartflow.yaml": CONFIG,
        "glossary/clinical.yaml": GLOSSARY,
        "classifications/labels.yaml": CLASSIFICATIONS,
        "expectations/silver/labs.yaml": SUITE,
    }.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    lake = tmp_path / "elsewhere" / "lake"
    write_lake(lake)
    monkeypatch.setenv("TRIAL_LAKE", str(lake))
    return project
