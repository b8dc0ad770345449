"""Provides the package's exceptions and the located Problem that every user-facing error is made of."""

from __future__ import annotations

from dataclasses import dataclass


def printable(text: str) -> str:
    """Text safe to show on a terminal: control characters (an ESC that would start an escape sequence, a
    bell, a carriage return) and undecodable bytes are shown escaped, as Python writes them."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


@dataclass(frozen=True)
class Problem:
    """One mistake in the user's input, located so it can be fixed without searching."""

    file: str | None
    line: int | None
    key: str
    message: str
    hint: str | None = None

    def location(self) -> str:
        where = printable(self.file or "<input>")
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        key = f"{printable(self.key)}: " if self.key else ""
        hint = f" ({printable(self.hint)})" if self.hint else ""
        return f"{self.location()}: {key}{printable(self.message)}{hint}"


class SandboxError(Exception):
    """Base of every error the package raises on purpose."""


class ConfigError(SandboxError):
    """Invalid scenario or policy input; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RunCancelled(SandboxError):
    """The caller cancelled a run; finished replications are kept by the caller."""
