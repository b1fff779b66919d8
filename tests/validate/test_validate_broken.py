"""validate on a broken copy of a small project: every seeded mistake, at its FILE:LINE, and nothing else.

The fixture (tests/fixtures/broken/) seeds mistakes of every kind: YAML syntax, duplicate keys, a file that
is not UTF-8, a directory named like a YAML file, a list where a mapping belongs, unknown keys, wrong types,
bad durations, invalid regexes, unknown datasets/columns/labels/terms/action groups/connections/metrics,
unknown expectation types and kwargs, duplicate names and a cycle in the term hierarchy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO, run_cli

from governance.validation import check

BROKEN = REPO / "tests" / "fixtures" / "broken"

EXPECTED = {
    "alerts/alerts.yaml:5: action group data-platform-oncall: a webhook must be an https:// URL or ${VAR} (secrets never in files)",
    "alerts/alerts.yaml:9: rule silver-transactions-quality: 'quality_succes_percent' is not a metric smartflow-gov emits (did you mean 'quality_success_percent'?)",
    "alerts/alerts.yaml:10: rule silver-transactions-quality: unknown dimension 'table' (one of: dataset, expectation, layer, suite)",
    "alerts/alerts.yaml:13: rule silver-transactions-quality: unknown action group 'data-platform-on-call' (did you mean 'data-platform-oncall'?)",
    "alerts/alerts.yaml:14: rules[1]: window PT5M is shorter than frequency PT15M",
    "alerts/alerts.yaml:25: rules[2].threshold: expected a number, got a string ('zero')",
    "alerts/alerts.yaml:26: rules[2].window: '1h' is not an ISO-8601 duration such as PT15M, PT2H or P1D",
    "alerts/alerts.yaml:34: rule glossary-coverage-low: a metric alert runs every PT1M, PT5M, PT15M, PT30M or PT1H, not PT6H",
    "classifications/assignments.yaml:3: dataset silver.customers has no column 'phone'",
    "classifications/assignments.yaml:3: silver.customers.name: unknown label 'Personal'",
    "classifications/assignments.yaml:4: unknown dataset 'silver.orders' (did you mean 'silver.customers'?)",
    "classifications/labels.yaml:7: rules[0].column_pattern: invalid regular expression '(?i)e[-_ ]?mail(': missing ), unterminated subpattern at position 15",
    "classifications/labels.yaml:12: rule SMARTFLOW.CARD: unknown label 'Financial'",
    "classifications/labels.yaml:14: rule SMARTFLOW.CARD: unknown validator 'luhn_check' (known: date_of_birth, email, iban_mod97, ip_address, luhn, national_id, person_name, phone)",
    "classifications/labels.yaml:17: silver.customers: unknown label 'Restricted'",
    "expectations/gold/latin1.yaml:3: not UTF-8 text (invalid continuation byte at byte 71)",
    "expectations/silver/silver_transactions.yaml:3: suite silver_transactions: incremental partition 'amount' is not a partition column of silver.transactions (busines_date)",
    "expectations/silver/silver_transactions.yaml:7: unknown expectation type 'expect_column_values_to_not_be_nul' (did you mean 'expect_column_values_to_not_be_null'?)",
    "expectations/silver/silver_transactions.yaml:10: expect_column_values_to_be_between: min_value 100000 is greater than max_value 0",
    "expectations/silver/silver_transactions.yaml:10: expect_column_values_to_be_between: mostly must be a number between 0 and 1",
    "expectations/silver/silver_transactions.yaml:12: expect_column_values_to_match_regex: unknown kwarg 'mostli' (did you mean 'mostly'?)",
    "expectations/silver/silver_transactions.yaml:12: invalid regular expression '^T[0-9]{12}($': missing ), unterminated subpattern at position 11",
    "expectations/silver/silver_transactions.yaml:14: dataset silver.transactions has no column 'payment_type'",
    "expectations/silver/silver_transactions.yaml:16: unknown dataset 'silver.customer' (did you mean 'silver.customers'?)",
    "expectations/silver/silver_transactions.yaml:18: expect_column_max_to_be_recent: max_lag: '26h' is not an ISO-8601 duration such as PT15M, PT2H or P1D",
    "expectations/silver/silver_transactions.yaml:19: duplicate expectation expect_column_values_to_be_unique (same kwargs as expectations/silver/silver_transactions.yaml:5)",
    "expectations/silver/silver_transactions.yaml:21: expectations[7].severity: expected 'error' or 'warn' (got 'fatal')",
    "glossary/terms.yaml:8: terms[1].status: expected 'Draft', 'Approved', 'Alert' or 'Expired' (got 'Final')",
    "glossary/terms.yaml:13: term 'Churn Risk': unknown related term 'Recency Score'",
    "glossary/terms.yaml:14: terms[2].synonyms: expected a list, got a string ('Attrition')",
    "glossary/terms.yaml:17: term 'Daily Revenue': unknown parent term 'Revenue Metric'",
    "glossary/terms.yaml:18: dataset silver.transactions has no column 'revenue'",
    "glossary/terms.yaml:18: unknown dataset or column 'gold.revenue' (did you mean 'gold.daily_revenue'?)",
    "glossary/terms.yaml:21: terms[4].stewards: 'stewards at smartflow' is not an e-mail address",
    "glossary/terms.yaml:22: cycle in the term hierarchy: Region -> Geography -> Region",
    "glossary/terms.yaml:26: duplicate term 'daily revenue' (first declared at glossary/terms.yaml:15)",
    "glossary/terms.yaml:30: term 'Sales Territory': synonym 'Region' is the name of another term (use related)",
    "manifests/not_a_file.yaml:1: is a directory, expected a YAML file",
    "manifests/silver_transactions.yaml:3: unknown dataset 'bronze.transaction' (did you mean 'bronze.transactions'?)",
    "manifests/silver_transactions.yaml:7: dataset bronze.transactions has no column 'customer_ref'",
    "manifests/syntax.yaml:4: YAML syntax error: while parsing a block mapping expected <block end>, but found '<block mapping start>'",
    "policies/access.yaml:1: expected a mapping (key: value) at the top of a policies file, got a list",
    "policies/extra.yaml:2: duplicate key 'connection' in the mapping starting at line 1",
    "policies/warehouse.yaml:1: unknown connection 'warehouse2' (did you mean 'warehouse'?)",
    "policies/warehouse.yaml:5: policy for Secret: no allowed_roles (list the roles)",
    "policies/warehouse.yaml:5: unknown label 'Secret'",
    "smartflow.yaml:3: lake: expected a mapping (key: value), got a string ('lake')",
    "smartflow.yaml:11: a mapping key must be a name, not null",
    "smartflow.yaml:16: unknown key 'colour' at datasets.silver.customers (expected one of: format, layer, path, connection, table, description, owner, partitioning, partition_grain, key, columns, freshness)",
    "smartflow.yaml:22: dataset silver.transactions has no column 'busines_date' (did you mean 'business_date'?)",
    "smartflow.yaml:25: datasets.silver.transactions.freshness.max_lag: '2 hours' is not an ISO-8601 duration such as PT15M, PT2H or P1D",
    "smartflow.yaml:28: dataset gold.daily_revenue: unknown connection 'warehous' (did you mean 'warehouse'?)",
}


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    """A copy, so that the directory named like a YAML file exists (git does not keep empty folders)."""
    dst = tmp_path / "broken"
    shutil.copytree(BROKEN, dst)
    (dst / "manifests" / "not_a_file.yaml").mkdir(exist_ok=True)
    return dst


def test_every_seeded_mistake_is_reported_once_at_its_line(broken: Path) -> None:
    proc = run_cli("--config", str(broken / "smartflow.yaml"), "validate", "--no-data")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"{len(EXPECTED)} problem(s); nothing was changed"
    assert set(lines[:-1]) == EXPECTED
    assert len(lines[:-1]) == len(EXPECTED)  # no line twice
    assert proc.stdout == ""


def test_service_function_returns_the_same_problems(broken: Path) -> None:
    _, problems = check(broken / "smartflow.yaml", check_data=False)
    assert {str(p) for p in problems} == EXPECTED


def test_fixing_a_mistake_removes_exactly_its_line(broken: Path) -> None:
    suite = broken / "expectations" / "silver" / "silver_transactions.yaml"
    suite.write_text(suite.read_text().replace("payment_type", "payment_method"))
    _, problems = check(broken / "smartflow.yaml", check_data=False)
    gone = EXPECTED - {str(p) for p in problems}
    assert gone == {
        "expectations/silver/silver_transactions.yaml:14: dataset silver.transactions has no column 'payment_type'"
    }
