"""Catalog backends: the embedded SQLAlchemy catalog and Purview Data Map, behind one interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.catalog.backends.base import CatalogBackend
    from governance.project import Project


def open_backend(project: Project) -> CatalogBackend:
    """The backend smartflow.yaml names (catalog.backend)."""
    if project.config.catalog.backend == "purview":
        from governance.catalog.purview.backend import PurviewBackend

        return PurviewBackend(project)
    from governance.catalog.backends.local import LocalBackend

    return LocalBackend(project)
