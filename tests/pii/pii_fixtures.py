"""Helpers for PII discovery tests: small projects with seeded Delta datasets and the real rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from helpers import REPO

PROJECT_RULES = [p for p in sorted((REPO / "classifications").rglob("*.yaml")) if "rules:" in p.read_text()]
REFERENCE_RULES = REPO / "governance" / "pii" / "data" / "reference_rules.yaml"

# Known PII values seeded into datasets; the no-leak test searches every written byte for them.
SEEDED = {
    "email": ["zoe.vandermeer@example-mail.nl", "h.mueller77@posteo.de", "jean.dupont@orange.fr"],
    "phone": ["+44 7911 123456", "+31 6 12345678", "(206) 555-0142"],
    "card": ["4539 1488 0343 6467", "5555555555554444", "378282246310005"],
    "iban": ["GB82WEST12345698765432", "NL91ABNA0417164300", "DE89370400440532013000"],
    "name": ["Annemarie Kowalczyk", "Bartholomew Featherstone", "Henrike Oberhausen"],
    "ssn": ["536-22-8879", "219-45-6722", "401-33-1298"],
}


def write_project(
    root: Path,
    tables: dict[str, tuple[Any, str]],
    rules: list[Path] | None = None,
    assignments: str = "",
    extra_config: str = "",
) -> Path:
    """A project under `root`: each dataset (name → (arrow table, layer)) written as Delta."""
    from deltalake import write_deltalake

    (root / "classifications").mkdir(parents=True, exist_ok=True)
    for src in PROJECT_RULES if rules is None else rules:
        shutil.copy(src, root / "classifications" / src.name)
    if assignments:
        (root / "classifications" / "assignments.yaml").write_text(assignments)
    lines = ["version: 1", "lake: {root: lake}", "datasets:"]
    for name, (table, layer) in tables.items():
        path = name.replace(".", "/")
        write_deltalake(str(root / "lake" / path), table, mode="overwrite")
        lines.append(f"  {name}: {{format: delta, path: {path}, layer: {layer}}}")
    (root / "smartflow.yaml").write_text("\n".join(lines) + "\n" + extra_config)
    return root / "smartflow.yaml"


def seeded_table(rows: int = 300) -> Any:
    """Customers with PII in plain columns and in ticket text, plus clean columns."""
    import random

    import pyarrow as pa

    r = random.Random(5)
    pick = lambda key: [SEEDED[key][i % 3] for i in range(rows)]  # noqa: E731
    notes = [
        f"Customer wrote: please call me back, my mail is {SEEDED['email'][i % 3]} thanks"
        if i % 5 == 0
        else "Customer asked about the delivery window and the refund policy"
        for i in range(rows)
    ]
    return pa.table(
        {
            "customer_id": list(range(1, rows + 1)),
            "contact": pick("email"),
            "mobile_no": pick("phone"),
            "pan": pick("card"),
            "account": pick("iban"),
            "holder": pick("name"),
            "tax_ref": pick("ssn"),
            "notes": notes,
            "region": [r.choice(["north", "south", "east", "west", "central"]) for _ in range(rows)],
            "product_id": [f"P-{r.randint(0, 99999):05d}" for _ in range(rows)],
            "amount": [round(r.uniform(1, 500), 2) for _ in range(rows)],
        }
    )
