"""`contract export | import` on the repo's own SmartFlow project: valid ODCS, faithful, and a no-op round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from helpers import REPO, SHARED, copy_project, run_cli
from jsonschema import Draft201909Validator, FormatChecker
from ruamel.yaml import YAML

ODCS = SHARED / "contracts" / "odcs"


def load(path: Path) -> Any:
    # dates and the like as strings, as the ODCS README validates
    return json.loads(json.dumps(YAML(typ="safe").load(path.read_text()), default=str))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("contracts")
    proc = run_cli("--output", "json", "contract", "export", "--out", str(out), check=0)
    assert len(json.loads(proc.stdout)["contracts"]) == len(list(out.glob("*.odcs.yaml")))
    return out


def prop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["schema"][0]["properties"] if p["name"] == name)


def test_every_exported_contract_of_the_project_is_valid_odcs(exported: Path) -> None:
    schema = json.loads((ODCS / "odcs-json-schema-v3.1.0.json").read_text())
    validator = Draft201909Validator(schema, format_checker=FormatChecker())
    files = sorted(exported.glob("*.odcs.yaml"))
    project = YAML(typ="safe").load((REPO / "smartflow.yaml").read_text())
    assert {f.name.removesuffix(".odcs.yaml") for f in files} == set(project["datasets"])
    for f in files:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(load(f))]
        assert not errors, (f.name, errors[:5])


def test_export_is_faithful_to_columns_labels_glossary_suite_freshness_and_stewards(exported: Path) -> None:
    doc = load(exported / "gold.customer360_view.odcs.yaml")
    assert (doc["apiVersion"], doc["kind"], doc["id"], doc["name"]) == (
        "v3.1.0",
        "DataContract",
        "gold-customer360_view",
        "gold.customer360_view",
    )
    project = YAML(typ="safe").load((REPO / "smartflow.yaml").read_text())
    declared = project["datasets"]["gold.customer360_view"]["columns"]
    obj = doc["schema"][0]
    assert [(p["name"], p["physicalType"]) for p in obj["properties"]] == list(declared.items())
    assert prop(doc, "lifetime_value")["logicalType"] == "number"
    assert prop(doc, "last_event_at")["logicalType"] == "timestamp"
    # one classification string: the most sensitive label; all labels kept beside it
    assert prop(doc, "email")["classification"] == "PII"
    lv = prop(doc, "lifetime_value")
    assert lv["classification"] == "Financial"  # sensitivity 6 beats Confidential's 5
    assert lv["customProperties"] == [{"property": "classifications", "value": ["Confidential", "Financial"]}]
    # critical data elements: key and PII columns
    assert [p["name"] for p in obj["properties"] if p["criticalDataElement"]] == [
        "customer_id",
        "name",
        "email",
    ]
    assert prop(doc, "customer_id")["primaryKey"] is True
    assert prop(doc, "region")["partitionKeyPosition"] == 1
    # glossary: business name and a definition URL relative to the contract file
    assert lv["businessName"] == "Customer Lifetime Value"
    url = lv["authoritativeDefinitions"][0]["url"]
    file, term = url.split("#")
    assert (exported / file).resolve() == (REPO / "glossary" / "customer_metrics.yaml").resolve()
    assert unquote(term) == "Customer Lifetime Value"
    # quality: library metrics where one fits, custom GX otherwise
    rules = {r["id"]: r for p in obj["properties"] for r in p.get("quality", [])}
    rules |= {r["id"]: r for r in obj.get("quality", [])}
    assert rules["customer_id_not_be_null"] | {} == {
        "id": "customer_id_not_be_null",
        "severity": "error",
        "type": "library",
        "metric": "nullValues",
        "mustBe": 0,
        "dimension": "completeness",
    }
    assert rules["region_be_in_set"]["arguments"] == {
        "validValues": ["north", "south", "east", "west", "central"]
    }
    assert rules["table_row_count_to_be_between"]["mustBeGreaterOrEqualTo"] == 1
    pair = rules["total_amount_pair_values_a_to_be_greater_than_b"]
    assert pair["type"] == "custom" and pair["engine"] == "greatExpectations"
    assert pair["severity"] == "warning"
    assert pair["implementation"]["kwargs"]["ignore_row_if"] == "either_value_is_missing"
    assert doc["team"]["members"][0] == {"username": "analytics@smartflow.example", "role": "owner"}
    assert {"username": "data-stewards@smartflow.example", "role": "steward"} in doc["team"]["members"]


def test_mostly_becomes_a_percent_threshold_without_float_noise_and_freshness_a_latency(
    exported: Path,
) -> None:
    doc = load(exported / "silver.transactions.odcs.yaml")
    rule = prop(doc, "product_id")["quality"][0]
    assert (rule["metric"], rule["mustBeLessOrEqualTo"], rule["unit"]) == ("invalidValues", 0.1, "percent")
    assert rule["arguments"] == {"pattern": "^P-[0-9]{5}$"}
    assert doc["slaProperties"] == [
        {"property": "latency", "value": 26, "unit": "h", "element": "silver.transactions.transaction_date"},
        {
            "property": "lateArrivalTolerance",
            "value": 6,
            "unit": "h",
            "element": "silver.transactions.business_date",
        },
    ]
    assert prop(doc, "transaction_id")["required"] is True and prop(doc, "transaction_id")["unique"] is True
    assert "required" not in prop(doc, "product_id")


def test_export_then_import_of_the_whole_project_is_a_noop_plan(exported: Path) -> None:
    proc = run_cli(
        "--output", "json", "contract", "import", *map(str, sorted(exported.glob("*.yaml"))), check=0
    )
    plan = json.loads(proc.stdout)
    assert plan["changes"] == [] and plan["files"] == [] and plan["problems"] == []
    assert len(plan["contracts"]) == len(list(exported.glob("*.yaml")))
    assert run_cli(
        "contract", "import", str(exported / "gold.customer360_view.odcs.yaml"), check=0
    ).stdout.startswith("no changes")


def edit(path: Path, change: Any) -> None:
    yaml = YAML()
    doc = yaml.load(path.read_text())
    change(doc)
    with path.open("w") as fh:
        yaml.dump(doc, fh)


def test_import_of_an_edited_contract_plans_then_writes_keeping_comments(tmp_path: Path) -> None:
    config = copy_project(tmp_path / "p")
    out = tmp_path / "c"
    run_cli(
        "--config",
        str(config),
        "contract",
        "export",
        "--dataset",
        "silver.transactions",
        "--out",
        str(out),
        check=0,
    )
    contract = out / "silver.transactions.odcs.yaml"

    def change(doc: Any) -> None:
        props = {p["name"]: p for p in doc["schema"][0]["properties"]}
        props["product_id"]["quality"] = []  # drop the product format rule
        props["region"]["required"] = True  # a new not-null
        props["region"]["classification"] = "confidential"  # label spelled by another team
        props["product_id"]["criticalDataElement"] = True
        doc["slaProperties"][0]["value"] = 3  # 3 h instead of 26 h
        doc["team"]["members"][0]["username"] = "sales-data@smartflow.example"

    edit(contract, change)
    suite_file = tmp_path / "p/expectations/silver/silver_transactions.yaml"
    before = suite_file.read_text()
    proc = run_cli("--config", str(config), "--output", "json", "contract", "import", str(contract), check=0)
    plan = json.loads(proc.stdout)
    assert suite_file.read_text() == before  # a plan writes nothing
    changed = {(c["kind"], c["action"], c["name"]) for c in plan["changes"]}
    assert ("expectation", "delete", "expect_column_values_to_match_regex(product_id)") in changed
    assert ("expectation", "create", "expect_column_values_to_not_be_null(region)") in changed
    assert ("assignment", "update", "silver.transactions.region") in changed
    assert ("critical", "update", "silver.transactions") in changed
    diff = "".join(f["diff"] for f in plan["files"])
    assert "+    freshness: {column: transaction_date, max_lag: PT3H, partition_column: business_date" in diff
    assert "+    owner: sales-data@smartflow.example" in diff
    assert "-      region: [Public]\n+      region: [Public, Confidential]" in diff

    run_cli("--config", str(config), "contract", "import", "--write", str(contract), check=0)
    after = suite_file.read_text()
    assert "# --- identity: exactly one row per transaction" in after  # comments survive
    assert "^P-[0-9]{5}$" not in after and "kwargs: {column: region}" in after
    run_cli("--config", str(config), "validate", check=0)
    again = json.loads(
        run_cli(
            "--config", str(config), "--output", "json", "contract", "import", str(contract), check=0
        ).stdout
    )
    assert again["changes"] == []  # second import: nothing left to do
    # and the project now exports what the edited contract said
    out2 = tmp_path / "c2"
    run_cli(
        "--config",
        str(config),
        "contract",
        "export",
        "--dataset",
        "silver.transactions",
        "--out",
        str(out2),
        check=0,
    )
    doc = load(out2 / "silver.transactions.odcs.yaml")
    assert prop(doc, "region")["required"] is True
    assert prop(doc, "product_id")["criticalDataElement"] is True
    assert doc["slaProperties"][0]["value"] == 3


def test_import_of_a_contract_for_an_undeclared_table_or_bad_yaml_is_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text("apiVersion: v3.1.0\nkind: DataContract\nschema: [\n")
    proc = run_cli("contract", "import", str(bad))
    assert proc.returncode == 2 and f"{bad}:" in proc.stderr and "Traceback" not in proc.stderr
    shutil.copy(ODCS / "examples" / "full-example.odcs.yaml", tmp_path / "x.odcs.yaml")
    proc = run_cli("contract", "import", str(tmp_path / "x.odcs.yaml"))
    assert proc.returncode == 2 and "no dataset for this contract" in proc.stderr


def test_bad_arguments_and_files_are_bad_input(tmp_path: Path) -> None:
    proc = run_cli("contract", "export", "--dataset", "gold.nope", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "unknown dataset 'gold.nope'" in proc.stderr
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").iterdir())  # nothing written
    suite = tmp_path / "suite.yaml"
    suite.write_text("suite: s\ndataset: silver.transactions\n")
    for command in ("import", "test"):
        proc = run_cli("contract", command, str(suite))
        assert proc.returncode == 2 and f"{suite}:1: not an ODCS data contract" in proc.stderr, proc.stderr
