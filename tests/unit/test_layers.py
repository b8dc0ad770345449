"""The package's layers, enforced: a module never imports one of a higher layer (TYPE_CHECKING imports
included, since they couple the code just the same).

config → model → metrics → engine → experiments → planning → report → api → cli/tui; errors, units and the Erlang
formulas are below everything. The engine writes into the metrics layer's ledger; nothing in metrics reads
the engine (KPIs are computed from totals and a protocol the plan satisfies).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sandbox"
LAYERS = (  # (module prefix, layer), most specific first
    ("sandbox.errors", 0), ("sandbox.units", 0), ("sandbox.erlang", 0),
    ("sandbox.config", 1), ("sandbox.catalog", 1),
    ("sandbox.model", 2),
    ("sandbox.metrics", 3),
    ("sandbox.engine", 4),
    ("sandbox.provenance", 5), ("sandbox.experiments", 5),
    ("sandbox.planning", 6),
    # presentation (how a KPI value is written) needs only the KPIs: the rollout gate's reasons (5) use it
    ("sandbox.presentation", 5),
    ("sandbox.export", 7), ("sandbox.insights", 7), ("sandbox.report", 7),
    ("sandbox.api", 8),
    ("sandbox.cli", 9), ("sandbox.tui", 9), ("sandbox.__main__", 9),
    ("sandbox", 0),  # the package itself: only its version
)


def layer(module: str) -> int:
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} has no layer: add it to LAYERS")


def imports() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            found += [(module, name, node.lineno) for name in names if name.startswith("sandbox")]
    return found


def test_every_module_has_a_layer() -> None:
    for module, imported, _ in imports():
        layer(module), layer(imported)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [f"{m} (layer {layer(m)}) imports {i} (layer {layer(i)}) at line {n}"
              for m, i, n in imports() if layer(i) > layer(m)]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize(("module", "imported"), [("sandbox.metrics.kpis", "sandbox.engine.plan"),
                                                  ("sandbox.config.loader", "sandbox.api")])
def test_the_check_sees_an_upward_import(module: str, imported: str) -> None:
    assert layer(imported) > layer(module)


FRONT_ENDS = ("sandbox.cli", "sandbox.tui", "sandbox.__main__")
# What the front ends may import of the package: the facade, and the two modules it documents for them.
FOR_FRONT_ENDS = ("sandbox", "sandbox.api", "sandbox.errors", "sandbox.presentation")


def test_front_ends_use_the_package_through_the_facade() -> None:
    bypass = [f"{m} imports {i} at line {n}: use sandbox.api" for m, i, n in imports()
              if m.startswith(FRONT_ENDS) and not i.startswith(FRONT_ENDS) and i not in FOR_FRONT_ENDS]
    assert not bypass, "\n".join(bypass)
