"""Provides where scenarios, policies and checks are found: ./simulations, ./policies and ./checks first, then the
built-ins.

A reference is a path (anything ending in .yaml/.yml or containing a slash) or a bare name such as
``ecommerce``. The built-ins ship inside the wheel (sandbox/_builtin, see pyproject.toml); in a source
checkout they are the repository's own simulations/ and policies/ folders.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Literal

from sandbox.errors import ConfigError, Problem

Kind = Literal["simulations", "policies", "checks"]
DEFAULT_SCENARIO = "ecommerce"
DEFAULT_BASELINE = "no-bot"
_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(kind: Kind) -> Path:
    installed = _PACKAGE / "_builtin" / kind
    return installed if installed.is_dir() else _PACKAGE.parent / kind


def schema_path(kind: Literal["scenario", "policy"]) -> Path:
    """The shipped JSON Schema of a kind of file (inside the wheel, or docs/schemas in a checkout)."""
    installed = _PACKAGE / "_builtin" / "docs" / "schemas" / f"{kind}.schema.json"
    return installed if installed.is_file() else _PACKAGE.parent / "docs" / "schemas" / f"{kind}.schema.json"


def search_dirs(kind: Kind, cwd: Path | None = None) -> list[Path]:
    here = (cwd or Path.cwd()) / kind
    dirs = [here] if here.is_dir() else []
    builtin = builtin_dir(kind)
    if builtin.is_dir() and all(builtin.resolve() != d.resolve() for d in dirs):
        dirs.append(builtin)
    return dirs


def available(kind: Kind, cwd: Path | None = None, nested: bool = False) -> dict[str, Path]:
    """Name → file, the working directory's files taking precedence over built-ins of the same name. ``nested``:
    also the policies one folder down (policies/weeks/: found by name, not in the default comparison)."""
    found: dict[str, Path] = {}
    deeper = nested and kind == "policies"
    for folder in search_dirs(kind, cwd):
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            found.setdefault(path.stem, path)
    for folder in search_dirs(kind, cwd) if deeper else []:
        for path in sorted([*folder.glob("*/*.yaml"), *folder.glob("*/*.yml")]):
            found.setdefault(path.stem, path)
    return found


def is_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref


def resolve(ref: str | Path, kind: Kind, cwd: Path | None = None) -> Path:
    """The file a reference names; a ConfigError naming the alternatives if there is none."""
    if isinstance(ref, Path) or is_path(ref):
        path = Path(ref)
        try:
            os.stat(path)
        except FileNotFoundError:
            raise ConfigError([Problem(str(ref), None, "", "file not found")]) from None
        except OSError as exc:  # a name too long, a loop of links, a folder without permission
            raise ConfigError([Problem(str(ref), None, "", f"cannot be read: {exc.strerror}")]) from None
        return path
    names = available(kind, cwd, nested=True)
    if ref in names:
        return names[ref]
    close = difflib.get_close_matches(ref, list(names), n=1, cutoff=0.5)
    what = {"simulations": "scenario", "policies": "policy", "checks": "checks file"}[kind]
    hint = f"did you mean {close[0]!r}?" if close else f"available: {', '.join(names) or 'none'}"
    raise ConfigError([Problem(ref, None, "", f"no {what} by this name in ./{kind} or the built-ins", hint)])


def default_policies(cwd: Path | None = None) -> list[str]:
    """Every available policy, the no-bot baseline first."""
    names = list(available("policies", cwd))
    return sorted(names, key=lambda n: (n != DEFAULT_BASELINE, n))
