"""Validators: the checks a pattern match must also pass before it counts as PII.

A regular expression says "shaped like a card number"; a validator says "is one" (Luhn, mod-97, a real
calendar date, an assigned phone numbering plan, a national-id check digit). Each validator works on
one value at a time (`check`) and may add column-level evidence (`column_evidence`) for shapes that
single values cannot settle: a column of bare digits, 4-part version strings, recent dates.

Validators never log, store or return a value: they answer yes or no. A column-level check receives
every value the rule's pattern matched in the sample, confirmed or not.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from governance.pii.names import first_names, fold

_EDGE = "()[]{}<>\"',;:.!?*"


def clean(value: str) -> str:
    """A candidate without surrounding blanks and punctuation (matches found inside free text)."""
    return value.strip().strip(_EDGE).strip()


# ----------------------------------------------------------------------------------------------- email
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def email(value: str) -> bool:
    text = clean(value)
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if len(text) > 254 or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels):
        return False
    tld = labels[-1]
    return tld.isalpha() and 2 <= len(tld) <= 24


# ------------------------------------------------------------------------------------------------ luhn
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn(value: str) -> bool:
    """A payment card number: 12–19 digits in an issuer range (2–6, legacy JCB 1800/2131, Maestro 0604),
    the Luhn checksum, not one repeated digit."""
    text = clean(value)
    if not re.fullmatch(r"[0-9][0-9 -]{10,22}[0-9]", text):
        return False
    digits = re.sub(r"[ -]", "", text)
    if not 12 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    if digits[0] not in "23456" and not digits.startswith(("1800", "2131", "0604")):
        return False
    return luhn_ok(digits)


# ------------------------------------------------------------------------------------------------ iban
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_mod97(value: str) -> bool:
    """An IBAN: a known country's length and the ISO 13616 mod-97 check (remainder 1)."""
    text = re.sub(r"[ -]", "", clean(value)).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", text):
        return False
    expected = IBAN_LENGTHS.get(text[:2])
    if expected is None or len(text) != expected:
        return False
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ----------------------------------------------------------------------------------------------- phone
# ITU country calling codes (1–3 digits) in use.
_CC = {
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "211", "212", "213", "216", "218",
    "220", "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234",
    "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246", "248", "249", "250",
    "251", "252", "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266",
    "267", "268", "269", "290", "291", "297", "298", "299", "350", "351", "352", "353", "354", "355", "356",
    "357", "358", "359", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379", "380", "381",
    "382", "383", "385", "386", "387", "389", "420", "421", "423", "500", "501", "502", "503", "504", "505",
    "506", "507", "508", "509", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599", "670",
    "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683", "685", "686", "687",
    "688", "689", "690", "691", "692", "850", "852", "853", "855", "856", "880", "886", "960", "961", "962",
    "963", "964", "965", "966", "967", "968", "970", "971", "972", "973", "974", "975", "976", "977", "992",
    "993", "994", "995", "996", "998",
}  # fmt: skip
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}$", re.IGNORECASE)


def _nanp(ten: str) -> bool:
    """North American numbering plan: NPA [2-9][0-8]X and exchange [2-9]XX, neither an N11 code."""
    area, exchange = ten[:3], ten[3:6]
    return (
        ten[0] in "23456789"
        and ten[1] != "9"
        and area[1:] != "11"
        and exchange[0] in "23456789"
        and exchange[1:] != "11"
    )


def _national(cc: str, number: str) -> bool:
    """The national significant number (no trunk 0) of a few plans we know in detail; others by length."""
    n = len(number)
    if cc == "1":
        return n == 10 and _nanp(number)
    if number.startswith("0") and cc != "39":
        return False
    if cc == "44":
        return n in (9, 10) and number[0] in "1235789"
    if cc == "33":
        return n == 9
    if cc == "39":
        return 6 <= n <= 11  # Italian numbers keep their leading 0 in international form
    if cc == "31":
        return n == 9
    if cc == "49":
        return 6 <= n <= 13
    return 6 <= n <= 12


