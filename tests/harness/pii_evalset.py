"""A labelled evaluation set for PII discovery: Faker data in several locales, noise, and decoys.

Every column carries the kind of PII it holds (the validator names: email, phone, luhn, iban_mod97,
ip_address, person_name, date_of_birth, national_id) or None for a decoy / clean column. Column names are
neutral (f00, f01, …) so detection has to come from the data. Decoys are shaped to tempt the patterns:
phone-shaped order numbers, GUIDs, product codes, hashed e-mails, 4-part version strings, timestamps,
16-digit numbers that fail Luhn, IBAN-shaped strings that fail mod-97, recent dates, MAC addresses,
Faker city names built from first names, free text without PII.

Needs Faker (a development dependency); used by tests/pii and bench/pii.py.
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Gen = Callable[[Any, random.Random], Any]


@dataclass(frozen=True)
class EvalColumn:
    name: str
    kind: str | None  # validator name of the PII it holds, None for a decoy
    description: str
    generate: Gen
    in_text: bool = False


def _nino(_: Any, r: random.Random) -> str:
    first = r.choice([c for c in string.ascii_uppercase if c not in "DFIQUV"])
    second = r.choice([c for c in string.ascii_uppercase if c not in "DFIOQUV"])
    while first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        second = r.choice([c for c in string.ascii_uppercase if c not in "DFIOQUV"])
    digits = f"{r.randrange(10**6):06d}"
    return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {r.choice('ABCD')}"


def _luhn_fail(_: Any, r: random.Random) -> str:
    from governance.pii.validators import luhn_ok

    while True:
        digits = str(r.choice("3456")) + "".join(r.choice(string.digits) for _ in range(15))
        if not luhn_ok(digits):
            return digits


def _iban_fail(_: Any, r: random.Random) -> str:
    return "DE" + "".join(r.choice(string.digits) for _ in range(20))


def _spaced(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def _text(f: Any, r: random.Random, pii: Callable[[], str] | None, rate: float) -> str:
    body = f.paragraph(nb_sentences=r.randint(1, 3))
    if pii is not None and r.random() < rate:
        lead = r.choice(["Please contact me at", "You can reach me on", "My details:", "Write to"])
        return f"{body} {lead} {pii()}. {f.sentence()}"
    return body


def _recent(_: Any, r: random.Random) -> str:
    return (date(2026, 11, 1) - timedelta(days=r.randrange(730))).isoformat()


def _contract(_: Any, r: random.Random) -> str:
    return (date(2008, 1, 1) + timedelta(days=r.randrange(18 * 365))).isoformat()


def _columns() -> list[EvalColumn]:
    cols: list[tuple[str | None, str, Gen, bool]] = [
        # ---------------------------------------------------------------- e-mail
        ("email", "en_US email", lambda f, r: f.email(), False),
        ("email", "de_DE free e-mail", lambda f, r: f.free_email(), False),
        ("email", "fr_FR company e-mail", lambda f, r: f.company_email(), False),
        ("email", "nl_NL e-mail, odd case and blanks", lambda f, r: f"  {f.email().title()} ", False),
        ("email", "en_GB e-mail with 8% 'n/a'", lambda f, r: "n/a" if r.random() < 0.08 else f.email(), False),
        ("email", "support text with e-mails in 15%", lambda f, r: _text(f, r, f.email, 0.15), True),
        # ---------------------------------------------------------------- phone
        ("phone", "en_US phone", lambda f, r: f.phone_number(), False),
        ("phone", "en_GB phone", lambda f, r: f.phone_number(), False),
        ("phone", "de_DE phone", lambda f, r: f.phone_number(), False),
        ("phone", "fr_FR phone", lambda f, r: f.phone_number(), False),
        ("phone", "nl_NL phone", lambda f, r: f.phone_number(), False),
        ("phone", "it_IT phone", lambda f, r: f.phone_number(), False),
        ("phone", "es_ES phone", lambda f, r: f.phone_number(), False),
        ("phone", "en_GB E.164 mobile", lambda f, r: f"+44 7{r.randint(100, 999)} {r.randint(100000, 999999)}", False),
        ("phone", "chat text with phone numbers in 10%", lambda f, r: _text(f, r, f.phone_number, 0.10), True),
        # ---------------------------------------------------------------- payment cards
        ("luhn", "visa 16", lambda f, r: f.credit_card_number("visa16"), False),
        ("luhn", "mastercard", lambda f, r: f.credit_card_number("mastercard"), False),
        ("luhn", "amex", lambda f, r: f.credit_card_number("amex"), False),
        ("luhn", "mixed cards, grouped by 4", lambda f, r: _spaced(f.credit_card_number("visa16")), False),
        # ---------------------------------------------------------------- IBAN
        ("iban_mod97", "de_DE IBAN", lambda f, r: f.iban(), False),
        ("iban_mod97", "fr_FR IBAN grouped", lambda f, r: _spaced(f.iban()), False),
        ("iban_mod97", "nl_NL IBAN", lambda f, r: f.iban(), False),
        # ---------------------------------------------------------------- IP
        ("ip_address", "public IPv4", lambda f, r: f.ipv4_public(), False),
        ("ip_address", "private IPv4", lambda f, r: f.ipv4_private(), False),
        ("ip_address", "IPv6", lambda f, r: f.ipv6(), False),
        # ---------------------------------------------------------------- person names
        ("person_name", "en_US names", lambda f, r: f.name(), False),
        ("person_name", "en_GB names", lambda f, r: f.name(), False),
        ("person_name", "de_DE names (titles, degrees)", lambda f, r: f.name(), False),
        ("person_name", "fr_FR names", lambda f, r: f.name(), False),
        ("person_name", "nl_NL names", lambda f, r: f.name(), False),
        ("person_name", "es_ES names", lambda f, r: f.name(), False),
        ("person_name", "fi_FI names (held out of the first-name list)", lambda f, r: f.name(), False),
        ("person_name", "cs_CZ names (held out of the first-name list)", lambda f, r: f.name(), False),
        ("person_name", "en_US 'Last, First'", lambda f, r: f"{f.last_name()}, {f.first_name()}", False),
        # ---------------------------------------------------------------- dates of birth
        ("date_of_birth", "ISO dates of birth", lambda f, r: f.date_of_birth().isoformat(), False),
        ("date_of_birth", "dates of birth, adults", lambda f, r: f.date_of_birth(minimum_age=18, maximum_age=90), False),
        ("date_of_birth", "dd/mm/yyyy dates of birth", lambda f, r: f.date_of_birth().strftime("%d/%m/%Y"), False),
        # ---------------------------------------------------------------- national ids
        ("national_id", "US SSN", lambda f, r: f.ssn(), False),
        ("national_id", "Dutch BSN", lambda f, r: f.ssn(), False),
        ("national_id", "French NIR", lambda f, r: f.ssn(), False),
        ("national_id", "Spanish DNI", lambda f, r: f.nif(), False),
        ("national_id", "UK NINO", _nino, False),
        # ---------------------------------------------------------------- decoys
        (None, "order numbers shaped like phones (yyyy-nnn-nnnn)",
         lambda f, r: f"{r.randint(2019, 2026)}-{r.randint(100, 999)}-{r.randint(0, 9999):04d}", False),
        (None, "GUIDs", lambda f, r: str(uuid.UUID(int=r.getrandbits(128), version=4)), False),
        (None, "product codes", lambda f, r: f"P-{r.randint(0, 99999):05d}", False),
        (None, "SKUs", lambda f, r: f"SKU-{r.choice(string.ascii_uppercase)}{r.choice(string.ascii_uppercase)}-{r.randint(1000, 9999)}", False),
        (None, "sha256 of e-mails", lambda f, r: hashlib.sha256(f.email().encode()).hexdigest(), False),
        (None, "md5 of e-mails", lambda f, r: hashlib.md5(f.email().encode()).hexdigest(), False),
        (None, "version strings (4 parts)", lambda f, r: ".".join(str(r.randint(0, 20)) for _ in range(4)), False),
        (None, "version strings (3 parts)", lambda f, r: f"{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}", False),
        (None, "ISO timestamps", lambda f, r: f.date_time_between("-2y").isoformat(), False),
        (None, "16 random digits failing Luhn", _luhn_fail, False),
        (None, "10 random digits", lambda f, r: f"{r.randrange(10**10):010d}", False),
        (None, "IBAN-shaped, failing mod-97", _iban_fail, False),
        (None, "signup dates (last two years)", _recent, False),
        (None, "contract start dates since 2008", _contract, False),
        (None, "MAC addresses", lambda f, r: f.mac_address(), False),
        (None, "en_US city names", lambda f, r: f.city(), False),
        (None, "company names", lambda f, r: f.company(), False),
        (None, "street addresses", lambda f, r: f.street_address(), False),
        (None, "free text without PII", lambda f, r: f.paragraph(nb_sentences=3), False),
        (None, "text mentioning order numbers and versions",
         lambda f, r: f"Order {r.randint(2019, 2026)}-{r.randint(100, 999)}-{r.randint(0, 9999):04d} shipped with app {r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}", False),  # noqa: E501
        (None, "amounts", lambda f, r: f"{r.uniform(0.5, 5000):,.2f}", False),
        (None, "ISBN-13", lambda f, r: f.isbn13(), False),
        (None, "postcodes", lambda f, r: f.postcode(), False),
        (None, "job titles", lambda f, r: f.job(), False),
        (None, "colour names", lambda f, r: f.color_name(), False),
    ]  # fmt: skip
    return [
        EvalColumn(f"f{i:02d}", kind, desc, gen, in_text) for i, (kind, desc, gen, in_text) in enumerate(cols)
    ]


COLUMNS = _columns()
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "it_IT", "es_ES", "fi_FI", "cs_CZ"]


def _locale(desc: str) -> str:
    for loc in LOCALES:
        if desc.startswith(loc):
            return loc
    if "Dutch" in desc:
        return "nl_NL"
    if "French" in desc:
        return "fr_FR"
    if "Spanish" in desc:
        return "es_ES"
    if "UK" in desc or "en_GB" in desc:
        return "en_GB"
    return "en_US"


def generate(rows: int = 2000, seed: int = 7, null_rate: float = 0.05) -> Any:
    """The evaluation table (pyarrow) with `rows` rows; ~`null_rate` of each column is null."""
    import pyarrow as pa
    from faker import Faker

    data: dict[str, list[Any]] = {}
    for i, col in enumerate(COLUMNS):
        fake = Faker(_locale(col.description))
        fake.seed_instance(seed * 1000 + i)
        r = random.Random(seed * 1000 + i)
        values: list[Any] = []
        for _ in range(rows):
            values.append(None if r.random() < null_rate else col.generate(fake, r))
        data[col.name] = values
    return pa.table(data)


def labels() -> dict[str, str | None]:
    return {c.name: c.kind for c in COLUMNS}


def score(detected: dict[str, set[str]]) -> dict[str, dict[str, float]]:
    """Column-level precision and recall per kind and overall. `detected`: column → kinds detected."""
    truth = labels()
    kinds = sorted({k for k in truth.values() if k})
    out: dict[str, dict[str, float]] = {}
    tp_all = fp_all = fn_all = 0
    for kind in kinds:
        tp = sum(1 for c, k in truth.items() if k == kind and kind in detected.get(c, set()))
        fp = sum(1 for c, k in truth.items() if k != kind and kind in detected.get(c, set()))
        fn = sum(1 for c, k in truth.items() if k == kind and kind not in detected.get(c, set()))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        out[kind] = _pr(tp, fp, fn)
    out["overall"] = _pr(tp_all, fp_all, fn_all)
    return out


def _pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }
