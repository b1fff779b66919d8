"""`PurviewBackend`: the catalog backend interface over Purview's Data Map and scanning planes."""

from __future__ import annotations

from governance.azure.transport import Counts
from governance.catalog.backends.base import CatalogBackend, ProcessState
from governance.catalog.model import CatalogState
from governance.catalog.plan import Change
from governance.catalog.purview.read import Reader
from governance.catalog.purview.transport import PurviewHttp
from governance.catalog.purview.write import Writer
from governance.config import PurviewCatalog
from governance.errors import InputError
from governance.project import Project


class PurviewBackend(CatalogBackend):
    def __init__(self, project: Project) -> None:
        super().__init__("purview")
        cfg = project.config.catalog.purview
        if cfg is None:
            raise InputError("catalog.backend is purview but catalog.purview is missing")
        self.cfg: PurviewCatalog = cfg
        self.contacts = {k.lower(): v for k, v in cfg.contacts.items()}
        self.warnings: list[str] = []
        self._counts = Counts()
        self.http = PurviewHttp(cfg, self._counts)
        self.reader = Reader(self.http, cfg.guid_batch, {v: k for k, v in cfg.contacts.items()})
        self.writer = Writer(self.http, cfg, self.reader, self.contacts)
        self._normalized = False

    def _sync_counts(self) -> None:
        self.requests.read, self.requests.write = self._counts.read, self._counts.write

    def close(self) -> None:
        self.http.close()

    def normalize(self, desired: CatalogState) -> None:
        """Stewards/experts without an Entra object id in catalog.purview.contacts are left out, with a
        warning; a missing entry is never an error."""
        missing: set[str] = set()
        for t in desired.terms.values():
            for attr in ("stewards", "experts"):
                emails = getattr(t, attr)
                kept = tuple(e for e in emails if e.lower() in self.contacts)
                missing |= set(emails) - set(kept)
                setattr(t, attr, kept)
        for e in sorted(missing):
            self.warnings.append(f"{e}: no entry in catalog.purview.contacts; left out as steward/expert")

    def read(self, desired: CatalogState, kinds: set[str]) -> CatalogState:
        if not self._normalized:
            self.normalize(desired)
            self._normalized = True
        live = CatalogState()
        try:
            self.reader.entities(desired, live)
            if "glossary" in kinds:
                self.reader.glossary(desired, live)
            if "classifications" in kinds:
                self.reader.types(desired, live)
                self.reader.classifications(desired, live)
                self.reader.rules(live)
        finally:
            self._sync_counts()
        return live

    def apply(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        try:
            self.writer.apply(changes, desired, live)
        finally:
            self._sync_counts()

    def read_processes(self, desired: dict[str, ProcessState]) -> dict[str, ProcessState]:
        try:
            return self.reader.processes(desired)
        finally:
            self._sync_counts()

    def apply_processes(
        self, changes: list[Change], desired: dict[str, ProcessState], entities: CatalogState
    ) -> None:
        try:
            self.writer.apply_processes(changes, desired, entities)
        finally:
            self._sync_counts()
