"""Error types and the exit codes of the CLI contract (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # data or catalog failed an error-severity check
    BAD_INPUT = 2  # config, YAML or arguments; nothing was changed
    INFRA = 3  # engine, catalog or Azure unreachable after retries


@dataclass(frozen=True, order=True)
class Location:
    """Where a declaration lives: a path relative to the project root and a 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, order=True)
class Problem:
    """One `FILE:LINE: message` finding about the declarative files."""

    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class GovernanceError(Exception):
    exit_code: ExitCode = ExitCode.INFRA


class InputError(GovernanceError):
    """Bad input (files, config, arguments): reported as FILE:LINE lines, exit 2."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problems: list[Problem] | str, where: Location | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(where or Location("<arguments>"), problems)]
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class InfraError(GovernanceError):
    """An outside system (engine, catalog, Azure) failed after retries: exit 3."""

    exit_code = ExitCode.INFRA
