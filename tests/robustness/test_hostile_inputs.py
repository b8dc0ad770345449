"""The README's promises for bad and hostile input, checked on the real command line.

Every user mistake gets one clear message naming file, line and key (or the option, for --set, -n,
--workers, -o), exit code 2, and no traceback; all problems of a file come at once; hostile files cannot
hang a run or blow up memory; outputs are written atomically and never replace a FIFO, device or symlink.

Each case runs ``python -m sandbox ...`` in a fresh process with a time limit (10 s) and an address-space
limit, and measures the peak memory of the process and its children (500 MB at most): see conftest.py.
The quick cases are declared in CASES and started together, a few at a time, by one module fixture
(they spend most of their time importing); cases that need a running process (Ctrl-C) or a long simulation
are tests of their own.

The corpus of hostile files is tests/robustness/corpus (its README says how each file states what its
message must contain); huge files are generated here, in temporary folders.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import stat
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import (
    BASE_POLICY,
    BASE_SCENARIO,
    CORPUS,
    REPO,
    Outcome,
    assert_clean,
    assert_mentions_limit,
    assert_user_error,
    run_cli,
)

ESC = b"\x1b"
ECOMMERCE = REPO / "simulations" / "ecommerce.yaml"
QUICK = ("-p", "no-bot", "-n", "1", "--days", "1")  # a comparison that takes a fraction of a second
AS_ROOT = os.geteuid() == 0


# --- declared cases ----------------------------------------------------------------------------------------


@dataclass
class Case:
    """One command line. ``args`` and ``check`` get the case's own empty folder (also its working directory)."""

    args: Callable[[Path], Sequence[str | bytes]]
    check: Callable[[Outcome, Path], None]
    setup: Callable[[Path], None] | None = None
    timeout: float = 10.0
    max_processes: int = 64
    env: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Case] = {}


def case(name: str, args: Callable[[Path], Sequence[str | bytes]], check: Callable[[Outcome, Path], None],
         **kwargs: object) -> None:
    assert name not in CASES, name
    CASES[name] = Case(args, check, **kwargs)  # type: ignore[arg-type]


def no_escape_bytes(result: Outcome) -> None:
    """NO_COLOR, TERM=dumb and pipes: any ESC byte on stdout or stderr came from the input."""
    assert ESC not in result.out, f"an ESC byte reached stdout{result}"
    assert ESC not in result.err, f"an ESC byte reached stderr{result}"


def user_error(*mentions: str | Callable[[Path], str], line: tuple[Callable[[Path], str], int] | None = None,
               absent: Sequence[str] = (), limit: Sequence[str] | None = None,
               any_of: Sequence[str] = ()) -> Callable[[Outcome, Path], None]:
    """A check: exit 2 naming every mention (strings, or functions of the case folder), optionally a limit,
    optionally at least one of ``any_of`` (an option's long or short spelling)."""

    def check(result: Outcome, folder: Path) -> None:
        texts = [m(folder) if callable(m) else m for m in mentions]
        located = (line[0](folder), line[1]) if line else None
        assert_user_error(result, *texts, line=located, absent=absent)
        if limit is not None:
            assert_mentions_limit(result, *limit)
        if any_of:
            assert any(a in result.stderr for a in any_of), f"stderr names none of {list(any_of)}{result}"
        no_escape_bytes(result)

    return check


def path_in(name: str) -> Callable[[Path], str]:
    return lambda folder: str(folder / name)


# --- the corpus -----------------------------------------------------------------------------------------


@dataclass
class Expected:
    problems: list[tuple[str, list[int]]]  # (dotted key or "", acceptable lines)
    mentions: list[str]
    limit: list[str] | None
    marker: str | None


def expectations(path: Path) -> Expected:
    problems, mentions, limit, marker = [], [], None, None
    for raw in path.read_bytes().splitlines():
        if not raw.startswith(b"#"):
            break
        text = raw.decode("utf-8", "replace")
        if match := re.match(r"# problem: (\S*) ?@ ([\d,]+)$", text):
            problems.append((match.group(1), [int(n) for n in match.group(2).split(",")]))
        elif text.startswith("# mention: "):
            mentions.append(text.removeprefix("# mention: "))
        elif text.startswith("# limit: "):
            limit = text.removeprefix("# limit: ").split()
        elif text.startswith("# marker: "):
            marker = text.removeprefix("# marker: ").strip()
    return Expected(problems, mentions, limit, marker)


def check_corpus(path: Path) -> Callable[[Outcome, Path], None]:
    expected = expectations(path)

    def check(result: Outcome, folder: Path) -> None:
        assert_user_error(result, str(path), *expected.mentions)
        lines = result.stderr.splitlines()
        for key, numbers in expected.problems:
            found = any(any(f"{path}:{n}:" in line for n in numbers) and key in line for line in lines)
            assert found, (f"no line of stderr names {path}:{' or '.join(map(str, numbers))} and the key "
                           f"{key or '(none)'!r}{result}")
        if expected.limit is not None:
            assert_mentions_limit(result, *expected.limit)
        if expected.marker:
            assert not (folder / expected.marker).exists(), f"a YAML tag ran a command: {expected.marker} exists"
        assert "✓" not in result.stdout, f"a broken file was reported valid{result}"
        no_escape_bytes(result)

    return check


