"""The first-name list behind the `person_name` validator: evidence that a value names a person.

Capitalisation alone cannot tell "Blue Widget" from "Anna Berg"; a known first name can. The list ships as
package data (data/first_names.json, built from Faker's person providers of Latin-script locales) so the
validator needs no extra runtime dependency. Rebuild it with `python -m governance.pii.names`.

Two Latin-script locales (fi_FI, cs_CZ) are deliberately left out so the evaluation set can measure how
the validator does on names it has never seen.
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "first_names.json"
HELD_OUT = ("fi_FI", "cs_CZ")
# the generic "en" provider is a raw name registry full of ordinary words (Red, North, Cash, London)
SKIPPED = ("en", *HELD_OUT)


def fold(text: str) -> str:
    """Lower-case without accents, so 'Zoë' and 'ZOE' meet 'zoe'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    return frozenset(json.loads(DATA.read_text(encoding="utf-8"))["first_names"])


def _latin(name: str) -> bool:
    return all(ch in " -'" or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")) for ch in name)


def build() -> list[str]:
    """Collect the first names of every Latin-script Faker locale except the held-out ones."""
    import importlib
    import pkgutil

    try:
        import faker.providers.person as person
    except ImportError as exc:  # a maintainer's tool: the shipped name list needs no faker at run time
        raise SystemExit("regenerating the name list needs faker: pip install 'smartflow-gov[dev]'") from exc

    names: set[str] = set()
    for info in pkgutil.iter_modules(person.__path__):
        if info.name in SKIPPED:
            continue
        provider = getattr(importlib.import_module(f"{person.__name__}.{info.name}"), "Provider", None)
        if provider is None:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            value = next((b.__dict__[attr] for b in provider.__mro__ if attr in b.__dict__), None)
            if isinstance(value, dict | list | tuple):
                names.update(n for n in value if isinstance(n, str) and _latin(n))
    folded = {fold(part) for n in names for part in n.replace("-", " ").split() if len(part) > 1}
    return sorted(folded)


if __name__ == "__main__":
    found = build()
    DATA.write_text(
        json.dumps(
            {"source": "faker person providers", "held_out": list(HELD_OUT), "first_names": found},
            ensure_ascii=False,
            indent=0,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(found)} first names written to {DATA}")
