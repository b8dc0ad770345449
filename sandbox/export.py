"""Provides the headless outputs of a comparison and a policy: JSON, CSV, Markdown and YAML, written atomically.

The CLI and the TUI both write through here, so an export from either is the same file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox import __version__, catalog, provenance
from sandbox.config.policy import Policy
from sandbox.errors import SandboxError, printable
from sandbox.experiments import Comparison
from sandbox.metrics.kpis import DAILY, HEADLINE, KPIS
from sandbox.presentation import format_half_width, format_value


def _clean(value: Any) -> Any:
    """NaN and infinity are not JSON; they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def to_json(comparison: Comparison, replication_series: bool = False) -> str:
    return json_text(comparison.to_dict(replication_series))


def json_text(data: Any) -> str:
    """Plain data as strict JSON: nan and infinities (a rate over nothing, an unstable queue) become null."""
    return json.dumps(_clean(data), indent=2, default=str)


CSV_FIELDS = ("policy", "name", "kpi", "mean", "half_width", "low", "high", "n", "diff_mean", "diff_half_width",
              "diff_significant", "day")


def to_csv(comparison: Comparison) -> str:
    """One row per policy and KPI (long format, easy to pivot), after the provenance as '#' comment lines
    (pandas: ``read_csv(path, comment="#")``)."""
    out = io.StringIO()
    out.write(provenance.commented(comparison))
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(tidy_rows(comparison))
    return out.getvalue()


def tidy_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """The rows of the CSV (and of a Parquet file): one per policy and KPI over the run (``day`` empty), then, for
    a run of several days, one per policy, day and daily KPI (kpis.DAILY)."""
    rows = []
    for p, label in enumerate(comparison.labels):
        for kpi in KPIS:
            est = comparison.estimate(p, kpi)
            diff = comparison.difference(p, kpi) if p != comparison.baseline else None
            rows.append(_clean({
                "policy": label, "name": comparison.names[p], "kpi": kpi, "mean": est.mean,
                "half_width": est.half_width, "low": est.low, "high": est.high, "n": est.n,
                "diff_mean": diff.mean if diff else None, "diff_half_width": diff.half_width if diff else None,
                "diff_significant": diff.significant if diff else None, "day": None,
            }))
    for p, label in enumerate(comparison.labels):
        days = comparison.daily(p)
        for record in days if len(days) > 1 else []:
            for kpi in DAILY:
                est = record[kpi]
                rows.append(_clean({"policy": label, "name": comparison.names[p], "kpi": kpi, "mean": est["mean"],
                                    "half_width": est["half_width"], "low": est["low"], "high": est["high"],
                                    "n": est["n"], "diff_mean": None, "diff_half_width": None,
                                    "diff_significant": None, "day": record["day"]}))
    return rows


class OutputError(SandboxError):
    """A result could not be written where the user asked; the message names the path and why."""


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write a whole file or nothing: to a temporary file beside the target, flushed to disk, then renamed.

    A symlink is written through (the link stays a link); a pipe, device or socket is refused rather than
    replaced by a regular file (as root, renaming over /dev/full would replace the device). Text that cannot
    be encoded (a file name with undecodable bytes) is written with backslash escapes. Returns the real path.
    """
    shown = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
    target = Path(os.path.realpath(path.expanduser()))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {shown}: it is a folder; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(f"cannot write {shown}: it is not a regular file (a pipe or device); "
                          "use the shell's redirection (>) for those")
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        data = text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must never point at data still in the page cache
        os.chmod(tmp, info.st_mode & 0o7777 if info else 0o666 & ~_umask())  # mkstemp makes it 0600
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return target


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Tidy rows as a Parquet file (pyarrow, the optional ``parquet`` extra). Each column gets one type: whole
    numbers stay integers, a column mixing whole and fractional numbers is float, anything else is text; a
    column with no value at all is null."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise OutputError("writing Parquet needs pyarrow: python -m pip install 'support-sandbox[parquet]'") from None
    columns = {}
    for name in rows[0] if rows else ():
        values = [_clean(row[name]) for row in rows]  # NaN is a missing value: null, as in the JSON
        present = [v for v in values if v is not None]
        if not present:
            columns[name] = pa.nulls(len(values))  # e.g. no difference against itself for a lone policy
        elif all(isinstance(v, bool) for v in present):
            columns[name] = pa.array(values, pa.bool_())
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            columns[name] = pa.array(values, pa.int64())
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            columns[name] = pa.array([None if v is None else float(v) for v in values], pa.float64())
        else:
            columns[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


def partial_path(path: Path) -> Path:
    """Where an interrupted run's result goes, so that it never replaces a complete one: results.partial.json."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def to_markdown(comparison: Comparison, kpis: tuple[str, ...] = HEADLINE) -> str:
    """A Markdown table: one row per KPI, mean ±95% CI, and the paired change against the baseline."""
    base = comparison.labels[comparison.baseline]
    head = ["KPI", *[f"{label}{' (base)' if p == comparison.baseline else ''}"
                     for p, label in enumerate(comparison.labels)]]
    lines = [f"## {comparison.scenario}", "",
             f"{comparison.complete_replications()} replications, seed {comparison.seed}. Mean ±95% CI; "
             f"Δ is the paired change against {base} (ns: not significant at 95%).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kpi in kpis:
        cells = [KPIS[kpi].label]
        for p in range(len(comparison.labels)):
            est = comparison.estimate(p, kpi)
            cell = f"{format_value(kpi, est.mean)} {format_half_width(kpi, est.half_width)}".strip()
            if p != comparison.baseline:
                diff = comparison.difference(p, kpi)
                if not math.isnan(diff.mean):
                    cell += f" (Δ {format_value(kpi, diff.mean, signed=True)}{'' if diff.significant else ' ns'})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"<sub>{provenance.footer(comparison)}</sub>", "", "<details><summary>Provenance: the inputs as they "
              "ran (<code>support-sandbox reproduce FILE</code> runs them again)</summary>", "", "```yaml",
              provenance.commented(comparison, prefix="").rstrip("\n"), "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def policy_yaml(policy: Policy, origin: str | None = None) -> str:
    """A policy as YAML that validates and loads back to an equal policy (defaults left out), headed by what
    wrote it and a schema link that resolves wherever the package is installed."""
    data = policy.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("$schema", None)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    full = provenance.model_yaml(policy)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    header = [f"yaml-language-server: $schema={catalog.schema_path('policy').as_uri()}",
              f"saved by support-sandbox {__version__} on {when}" + (f" from {origin}" if origin else ""),
              f"sha256 {provenance.digest(full)} (of the policy with every default written out)"]
    return "".join(f"# {printable(line)}\n" for line in header) + body