SCENARIO_CORPUS = sorted((CORPUS / "scenarios").glob("*.yaml"))
POLICY_CORPUS = sorted((CORPUS / "policies").glob("*.yaml"))

for _path in SCENARIO_CORPUS:
    case(f"corpus/{_path.name}/validate", lambda d, p=_path: ("validate", str(p)), check_corpus(_path))
    case(f"corpus/{_path.name}/compare", lambda d, p=_path: ("compare", str(p), "-p", "no-bot", "-n", "1"),
         check_corpus(_path))
for _path in POLICY_CORPUS:
    case(f"corpus/policies/{_path.name}/validate", lambda d, p=_path: ("validate", str(p)), check_corpus(_path))
    case(f"corpus/policies/{_path.name}/compare",
         lambda d, p=_path: ("compare", "ecommerce", "-p", "no-bot", "-p", str(p), "-n", "1", "--days", "1"),
         check_corpus(_path))


# --- 1. silently wrong numbers ------------------------------------------------------------------------------


def mix_scenario(segments: int, intents: int) -> str:
    """Many segments and intents, all of share 0 but the last of each, which gets every customer."""
    lines = ["name: many entries", "horizon: {days: 1, interval: 60m}", 'hours: {default: "00:00-24:00"}',
             "demand: {contacts_per_day: 600, busyness_shape: null}",
             "channels:", "  voice: {share: 1, service_level_threshold: 20s}", "segments:"]
    for i in range(segments):
        if i == segments - 1:  # never abandons
            lines.append(f"  s{i:04d}: {{share: 1, patience: null, zero_patience: 0}}")
        else:  # would all abandon at once: they leave unless answered immediately
            lines.append(f"  s{i:04d}: {{share: 0, zero_patience: 1, patience: {{kind: exponential, mean: 1s}}}}")
    lines.append("intents:")
    for i in range(intents):
        share, handle = (1, "2m") if i == intents - 1 else (0, "1h")
        lines.append(f"  i{i:04d}: {{share: {share}, emotional_load: 0, handle_time: "
                     f"{{kind: deterministic, value: {handle}}}}}")
    lines += ["agents:", "  groups:", "    team: {skills: [general], channels: [voice], headcount: 2}",
              "repeat_contacts: {after_abandonment: 0, after_false_containment: 0}"]
    return "\n".join(lines) + "\n"


case("mix/1001-segments",
     lambda d: ("validate", str(d / "s.yaml")),
     user_error(path_in("s.yaml"), "segments", limit=("1,000", "1000")),
     setup=lambda d: (d / "s.yaml").write_text(mix_scenario(1001, 1)))
case("mix/1001-intents",
     lambda d: ("compare", str(d / "s.yaml"), *QUICK),
     user_error(path_in("s.yaml"), "intents", limit=("1,000", "1000")),
     setup=lambda d: (d / "s.yaml").write_text(mix_scenario(1, 1001)))
case("bool/--set demand.contacts_per_day=yes",
     lambda d: ("compare", *QUICK, "--set", "demand.contacts_per_day=yes"),
     user_error("--set demand.contacts_per_day=yes", "demand.contacts_per_day", absent=("ecommerce.yaml",)))
case("bool/--set horizon.days=true",
     lambda d: ("compare", "-p", "no-bot", "-n", "1", "--set", "horizon.days=true"),
     user_error("--set horizon.days=true", "horizon.days", absent=("ecommerce.yaml",)))
case("bool/--set escalation.max_bot_turns=on",
     lambda d: ("compare", "-p", "warm-handoff", "-n", "1", "--set", "escalation.max_bot_turns=on"),
     user_error("--set escalation.max_bot_turns=on", "escalation.max_bot_turns", absent=("warm-handoff.yaml",)))
case("duplicate/--set schedule time 8:00 beside 08:00",
     lambda d: ("compare", *QUICK, "--set", "agents.groups.service.schedule.8:00=5"),
     user_error("agents.groups.service.schedule", "8:00", "08:00"))


# --- 2. upper bounds ------------------------------------------------------------------------------------------

case("limit/--set horizon.warm_up=1e9d",
     lambda d: ("compare", *QUICK, "--set", "horizon.warm_up=1e9d"),
     user_error("--set horizon.warm_up=1e9d", "horizon.warm_up", limit=("366",), absent=("ecommerce.yaml",)))
case("limit/--set horizon.warm_up=300d (each day fits, the replication does not)",
     lambda d: ("compare", *QUICK, "--set", "horizon.warm_up=300d", "--set", "demand.contacts_per_day=200000"),
     user_error("horizon.warm_up", limit=("20,000,000", "20000000")))
case("limit/--set demand.contacts_per_day=1000000000",
     lambda d: ("compare", *QUICK, "--set", "demand.contacts_per_day=1000000000"),
     user_error("--set demand.contacts_per_day=1000000000", "demand.contacts_per_day", limit=("250,000", "250000")))
case("limit/--set demand.weekday_factors.monday=1.0e+12",
     lambda d: ("compare", *QUICK, "--set", "demand.weekday_factors.monday=1.0e+12"),
     user_error("demand.weekday_factors.monday", limit=("100",)))
