"""Registry of expectation implementations: one module per family, GX 1.x names."""

from __future__ import annotations

from governance.quality.expectations import column_aggregate, column_map, extensions, multicolumn, table
from governance.quality.expectations.base import Expectation

REGISTRY: dict[str, type[Expectation]] = {
    **column_map.IMPLS,
    **column_aggregate.IMPLS,
    **table.IMPLS,
    **multicolumn.IMPLS,
    **extensions.IMPLS,
}


def implementation(type_name: str) -> type[Expectation] | None:
    return REGISTRY.get(type_name)
