"""Base model of every declarative spec: unknown keys are errors, and each object knows its FILE:LINE."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, PrivateAttr

from governance.errors import Location


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)

    _where: Location = PrivateAttr(default=Location("<memory>"))
    _path: tuple[str | int, ...] = PrivateAttr(default=())

    @property
    def where(self) -> Location:
        """FILE:LINE where this object was declared."""
        return self._where

    @property
    def yaml_path(self) -> tuple[str | int, ...]:
        """Its path inside the file, so checks can point at one of its keys (see Project.locate)."""
        return self._path

    def locate(self, where: Location, path: tuple[str | int, ...] = ()) -> None:
        self._where = where
        self._path = path


class Open(BaseModel):
    """A spec section whose unknown keys are kept (free-form metadata)."""

    model_config = ConfigDict(extra="allow")