case("limit/--set staffing.scale=1.0e+12",
     lambda d: ("compare", *QUICK, "--set", "staffing.scale=1.0e+12"),
     user_error("--set staffing.scale=1.0e+12", "staffing.scale", limit=("100",), absent=("no-bot.yaml",)))
case("limit/--set staffing.scale=1e12 (YAML 1.1 reads it as text)",
     lambda d: ("compare", *QUICK, "--set", "staffing.scale=1e12"),
     user_error("--set staffing.scale=1e12", "staffing.scale"))
case("limit/--set staffing.scale=90 (under its own limit, over the agents limit)",
     lambda d: ("compare", *QUICK, "--set", "staffing.scale=90", "--set", "agents.groups.service.schedule.09:00=200"),
     user_error("staffing.scale", limit=("10,000", "10000")))
case("limit/--set staffing.headcount.service=1000000000",
     lambda d: ("compare", *QUICK, "--set", "staffing.headcount.service=1000000000"),
     user_error("staffing.headcount.service", limit=("10,000", "10000")))
case("limit/--set agents.groups.service.schedule.09:00=1000000000",
     lambda d: ("compare", *QUICK, "--set", "agents.groups.service.schedule.09:00=1000000000"),
     user_error("agents.groups.service.schedule", limit=("10,000", "10000")))
case("limit/-n 10000000",
     lambda d: ("compare", "-p", "no-bot", "-n", "10000000"),
     user_error(limit=("10,000", "10000"), any_of=("--replications", "-n")))
case("limit/run -n 10000000",
     lambda d: ("run", "-p", "no-bot", "-n", "10000000", "--days", "1"),
     user_error(limit=("10,000", "10000"), any_of=("--replications", "-n")))
case("limit/--set horizon.replications=10000000",
     lambda d: ("compare", "-p", "no-bot", "--set", "horizon.replications=10000000"),
     user_error("horizon.replications", limit=("10,000", "10000")))
case("limit/--workers 1000",
     lambda d: ("compare", *QUICK, "--workers", "1000"),
     user_error(limit=("256",), any_of=("--workers", "-w")), max_processes=16)
case("limit/--days 100000",
     lambda d: ("compare", "-p", "no-bot", "-n", "1", "--days", "100000"),
     user_error(limit=("366",), any_of=("--days", "horizon.days")))
case("limit/--seed 10**30",
     lambda d: ("compare", *QUICK, "--seed", str(10**30)),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}{r}") if r.returncode not in (0, 2) else None))


# --- 3. hostile files ---------------------------------------------------------------------------------------


def fifo(path: Path) -> None:
    os.mkfifo(path)


def big_unknown_keys(path: Path, megabytes: float) -> None:
    """A valid-looking scenario followed by unknown keys up to ``megabytes``."""
    head = BASE_SCENARIO.encode()
    line = b"unknown_key_%08d: 1\n"
    count = int((megabytes * 1_000_000 - len(head)) / len(line % 0))
    with open(path, "wb") as handle:
        handle.write(head)
        for start in range(0, count, 10_000):
            handle.write(b"".join(line % i for i in range(start, min(count, start + 10_000))))


def nested(depth: int, open_: str, close: str) -> str:
    return open_ * depth + close * depth


case("file/50 MB of unknown keys", lambda d: ("validate", str(d / "big.yaml")),
     user_error(path_in("big.yaml"), limit=("1,000,000", "1000000", "MB", "bytes")),
     setup=lambda d: big_unknown_keys(d / "big.yaml", 50))
case("file/50 MB of unknown keys (compare)", lambda d: ("compare", str(d / "big.yaml"), *QUICK),
     user_error(path_in("big.yaml")), setup=lambda d: big_unknown_keys(d / "big.yaml", 50))
case("file/0.95 MB of unknown keys (under the size limit: reported, in bounded time and memory)",
     lambda d: ("validate", str(d / "big.yaml")),
     user_error(path_in("big.yaml"), "unknown_key_00000000"),
     setup=lambda d: big_unknown_keys(d / "big.yaml", 0.95))
case("file/a 900 KB name", lambda d: ("validate", str(d / "s.yaml")),
     user_error("name", line=(path_in("s.yaml"), 1), limit=("2,000", "2000")),
     setup=lambda d: (d / "s.yaml").write_text(f"name: {'x' * 900_000}\n" + BASE_SCENARIO.split("\n", 1)[1]))
case("file/an integer of 5,000 digits", lambda d: ("validate", str(d / "s.yaml")),
     user_error("agents.groups.team.headcount", line=(path_in("s.yaml"), 33)),
     setup=lambda d: (d / "s.yaml").write_text(BASE_SCENARIO.replace("headcount: 3", "headcount: " + "9" * 5000)))
case("file/a float of 5,000 digits", lambda d: ("validate", str(d / "s.yaml")),
     user_error("bot.quality", line=(path_in("s.yaml"), 27)),
     setup=lambda d: (d / "s.yaml").write_text(BASE_SCENARIO.replace("quality: 1.0", "quality: 1" + "1" * 5000 + ".0")))
