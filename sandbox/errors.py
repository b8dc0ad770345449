"""Provides the package's exceptions and the located Problem that every user-facing error is made of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One mistake in the user's input, located so it can be fixed without searching."""

    file: str | None
    line: int | None
    key: str
    message: str
    hint: str | None = None

    def location(self) -> str:
        where = self.file or "<input>"
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        key = f"{self.key}: " if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location()}: {key}{self.message}{hint}"


class SandboxError(Exception):
    """Base of every error the package raises on purpose."""


class ConfigError(SandboxError):
    """Invalid scenario or policy input; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RunCancelled(SandboxError):
    """The caller cancelled a run; finished replications are kept by the caller."""
