"""The error hierarchy: one root, subclasses that carry what a person needs to act."""

from __future__ import annotations

from dataclasses import dataclass


class MailguardError(Exception):
    """Root of every error mailguard raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file, located as precisely as YAML allows."""

    key: str
    problem: str
    line: int | None = None

    def format(self, path: str) -> str:
        """Render as ``FILE:LINE: path.to.key: what is wrong`` (LINE omitted when unknown)."""
        where = f"{path}:{self.line}" if self.line is not None else path
        key = self.key or "(top level)"
        return f"{where}: {key}: {self.problem}"


class ConfigError(MailguardError):
    """A configuration file that cannot be used, with every problem found in it."""

    def __init__(self, path: str, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(p.format(self.path) for p in self.problems)


class StorageError(MailguardError):
    """The database cannot be reached or migrated."""


def short_reason(exc: BaseException, limit: int = 200) -> str:
    """The exception's type and the first line of its message: for /healthz and logs."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:limit]
