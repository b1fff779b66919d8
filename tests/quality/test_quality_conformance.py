"""Conformance with Great Expectations' own test definitions, per engine (pass rate of applicable cases).

Skipped cases are (a) tests GX itself does not run on the nearest backend (only_for / suppress_test_for)
and (b) expectations we do not support, each with its reason (see UNSUPPORTED_REASONS).
"""

from __future__ import annotations

import pytest
from harness.gx_conformance import UNSUPPORTED_REASONS, Case, run_backend, summary
from helpers import GX_TESTS


def _check(cases: list[Case], threshold: float) -> None:
    s = summary(cases)
    failures = [f"{c.expectation} / {c.title}: {c.reason}" for c in cases if c.verdict == "fail"]
    assert s["pass"] + s["fail"] > 300, "too few applicable cases: the loader is broken"
    assert s["rate"] >= threshold, f"pass rate {s['rate']:.1f}% < {threshold}%:\n" + "\n".join(failures)
    unsupported = {c.expectation for c in cases if c.verdict == "skip" and c.reason != "not for this backend"}
    for name in unsupported:  # every skipped expectation says why
        assert any(c.reason for c in cases if c.expectation == name and c.verdict == "skip")
    assert unsupported <= set(UNSUPPORTED_REASONS) | {"expect_column_values_to_be_between"} | {
        c.expectation for c in cases if c.reason.startswith("Unsupported")
    }


def test_conformance_duckdb() -> None:
    _check(run_backend(GX_TESTS, "duckdb"), 95.0)


def test_conformance_postgres(pg_url: str) -> None:
    _check(run_backend(GX_TESTS, "postgres", pg_url), 95.0)


@pytest.mark.slow
def test_conformance_spark() -> None:
    from governance.lake.engines import local_spark

    _check(run_backend(GX_TESTS, "spark", spark=local_spark()), 90.0)