def phone(value: str) -> bool:
    """E.164 (+CC…, 00CC…) with a real country code, or a national number: NANP, or trunk-0 formats
    (UK, DE, FR, NL and other European plans). Extensions (x123) are allowed."""
    text = _EXTENSION.sub("", clean(value).replace("(0)", " "))
    if value.strip().startswith("+") and not text.startswith("+"):
        text = "+" + text
    if not _PHONE_CHARS.match(text) or text.count("+") > 1:
        return False
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or len(set(digits)) < 3:
        return False
    if text.startswith("+") or (digits.startswith("00") and not digits.startswith("000")):
        intl = digits[2:] if not text.startswith("+") else digits
        for size in (1, 2, 3):
            cc = intl[:size]
            if cc in _CC:
                return _national(cc, intl[size:])
        return False
    if len(digits) == 11 and digits[0] == "1":
        return _nanp(digits[1:])
    if len(digits) == 10 and digits[0] != "0":
        return _nanp(digits) or bool(re.fullmatch(r"3[1-9]\d{8}", digits))  # NANP, Italian mobile
    if len(digits) == 9 and re.fullmatch(r"[4-9]\d{2}[ .-]\d{3}[ .-]\d{3}", text):
        return True  # grouped 3-3-3 numbers without trunk prefix (PL, ES, PT mobiles)
    if digits[0] == "0" and digits[1] != "0":
        return 9 <= len(digits) <= 12
    return False


def _bare_digits_evidence(values: Sequence[str]) -> bool:
    """A column of bare digit strings is weak evidence of phones: most of them (80%) must pass, where
    random digits pass the numbering-plan checks about six times in ten."""
    bare = [v for v in values if clean(v).isdigit()]
    if len(bare) * 2 < len(values):
        return True
    return sum(phone(v) for v in bare) >= 0.8 * len(bare)


# ------------------------------------------------------------------------------------------ ip address
def ip_address(value: str) -> bool:
    """IPv4 with octets 0–255 (no leading zeros) or a proper IPv6 address (ipaddress decides)."""
    text = clean(value)
    if "/" in text or "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _not_version_strings(values: Sequence[str]) -> bool:
    """4-part version strings (1.2.3.4) are valid IPv4 addresses; real addresses use larger octets."""
    v4 = [clean(v) for v in values if clean(v).count(".") == 3]
    if len(v4) * 2 < len(values):
        return True
    large = sum(1 for v in v4 if max((int(p) for p in v.split(".") if p.isdigit()), default=0) >= 32)
    return large >= 0.25 * len(v4)


# ----------------------------------------------------------------------------------------- person name
_TITLES = {
    "mr", "mrs", "ms", "mx", "miss", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "mlle", "m", "dhr",
    "mevr", "pan", "pani", "sig", "sigra", "dott", "sr", "sra", "srta", "don", "dona", "ing", "mag",
}  # fmt: skip
_NAME_TOKEN = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?$")
_PARTICLES = {"van", "von", "der", "den", "de", "du", "da", "di", "del", "la", "le", "ter", "ten", "zu", "el"}


def person_name(value: str) -> bool:
    """A person's name: 1–5 name-shaped words ("Last, First" too) of which one is a known first name."""
    text = clean(value)
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first.strip()} {last.strip()}"
    # titles and degrees (Dr., Univ.Prof., Dipl.-Ing., B.Sc., pani) are dropped before judging the rest
    tokens = [t for t in text.split() if "." not in t.rstrip(".") and fold(t.rstrip(".")) not in _TITLES]
    if not 1 <= len(tokens) <= 5 or not all(_NAME_TOKEN.match(t) for t in tokens):
        return False
    words = [fold(t.rstrip(".")) for t in tokens]
    if not all(t[0].isupper() or fold(t) in _PARTICLES for t in tokens) and not text.isupper():
        return False
    known = first_names()
    return any(part in known for w in words for part in w.replace("-", " ").split() if part not in _PARTICLES)


# --------------------------------------------------------------------------------------- date of birth
_DATE_SHAPES = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?Z?)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
)


def parse_date(text: str) -> list[date]:
    """Every calendar date a string can mean (dd/mm and mm/dd are both tried)."""
    out: list[date] = []
    for shape, order in _DATE_SHAPES:
        m = shape.match(text)
        if not m:
            continue
        parts = dict(zip(order, (int(g) for g in m.groups()), strict=True))
        for d, mo in ((parts["d"], parts["m"]), (parts["m"], parts["d"])):
            try:
                out.append(date(parts["y"], mo, d))
            except ValueError:
                continue
    return out


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def date_of_birth(value: str, today: date | None = None) -> bool:
    """A real calendar date of someone aged 0 to 120 today."""
    now = today or date.today()
    return any(0 <= _age(d, now) <= 120 for d in parse_date(clean(value)))


