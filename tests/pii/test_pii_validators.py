"""Validators and rule compilation: what counts as PII once a pattern matched."""

from __future__ import annotations

from datetime import date

import pytest

from governance.errors import InputError
from governance.pii import validators as v
from governance.pii.rules import compile_rules, pushdown, unanchored
from governance.specs.classifications import Rule


@pytest.mark.parametrize(
    "value", ["4111 1111 1111 1111", "5555555555554444", "378282246310005", "6011111111111117"]
)
def test_luhn_accepts_real_card_numbers(value: str) -> None:
    assert v.luhn(value)


@pytest.mark.parametrize("value", ["4111 1111 1111 1112", "1234567812345678", "0000000000000000", "99999"])
def test_luhn_rejects_checksum_failures_and_non_cards(value: str) -> None:
    assert not v.luhn(value)


@pytest.mark.parametrize(
    "value", ["GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300", "DE89370400440532013000"]
)
def test_iban_mod97_accepts(value: str) -> None:
    assert v.iban_mod97(value)


@pytest.mark.parametrize("value", ["GB82WEST12345698765433", "NL91ABNA041716430", "XX89370400440532013000"])
def test_iban_mod97_rejects_bad_check_length_or_country(value: str) -> None:
    assert not v.iban_mod97(value)


@pytest.mark.parametrize(
    "value",
    ["+1 206 555 0142", "(206) 555-0142", "+44 20 7946 0958", "+44(0)115 4960914", "06 12 34 56 78",
     "+33 1 83 41 77 76", "+49 30 901820", "020 7946 0958", "+31 6 12345678", "206.555.0142x123",
     "0031 20 555 1234", "+39 06 6982 1234", "612 345 678"],
)  # fmt: skip
def test_phone_accepts_e164_and_national_formats(value: str) -> None:
    assert v.phone(value)


@pytest.mark.parametrize(
    "value",
    ["2024-318-0042", "123-456-7890", "(911) 555-0142", "555-911-0142", "+999 123 4567", "1.2.3.4",
     "0000000000", "12345"],
)  # fmt: skip
def test_phone_rejects_order_numbers_and_impossible_plans(value: str) -> None:
    assert not v.phone(value)


def test_phone_column_of_bare_digits_needs_nearly_all_valid() -> None:
    phones = ["2065550142", "3125550199", "4155550123", "6465550177"] * 5
    random_digits = ["0123456789", "1987654321", "2065550142", "9995550000", "4155550123"] * 4
    check = v.VALIDATORS["phone"].column_evidence
    assert check is not None
    assert check(phones)
    assert not check(random_digits)


def test_ip_address_octets_ipv6_and_version_strings() -> None:
    assert v.ip_address("192.168.10.4") and v.ip_address("2001:db8::8a2e:370:7334")
    assert (
        not v.ip_address("256.1.1.1")
        and not v.ip_address("01.2.3.4")
        and not v.ip_address("00:1a:2b:3c:4d:5e")
    )
    check = v.VALIDATORS["ip_address"].column_evidence
    assert check is not None
    assert not check(["1.2.3.4", "4.17.21.3", "10.0.1.2", "3.12.1.0"])
    assert check(["10.0.13.200", "192.168.1.20", "172.16.40.9", "10.0.0.5"])


def test_date_of_birth_plausible_ages_and_real_dates() -> None:
    today = date(2026, 11, 28)
    assert v.date_of_birth("1984-02-29", today)
    assert v.date_of_birth("28/11/1950", today)
    assert not v.date_of_birth("1985-02-29", today)  # not a calendar date
    assert not v.date_of_birth("1890-01-01", today)  # 136 years old
    assert not v.date_of_birth("2027-01-01", today)  # not born yet


def test_date_of_birth_column_evidence_rejects_recent_and_business_dates() -> None:
    check = v.VALIDATORS["date_of_birth"].column_evidence
    assert check is not None
    births = [f"{1940 + i % 60}-0{1 + i % 9}-1{i % 9}" for i in range(100)]
    signups = [f"{2025 + i % 2}-0{1 + i % 9}-1{i % 9}" for i in range(100)]
    contracts = [f"{2008 + i % 18}-0{1 + i % 9}-1{i % 9}" for i in range(100)]
    assert check(births)
    assert not check(signups)
    assert not check(contracts)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("536-22-8879", True), ("000-12-3456", False), ("666-12-3456", False), ("912-12-3456", False),
     ("536-00-8879", False), ("536-22-0000", False),
     ("AB 12 34 56 C", True), ("ZZ 12 34 56 C", False), ("DA123456C", False), ("AB123456E", False),
     ("111222333", True), ("111222334", False),
     ("12345678Z", True), ("12345678A", False), ("X1234567L", True),
     ("1 84 12 76 451 089 46", True), ("1 84 12 76 451 089 47", False)],
)  # fmt: skip
def test_national_id_check_rules(value: str, expected: bool) -> None:
    assert v.national_id(value) is expected


def test_person_name_needs_a_known_first_name() -> None:
    for name in ["Anna de Vries", "Dr. Hans-Peter Müller", "Smith, John", "JEAN-PIERRE DUPONT", "Zoë Martin"]:
        assert v.person_name(name), name
    for decoy in ["Blue Widget", "Chief Executive Officer", "North Region", "the quick fox", "Lake 42"]:
        assert not v.person_name(decoy), decoy


def test_email_shapes() -> None:
    assert v.email("first.last+tag@mail.example.co.uk") and v.email("<a.b@c.de>")
    for bad in ["a@b", "lodash@4.17.21", "a@@b.com", "a b@c.com", "git@github.com:org/repo.git"]:
        assert not v.email(bad), bad


def test_pushdown_drops_lookarounds_and_marks_inexact() -> None:
    p = pushdown(r"(?<![\w-])\d{3}(?!\d)")
    assert p.pattern == r"\d{3}" and not p.exact
    q = pushdown(r"(?i)^e[-_ ]?mail$")
    assert q.case_insensitive and q.exact and q.pattern == "^e[-_ ]?mail$"
    assert pushdown(r"(?P<x>[a-z])\b").pattern == "([a-z])"


def test_unanchored_keeps_character_class_carets() -> None:
    assert unanchored(r"^[^@\s]+@x\.com$") == r"[^@\s]+@x\.com"
    assert unanchored(r"^a$|^b$") == "a|b"


def test_unknown_validator_is_a_bad_input() -> None:
    rule = Rule(name="X", label="PII", data_pattern="^x$", validator="crystal_ball")
    with pytest.raises(InputError, match="unknown validator 'crystal_ball'"):
        compile_rules([rule])


def test_free_text_match_needs_prose_and_a_valid_match() -> None:
    (rule,) = compile_rules([Rule(name="E", label="PII", data_pattern=r"[\w.+-]+@[\w-]+\.[a-z]{2,}",
                                  validator="email", free_text=True)])  # fmt: skip
    assert rule.text_match("Hello, please write to ann.berg@example.org soon")
    assert not rule.text_match("ann.berg@example.org")  # a whole value, not text
    assert not rule.text_match("Hello, please write to ann@@example.org soon")


def _all_rules() -> list[Rule]:
    from pii_fixtures import PROJECT_RULES, REFERENCE_RULES

    from governance.specs.classifications import ClassificationFile
    from governance.specs.yamlio import load_yaml, validate_model

    out: list[Rule] = []
    for path in [*PROJECT_RULES, REFERENCE_RULES]:
        doc, _ = load_yaml(path, path.parent)
        assert doc is not None
        model, problems = validate_model(ClassificationFile, doc)
        assert model is not None and not problems
        out += model.rules
    return out


def test_pushdown_only_widens_every_shipped_rule() -> None:
    """Whatever the exact Python pattern accepts, the engine's form accepts too (property test)."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    rules = [r for r in compile_rules(_all_rules()) if r.data_regex is not None]
    alphabet = st.sampled_from(list("0123456789 +-.()/:@_xAZaz") + ["ext", "gmail.com", "Anna", "DE", "GB"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(alphabet, max_size=24).map("".join))
    def check(text: str) -> None:
        for rule in rules:
            flags = re.IGNORECASE if rule.value_pushdown.case_insensitive else 0
            if rule.data_regex is not None and rule.data_regex.fullmatch(text.strip()):
                assert re.search(rule.value_pushdown.pattern, text.strip(), flags), (rule.name, text)
            if rule.text_regex is not None and rule.text_regex.search(text):
                assert re.search(rule.text_pushdown.pattern, text, flags), (rule.name, text)

    check()
    examples = ["+44 7911 123456", "536-22-8879", "ann.berg@example.org", "192.168.0.1", "1984-02-29"]
    for rule in rules:
        for text in examples:
            if rule.data_regex is not None and rule.data_regex.fullmatch(text):
                assert re.search(rule.value_pushdown.pattern, text), (rule.name, text)


def test_validators_never_raise_on_arbitrary_text() -> None:
    """A validator answers yes or no for any string (a crash would abort a dataset's scan)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("0123456789+-.()/:@_ xX,ABCDEZabcdez#") + ["ext", "00", "+44", "é"])

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.lists(alphabet, max_size=30).map("".join), min_size=1, max_size=6))
    def check(values: list[str]) -> None:
        for validator in v.VALIDATORS.values():
            for value in values:
                assert validator.check(value) in (True, False)
            if validator.column_evidence is not None:
                assert validator.column_evidence(values) in (True, False)

    check()
