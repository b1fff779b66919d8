"""The shared request-body validator accepts the published examples and rejects broken bodies."""

from __future__ import annotations

import pytest
from azure_contracts import example_body, find_operation, validate_body, validate_request

DATAMAP = "purview/data-plane/Azure.Analytics.Purview.DataMap/stable/2023-09-01/purviewdatamap.json"
SCANNING = "purview/data-plane/Azure.Analytics.Purview.Scanning/stable/2023-09-01/scanningService.json"
INSIGHTS = "monitor/resource-manager/Microsoft.Insights/stable"
DM_EX = "purview/data-plane/Azure.Analytics.Purview.DataMap/stable/2023-09-01/examples"
TSP_EX = "purview/Azure.Analytics.Purview.DataMap/examples/2023-09-01"

EXAMPLES = [
    (DATAMAP, "POST", "/atlas/v2/glossary/term", f"{TSP_EX}/Glossary_CreateTerm.json"),
    (DATAMAP, "POST", "/atlas/v2/entity/bulk", f"{TSP_EX}/Entity_BulkCreateOrUpdate.json"),
    (
        DATAMAP,
        "POST",
        "/atlas/v2/entity/bulk/setClassifications",
        f"{DM_EX}/Entity_BulkSetClassifications.json",
    ),
    (DATAMAP, "POST", "/atlas/v2/types/typedefs", f"{DM_EX}/Type_BulkCreate.json"),
    (
        SCANNING,
        "PUT",
        "/classificationrules/ClassificationRule1",
        "purview/data-plane/Azure.Analytics.Purview.Scanning/stable/2023-09-01/examples/"
        "ClassificationRules_CreateOrUpdate.json",
    ),
    (
        f"{INSIGHTS}/2018-03-01/metricAlert_API.json",
        "PUT",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/metricAlerts/r1",
        f"{INSIGHTS}/2018-03-01/examples/createOrUpdateMetricAlertWithDimensions.json",
    ),
    (
        f"{INSIGHTS}/2018-03-01/metricAlert_API.json",
        "PUT",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/metricAlerts/r1",
        f"{INSIGHTS}/2018-03-01/examples/createOrUpdateMetricAlertSingleResource.json",
    ),
    (
        f"{INSIGHTS}/2023-12-01/scheduledQueryRule_API.json",
        "PUT",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/scheduledQueryRules/q1",
        f"{INSIGHTS}/2023-12-01/examples/createOrUpdateScheduledQueryRule.json",
    ),
    (
        f"{INSIGHTS}/2023-01-01/actionGroups_API.json",
        "PUT",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/ag1",
        f"{INSIGHTS}/2022-06-01/examples/createOrUpdateActionGroup.json",
    ),
]


@pytest.mark.parametrize("spec,method,path,example", EXAMPLES, ids=[e[3].rsplit("/", 1)[1] for e in EXAMPLES])
def test_published_examples_validate(spec: str, method: str, path: str, example: str) -> None:
    assert validate_request(spec, method, path, example_body(example)) == []


def test_operation_lookup_prefers_literal_paths_and_allows_base_path() -> None:
    op, schema = find_operation(
        DATAMAP, "POST", "/datamap/api/atlas/v2/glossary/terms?api-version=2023-09-01"
    )
    assert op["operationId"] == "Glossary_CreateTerms"
    assert schema is not None
    op, schema = find_operation(DATAMAP, "GET", "/atlas/v2/glossary/abc/detailed")
    assert op["operationId"] == "Glossary_GetDetailed" and schema is None
    with pytest.raises(LookupError):
        find_operation(DATAMAP, "PATCH", "/atlas/v2/glossary/terms")


def test_broken_bodies_fail() -> None:
    term = example_body(f"{TSP_EX}/Glossary_CreateTerm.json")
    term["status"] = "Retired"  # not a TermStatus
    term["contacts"] = {"Steward": {"id": "x"}}  # must be an array of ContactInfo
    errors = validate_body(DATAMAP, "AtlasGlossaryTerm", term)
    assert any("status" in e for e in errors) and any("contacts" in e for e in errors)

    headers = {"guidHeaderMap": {"g1": {"classifications": "PII"}}}
    assert validate_request(DATAMAP, "POST", "/atlas/v2/entity/bulk/setClassifications", headers)

    entities = {"entities": [{"typeName": "column", "attributes": [], "status": "GONE"}]}
    assert len(validate_request(DATAMAP, "POST", "/atlas/v2/entity/bulk", entities)) >= 2

    assert validate_request(DATAMAP, "POST", "/atlas/v2/glossary/terms/t1/assignedEntities", [{"guid": 5}])


def test_discriminated_subtypes_are_checked_by_kind() -> None:
    rule = example_body(
        "purview/data-plane/Azure.Analytics.Purview.Scanning/stable/2023-09-01/examples/"
        "ClassificationRules_CreateOrUpdate.json"
    )
    assert validate_body(SCANNING, "ClassificationRule", rule) == []
    rule["properties"]["minimumPercentageMatch"] = "sixty"
    rule["properties"]["ruleStatus"] = "On"
    errors = validate_body(SCANNING, "ClassificationRule", rule)
    assert any("minimumPercentageMatch" in e for e in errors) and any("ruleStatus" in e for e in errors)

    alert = example_body(f"{INSIGHTS}/2018-03-01/examples/createOrUpdateMetricAlertWithDimensions.json")
    crit = alert["properties"]["criteria"]
    crit["allOf"][0]["operator"] = "Bigger"
    errors = validate_body(f"{INSIGHTS}/2018-03-01/metricAlert_API.json", "MetricAlertResource", alert)
    assert errors and any("operator" in e for e in errors)
    del alert["properties"]["criteria"]["allOf"][0]["metricName"]
    crit["allOf"][0]["operator"] = "GreaterThan"
    errors = validate_body(f"{INSIGHTS}/2018-03-01/metricAlert_API.json", "MetricAlertResource", alert)
    assert any("metricName" in e for e in errors)
