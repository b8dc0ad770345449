"""Provides every upper limit on user input, in one place, so that no input can hang a run or exhaust memory.

The limits are generous (several times the largest real contact centre a single scenario models) and are
checked while loading, before anything runs. ``LIMITS`` is the table docs/configuration.md prints; the
command-line options (``--replications``, ``--workers``, ``--days``) use the same numbers.
"""

from __future__ import annotations

from pydantic import ConfigDict

# Every config model validates strictly: `contacts_per_day: yes` is not 1.0 and `"0.5"` is not a number; and
# no number may be infinite or NaN (a `.inf` duration would otherwise pass `ge=0` and hang the run).
STRICT = ConfigDict(strict=True, allow_inf_nan=False)

# --- files ---------------------------------------------------------------------------------------------
MAX_FILE_BYTES = 1_000_000  # the shipped scenarios are ~5 KB; a megabyte is 200 of them
MAX_YAML_NODES = 100_000  # values after expanding aliases (a 300-byte alias bomb expands to ~10⁸)
MAX_YAML_DEPTH = 32  # the deepest real structure (a mixture inside a distribution) is ~8 levels
MAX_PROBLEMS_SHOWN = 50  # a file of 50,000 unknown keys gets the first 50 and a count

# --- sizes ---------------------------------------------------------------------------------------------
MAX_MIX_ENTRIES = 1_000  # segments or intents in one scenario (stored as 16-bit indexes)
MAX_AGENT_GROUPS = 100
MAX_AGENTS = 10_000  # in one group at any time (after policy scaling)
MAX_STAFF_SCALE = 100.0
MAX_LIST = 10_000  # entries of a list: empirical values, a schedule, bypass lists
MAX_TEXT = 2_000  # characters of a name or description

# --- work ----------------------------------------------------------------------------------------------
MAX_CONTACTS_PER_DAY = 250_000  # expected, on the busiest weekday; one day's customers are held in memory
MAX_CONTACTS_PER_REPLICATION = 20_000_000  # warm-up included: about five minutes of simulation on one core
MAX_COUNT = 10_000_000  # conversations of one intent in a bot-evidence file (an Estimate's α, β ≤ 10⁷)
MAX_REPLICATIONS = 10_000
MAX_DAYS = 366
MAX_WORKERS = 256

# --- values --------------------------------------------------------------------------------------------
MAX_DURATION_MINUTES = 366 * 1440.0  # any duration: a year
MAX_FACTOR = 100.0  # multipliers: weekday factors, handle-time factors, bot quality
MAX_MONEY = 1e9  # any cost or value at risk
MAX_COEFFICIENT = 100.0  # frustration steps and the κ, β couplings (exp(β·F) stays finite)

LIMITS: tuple[tuple[str, str], ...] = (
    ("file size", f"{MAX_FILE_BYTES:,} bytes; only regular files are read (not pipes or devices)"),
    ("values in a file", f"{MAX_YAML_NODES:,} after expanding YAML aliases; nesting at most {MAX_YAML_DEPTH} deep"),
    ("segments, intents", f"{MAX_MIX_ENTRIES:,} each"),
    ("agent groups", f"{MAX_AGENT_GROUPS:,}"),
    ("agents in a group", f"{MAX_AGENTS:,} at any time, after `staffing.scale` (at most {MAX_STAFF_SCALE:g})"),
    ("list entries", f"{MAX_LIST:,} (empirical values, schedule times, bypass lists)"),
    ("names and descriptions", f"{MAX_TEXT:,} characters, no control characters"),
    ("contacts per day", f"{MAX_CONTACTS_PER_DAY:,} expected on the busiest weekday"),
    ("contacts per replication", f"{MAX_CONTACTS_PER_REPLICATION:,} expected, warm-up included"),
    ("replications", f"{MAX_REPLICATIONS:,} (`horizon.replications` and `--replications`)"),
    ("days", f"{MAX_DAYS} (`horizon.days` and `--days`)"),
    ("worker processes", f"{MAX_WORKERS} (`--workers`); never more than the jobs, nor twice the cores"),
    ("durations", "finite, from 0 to 366 days"),
    ("factors", f"at most {MAX_FACTOR:g} (weekday factors, handle-time factors, bot quality)"),
    ("money", f"at most {MAX_MONEY:,.0f} (costs, value at risk)"),
    ("frustration coefficients", f"at most {MAX_COEFFICIENT:g}"),
    ("numbers", "finite: .inf, .nan and 1e400 are refused everywhere"),
)