for _what, _text in {"10,000 nested [": "demand: " + nested(10_000, "[", "]"),
                     "10,000 nested {": "demand: " + nested(10_000, "{a: ", "}"),
                     "10,000 nested [ in a key": "? " + nested(10_000, "[", "]") + "\n: 1",
                     "1,000 nested block mappings": "demand:\n" + "".join(f"{'  ' * (i + 1)}a:\n" for i in range(1000))
                     + "  " * 1001 + "1",
                     "10,000 nested [ unclosed": "demand: " + "[" * 10_000,
                     "100,000 nested [": "demand: " + nested(100_000, "[", "]")}.items():
    case(f"file/{_what}", lambda d: ("validate", str(d / "deep.yaml")), user_error(path_in("deep.yaml")),
         setup=lambda d, t=_text: (d / "deep.yaml").write_text("name: deep\n" + t + "\n"))
    case(f"file/{_what} (compare)", lambda d: ("compare", str(d / "deep.yaml"), *QUICK),
         user_error(path_in("deep.yaml")),
         setup=lambda d, t=_text: (d / "deep.yaml").write_text("name: deep\n" + t + "\n"))
case("file/10,000 nested [ in a policy", lambda d: ("compare", "ecommerce", "-p", str(d / "p.yaml"), "-n", "1"),
     user_error(path_in("p.yaml")),
     setup=lambda d: (d / "p.yaml").write_text("name: deep\nautomation: " + nested(10_000, "[", "]") + "\n"))
case("file//dev/zero as the scenario (validate)", lambda d: ("validate", "/dev/zero"), user_error("/dev/zero"))
case("file//dev/zero as the scenario (compare)", lambda d: ("compare", "/dev/zero", *QUICK), user_error("/dev/zero"))
case("file//dev/zero as a policy", lambda d: ("compare", "ecommerce", "-p", "/dev/zero", "-n", "1"),
     user_error("/dev/zero"))
case("file/a symlink to /dev/zero", lambda d: ("validate", str(d / "zero.yaml")), user_error(path_in("zero.yaml")),
     setup=lambda d: (d / "zero.yaml").symlink_to("/dev/zero"))
case("file/a FIFO as the scenario (validate)", lambda d: ("validate", str(d / "fifo.yaml")),
     user_error(path_in("fifo.yaml")), setup=lambda d: fifo(d / "fifo.yaml"))
case("file/a FIFO as the scenario (compare)", lambda d: ("compare", str(d / "fifo.yaml"), *QUICK),
     user_error(path_in("fifo.yaml")), setup=lambda d: fifo(d / "fifo.yaml"))
case("file/a FIFO as a policy", lambda d: ("compare", "ecommerce", "-p", str(d / "fifo.yaml"), "-n", "1"),
     user_error(path_in("fifo.yaml")), setup=lambda d: fifo(d / "fifo.yaml"))
case("file/a directory (validate)", lambda d: ("validate", str(d / "dir.yaml")), user_error(path_in("dir.yaml")),
     setup=lambda d: (d / "dir.yaml").mkdir())
case("file/a directory (compare)", lambda d: ("compare", str(d)), user_error(lambda d: str(d)),
     setup=lambda d: None)
case("file/a directory as a policy", lambda d: ("compare", "ecommerce", "-p", str(d / "dir.yaml"), "-n", "1"),
     user_error(path_in("dir.yaml")), setup=lambda d: (d / "dir.yaml").mkdir())
case("file/binary (random bytes)", lambda d: ("validate", str(d / "bin.yaml")), user_error(path_in("bin.yaml")),
     setup=lambda d: (d / "bin.yaml").write_bytes(random.Random(1).randbytes(4096)))
case("file/binary (an ELF executable)", lambda d: ("compare", sys.executable, *QUICK), user_error(sys.executable))
case("file/UTF-16 with a byte-order mark", lambda d: ("validate", str(d / "u16.yaml")),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}{r}") if r.returncode not in (0, 2) else None),
     setup=lambda d: (d / "u16.yaml").write_bytes(BASE_SCENARIO.encode("utf-16")))
case("file/a UTF-8 byte-order mark is fine", lambda d: ("validate", str(d / "bom.yaml")),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}{r}") if r.returncode != 0 else None),
     setup=lambda d: (d / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + BASE_SCENARIO.encode()))
case("file/empty", lambda d: ("validate", str(d / "empty.yaml")), user_error(path_in("empty.yaml")),
     setup=lambda d: (d / "empty.yaml").write_bytes(b""))
case("file/only a comment", lambda d: ("compare", str(d / "c.yaml"), *QUICK), user_error(path_in("c.yaml")),
     setup=lambda d: (d / "c.yaml").write_text("# nothing here\n"))
case("file/a list at the top", lambda d: ("validate", str(d / "l.yaml")), user_error(path_in("l.yaml")),
     setup=lambda d: (d / "l.yaml").write_text("- name: x\n- demand: 1\n"))
case("file/several YAML documents", lambda d: ("validate", str(d / "m.yaml")), user_error(path_in("m.yaml")),
     setup=lambda d: (d / "m.yaml").write_text(BASE_SCENARIO + "---\n" + BASE_SCENARIO))
