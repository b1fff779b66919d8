"""Short fixed-width regexes run as GLOB on DuckDB (`dialects.fixed_glob`): the same strings match as with
RE2, lookalikes included, and a match_regex suite on a real Delta table gives the same results either way."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from delta_runs import duckdb_run
from deltalake import write_deltalake

from governance.lake import dialects
from governance.lake.dialects import fixed_glob
from governance.quality.runner import Spec

TRANSLATED = {
    "^DEV-[0-9]{5}$": "DEV-[0-9][0-9][0-9][0-9][0-9]",
    "^P-[0-9]{5}$": "P-[0-9][0-9][0-9][0-9][0-9]",
    "^T[0-9]{12}$": "T" + "[0-9]" * 12,
    "^[A-Z]{2}[0-9a-f]{3}$": "[A-Z][A-Z][0-9a-f][0-9a-f][0-9a-f]",
    "^[ab_]x:y/z@$": None,  # `_` is not a class member fixed_glob accepts
    "^ab$": "ab",
    "^$": "",
}
KEPT = [
    "DEV-[0-9]{5}$",  # not anchored at the start
    "^DEV-[0-9]{5}",  # not anchored at the end
    "^DEV-[0-9]{5}\\$",
    "^DEV-[0-9]+$",
    "^DEV-[0-9]{1,5}$",
    "^DEV-[0-9]{05}$",
    "^DEV.[0-9]{5}$",
    "^DEV-[^0-9]{5}$",
    "^DEV-[9-0]{5}$",
    "^DEV-[0-z]{5}$",
    "^DEV-[-0-9]{5}$",
    "^DEV-[0-9-]{5}$",
    "^DEV-\\d{5}$",
    "^(DEV)-[0-9]{5}$",
    "^DEV|PRD$",
    "^DEV-[0-9]{5}?$",
    "^DEV-[]0-9]{5}$",
    "^DEV-[0-9]{٥}$",
    "^a*b$",
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",  # 36 > 16 characters
    "^[0-9]{17}$",
]


def test_only_exactly_translatable_patterns_become_globs() -> None:
    for regex, glob in TRANSLATED.items():
        assert fixed_glob(regex) == glob, regex
    for regex in KEPT:
        assert fixed_glob(regex) is None, regex


def _lookalikes(rng: random.Random) -> list[str]:
    """Values near the patterns: right length and wrong character, case, blanks, newlines, NUL, Unicode
    digits and letters, GLOB's own metacharacters."""
    base = ["DEV-01234", "P-12345", "T000100000406", "AB1f9", "ab", ""]
    odd = list("aZ9-_ /@:*?[]\\\n\t\r\x00") + ["é", "٣", "１", "Ｄ", "\u00a0", "ß", "İ", "K"]
    values = set(base)
    for b in base:
        values |= {b.lower(), b.upper(), " " + b, b + " ", b + "\n", "\n" + b, b * 2, b[:-1], b[1:]}
        for i in range(len(b)):
            for c in odd:
                values.add(b[:i] + c + b[i + 1 :])
                values.add(b[:i] + c + b[i:])
    alphabet = "DEVPT-0123456789abfAF_ \n*?[é١"
    for n in range(1, 15):
        for _ in range(60):
            values.add("".join(rng.choice(alphabet) for _ in range(n)))
    return sorted(values)


def test_glob_matches_what_re2_matches() -> None:
    values = _lookalikes(random.Random(7))
    con = duckdb.connect()
    con.register("v", pa.table({"s": pa.array(values + [None], pa.string())}))
    for regex, glob in TRANSLATED.items():
        if glob is None:
            continue
        rows = con.execute("SELECT s, regexp_matches(s, ?), s GLOB ? FROM v", [regex, glob]).fetchall()
        differ = [r for r in rows if r[1] != r[2]]
        assert not differ, (regex, differ[:5])
        assert any(r[1] for r in rows) and any(r[1] is False for r in rows), regex  # both outcomes seen
    con.close()


SPECS = [
    Spec("expect_column_values_to_match_regex", {"column": "device", "regex": "^DEV-[0-9]{5}$"}),
    Spec(
        "expect_column_values_to_match_regex", {"column": "device", "regex": "^DEV-[0-9]{5}$", "mostly": 0.5}
    ),
    Spec("expect_column_values_to_not_match_regex", {"column": "device", "regex": "^DEV-[0-9]{5}$"}),
    Spec(
        "expect_column_values_to_match_regex_list",
        {"column": "device", "regex_list": ["^DEV-[0-9]{5}$", "^X$"]},
    ),
    Spec(
        "expect_column_values_to_match_regex_list",
        {"column": "device", "regex_list": ["^DEV-[0-9]{5}$", "^[A-Z]{3}-[0-9]{5}$"], "match_on": "all"},
    ),
    Spec("expect_column_values_to_not_match_regex_list", {"column": "device", "regex_list": ["^[a-z]{3}$"]}),
    Spec(
        "expect_column_values_to_match_regex", {"column": "code", "regex": "^[0-9]{3}$"}
    ),  # an integer column
]


@pytest.fixture(scope="module")
def delta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(11)
    looks = _lookalikes(rng)
    devices = [f"DEV-{i % 700:05d}" for i in range(3000)]  # few distinct values: dictionary-encoded
    devices += [None] * 40 + [looks[i] for i in range(0, len(looks), 7)]
    rng.shuffle(devices)
    codes = [rng.choice([7, 42, 123, 999, 1000, -12, None]) for _ in devices]
    path = tmp_path_factory.mktemp("regex") / "readings"
    table = pa.table(
        {
            "id": pa.array(range(len(devices)), pa.int64()),
            "device": pa.array(devices, pa.string()),
            "code": pa.array(codes, pa.int64()),
        }
    )
    write_deltalake(str(path), table)
    return path


def _run(delta: Path) -> tuple[list[tuple[bool, dict[str, Any]]], list[str]]:
    return duckdb_run(delta, SPECS)


def test_suites_give_the_regex_answer(delta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    globbed, sql = _run(delta)
    assert any(" GLOB 'DEV-[0-9][0-9][0-9][0-9][0-9]'" in q for q in sql)
    with monkeypatch.context() as m:
        m.setattr(dialects.DuckDB, "full_match", dialects.Dialect.full_match)
        regexed, plain_sql = _run(delta)
    assert not any("GLOB" in q for q in plain_sql)
    assert globbed == regexed
    counts = [r["unexpected_count"] for _, r in regexed]
    assert counts[0] > 0 and counts[2] > 0 and counts[-1] > 0, counts  # the lookalikes were caught
    assert all(r["partial_unexpected_list"] for _, r in regexed if r["unexpected_count"])


def test_every_class_range_kind_round_trips() -> None:
    """Each accepted range kind keeps its members: digits, lower and upper case letters."""
    con = duckdb.connect()
    for lo, hi in itertools.product("0a", "9z"):
        glob = fixed_glob(f"^[{lo}-{hi}]$")
        if lo.isdigit() != hi.isdigit():
            assert glob is None
            continue
        chars = [chr(c) for c in range(1, 256)]
        got = con.execute(
            "SELECT list(c ORDER BY c) FILTER (WHERE c GLOB ?) FROM unnest(?::VARCHAR[]) t(c)", [glob, chars]
        ).fetchone()
        want = con.execute(
            "SELECT list(c ORDER BY c) FILTER (WHERE regexp_matches(c, ?)) FROM unnest(?::VARCHAR[]) t(c)",
            [f"^[{lo}-{hi}]$", chars],
        ).fetchone()
        assert got == want and got[0], (lo, hi)
    con.close()
