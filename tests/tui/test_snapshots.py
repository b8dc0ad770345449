"""A handful of pinned screens, compared as exported SVG with goldens in tests/tui/snapshots/.

pytest-textual-snapshot 1.1.0 pins syrupy 4.8, which needs pytest < 9; this project runs pytest 9, so the
screens are compared directly. Goldens depend on the pinned Textual version (pyproject). To accept new
screens after looking at them: UPDATE_SNAPSHOTS=1 python -m pytest tests/tui/test_snapshots.py, then
review the SVG diff like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import textual

from sandbox.tui.app import SandboxApp, make_app

pytestmark = pytest.mark.tui
GOLDENS = Path(__file__).parent / "snapshots"
PINNED_TEXTUAL = "8.2.8"


def _normalise(svg: str) -> str:
    # Rich derives element ids from a hash of the content; strip them so only what is drawn is compared.
    return re.sub(r"terminal-\d+", "terminal", svg)


async def settled(app: SandboxApp, pilot) -> str:
    """The screen once two looks in a row agree (widgets such as DataTable size their columns lazily)."""
    previous = ""
    for _ in range(40):
        await pilot.pause(0.05)
        svg = _normalise(app.export_screenshot(title=""))
        if svg == previous:
            return svg
        previous = svg
    return previous


async def check(app: SandboxApp, pilot, name: str) -> None:
    if textual.__version__ != PINNED_TEXTUAL:
        pytest.skip(f"goldens were drawn with Textual {PINNED_TEXTUAL}, not {textual.__version__}")
    await settled(app, pilot)
    svg = _normalise(app.export_screenshot(title=name))
    golden = GOLDENS / f"{name}.svg"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        GOLDENS.mkdir(exist_ok=True)
        golden.write_text(svg, encoding="utf-8")
        return
    assert golden.exists(), f"no golden for {name}; create it with UPDATE_SNAPSHOTS=1 and review it"
    if svg != golden.read_text(encoding="utf-8"):
        (Path(os.environ.get("SNAPSHOT_FAILURES", "/tmp")) / f"{name}.actual.svg").write_text(svg, encoding="utf-8")
    assert svg == golden.read_text(encoding="utf-8"), (
        f"screen {name} changed; look at it (app.save_screenshot) and, if intended, UPDATE_SNAPSHOTS=1")


async def finished(size: tuple[int, int], **kwargs) -> tuple[SandboxApp, object]:
    app = make_app(replications=3, seed=7, **kwargs)
    app.clock = lambda: 0.0  # the status line shows elapsed time
    app.animation_level = "none"  # the sliding tab underline would be caught mid-way
    return app, app.run_test(size=size)


async def _run_to_end(app: SandboxApp, pilot) -> None:
    while app.running or app.comparison is None:
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
async def test_compare_view(size: tuple[int, int]):
    app, ctx = await finished(size)
    async with ctx as pilot:
        await _run_to_end(app, pilot)
        await check(app, pilot, f"compare-{size[0]}x{size[1]}")


async def test_day_view_and_stale_banner():
    app, ctx = await finished((120, 36), policies=["no-bot", "warm-handoff", "dead-end"])
    async with ctx as pilot:
        await _run_to_end(app, pilot)
        app.query_one("#policies").highlighted = 1  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("k", "tab", *"0.9", "escape", "2")  # chat share of warm-handoff; results now stale
        await check(app, pilot, "day-stale-120x36")


async def test_sweep_view():
    app, ctx = await finished((120, 36), policies=["no-bot", "warm-handoff"])
    async with ctx as pilot:
        await _run_to_end(app, pilot)
        app.query_one("#policies").highlighted = 1  # type: ignore[attr-defined]
        await pilot.press("5")
        while app.sweep is None or app.same_pending:  # both cost curves: agents as scheduled, equal service
            await pilot.pause(0.05)
        await check(app, pilot, "sweep-120x36")


async def test_scenario_picker():
    app = make_app(autorun=False)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await check(app, pilot, "scenarios-80x24")


async def test_why_view_light_theme():
    app, ctx = await finished((120, 36), policies=["no-bot", "dead-end", "cold-handoff"])
    async with ctx as pilot:
        await _run_to_end(app, pilot)
        await pilot.press("t", "4")
        await pilot.pause()
        await check(app, pilot, "why-light-120x36")


async def test_help_screen():
    app = make_app(autorun=False)
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        await check(app, pilot, "help-100x32")
