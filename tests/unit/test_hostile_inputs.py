"""Hostile and careless inputs end in located problems, never in a hang, a blow-up or executed code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import api
from sandbox.config.loader import parse_override, read_yaml
from sandbox.errors import ConfigError
from sandbox.export import OutputError, write_atomic

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        api.load(path, [])
    return [str(p) for p in info.value.problems]


def test_alias_bomb_is_stopped_while_expanding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 400
    (found,) = problems(path)
    assert found.startswith(str(path))
    assert "expands to more than 100,000 values" in found


def test_unknown_tags_are_reported_and_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = tmp_path / "tags.yaml"
    path.write_text(f"name: x\nfoo: !vault abc\nbar: !!python/object/apply:os.system ['touch {marker}']\n")
    found = problems(path)
    assert any(":2: foo: unknown YAML tag '!vault'" in p for p in found)
    assert any(":3: bar: unknown YAML tag '!!python/object/apply:os.system'" in p for p in found)
    assert not marker.exists()


@pytest.mark.parametrize("text", ["[" * 10_000, "a: " * 5_000 + "1"])
def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    (found,) = problems(path)
    assert found.startswith(str(path))


def test_devices_and_pipes_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with pytest.raises(ConfigError, match="not a regular file"):
            read_yaml(path)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("k: 1\n" * 300_000)
    with pytest.raises(ConfigError, match="larger than 1,000,000 bytes"):
        read_yaml(path)


@pytest.mark.parametrize(("override", "message"), [
    ("demand.contacts_per_day=yes", "should be a valid number (got True)"),
    ("demand.contacts_per_day=1e9", "less than or equal to 250000"),
    ("horizon.warm_up=1e9d", "longer than a year"),
    ("demand.weekday_factors.monday=1e12", "less than or equal to 100"),
    ("staffing.scale=1e12", "less than or equal to 100"),
    ("demand.contacts_per_day=.inf", "finite number"),
    ("horizon.days=true", "valid integer"),
])
def test_silly_and_huge_values_are_refused_at_their_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        api.load("ecommerce", ["no-bot"], [override])
    assert any(p.file == f"--set {override}" and message in p.message for p in info.value.problems), \
        info.value.problems


def test_plain_exponent_is_a_number_but_quoted_stays_text() -> None:
    assert parse_override("demand.contacts_per_day=1e3")[1] == 1000.0
    assert parse_override('name="1e3"')[1] == "1e3"


def test_set_into_a_scalar_blames_the_option() -> None:
    with pytest.raises(ConfigError) as info:
        api.load("ecommerce", ["no-bot"], ["demand.contacts_per_day.x=1"])
    assert [p.file for p in info.value.problems] == ["--set demand.contacts_per_day.x=1"]


def test_same_schedule_time_written_twice_is_reported() -> None:
    override = 'agents.groups.service.schedule={"08:00": 6, "8:00": 7}'
    with pytest.raises(ConfigError, match="'08:00' and '8:00' are the same time"):
        api.load("ecommerce", ["no-bot"], [override])


def test_more_than_128_segments_keep_their_own_patience() -> None:
    """Indexes were 8-bit: segment 128 was read as segment 0. Here only the last segment abandons at all."""
    scenario = api.load_scenario("ecommerce").model_dump(mode="json", by_alias=True)
    n = 130
    calm = {"share": 1 / n, "patience": None}
    scenario["segments"] = {f"s{i}": dict(calm) for i in range(n - 1)}
    scenario["segments"][f"s{n - 1}"] = {"share": 1 - (n - 1) / n, "zero_patience": 1.0}
    comparison = api.compare(scenario, ["no-bot"], replications=1, overrides=["agents.groups.service.schedule="
                                                                              '{"00:00": 0}'])
    assert comparison.estimate(0, "queue_abandonment_rate").mean > 0


def test_outputs_never_replace_pipes_and_write_through_symlinks(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        write_atomic(fifo, "x")
    assert fifo.is_fifo()
    with pytest.raises(OutputError, match="is a folder"):
        write_atomic(tmp_path, "x")
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"
