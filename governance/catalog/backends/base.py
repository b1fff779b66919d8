"""The one small interface every catalog backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from governance.catalog.model import CatalogState
from governance.catalog.plan import Change


@dataclass
class ProcessState:
    """A lineage process (one job): inputs and outputs by logical dataset name, column mapping as JSON."""

    name: str
    qualified_name: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    column_mapping: str = "[]"
    managed: bool = True

    def fields(self) -> dict[str, Any]:
        return {
            "qualified_name": self.qualified_name,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "column_mapping": self.column_mapping,
        }


@dataclass
class Requests:
    read: int = 0
    write: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, "write": self.write}


class CatalogBackend(ABC):
    """Reads live state into a CatalogState and executes plan changes; counts its requests."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests = Requests()

    @abstractmethod
    def read(self, desired: CatalogState, kinds: set[str]) -> CatalogState:
        """Live state for `kinds` ("glossary", "classifications"): everything the plan compares, plus
        the entities of `desired` that exist and every managed object that no longer is desired."""

    @abstractmethod
    def apply(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        """Execute create/update/delete changes (noops are skipped); idempotent when re-run."""

    @abstractmethod
    def read_processes(self, desired: dict[str, ProcessState]) -> dict[str, ProcessState]:
        """Live lineage processes: those named in `desired` and every managed one (where listable)."""

    @abstractmethod
    def apply_processes(
        self, changes: list[Change], desired: dict[str, ProcessState], entities: CatalogState
    ) -> None:
        """Create/update/delete lineage processes; `entities` resolves dataset names."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