case("file/a key that is a mapping", lambda d: ("validate", str(d / "k.yaml")),
     user_error(line=(path_in("k.yaml"), len(BASE_SCENARIO.splitlines()) + 1)),
     setup=lambda d: (d / "k.yaml").write_text(BASE_SCENARIO + "? {a: 1}\n: 2\n"))
case("file/a duplicate key", lambda d: ("validate", str(d / "dup.yaml")),
     user_error("demand.contacts_per_day", line=(path_in("dup.yaml"), 9)),
     setup=lambda d: (d / "dup.yaml").write_text(BASE_SCENARIO.replace("  contacts_per_day: 200\n",
                                                                       "  contacts_per_day: 200\n"
                                                                       "  contacts_per_day: 300\n")))
case("file/does not exist", lambda d: ("compare", str(d / "nope.yaml"), *QUICK), user_error(path_in("nope.yaml")))
if not AS_ROOT:  # root reads a file whatever its permissions
    case("file/unreadable (permission denied)", lambda d: ("validate", str(d / "locked.yaml")),
         user_error(path_in("locked.yaml")),
         setup=lambda d: ((d / "locked.yaml").write_text(BASE_SCENARIO), (d / "locked.yaml").chmod(0)))
case("file/a path through a file", lambda d: ("validate", str(d / "s.yaml" / "x.yaml")),
     user_error(path_in("s.yaml/x.yaml")), setup=lambda d: (d / "s.yaml").write_text(BASE_SCENARIO))
case("file/a name too long for the file system", lambda d: ("validate", str(d / ("x" * 300 + ".yaml"))),
     user_error("x" * 300))
case("file/a symlink loop", lambda d: ("validate", str(d / "loop.yaml")), user_error(path_in("loop.yaml")),
     setup=lambda d: (d / "loop.yaml").symlink_to(d / "loop.yaml"))


# --- 4. internal errors instead of exit 2 ---------------------------------------------------------------------

for _option in ("demand.contacts_per_day=.inf", "demand.contacts_per_day=.nan", "demand.contacts_per_day=-.inf",
                "horizon.warm_up=1e400s", "horizon.warm_up=.inf", "bot.quality=.nan", "bot.quality=1.0e+400",
                "bot.cost_per_resolution=-.inf", "channels.voice.share=.nan", "channels.chat.handle_time_factor=.inf",
                "segments.vip.value_at_risk=.inf", "intents.returns.handle_time.cv=.nan",
                "intents.returns.handle_time.mean=1e400s", "frustration.patience_coupling=.inf",
                "escalation.frustration_threshold=.nan", "handoff.cold_handle_factor=.inf",
                "callback.after_wait=1e400s", "callback.accept=.nan", "staffing.scale=.nan",
                "automation.share.chat=.inf", "demand.weekday_factors.monday=.nan"):
    _key = _option.split("=")[0]
    case(f"non-finite/--set {_option}",
         lambda d, o=_option: ("compare", "-p", "no-bot", "-p", "warm-handoff", "-n", "1", "--days", "1",
                               "--set", o),
         user_error(f"--set {_option}", _key, absent=("ecommerce.yaml", "warm-handoff.yaml")))

for _what, _value in {"10,000 nested [": nested(10_000, "[", "]"), "10,000 nested {": nested(10_000, "{a: ", "}"),
                      "an unclosed [": "[" * 10_000, "an alias bomb": "&a [x, x, x, x, x, x, x, x, x]"}.items():
    case(f"deep/--set name={_what}",
         lambda d, v=_value: ("compare", *QUICK, "--set", f"name={v}"),
         user_error("--set", "name", absent=("ecommerce.yaml",)))

for _tag in ('!vault abc', '!!python/object/apply:os.system ["touch pwned"]', "!!python/name:os.system",
             '!!python/object/new:subprocess.call [[touch, pwned]]'):
    case(f"tag/--set name={_tag}",
         lambda d, t=_tag: ("compare", *QUICK, "--set", f"name={t}"),
         lambda r, d: (user_error("--set", "name", absent=("ecommerce.yaml",))(r, d),
                       pytest.fail("a tag ran a command") if (d / "pwned").exists() else None))

for _option, _blamed in {"demand.contacts_per_day.x=1": "demand.contacts_per_day",
                         "name.first=x": "name",
                         "horizon.days.0=2": "horizon.days",
                         "channels.voice.share.deep.er=1": "channels.voice.share",
                         "intents.returns.skill.x=1": "intents.returns.skill",
                         "escalation.max_bot_turns.x=1": "escalation.max_bot_turns"}.items():
    case(f"set-into-scalar/--set {_option}",
         lambda d, o=_option: ("compare", "-p", "no-bot", "-p", "warm-handoff", "-n", "1", "--days", "1",
                               "--set", o),
         user_error(f"--set {_option}", _blamed, absent=("ecommerce.yaml", "warm-handoff.yaml", "no-bot.yaml")))
case("set-into-scalar/--set horizon=5 (a section replaced by a number)",
     lambda d: ("compare", *QUICK, "--set", "horizon=5"),
     user_error("--set horizon=5", "horizon", absent=("ecommerce.yaml",)))
case("set-into-scalar/--set intents.0.share=1 (an index into a mapping)",
     lambda d: ("compare", *QUICK, "--set", "intents.0.share=1"),
     user_error("--set intents.0.share=1", absent=("ecommerce.yaml",)))
