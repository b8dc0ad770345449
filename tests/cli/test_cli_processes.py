"""The installed `support-sandbox` (and `python -m sandbox`) as real processes: exit codes, and no traceback.

Every process is started once, all together, by a module fixture: they spend their time importing, so running
them side by side keeps this module quick.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import __version__

from .helpers import BAD, QUICK, REPO, finish, start_cli

INTERNAL_ERROR = ("import sys\n"
                  "import sandbox.api\n"
                  "def boom(*a, **k):\n"
                  "    raise RuntimeError('engine exploded')\n"
                  "sandbox.api.compare = boom\n"
                  "from sandbox.cli import main\n"
                  "sys.argv = ['support-sandbox', 'compare', '-n', '1']\n"
                  "main()\n")
ECOMMERCE = REPO / "simulations" / "ecommerce.yaml"


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("processes") / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def done(bad_file: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    started = {
        "version": start_cli("--version"),
        "module help": start_cli("--help", executable=[sys.executable, "-m", "sandbox"]),
        "internal error": start_cli(executable=[sys.executable, "-c", INTERNAL_ERROR]),
        "unknown scenario": start_cli("compare", "ecommrce", "-n", "1"),
        "bad set": start_cli("compare", *QUICK, "--set", "escalation.max_bot_turns=-1"),
        "bad schema kind": start_cli("schema", "bogus"),
        "usage error": start_cli("compare", "--replications", "zero"),
        "validate": start_cli("validate", str(bad_file), str(ECOMMERCE)),
        "run": start_cli("run", "-p", "warm-handoff", "-n", "1", "--days", "1", "-f", "csv"),
    }
    return {name: finish(process) for name, process in started.items()}


def test_version(done: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = done["version"]
    assert result.returncode == 0
    assert result.stdout.strip() == f"support-sandbox {__version__}"


def test_python_m_sandbox_help(done: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = done["module help"]
    assert result.returncode == 0, result.stderr
    assert "compare" in result.stdout
    assert "validate" in result.stdout
    assert "schema" in result.stdout
    assert "Traceback" not in result.stderr


def test_internal_error_exits_1_without_traceback(done: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """main() itself: an unexpected exception becomes a message and exit code 1 on the real stderr."""
    result = done["internal error"]
    assert result.returncode == 1
    assert "internal error: RuntimeError: engine exploded" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("name", "message"), [
    ("unknown scenario", "ecommrce: no scenario by this name in ./simulations or the built-ins (did you mean "
                         "'ecommerce'?)"),
    ("bad set", "--set escalation.max_bot_turns=-1: escalation.max_bot_turns: should be greater than or equal to 1"),
    ("bad schema kind", "kind must be 'scenario' or 'policy', not 'bogus'"),
    ("usage error", "Invalid value"),
])
def test_bad_input_exits_2_without_traceback(done: dict[str, subprocess.CompletedProcess[str]], name: str,
                                             message: str) -> None:
    result = done[name]
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_validate(done: dict[str, subprocess.CompletedProcess[str]], bad_file: Path) -> None:
    result = done["validate"]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad_file}:4: demand.busynes_shape: unknown key (did you mean 'busyness_shape'?)" in result.stderr
    assert result.stderr.splitlines()[-1] == "7 problems in 1 input; nothing was run."
    assert result.stdout.strip() == f"✓ {ECOMMERCE}"


def test_run(done: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = done["run"]
    assert result.returncode == 0, result.stderr
    assert "\npolicy,name,kpi,mean," in result.stdout  # after the provenance comment lines
    assert "warm-handoff,\"Bot-first, warm handoff\",offered," in result.stdout
