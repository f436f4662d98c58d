"""The `auto` charts kept on disk, so a rule set is solved once per machine, not per process.

Solving basic strategy for a finite shoe takes a few hundredths of a second in a warm
process (docs/BENCHMARKS.md, "auto"); reading its chart back takes under a millisecond.
`auto_strategy` looks a rule set up in this order: the process's memory, the charts
shipped in `jost_engine/data/auto_charts/` (the shipped casinos, written by
`scripts/generate_auto_charts.py` from this solver, never copied from a published chart),
the cache directory, and only then solves and stores the chart in the cache directory.

Where: `$JOST_CACHE_DIR`, else `jost_engine/` beside `$NUMBA_CACHE_DIR` when that is set
(a deploy that points numba at a writable place gets both there), else
`$XDG_CACHE_HOME/jost_engine` or `~/.cache/jost_engine`; the charts go in its `auto/`.
`JOST_AUTO_CACHE=off` reads and writes neither the cache nor the shipped charts (the
engine tests run so, to test the solver itself).

Key: one JSON file per (engine version, SOLVER_VERSION, a digest of the solver's code,
the rules as the solver sees them), named by the SHA-256 of those. The file holds
the same fields and is used only if every one of them equals this process's and its chart
is a complete chart of canonical cells; otherwise (an older solver, another rule set, a
file cut short or edited) it is ignored, the chart is solved again and the file replaced.
Editing the code of any solver module changes the digest, so a changed solver never reads
a chart written by the old one even when nobody bumps SOLVER_VERSION; the digest is of
the modules' syntax trees without their docstrings (code_digest), so editing a comment,
a docstring or the layout keeps every chart, shipped or cached. Files are written to a
temporary name and renamed into place (atomic on POSIX), so a reader never sees half a
file, and two processes solving the same rules at once both write the same bytes.
A cache that cannot be written (a read-only home) costs only the speed: the chart is
still returned.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jost_engine.chart import ACTIONS, HARD_TOTALS, PAIR_KEYS, SOFT_TOTALS, UP_CARDS
from jost_engine.config import PlayingStrategy, Rules
from jost_engine.config.charts import composition_key
from jost_engine.config.types import SPANISH_FIELDS

log = logging.getLogger(__name__)

# Bump when the solver's answer changes for a reason the source digest cannot see (a
# Rules predicate in config/types.py that the solvers ask, say).
SOLVER_VERSION = 1
FORMAT = "jost_engine auto chart"
SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "auto_charts"
# The modules whose code decides an `auto` chart.
_SOLVER_MODULES = (
    "_basic_strategy.py",
    "_finite_shoe.py",
    "_infinite_deck.py",
    "_dealer.py",
    "_round_value.py",
)
# ... and of a Spanish 21 chart (jost_engine._spanish and _spanish_shoe, which use the
# modules above).
_SPANISH_MODULES = ("_spanish.py", "_spanish_shoe.py")
_TABLES: dict[str, tuple[str, ...]] = {
    "hard": tuple(str(t) for t in HARD_TOTALS),
    "soft": tuple(str(t) for t in SOFT_TOTALS),
    "pairs": PAIR_KEYS,
}


def enabled() -> bool:
    return os.environ.get("JOST_AUTO_CACHE", "").lower() not in {"off", "0", "false"}


def cache_dir() -> Path:
    """The directory of the cached charts (it may not exist yet)."""
    explicit = os.environ.get("JOST_CACHE_DIR")
    if explicit:
        return Path(explicit) / "auto"
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir).parent / "jost_engine" / "auto"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jost_engine" / "auto"


@cache
def solver_digest(spanish: bool = False) -> str:
    """SHA-256 of the solver modules' code (code_digest), read once per process; with
    `spanish`, of the Spanish 21 solver's too (so the common game's charts keep their
    keys when only the Spanish solver changes)."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _SOLVER_MODULES + (_SPANISH_MODULES if spanish else ()):
        h.update(name.encode())
        h.update(code_digest((here / name).read_text(encoding="utf-8")).encode())
    return h.hexdigest()