for _option in ("=1", "demand..x=1", ".=1", "nothing", "scenario=1", "policy.=1", "  =  "):
    case(f"set-malformed/--set {_option!r}", lambda d, o=_option: ("compare", *QUICK, "--set", o),
         user_error("--set", absent=("ecommerce.yaml",)))

for _command in (("schema", "scenario"), ("schema", "policy"), ("schema", "--markdown"), ("kpis",),
                 ("kpis", "--markdown")):
    case(f"output/{' '.join(_command)} -o DIR", lambda d, c=_command: (*c, "-o", str(d)),
         user_error(lambda d: str(d), any_of=("-o", "--output", "folder", "directory")))
    case(f"output/{' '.join(_command)} -o FIFO",
         lambda d, c=_command: (*c, "-o", str(d / "fifo")),
         lambda r, d: (assert_clean(r), no_escape_bytes(r),
                       pytest.fail(f"exit {r.returncode}, not 0 or 2{r}") if r.returncode not in (0, 2) else None,
                       pytest.fail("the FIFO was replaced") if not stat.S_ISFIFO(os.lstat(d / "fifo").st_mode)
                       else None),
         setup=lambda d: fifo(d / "fifo"))
    case(f"output/{' '.join(_command)} -o a path through a file",
         lambda d, c=_command: (*c, "-o", str(d / "file" / "out.txt")),
         user_error(path_in("file/out.txt")), setup=lambda d: (d / "file").write_text("x"))
case("output/compare -o DIR", lambda d: ("compare", *QUICK, "-o", str(d)),
     user_error(lambda d: str(d), any_of=("-o", "--output", "folder", "directory")))
case("output/compare -f csv -o a path through a file",
     lambda d: ("compare", *QUICK, "-f", "csv", "-o", str(d / "file" / "out.csv")),
     user_error(path_in("file/out.csv")), setup=lambda d: (d / "file").write_text("x"))


def check_written_through_or_refused(kind: str) -> Callable[[Outcome, Path], None]:
    """-o onto something that is not a regular file: write through it (exit 0) or refuse (exit 2); it stays
    what it was, and a symlink stays a symlink."""

    def check(result: Outcome, folder: Path) -> None:
        assert_clean(result)
        no_escape_bytes(result)
        assert result.returncode in (0, 2), f"exit {result.returncode}, not 0 (written) or 2 (refused){result}"
        target = folder / "target"
        mode = os.lstat(target).st_mode
        if kind == "fifo":
            assert stat.S_ISFIFO(mode), "the FIFO was replaced by a regular file"
        elif kind == "device":
            assert stat.S_ISCHR(mode), "the device was replaced by a regular file"
        elif kind.startswith("link"):
            assert stat.S_ISLNK(mode), "the symlink was replaced by a regular file"
            if kind == "link-to-file" and result.returncode == 0:
                text = (folder / "real.json").read_text()
                assert json.loads(text)["policies"], "the symlink's target does not hold the result"
            if kind == "link-to-fifo":
                assert stat.S_ISFIFO(os.lstat(folder / "fifo").st_mode), "the FIFO behind the link was replaced"
        if result.returncode == 2:
            assert "target" in result.stderr, f"the refusal does not name the file{result}"
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        assert not leftovers, f"temporary files left behind: {leftovers}"

    return check


def make_device(path: Path) -> None:
    if AS_ROOT:  # our own null device: a test must never risk replacing the machine's /dev/null
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:  # without root, /dev cannot be written: the real one is safe to aim at
        path.symlink_to("/dev/null")


_OUTPUTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "a FIFO": ("fifo", lambda d: fifo(d / "target")),
    "a character device": ("device" if AS_ROOT else "link", lambda d: make_device(d / "target")),
    "a symlink to a regular file": ("link-to-file", lambda d: ((d / "real.json").write_text("{}"),
                                                               (d / "target").symlink_to(d / "real.json"))),
    "a dangling symlink": ("link", lambda d: (d / "target").symlink_to(d / "missing" / "real.json")),
    "a symlink to a FIFO": ("link-to-fifo", lambda d: (fifo(d / "fifo"), (d / "target").symlink_to(d / "fifo"))),
    "a symlink to this process's stdout": ("link", lambda d: (d / "target").symlink_to("/proc/self/fd/1")),
    "a symlink loop": ("link", lambda d: (d / "target").symlink_to(d / "target")),
}
for _what, (_kind, _setup) in _OUTPUTS.items():
    case(f"output/compare -f json -o {_what}", lambda d: ("compare", *QUICK, "-f", "json", "-o", str(d / "target")),
         check_written_through_or_refused(_kind), setup=_setup)
case("output/schema -o a symlink to a regular file", lambda d: ("schema", "-o", str(d / "target")),
     lambda r, d: (assert_clean(r), pytest.fail(f"exit {r.returncode}{r}") if r.returncode != 0 else None,
                   pytest.fail("the symlink was replaced") if not (d / "target").is_symlink() else None,
                   json.loads((d / "real.json").read_text())),
     setup=lambda d: ((d / "real.json").write_text("{}"), (d / "target").symlink_to(d / "real.json")))