def _birth_years_spread(values: Sequence[str]) -> bool:
    """Any recent date is a plausible birth date; a column of them is only if its years span decades and
    most of the people are over 16 (customers, employees). Signup, order and contract dates fail."""
    today = date.today()
    born = sorted(d for v in values for d in parse_date(clean(v))[:1] if 0 <= _age(d, today) <= 120)
    if not born:
        return False
    years = {d.year for d in born}
    needed = min(10, max(3, len(born) // 4))
    median_age = _age(born[len(born) // 2], today)
    return len(years) >= needed and max(years) - min(years) >= 15 and median_age >= 16


# ---------------------------------------------------------------------------------------- national id
_NINO_FIRST_BAD = set("DFIQUV")
_NINO_SECOND_BAD = set("DFIOQUV")
_NINO_PREFIX_BAD = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def us_ssn(text: str) -> bool:
    m = re.fullmatch(r"(\d{3})[- ](\d{2})[- ](\d{4})", text)
    if not m:
        return False
    area, group, serial = m.groups()
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return f"{area}{group}{serial}" not in ("078051120", "219099999", "123456789")


def uk_nino(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    m = re.fullmatch(r"([A-Z])([A-Z])\d{6}[A-D]", compact)
    if not m:
        return False
    first, second = m.groups()
    return (
        first not in _NINO_FIRST_BAD
        and second not in _NINO_SECOND_BAD
        and first + second not in _NINO_PREFIX_BAD
    )


def nl_bsn(text: str) -> bool:
    """Dutch BSN: 9 digits passing the 11-proof (weights 9..2 and -1)."""
    digits = re.sub(r"[ .]", "", text)
    if not re.fullmatch(r"\d{9}", digits) or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0


def fr_nir(text: str) -> bool:
    """French social security number (NIR): sex, birth year/month, place, order and a mod-97 key."""
    compact = re.sub(r"\s", "", text).upper()
    m = re.fullmatch(r"([12378])(\d{2})(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2[AB])(\d{3})(\d{3})(\d{2})", compact)
    if not m:
        return False
    body = compact[:13].replace("2A", "19").replace("2B", "18")
    return 97 - int(body) % 97 == int(m.group(7))


def es_dni(text: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): mod-23 control letter."""
    compact = re.sub(r"[\s-]", "", text).upper()
    m = re.fullmatch(r"([XYZ]?)(\d{7,8})([A-Z])", compact)
    if not m:
        return False
    prefix, number, letter = m.groups()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


def de_steuer_id(text: str) -> bool:
    """German tax id: 11 digits, no leading 0, ISO 7064 MOD 11,10 check digit, one digit repeated."""
    digits = re.sub(r"\s", "", text)
    if not re.fullmatch(r"[1-9]\d{10}", digits):
        return False
    counts = sorted((digits[:10].count(d) for d in set(digits[:10])), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] > 1):
        return False
    product = 10
    for ch in digits[:10]:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    check = (11 - product) % 10
    return check == int(digits[10])


NATIONAL_IDS: dict[str, Callable[[str], bool]] = {
    "us_ssn": us_ssn,
    "uk_nino": uk_nino,
    "nl_bsn": nl_bsn,
    "fr_nir": fr_nir,
    "es_dni": es_dni,
    "de_steuer_id": de_steuer_id,
}


def national_id(value: str) -> bool:
    """One of the national ids we can check: US SSN (formatted; area/group/serial rules), UK NINO
    (prefix rules), Dutch BSN (11-proof), French NIR (mod-97 key), Spanish DNI/NIE (mod-23 letter),
    German Steuer-ID (MOD 11,10). Bare 9-digit strings are tried as BSN only (random digits would pass
    the SSN rules nine times in ten)."""
    text = clean(value)
    return any(check(text) for check in NATIONAL_IDS.values())


# ------------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Validator:
    name: str
    check: Callable[[str], bool]
    column_evidence: Callable[[Sequence[str]], bool] | None = None
    description: str = ""


VALIDATORS: dict[str, Validator] = {
    v.name: v
    for v in (
        Validator("email", email, description="RFC 5321 shape, real domain labels and TLD"),
        Validator("luhn", luhn, description="payment card: issuer range, length, Luhn checksum"),
        Validator("iban_mod97", iban_mod97, description="IBAN: country length and mod-97"),
        Validator("phone", phone, _bare_digits_evidence, "E.164 or a national numbering plan"),
        Validator("ip_address", ip_address, _not_version_strings, "IPv4 octets or proper IPv6"),
        Validator("person_name", person_name, description="name-shaped words with a known first name"),
        Validator("date_of_birth", date_of_birth, _birth_years_spread, "real date, age 0-120"),
        Validator("national_id", national_id, description="SSN, NINO, BSN, NIR, DNI/NIE, Steuer-ID"),
    )
}


def validator(name: str) -> Validator:
    return VALIDATORS[name]
