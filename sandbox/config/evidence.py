"""Provides bot evidence: per-intent outcome counts from bot evaluations, turned into uncertain bot rates.

Three formats are read (docs/bot-evidence.md gives the columns and how each outcome maps onto ours):

* ``csv``: one row per intent with counts (intent, conversations, resolved, wrong, escalated, abandoned and,
  optionally, turns_resolved and turns_unresolved, the mean bot turns of each kind of conversation);
* ``tau-bench``: the results file of a tau-bench-style evaluation (a JSON list or JSON lines, one record per
  task and trial with its reward, how it ended and its turns), with a task → intent mapping;
* ``analytics``: a platform's bot-analytics export, one row per intent and outcome with a count.

Each rate becomes an Estimate, Beta(k + 1, n − k + 1) (a uniform prior), which the simulator samples once per
replication. The wrong-answer rate is per unresolved conversation in the data but per failed turn in the
model; with the mean turns k̄ of unresolved conversations it is converted, p_turn = 1 − (1 − p)^(1/k̄),
keeping the number of unresolved conversations as the sample size.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.config import limits
from sandbox.config.loader import read_text
from sandbox.config.scenario import Estimate
from sandbox.errors import ConfigError, Problem

FORMATS = ("csv", "tau-bench", "analytics")
LEVEL_FIELD = {"none": "resolve_without_crm", "read": "resolve_with_crm", "act": "resolve_with_actions"}

# Platform analytics outcome names (lower case, spaces and dashes as underscores) → our outcome.
ANALYTICS_OUTCOMES = {
    **dict.fromkeys(("success", "resolved", "verified", "verified_resolution", "contained_verified"), "resolved"),
    **dict.fromkeys(("contained", "contained_unverified", "unverified", "unverified_containment"), "wrong"),
    **dict.fromkeys(("escalated", "handed_to_agent", "handoff", "handover", "transferred", "agent"), "escalated"),
    **dict.fromkeys(("dropped", "abandoned", "timeout", "no_response"), "abandoned"),
    **dict.fromkeys(("failed", "no_match", "fallback", "switched_intent"), "failed"),
}
# tau-bench endings (the record's "ended" field, or what its trajectory shows) → our outcome when reward < 1.
TAU_ENDINGS = {
    **dict.fromkeys(("user_stop", "stop", "done", "completed"), "wrong"),
    **dict.fromkeys(("transfer", "transfer_to_human_agents", "escalated", "handoff"), "escalated"),
    **dict.fromkeys(("max_turns", "max_steps", "abandoned", "timeout"), "abandoned"),
}


@dataclass
class Counts:
    """What one intent's evaluated conversations did."""

    conversations: int = 0
    resolved: int = 0
    wrong: int = 0  # ended with an answer the customer accepted but that did not solve the issue
    escalated: int = 0
    abandoned: int = 0
    # [sum of turns, conversations] of resolved and of unresolved conversations with a known turn count
    turns: dict[bool, list[float]] = field(default_factory=lambda: {True: [0.0, 0.0], False: [0.0, 0.0]})

    def add_turns(self, resolved: bool, mean: float, conversations: float = 1.0) -> None:
        self.turns[resolved][0] += mean * conversations
        self.turns[resolved][1] += conversations

    def mean_turns(self, resolved: bool) -> float | None:
        total, conversations = self.turns[resolved]
        return total / conversations if conversations > 0 else None


@dataclass
class Evidence:
    """Counts by intent, read from one file, with what was skipped while reading it."""

    file: str
    format: str
    intents: dict[str, Counts]
    skipped: dict[str, int] = field(default_factory=dict)  # reason → records


def _rows(path: Path) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    shown = str(path)
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ConfigError([Problem(shown, 1, "", "the file has no header row")])
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames]
    rows = [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None})
            for row in reader]
    return shown, rows


def _count(value: str, file: str, line: int, key: str, problems: list[Problem], required: bool = True) -> float:
    if value == "" and not required:
        return math.nan
    try:
        number = float(value)
    except ValueError:
        problems.append(Problem(file, line, key, f"should be a number (got {value!r})"))
        return 0.0
    if not math.isfinite(number) or number < 0 or number > limits.MAX_COUNT:
        problems.append(Problem(file, line, key, f"should be a count between 0 and {limits.MAX_COUNT:,} "
                                 f"(got {value})"))
        return 0.0
    return number


