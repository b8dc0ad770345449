"""No global random state anywhere in the package: every draw comes from a seeded numpy Generator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sandbox"
FORBIDDEN = {
    "np.random.seed": re.compile(r"\bnp\.random\.seed\b|\bnumpy\.random\.seed\b"),
    "random.seed": re.compile(r"(?<![\w.])random\.seed\b"),
    "np.random.rand(": re.compile(r"\bnp\.random\.rand\("),
    "np.random.normal(": re.compile(r"\bnp\.random\.normal\("),
    "legacy np.random functions": re.compile(
        r"\bnp\.random\.(randn|randint|random|random_sample|choice|exponential|uniform|poisson|lognormal|gamma|"
        r"weibull|geometric|shuffle|permutation|RandomState)\("),
    "import random": re.compile(r"^\s*(import random\b|from random import)", re.MULTILINE),
}


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_sources_are_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in sources()}
    assert {"engine/streams.py", "model/conversation.py", "api.py"} <= names


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_global_random_state(what: str) -> None:
    pattern = FORBIDDEN[what]
    hits = [f"{path.relative_to(PACKAGE.parent)}:{text.count(chr(10), 0, m.start()) + 1}"
            for path in sources() for text in [path.read_text(encoding="utf-8")] for m in pattern.finditer(text)]
    assert not hits, f"{what} found at {', '.join(hits)}; draw from a Generator (sandbox.engine.streams)"


@pytest.mark.parametrize(("line", "what"), [
    ("np.random.seed(1)", "np.random.seed"), ("random.seed(3)", "random.seed"), ("x = np.random.rand(3)",
                                                                                  "np.random.rand("),
    ("np.random.normal(0, 1)", "np.random.normal("), ("import random", "import random"),
    ("from random import choice", "import random"), ("np.random.choice(5)", "legacy np.random functions"),
])
def test_the_patterns_catch_what_they_should(line: str, what: str) -> None:
    assert FORBIDDEN[what].search(line)


@pytest.mark.parametrize("line", ["rng = np.random.default_rng(seed)", "np.random.SeedSequence(1)",
                                  "rng.random(n)", "rng.normal(0, 1)", "# a random number"])
def test_the_patterns_allow_generators(line: str) -> None:
    assert not any(p.search(line) for p in FORBIDDEN.values())