def code_digest(source: str) -> str:
    """SHA-256 of a module's syntax tree with every docstring (any statement that is a
    bare string) left out: comments and layout never reach the tree, so only an edit of
    the code changes it. The tree is written out here rather than by ast.dump, whose
    text changes between Python versions (3.13 leaves empty fields out); empty fields
    are left out here too, so a field a newer Python adds empty changes nothing."""
    parts: list[str] = []

    def write(node: object) -> None:
        if isinstance(node, ast.AST):
            parts.append(type(node).__name__ + "(")
            for field in node._fields:
                value = getattr(node, field, None)
                if isinstance(value, list):
                    value = [v for v in value if not _is_docstring(v)]
                if value is None or value == []:
                    continue
                parts.append(field + "=")
                write(value)
                parts.append(",")
            parts.append(")")
        elif isinstance(node, list):
            parts.append("[")
            for item in node:
                write(item)
                parts.append(",")
            parts.append("]")
        else:
            parts.append(repr(node))

    write(ast.parse(source))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _is_docstring(node: object) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def auto_casinos() -> list[str]:
    """The shipped casinos whose "auto" charts ship: all of them, Spanish 21's too."""
    from jost_engine.profiles import default_names

    return list(default_names("casino"))


def header(rules: Rules) -> dict[str, Any]:
    """Everything a chart depends on; `rules` as the solver sees them (_strategy_key)."""
    from jost_engine import __version__

    rules_dict = dataclasses.asdict(rules)
    spanish = rules.spanish_game
    if not spanish:
        # The common game's Spanish 21 fields are all at their defaults: left out, they
        # keep every common chart's file name as it was before Spanish 21.
        for name in SPANISH_FIELDS:
            del rules_dict[name]
    if rules_dict["double_totals"] is not None:
        rules_dict["double_totals"] = list(rules_dict["double_totals"])
    return {
        "format": FORMAT,
        "engine_version": __version__,
        "solver_version": SOLVER_VERSION,
        "solver_digest": solver_digest(spanish),
        "rules": rules_dict,
    }


def file_name(head: Mapping[str, Any]) -> str:
    canonical = json.dumps(head, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32] + ".json"


def chart_to_json(head: Mapping[str, Any], chart: PlayingStrategy) -> str:
    """The file's text: the header's fields, the name, and one line per chart row (so a
    shipped chart reads, and diffs, like a chart)."""
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append(f'  "name": {json.dumps(chart.name)},')
    sections = []
    for table, rows in _TABLES.items():
        grid = getattr(chart, table)
        body = ",\n".join(
            f"    {json.dumps(row)}: {json.dumps({up: grid[row][up] for up in UP_CARDS})}"
            for row in rows
        )
        sections.append(f'  "{table}": {{\n{body}\n  }}')
    # Spanish 21 (jost_engine._spanish): the rows by number of cards, one line a row.
    if chart.more_cards:
        spans = []
        for lo, hi, tables in chart.more_cards:
            span_rows = ",\n".join(
                f"      {json.dumps(kind + ' ' + row)}: {json.dumps(dict(cells))}"
                for kind in ("hard", "soft")
                for row, cells in tables.get(kind, {}).items()
            )
            spans.append(f'    {{"cards": [{lo}, {hi}], "rows": {{\n{span_rows}\n    }}}}')
        sections.append('  "more_cards": [\n' + ",\n".join(spans) + "\n  ]")
    for field, rows_of in (
        ("compositions", lambda: chart.compositions.items()),
        ("rescue", lambda: chart.rescue.items()),
        (
            "after_double",
            lambda: (
                (kind + " " + row, cells)
                for kind in ("hard", "soft")
                for row, cells in chart.after_double.get(kind, {}).items()
            ),
        ),
    ):
        if getattr(chart, field):
            body = ",\n".join(
                f"    {json.dumps(row)}: {json.dumps(dict(cells))}" for row, cells in rows_of()
            )
            sections.append(f'  "{field}": {{\n{body}\n  }}')
    return "{\n" + "\n".join(lines) + "\n" + ",\n".join(sections) + "\n}\n"


def _read_more_cards(raw: object) -> tuple | None:
    """A file's more_cards back into PlayingStrategy.more_cards, or None if malformed."""
    if not isinstance(raw, list):
        return None
    spans = []
    for span in raw:
        if not isinstance(span, dict) or not isinstance(span.get("rows"), dict):
            return None
        bounds = span.get("cards")
        if not (isinstance(bounds, list) and len(bounds) == 2):
            return None
        if not all(isinstance(b, int) for b in bounds):
            return None
        tables: dict[str, dict[str, dict[str, str]]] = {"hard": {}, "soft": {}}
        for key, cells in span["rows"].items():
            kind, _, row = key.partition(" ")
            if kind not in tables or row not in _TABLES[kind] or not _cells_ok(cells):
                return None
            tables[kind][row] = cells
        # An auto chart gives every row of every span: one missing was cut off.
        if any(set(tables[kind]) != set(_TABLES[kind]) for kind in tables):
            return None
        spans.append((bounds[0], bounds[1], tables))
    return tuple(spans)