NON_UTF8 = b"\xff\xfe-r\xe9sultat"


def check_non_utf8_output(result: Outcome, folder: Path) -> None:
    """A file name that is not UTF-8 is a legal POSIX name: the result is written under exactly that name."""
    assert_clean(result)
    no_escape_bytes(result)
    assert result.returncode == 0, f"exit {result.returncode}{result}"
    names = os.listdir(os.fsencode(folder))
    assert NON_UTF8 + b".json" in names, f"not written under its own name: {names}"
    json.loads((Path(os.fsdecode(os.fsencode(folder) + b"/" + NON_UTF8 + b".json"))).read_text())


case("output/compare -o a non-UTF-8 file name",
     lambda d: (b"compare", *(a.encode() for a in QUICK), b"-f", b"json", b"-o",
                os.fsencode(d) + b"/" + NON_UTF8 + b".json"),
     check_non_utf8_output)


def write_named_policy(folder: Path, name: bytes, text: str = BASE_POLICY) -> None:
    with open(os.fsencode(folder) + b"/" + name, "w", encoding="utf-8") as handle:
        handle.write(text)


def check_non_utf8_label(fmt: str) -> Callable[[Outcome, Path], None]:
    """A policy whose file stem is not UTF-8 (so its label holds surrogates): the comparison is printed."""

    def check(result: Outcome, folder: Path) -> None:
        assert_clean(result)
        no_escape_bytes(result)
        assert result.returncode == 0, f"exit {result.returncode}{result}"
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO("".join(
                line + "\n" for line in result.stdout.splitlines() if not line.startswith("#")))))
            assert len({row["policy"] for row in rows}) == 2, rows[:3]
        elif fmt == "json":
            assert len(json.loads(result.stdout)["policies"]) == 2
        if (folder / "out.txt").exists() or fmt == "csv-o":
            assert (folder / "out.txt").read_text(encoding="utf-8"), "the --output file is empty"

    return check


for _fmt in ("table", "csv", "json"):
    case(f"surrogates/compare -f {_fmt} with a non-UTF-8 policy file name",
         lambda d, f=_fmt: ("compare", "ecommerce", "-p", "no-bot", "-p",
                            os.fsencode(d) + b"/\xff\xe9-policy.yaml", "-n", "1", "--days", "1", "-f", f),
         check_non_utf8_label(_fmt), setup=lambda d: write_named_policy(d, b"\xff\xe9-policy.yaml"))
case("surrogates/compare -f csv -o with a non-UTF-8 policy file name",
     lambda d: ("compare", "ecommerce", "-p", "no-bot", "-p", os.fsencode(d) + b"/\xff\xe9-policy.yaml",
                "-n", "1", "--days", "1", "-f", "csv", "-o", str(d / "out.txt")),
     check_non_utf8_label("csv-o"), setup=lambda d: write_named_policy(d, b"\xff\xe9-policy.yaml"))
case("surrogates/validate a broken file with a non-UTF-8 name",
     lambda d: ("validate", os.fsencode(d) + b"/\xff\xe9.yaml"),
     user_error("demand.contacts_per_day"),
     setup=lambda d: write_named_policy(d, b"\xff\xe9.yaml", replace_contacts(BASE_SCENARIO, "lots")))
case("surrogates/--set policy.name=<non-UTF-8 bytes>",
     lambda d: ("compare", *QUICK, "--set", b"policy.name=caf\xe9"),
     user_error("--set", "name"))
case("surrogates/--set <non-UTF-8 key>=1",
     lambda d: ("compare", *QUICK, "--set", b"escalation.\xff=1"),
     user_error("--set", "escalation"))
case("surrogates/-p <non-UTF-8 name>",
     lambda d: ("compare", "-p", b"no-b\xf6t", "-n", "1"),
     user_error("no-b"))
case("surrogates/validate a missing non-UTF-8 path",
     lambda d: ("validate", os.fsencode(d) + b"/\xff.yaml"),
     user_error(lambda d: str(d)))


def replace_contacts(text: str, value: str) -> str:
    return text.replace("contacts_per_day: 200", f"contacts_per_day: {value}")


# --- 6. terminal safety ---------------------------------------------------------------------------------------

