"""The stakeholder report (support-sandbox report): one self-contained HTML file, rendered in a real headless
browser when Chromium is installed (README: apt install chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
BOT = {"name": "half to a bot", "automation": {"share": 0.5}}


@pytest.fixture(scope="module")
def report() -> str:
    from conftest import erlang_scenario

    return api.report(erlang_scenario(60, "4m", 5, "3m", days=1, warm_up="0m"), ["no-bot", BOT],
                      replications=3, title="Erlang A check")


def test_the_report_holds_everything_and_needs_no_network(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    for part in ("The comparison", "Charts", "Assumptions and their sources", "What each KPI means", "Provenance"):
        assert f"<h2>{part}" in report, part
    assert report.count("<svg") == 5  # four KPIs and the day
    assert "sha256" in report  # the inputs as they ran, with digests
    # self-contained: no script, stylesheet, image or font fetched from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", report)
    assert not re.search(r"(src|href)=", report)
    assert "url(" not in report
    # an assumption with its source: the agents' hourly cost cites Iterum Connections 2025
    assert "Iterum Connections 2025" in report


def test_the_cli_writes_the_report_with_the_checks(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "-p", "no-bot", "-p", "warm-handoff", "--checks", "rollout",
                                      "-n", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "<h2>Rollout checks" in text
    assert "No dead end for emotional intents" in text


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (README: apt install chromium)")
def test_the_report_renders_its_charts_in_a_headless_browser(report: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([BROWSER, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "<h1>Erlang A check</h1>" in dom  # the browser parsed and laid out the page
    assert dom.count("<svg") == 5
    assert dom.count("<rect") >= 8  # the bars of four charts, two policies each
    assert "<polyline" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([BROWSER, *flags, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a page with tables and charts, not a blank one


def test_a_report_to_a_folder_is_refused_before_the_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "it is a folder" in result.output