def _read_after_double(raw: object) -> dict[str, dict[str, dict[str, str]]] | None:
    """A file's after_double back into PlayingStrategy.after_double ({} where the file
    has none), or None if malformed."""
    if not isinstance(raw, dict):
        return None
    if not raw:
        return {}
    tables: dict[str, dict[str, dict[str, str]]] = {"hard": {}, "soft": {}}
    for key, cells in raw.items():
        kind, _, row = key.partition(" ")
        if kind not in tables or row not in _TABLES[kind] or not _cells_ok(cells, ("D", "S", "R")):
            return None
        tables[kind][row] = cells
    # An auto chart gives every row: one missing was cut off.
    if any(set(tables[kind]) != set(_TABLES[kind]) for kind in tables):
        return None
    return tables


def _read_compositions(raw: object) -> dict[str, dict[str, str]] | None:
    """A file's compositions back into PlayingStrategy.compositions, or None if malformed
    (a row names some up cards: the others play the row of the hand's total)."""
    if not isinstance(raw, dict):
        return None
    for hand, cells in raw.items():
        first, _, second = str(hand).partition(",")
        if composition_key(hand) != hand or first == second or hand == "A,10":
            return None
        if not isinstance(cells, dict) or not cells or not set(cells) <= set(UP_CARDS):
            return None
        if any(cell not in ("H", "S", "Dh", "Ds", "Rh", "Rs") for cell in cells.values()):
            return None
    return raw


def _cells_ok(cells: object, actions: tuple[str, ...] = ACTIONS) -> bool:
    return (
        isinstance(cells, dict)
        and set(cells) == set(UP_CARDS)
        and all(cell in actions for cell in cells.values())
    )


def read(directory: Path, head: Mapping[str, Any]) -> PlayingStrategy | None:
    """The chart stored for `head` in `directory`, or None if absent or not exactly it."""
    try:
        data = json.loads((directory / file_name(head)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or any(data.get(key) != value for key, value in head.items()):
        return None
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for table, rows in _TABLES.items():
        grid = data.get(table)
        if not isinstance(grid, dict) or set(grid) != set(rows):
            return None
        for cells in grid.values():
            if not isinstance(cells, dict) or set(cells) != set(UP_CARDS):
                return None
            if any(cell not in ACTIONS for cell in cells.values()):
                return None
        tables[table] = grid
    name = data.get("name")
    if not isinstance(name, str):
        return None
    more_cards = _read_more_cards(data.get("more_cards", []))
    rescue = data.get("rescue", {})
    if more_cards is None or not isinstance(rescue, dict):
        return None
    if any(not _cells_ok(cells, ("R", "S")) for cells in rescue.values()):
        return None
    after_double = _read_after_double(data.get("after_double", {}))
    compositions = _read_compositions(data.get("compositions", {}))
    if after_double is None or compositions is None:
        return None
    return PlayingStrategy(
        name=name,
        auto=False,
        hard=tables["hard"],
        soft=tables["soft"],
        pairs=tables["pairs"],
        more_cards=more_cards,
        rescue=rescue,
        after_double=after_double,
        compositions=compositions,
    )


def write(directory: Path, head: Mapping[str, Any], chart: PlayingStrategy) -> None:
    """Store the chart atomically; a directory that cannot be written is skipped."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(chart_to_json(head, chart))
            # mkstemp creates 0600; a chart is no secret, and a cache shared by a deploy's
            # users (or a shipped file) must be readable by all of them.
            os.chmod(tmp, 0o644)
            os.replace(tmp, directory / file_name(head))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("auto chart cache not written in %s: %s", directory, exc)


def lookup(rules: Rules) -> PlayingStrategy | None:
    """A stored chart for these (solver-keyed) rules: shipped first, then the cache."""
    if not enabled():
        return None
    head = header(rules)
    return read(SHIPPED_DIR, head) or read(cache_dir(), head)


def store(rules: Rules, chart: PlayingStrategy) -> None:
    if enabled():
        write(cache_dir(), header(rules), chart)


def solved(rules: Rules, solve: Callable[[Rules], PlayingStrategy]) -> PlayingStrategy:
    """The stored chart for these (solver-keyed) rules, else `solve`'s, stored: what both
    solvers (_basic_strategy, _spanish) do before solving."""
    stored = lookup(rules)
    if stored is not None:
        return stored
    chart = solve(rules)
    store(rules, chart)
    return chart