def _require(file: str, columns: Iterable[str], needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ConfigError([Problem(file, 1, c, "missing column", f"the header needs {', '.join(needed)}")
                           for c in missing])


def read_csv(path: Path) -> Evidence:
    file, rows = _rows(path)
    needed = ("intent", "conversations", "resolved", "wrong", "escalated", "abandoned")
    _require(file, rows[0][1] if rows else [], needed)
    problems: list[Problem] = []
    intents: dict[str, Counts] = {}
    for line, row in rows:
        name = row["intent"]
        if not name:
            problems.append(Problem(file, line, "intent", "is empty"))
            continue
        if name in intents:
            problems.append(Problem(file, line, "intent", f"{name!r} appears twice"))
            continue
        n, r, w, e, a = (_count(row[k], file, line, k, problems) for k in needed[1:])
        if r + w + e + a > n:
            problems.append(Problem(file, line, "conversations", f"{n:g} is fewer than resolved + wrong + "
                                     f"escalated + abandoned ({r + w + e + a:g})"))
        c = Counts(int(n), int(r), int(w), int(e), int(a))
        for key, resolved, count in (("turns_resolved", True, r), ("turns_unresolved", False, n - r)):
            turns = _count(row.get(key, ""), file, line, key, problems, required=False)
            if not math.isnan(turns):
                c.add_turns(resolved, turns, count)
        intents[name] = c
    if problems:
        raise ConfigError(problems)
    return Evidence(file, "csv", intents)


def read_analytics(path: Path) -> Evidence:
    file, rows = _rows(path)
    _require(file, rows[0][1] if rows else [], ("intent", "outcome", "count"))
    problems: list[Problem] = []
    intents: dict[str, Counts] = {}
    for line, row in rows:
        outcome = row["outcome"].lower().replace(" ", "_").replace("-", "_")
        ours = ANALYTICS_OUTCOMES.get(outcome)
        if ours is None:
            problems.append(Problem(file, line, "outcome", f"unknown outcome {row['outcome']!r}",
                                     f"known: {', '.join(sorted(ANALYTICS_OUTCOMES))}"))
            continue
        if not row["intent"]:
            problems.append(Problem(file, line, "intent", "is empty"))
            continue
        n = int(_count(row["count"], file, line, "count", problems))
        c = intents.setdefault(row["intent"], Counts())
        c.conversations += n
        if ours != "failed":  # failed: unresolved, ended neither by a wrong answer, a handover nor a drop
            setattr(c, ours, getattr(c, ours) + n)
        turns = _count(row.get("turns", ""), file, line, "turns", problems, required=False)
        if not math.isnan(turns):
            c.add_turns(ours == "resolved", turns, n)
    if problems:
        raise ConfigError(problems)
    return Evidence(file, "analytics", intents)


def _records(path: Path) -> tuple[str, list[tuple[int, Any]]]:
    """A JSON list (its items numbered from 1) or JSON lines (numbered by line)."""
    file, text = str(path), read_text(path)
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            return file, list(enumerate(json.loads(text), start=1))
        return file, [(i, json.loads(line)) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    except json.JSONDecodeError as exc:
        raise ConfigError([Problem(file, exc.lineno, "", f"broken JSON: {exc.msg}")]) from None


def _tau_ending(record: dict[str, Any]) -> str:
    """How a tau-bench trial ended: its "ended" field, else a transfer tool call in its trajectory, else the
    simulated user stopping (tau-bench's ###STOP###)."""
    ended = record.get("ended") or (record.get("info") or {}).get("ended")
    if isinstance(ended, str):
        return ended.lower()
    for message in record.get("traj") or []:
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls or []:
            name = (call.get("function") or {}).get("name") if isinstance(call, dict) else None
            if name == "transfer_to_human_agents":
                return "transfer_to_human_agents"
    return "user_stop"


def _tau_turns(record: dict[str, Any]) -> float | None:
    if isinstance(record.get("turns"), int | float):
        return float(record["turns"])
    traj = record.get("traj")
    if isinstance(traj, list):
        return float(sum(1 for m in traj if isinstance(m, dict) and m.get("role") == "assistant"))
    return None


def read_task_map(path: Path) -> dict[str, str]:
    """task id → intent, from a two-column CSV (task_id, intent)."""
    file, rows = _rows(path)
    _require(file, rows[0][1] if rows else [], ("task_id", "intent"))
    return {row["task_id"]: row["intent"] for _, row in rows if row["task_id"]}


def read_tau_bench(path: Path, tasks: dict[str, str] | None = None) -> Evidence:
    file, records = _records(path)
    problems: list[Problem] = []
    intents: dict[str, Counts] = {}
    skipped: dict[str, int] = {}
    unmapped: dict[str, int] = {}  # task → first record without an intent (one problem per task, not per trial)
    for where, record in records:
        if not isinstance(record, dict):
            problems.append(Problem(file, where, "", "each record should be an object"))
            continue
        task = str(record.get("task_id", ""))
        intent = record.get("intent") or (tasks or {}).get(task)
        if not intent:
            unmapped.setdefault(task, where)
            continue
        reward = record.get("reward")
        if not isinstance(reward, int | float) or not 0 <= reward <= 1:
            problems.append(Problem(file, where, "reward", f"should be a number from 0 to 1 (got {reward!r})"))
            continue
        ending = _tau_ending(record)
        if ending == "error":
            skipped["the trial ended in an error"] = skipped.get("the trial ended in an error", 0) + 1
            continue
        c = intents.setdefault(str(intent), Counts())
        c.conversations += 1
        resolved = reward >= 1 - 1e-9
        if resolved:
            c.resolved += 1
        else:
            ours = TAU_ENDINGS.get(ending)
            if ours is None:
                problems.append(Problem(file, where, "ended", f"unknown ending {ending!r}",
                                         f"known: {', '.join(sorted(TAU_ENDINGS))}, error"))
                continue
            setattr(c, ours, getattr(c, ours) + 1)
        turns = _tau_turns(record)
        if turns is not None:
            c.add_turns(resolved, turns)
    if unmapped:
        hint = "give --tasks FILE (task_id,intent)" if tasks is None else "add them to the --tasks file"
        shown = ", ".join(list(unmapped)[:10]) + (f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else "")
        problems.append(Problem(file, min(unmapped.values()), "task_id",
                                f"{len(unmapped)} tasks have no intent ({shown})", hint))
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return Evidence(file, "tau-bench", intents, skipped)


def read(path: Path, fmt: str, tasks: Path | None = None) -> Evidence:
    if fmt == "csv":
        return read_csv(path)
    if fmt == "analytics":
        return read_analytics(path)
    if fmt == "tau-bench":
        return read_tau_bench(path, read_task_map(tasks) if tasks else None)
    raise ConfigError([Problem(None, None, "--format", f"unknown format {fmt!r}", f"one of {', '.join(FORMATS)}")])


def estimates(counts: Counts, discount: float = 1.0, source: str = "") -> tuple[Estimate | None, Estimate | None]:
    """(resolution, wrong answer per failed turn) as Estimates; None where there is nothing to estimate from."""
    n, r = counts.conversations, counts.resolved
    if n == 0:
        return None, None
    resolve = Estimate(alpha=r + 1, beta=n - r + 1, discount=discount, source=f"{source}: {r} of {n} resolved")
    unresolved = n - r
    if unresolved == 0:
        return resolve, None
    share = counts.wrong / unresolved
    k = max(1.0, counts.mean_turns(False) or 1.0)
    per_turn = 1 - (1 - share) ** (1 / k)
    wrong = Estimate(alpha=round(1 + unresolved * per_turn, 4), beta=round(1 + unresolved * (1 - per_turn), 4),
                     source=f"{source}: {counts.wrong} wrong answers in {unresolved} unresolved conversations"
                     + (f", {k:.1f} turns each" if k > 1 else ""))
    return resolve, wrong


def render(evidence: Evidence, discount: float = 1.0, level: str = "read", command: str = "") -> str:
    """The bot-evidence YAML a scenario references (bot_evidence: FILE), with the counts as comments."""
    name = Path(evidence.file).name
    out = [f"# Bot evidence for support-sandbox, from {name} ({evidence.format}).",
           f"# Written by: {command}" if command else "# Written by support-sandbox bot-evidence.",
           "# Reference it from a scenario (bot_evidence: THIS_FILE); each rate is Beta(alpha, beta) x discount",
           "# from the counts (k of n: alpha = k + 1, beta = n - k + 1), sampled once per replication.",
           "# Escalation and abandonment are measured here but modelled there (from the policy and frustration):",
           "# compare them with the simulator's before trusting the rest.",
           f"source: {json.dumps(name)}", "intents:"]
    for skipped, count in evidence.skipped.items():
        out.insert(6, f"# skipped {count} records: {skipped}")
    for intent, c in evidence.intents.items():
        resolve, wrong = estimates(c, discount, name)
        n = max(1, c.conversations)
        out += [f"  {intent}:",
                f"    # {c.conversations} conversations: {c.resolved} resolved, {c.wrong} wrong answers, "
                f"{c.escalated} escalated ({c.escalated / n:.0%}), {c.abandoned} abandoned ({c.abandoned / n:.0%})",
                "    bot:"]
        if resolve is not None:
            out.append(f"      {LEVEL_FIELD[level]}: {_flow(resolve)}")
        if wrong is not None:
            out.append(f"      wrong_answer: {_flow(wrong)}")
        turns = c.mean_turns(True)
        if turns is not None:
            out.append(f"      turns_to_resolve: {min(30.0, max(1.0, round(turns, 2)))}")
        if resolve is None and wrong is None and turns is None:
            out[-1] = "    bot: {}"
    return "\n".join(out) + "\n"


def _flow(e: Estimate) -> str:
    parts = [f"alpha: {e.alpha:g}", f"beta: {e.beta:g}"]
    if e.discount != 1:
        parts.append(f"discount: {e.discount:g}")
    if e.source:
        parts.append(f"source: {json.dumps(e.source)}")
    return "{" + ", ".join(parts) + "}"