for _what, _args in {
    "-p '\\e[31mred'": ("compare", "-p", "\x1b[31mred", "-n", "1"),
    "-p '\\e]0;title\\a.yaml' (a path)": ("compare", "-p", "\x1b]0;title\x07.yaml", "-n", "1"),
    "scenario '\\e[2J'": ("compare", "\x1b[2J", *QUICK),
    "--set '\\e[31mkey=1'": ("compare", *QUICK, "--set", "\x1b[31mkey=1"),
    "--set 'policy.name=\\e]0;title\\a'": ("compare", *QUICK, "--set", "policy.name=\x1b]0;title\x07"),
    "--set 'scenario.description=\\e[2J'": ("compare", *QUICK, "--set", "scenario.description=\x1b[2J"),
    "--set 'intents.\\e[31mx.share=1'": ("compare", *QUICK, "--set", "intents.\x1b[31mx.share=1"),
    "--set 'demand.contacts_per_day=\\e[31m'": ("compare", *QUICK, "--set", "demand.contacts_per_day=\x1b[31m"),
    "--baseline '\\e[31m'": ("compare", *QUICK, "--baseline", "\x1b[31m"),
    "-f '\\e[31m' (click's own message)": ("compare", *QUICK, "-f", "\x1b[31mjson"),
    "-n '\\e[31m' (click's own message)": ("compare", "-p", "no-bot", "-n", "\x1b[31m"),
    "an unknown option '--\\e[31m' (click's own message)": ("compare", "--\x1b[31mx"),
    "an unknown command '\\e[31m' (click's own message)": ("\x1b[31mcompare",),
    "schema '\\e[31m'": ("schema", "\x1b[31m"),
    "validate '\\e[2J.yaml' (missing)": ("validate", "\x1b[2J.yaml"),
}.items():
    case(f"terminal/{_what}", lambda d, a=_args: a,
         lambda r, d: (assert_clean(r), no_escape_bytes(r),
                       pytest.fail(f"exit {r.returncode}, not 2{r}") if r.returncode != 2 else None))
case("terminal/validate a broken file named '\\e[31m.yaml'",
     lambda d: ("validate", str(d / "\x1b[31m.yaml")),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}, not 2{r}") if r.returncode != 2 else None),
     setup=lambda d: (d / "\x1b[31m.yaml").write_text(replace_contacts(BASE_SCENARIO, "lots")))
for _fmt in ("table", "csv", "json"):
    case(f"terminal/compare -f {_fmt} with a policy file named '\\e[31mred.yaml'",
         lambda d, f=_fmt: ("compare", "ecommerce", "-p", "no-bot", "-p", str(d / "\x1b[31mred.yaml"),
                            "-n", "1", "--days", "1", "-f", f),
         lambda r, d: (assert_clean(r), no_escape_bytes(r),
                       pytest.fail(f"exit {r.returncode}, not 0{r}") if r.returncode != 0 else None),
         setup=lambda d: (d / "\x1b[31mred.yaml").write_text(BASE_POLICY))
case("terminal/compare -f csv with a scenario file named '\\e]0;t\\a.yaml'",
     lambda d: ("compare", str(d / "\x1b]0;t\x07.yaml"), "-p", "no-bot", "-n", "1", "-f", "csv"),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}, not 0{r}") if r.returncode != 0 else None),
     setup=lambda d: (d / "\x1b]0;t\x07.yaml").write_text(BASE_SCENARIO))
case("terminal/list with files named with escapes in ./policies",
     lambda d: ("list",),
     lambda r, d: (assert_clean(r), no_escape_bytes(r),
                   pytest.fail(f"exit {r.returncode}, not 0{r}") if r.returncode != 0 else None),
     setup=lambda d: ((d / "policies").mkdir(), (d / "policies" / "\x1b[2Jboom.yaml").write_text(BASE_POLICY),
                      (d / "simulations").mkdir(), (d / "simulations" / "\x1b]0;t\x07.yaml").write_text(BASE_SCENARIO)))


# --- 7. the TUI, from the command line ----------------------------------------------------------------------

case("tui/-p warm-handof (misspelled)", lambda d: ("tui", "-p", "warm-handof"),
     user_error("warm-handof", "warm-handoff", any_of=("did you mean",)))
case("tui//dev/zero", lambda d: ("tui", "/dev/zero"), user_error("/dev/zero"))
case("tui/a FIFO", lambda d: ("tui", str(d / "fifo.yaml")), user_error(path_in("fifo.yaml")),
     setup=lambda d: fifo(d / "fifo.yaml"))
case("tui/-p '\\e[31mx'", lambda d: ("tui", "-p", "no-bot", "-p", "\x1b[31mx"), user_error("x"))


# --- running the declared cases -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, tuple[Outcome, Path]]:
    """Every selected case, run three at a time (they are import-bound; the machine may have two cores)."""
    wanted = [item.callspec.params["name"] for item in request.session.items
              if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
              and "name" in item.callspec.params and item.originalname == "test_case"]
    folders: dict[str, Path] = {}
    for name in wanted:
        folder = tmp_path_factory.mktemp("case")
        if CASES[name].setup is not None:
            CASES[name].setup(folder)  # type: ignore[misc]
        folders[name] = folder

    def run(name: str) -> tuple[Outcome, Path]:
        c, folder = CASES[name], folders[name]
        return run_cli(*c.args(folder), cwd=folder, timeout=c.timeout, env=c.env,
                       max_processes=c.max_processes), folder

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(wanted, pool.map(run, wanted), strict=True))
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str, outcomes: dict[str, tuple[Outcome, Path]]) -> None:
    result, folder = outcomes[name]
    CASES[name].check(result, folder)


def test_the_corpus_is_small_and_states_its_expectations() -> None:
    """Every corpus file is a few KB and says what its message must contain."""
    assert SCENARIO_CORPUS
    assert POLICY_CORPUS
    for path in SCENARIO_CORPUS + POLICY_CORPUS:
        assert path.stat().st_size < 10_000, path
        expected = expectations(path)
        assert expected.problems or expected.mentions or "bomb" in path.name or "laughs" in path.name \
            or "recursive" in path.name, f"{path} states no expectation"
