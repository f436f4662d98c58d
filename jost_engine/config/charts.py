"""Playing strategies: "auto", or a chart as a full grid or with range keys."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from jost_engine import profiles
from jost_engine.chart import ACTIONS, HARD_TOTALS, PAIR_KEYS, SOFT_TOTALS, UP_CARDS
from jost_engine.config.context import Context
from jost_engine.config.fields import (
    BAD,
    INF,
    MAX_COUNT,
    MAX_DEVIATIONS,
    MISSING,
    MORE_CARDS_MAX,
    UP_SPELLINGS,
    Fields,
    Problems,
    check_bool,
    check_entries,
    check_name,
    entry_path,
    index_path,
    is_number,
    join_path,
    json_key,
    plain_entries,
    rank_of,
    shown,
    total_span,
)
from jost_engine.config.types import Deviation, PlayingStrategy

_ACTION_SPELLINGS: dict[str, str] = {
    "h": "H",
    "hit": "H",
    "s": "S",
    "stand": "S",
    "p": "P",
    "sp": "P",
    "split": "P",
    "d": "Dh",
    "dh": "Dh",
    "double": "Dh",
    "ds": "Ds",
    # JOST spelt surrender R, Sr or u; each means "surrender if allowed, else hit".
    "r": "Rh",
    "sr": "Rh",
    "u": "Rh",
    "rh": "Rh",
    "surrender": "Rh",
    "rs": "Rs",
    "rp": "Rp",
}
_SPLIT_ACTIONS = frozenset({"P", "Rp"})


# Rows a chart may leave out, and what they are filled with: the documented fallback of
# a partial chart. Hard 17+ and soft 19+ stand, everything else hits (soft 12 is a pair
# of aces that cannot be split); a pair row missing is played as its total, so 8,8 and
# A,A are not assumed to split.
def _default_hard(total: int) -> str:
    return "S" if total >= 17 else "H"


def _default_soft(total: int) -> str:
    return "S" if total >= 19 else "H"


_PAIR_AS_TOTAL: dict[str, tuple[str, str]] = {
    **{f"{n},{n}": ("hard", str(2 * n)) for n in range(2, 11)},
    "A,A": ("soft", "12"),
}


def _up_span(key: str) -> list[str] | None:
    """Up cards named by a key: "7", "T", "A", "11", or a range "2-6", "7-A", "2-11"."""
    parts = [part.strip().lower() for part in str(key).split("-")]
    if len(parts) == 1:
        up = UP_SPELLINGS.get(parts[0])
        return [up] if up else None
    if len(parts) != 2 or parts[0] not in UP_SPELLINGS or parts[1] not in UP_SPELLINGS:
        return None
    start = UP_CARDS.index(UP_SPELLINGS[parts[0]])
    end = UP_CARDS.index(UP_SPELLINGS[parts[1]])
    return list(UP_CARDS[start : end + 1]) if start <= end else None


def _row_span(table: str, key: str) -> list[str] | None:
    """Canonical row keys named by a chart's row key, or None if it names none."""
    text = str(key).strip()
    if table == "hard":
        span = total_span(text, HARD_TOTALS[0], HARD_TOTALS[-1])
        return [str(t) for t in span] if span else None
    if table == "soft":
        span = total_span(text, SOFT_TOTALS[0], SOFT_TOTALS[-1])
        if span:
            return [str(t) for t in span]
        # "A,7" / "A7": an ace and a 7 is soft 18.
        match = re.fullmatch(r"[Aa]\s*,?\s*(\w+)", text)
        other = rank_of(match.group(1)) if match else None
        if other is None:
            return None
        return ["12" if other == "A" else str(11 + int(other))]
    if table == "soft_totals":
        # JOST_ENGINE's soft_totals rows are keyed by the card beside the ace.
        other = rank_of(text)
        if other is None or other == "10":
            return _row_span("soft", text)
        return ["12" if other == "A" else str(11 + int(other))]
    # Pairs: "8,8", "88", "8", "T,T", "TT", "10,10", "A,A", "AA".
    if "," in text:
        halves = [rank_of(part) for part in text.split(",")]
        same = len(halves) == 2 and halves[0] is not None and halves[0] == halves[1]
        return [f"{halves[0]},{halves[0]}"] if same else None
    rank = rank_of(text)
    if rank is None and len(text) == 2 and text[0] == text[1]:
        rank = rank_of(text[0])
    return [f"{rank},{rank}"] if rank else None


def _action(value: Any, table: str, path: str, problems: Problems) -> str | None:
    code = _ACTION_SPELLINGS.get(value.strip().lower()) if isinstance(value, str) else None
    if code is None:
        problems.add(
            path, f"not an action: use H, S, D, P or R (Sr, u), or one of {', '.join(ACTIONS)}"
        )
        return None
    if code in _SPLIT_ACTIONS and table != "pairs":
        problems.add(path, f"{code} (split) is only for pairs")
        return None
    return code


def _up_cells(
    cells: Mapping[Any, Any], row_path: str, table: str, problems: Problems
) -> list[tuple[list[str], str, str]]:
    """A row's cells: (up cards, action code, path) for each key that names up cards and
    value that is an action; the others are problems."""
    found = []
    for up_key, value in cells.items():
        cell_path = entry_path(row_path, up_key)
        ups = _up_span(up_key)
        if ups is None:
            problems.add(cell_path, 'not a dealer up card 2..10, A (11) or a range such as "2-6"')
            continue
        code = _action(value, table, cell_path, problems)
        if code is not None:
            found.append((ups, code, cell_path))
    return found


def _chart_table(
    raw: Any, table: str, path: str, problems: Problems, missing: str | None = None
) -> dict[str, dict[str, str]]:
    """The rows a chart gives for one table, each complete, keyed canonically; with
    `missing` an up card a row leaves out holds that code (else it is a problem)."""
    canonical = "soft" if table == "soft_totals" else table
    if not isinstance(raw, Mapping):
        problems.add(path, "not an object of rows")
        return {}
    if not check_entries(raw, path, problems):
        return {}
    rows: dict[str, dict[str, str]] = {}
    first_path: dict[str, str] = {}
    for row_key, cells in raw.items():
        row_path = entry_path(path, row_key)
        span = _row_span(table, row_key)
        if span is None:
            what = {
                "hard": 'a hard total 4..21 or a range such as "5-8"',
                "soft": 'a soft total 12..21, a range or "A,7"',
                "soft_totals": "the card beside the ace, 2..9 or A",
                "pairs": 'a pair such as "8,8", "T,T" or "A,A"',
            }[table]
            problems.add(row_path, f"not {what}")
            continue
        # A row given as one action plays it against every up card ("17-21": "S").
        if isinstance(cells, str):
            cells = {"2-A": cells}
        if not isinstance(cells, Mapping):
            problems.add(row_path, "not an object of up cards")
            continue
        if not check_entries(cells, row_path, problems):
            continue
        for ups, code, cell_path in _up_cells(cells, row_path, canonical, problems):
            for row in span:
                first_path.setdefault(row, row_path)
                row_cells = rows.setdefault(row, {})
                for up in ups:
                    if row_cells.get(up, code) != code:
                        problems.add(
                            cell_path,
                            f"{canonical} {row} against {up} is given twice "
                            f"({row_cells[up]} and {code})",
                        )
                    row_cells[up] = code
    for row, row_cells in rows.items():
        left_out = [up for up in UP_CARDS if up not in row_cells]
        if left_out and missing is None:
            problems.add(
                first_path[row], f"{canonical} {row} misses up cards {', '.join(left_out)}"
            )
    fill = missing or "H"
    return {
        row: {up: row_cells.get(up, fill) for up in UP_CARDS} for row, row_cells in rows.items()
    }


def _cards_span(key: Any) -> tuple[int, int] | None:
    """Card counts named by a more_cards key: "3", "3-4", or "5+" (five and more)."""
    text = str(key).strip()
    match = re.fullmatch(r"(\d+)\s*(?:(\+)|-\s*(\d+))?", text)
    if not match:
        return None
    lo = int(match.group(1))
    hi = MORE_CARDS_MAX if match.group(2) else int(match.group(3) or lo)
    return (lo, hi) if 3 <= lo <= hi <= MORE_CARDS_MAX else None


MoreCards = tuple[tuple[int, int, Mapping[str, Mapping[str, Mapping[str, str]]]], ...]


def _more_cards(raw: Any, path: str, problems: Problems) -> MoreCards:
    """A chart's `more_cards`: {"3": {"hard": rows, "soft": rows}, "4-5": ..., "6+": ...},
    the rows (as `hard` and `soft` write them, each row whole) a hand of that many cards
    plays instead of the chart's own."""
    if not isinstance(raw, Mapping):
        problems.add(path, 'not an object of card counts such as "3", "4-5" or "6+"')
        return ()
    if not check_entries(raw, path, problems):
        return ()
    spans: list[tuple[int, int, dict[str, dict[str, dict[str, str]]]]] = []
    keys: list[str] = []
    for key, value in raw.items():
        key_path = entry_path(path, key)
        span = _cards_span(key)
        if span is None:
            problems.add(
                key_path,
                f'not a number of cards 3..{MORE_CARDS_MAX}, a range such as "3-4" or "5+"',
            )
            continue
        if not isinstance(value, Mapping):
            problems.add(key_path, "not an object of hard and soft rows")
            continue
        tables: dict[str, dict[str, dict[str, str]]] = {}
        for table, rows in value.items():
            table_path = join_path(key_path, str(table))
            if table not in ("hard", "soft"):
                problems.add(table_path, "not hard or soft (a pair is two cards)")
                continue
            tables[table] = _chart_table(rows, table, table_path, problems)
        lo, hi = span
        for (other_lo, other_hi, _), other in zip(spans, keys, strict=True):
            if lo <= other_hi and other_lo <= hi:
                problems.add(key_path, f"overlaps {json_key(other)}")
        spans.append((lo, hi, tables))
        keys.append(str(key))
    return tuple(sorted(spans, key=lambda entry: entry[0]))


def composition_key(key: Any) -> str | None:
    """The canonical key of a two-card hand ("6,8", "A,7", "3,10": the lower rank first,
    the ace lowest) named by "8,6", "86", "T,3" or "a7", or None."""
    text = str(key).strip()
    parts = text.split(",") if "," in text else [text[:-1], text[-1:]] if text else []
    ranks = [rank_of(part) for part in parts]
    if len(ranks) != 2 or None in ranks:
        return None
    order = sorted(ranks, key=lambda r: UP_CARDS.index(r) if r != "A" else -1)
    return f"{order[0]},{order[1]}"


def _compositions(raw: Any, path: str, problems: Problems) -> dict[str, dict[str, str]]:
    """A chart's `compositions`: two-card hands by their ranks ("6,7", "A,7"), each an
    object of up cards (or one action for all of them) whose cells replace the row of the
    hand's total for a hand of exactly those two cards; up cards left out play the row."""
    if not isinstance(raw, Mapping):
        problems.add(path, 'not an object of two-card hands such as "6,7" or "A,7"')
        return {}
    if not check_entries(raw, path, problems):
        return {}
    found: dict[str, dict[str, str]] = {}
    for key, cells in raw.items():
        key_path = entry_path(path, key)
        hand = composition_key(key)
        if hand is None:
            problems.add(key_path, 'not two cards such as "6,7", "A,7" or "T,3"')
            continue
        first, second = hand.split(",")
        if first == second:
            problems.add(key_path, f"a pair: {first},{first} plays its pairs row")
            continue
        if hand == "A,10":
            problems.add(key_path, "a blackjack: it is not played")
            continue
        if isinstance(cells, str):
            cells = {"2-A": cells}
        if not isinstance(cells, Mapping):
            problems.add(key_path, "not an object of up cards")
            continue
        if not check_entries(cells, key_path, problems):
            continue
        row = found.setdefault(hand, {})
        for ups, code, cell_path in _up_cells(cells, key_path, "compositions", problems):
            for up in ups:
                if row.get(up, code) != code:
                    problems.add(
                        cell_path, f"{hand} against {up} is given twice ({row[up]} and {code})"
                    )
                row[up] = code
    return {hand: row for hand, row in found.items() if row}


def _rescue(raw: Any, path: str, problems: Problems) -> dict[str, dict[str, str]]:
    """A chart's `rescue`: totals (rows as `hard` writes them) and up cards, "R" where
    a doubled hand of that total is surrendered, "S" (or nothing) where it stands."""
    before = len(problems.items)
    rows = _chart_table(raw, "hard", path, problems, missing="S")
    if len(problems.items) > before:
        return {}
    rescue: dict[str, dict[str, str]] = {}
    for row, cells in rows.items():
        for up, code in cells.items():
            if code not in ("Rh", "S"):
                problems.add(
                    entry_path(path, row), f"against {up}: {code} is not R (rescue) or S (stand)"
                )
                return {}
        rescue[row] = {up: "R" if code == "Rh" else "S" for up, code in cells.items()}
    return rescue


# A doubled hand's codes by the canonical code an after_double cell is read as.
_AFTER_DOUBLE = {"Dh": "D", "Ds": "D", "S": "S", "Rh": "R", "Rs": "R"}

AfterDouble = dict[str, dict[str, dict[str, str]]]


def _after_double(raw: Any, path: str, problems: Problems) -> AfterDouble:
    """A chart's `after_double`: {"hard": rows, "soft": rows} (rows as `hard` and `soft`
    write them) of what a doubled hand does after its card: "D" redouble (where one is
    left, else stand), "S" stand, "R" rescue (where offered, else stand); a row or up card
    left out stands. Always both tables, so a table given empty is not "no table"."""
    if not isinstance(raw, Mapping):
        problems.add(path, "not an object of hard and soft rows")
        return {}
    if not check_entries(raw, path, problems):
        return {}
    tables: AfterDouble = {"hard": {}, "soft": {}}
    for table, rows in raw.items():
        table_path = join_path(path, str(table))
        if table not in tables:
            problems.add(table_path, "not hard or soft (a doubled hand is no pair)")
            continue
        for row, cells in _chart_table(rows, table, table_path, problems, missing="S").items():
            wrong = [up for up, code in cells.items() if code not in _AFTER_DOUBLE]
            if wrong:
                problems.add(
                    entry_path(table_path, row),
                    f"against {', '.join(wrong)}: a doubled hand may not hit; use D "
                    "(redouble), S (stand) or R (rescue)",
                )
                continue
            tables[table][row] = {up: _AFTER_DOUBLE[code] for up, code in cells.items()}
    return tables


def _complete_chart(
    given: dict[str, dict[str, dict[str, str]]],
) -> dict[str, dict[str, dict[str, str]]]:
    hard = {
        str(t): given["hard"].get(str(t)) or {up: _default_hard(t) for up in UP_CARDS}
        for t in HARD_TOTALS
    }
    soft = {
        str(t): given["soft"].get(str(t)) or {up: _default_soft(t) for up in UP_CARDS}
        for t in SOFT_TOTALS
    }
    totals = {"hard": hard, "soft": soft}
    pairs = {}
    for key in PAIR_KEYS:
        if key in given["pairs"]:
            pairs[key] = given["pairs"][key]
        else:
            table, total = _PAIR_AS_TOTAL[key]
            pairs[key] = dict(totals[table][total])
    return {"hard": hard, "soft": soft, "pairs": pairs}


# What an unusable playing strategy becomes while its problems are collected; never run.
_INVALID_CHART = PlayingStrategy(name="invalid", auto=True)


def playing_from(raw: Any, path: str, ctx: Context, seen: tuple[str, ...] = ()) -> PlayingStrategy:
    """ "auto", a name, or an object with a chart (`strategy: {hard, soft, pairs}`, the
    same three tables at top level, or JOST_ENGINE's `hard_totals`/`soft_totals`), or
    `{"strategy": "auto"}` / `{"auto": true}`.

    A `parent` chart is overlaid row by row: the child's rows replace the parent's rows of
    the same hand and every other row stays the parent's, so a child that changes 16 vs 10
    still splits its eights. (A whole-field overlay would drop the parent's chart.)
    """
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return PlayingStrategy(name="auto", auto=True)
    placeholder = _INVALID_CHART
    if isinstance(raw, str) and raw in seen:
        ctx.problems.add(path, f"profile cycle: {' -> '.join((*seen, raw))}")
        return placeholder
    flat = ctx.flatten("playing_strategy", raw, path, links=(), seen=seen)
    if flat is None:
        return placeholder
    entries, looked_up = flat
    parent: PlayingStrategy | None = None
    if "parent" in entries:
        parent_raw, parent_path = entries.pop("parent")
        parent = playing_from(
            parent_raw, parent_path, ctx, (*seen, looked_up) if looked_up else seen
        )
        if parent is _INVALID_CHART:
            parent = None
    if "strategy" in entries and isinstance(entries["strategy"][0], Mapping):
        # JOST nests the chart under `strategy`; lift its tables beside the others.
        nested, nested_path = entries.pop("strategy")
        for key, value in plain_entries(nested, nested_path).items():
            if key in entries:
                ctx.problems.add(value[1], f"also given at {entries[key][1]}")
            entries[key] = value
    f = Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), check_name, looked_up)
    auto = f.take_one(("auto",), check_bool, None)
    insurance = f.take_one(("insurance", "take_insurance"), check_insurance, MISSING)
    deviations_raw = f.take("deviations")
    more_raw = f.take("more_cards")
    compositions_raw = f.take("compositions")
    rescue_raw = f.take("rescue")
    after_raw = f.take("after_double")
    strategy = f.take("strategy")
    if strategy is not MISSING:
        if isinstance(strategy, str) and strategy.strip().lower() == "auto":
            auto = True
        else:
            ctx.problems.add(f.path_of("strategy"), 'not "auto" or a chart object')
    tables: dict[str, dict[str, dict[str, str]]] = {"hard": {}, "soft": {}, "pairs": {}}
    given = False
    for table in ("hard", "hard_totals", "soft", "soft_totals", "pairs"):
        value = f.take(table)
        if value is MISSING:
            continue
        given = True
        parsed = _chart_table(
            value, "hard" if table == "hard_totals" else table, f.path_of(table), ctx.problems
        )
        target = tables[table.removesuffix("_totals")]
        for row, cells in parsed.items():
            if row in target and target[row] != cells:
                ctx.problems.add(f.path_of(table), f"row {row} is also given in another table")
            target[row] = cells
    f.finish()

    if name in (None, BAD):
        name = parent.name if parent is not None else None
    deviations: tuple[Deviation | str, ...] = parent.deviations if parent is not None else ()
    if deviations_raw is not MISSING:
        deviations, dev_insurance = _deviations(
            deviations_raw, f.path_of("deviations"), ctx.problems
        )
        if dev_insurance is not None:
            index, at = dev_insurance
            if insurance is MISSING:
                insurance = index
            elif at is not None and insurance is not BAD and insurance != index:
                # A preset's insurance index gives way to `insurance`; a play written
                # out beside it must agree with it.
                ctx.problems.add(at, f"contradicts insurance ({insurance:g})")
    if insurance is MISSING:
        insurance = parent.insurance_true_count if parent is not None else None
    insurance = None if insurance is BAD else insurance
    if auto is None:
        auto = parent.auto if parent is not None and not given else False
    if auto is True:
        if any(raw is not MISSING for raw in (more_raw, compositions_raw, rescue_raw, after_raw)):
            ctx.problems.add(
                path, "an auto strategy takes no more_cards, compositions, rescue or after_double"
            )
        if given:
            ctx.problems.add(path, "an auto strategy takes no chart")
        return PlayingStrategy(
            name=name or "auto", auto=True, insurance_true_count=insurance, deviations=deviations
        )
    if parent is not None and not parent.auto:
        for table in ("hard", "soft", "pairs"):
            tables[table] = {**getattr(parent, table), **tables[table]}
        given = True
    elif parent is not None and given:
        ctx.problems.add(path, "rows cannot overlay an auto parent: give a whole chart")
        return placeholder
    if not given:
        ctx.problems.add(path, 'no chart: give strategy.hard/soft/pairs, or "auto"')
        return placeholder
    more_cards: MoreCards = parent.more_cards if parent is not None else ()
    if more_raw is not MISSING:
        more_cards = _more_cards(more_raw, f.path_of("more_cards"), ctx.problems)
    compositions: Mapping[str, Mapping[str, str]] = (
        parent.compositions if parent is not None else {}
    )
    if compositions_raw is not MISSING:
        compositions = _compositions(compositions_raw, f.path_of("compositions"), ctx.problems)
    rescue: Mapping[str, Mapping[str, str]] = parent.rescue if parent is not None else {}
    after_double: Mapping[str, Mapping[str, Mapping[str, str]]] = (
        parent.after_double if parent is not None else {}
    )
    # A chart has one of the two (after_double holds the rescue cells too): a child's
    # table of either kind replaces the parent's.
    if rescue_raw is not MISSING and after_raw is not MISSING:
        ctx.problems.add(
            f.path_of("rescue"), "give the rescue cells as R in after_double (a chart takes one)"
        )
    elif rescue_raw is not MISSING:
        rescue = _rescue(rescue_raw, f.path_of("rescue"), ctx.problems)
        after_double = {}
    elif after_raw is not MISSING:
        after_double = _after_double(after_raw, f.path_of("after_double"), ctx.problems)
        rescue = {}
    chart = _complete_chart(tables)
    return PlayingStrategy(
        name=name or "custom chart",
        auto=False,
        hard=chart["hard"],
        soft=chart["soft"],
        pairs=chart["pairs"],
        insurance_true_count=insurance,
        deviations=deviations,
        more_cards=more_cards,
        rescue=rescue,
        after_double=after_double,
        compositions=compositions,
    )


def check_insurance(value: Any, path: str, problems: Problems) -> Any:
    """`insurance`: "never" (the default, basic strategy), "always", or the true count at
    or above which the player insures (Hi-Lo's index is +3)."""
    if isinstance(value, str) and value.strip().lower() in {"never", "always"}:
        return None if value.strip().lower() == "never" else -INF
    if is_number(value):
        if abs(value) > MAX_COUNT:
            problems.add(path, f"must be -{MAX_COUNT}..{MAX_COUNT}, got {shown(value)}")
            return BAD
        return float(value)
    problems.add(path, 'not "never", "always" or a true count')
    return BAD


# --------------------------------------------------------------------------------------
# Index plays (`deviations`)
# --------------------------------------------------------------------------------------
PRESETS_DIR = Path(__file__).resolve().parents[1] / "data" / "defaults" / "deviations"
_WHEN = {"at_or_above": True, "below": False}
_INSURE = {"insure", "insurance", "i", "y", "yes"}


@functools.cache
def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.json"))


def _preset_key(name: str) -> str | None:
    wanted = profiles.loose_name(name)
    aliases = {"i18": "illustrious18", "fabulous4": "fab4"}
    wanted = aliases.get(wanted, wanted)
    return wanted if wanted in preset_names() else None


@functools.cache
def _preset(name: str) -> dict[str, Any]:
    # Read once: the normaliser reads a preset for every config that names one, on the
    # service's request path too; the files never change while the process runs.
    data: dict[str, Any] = json.loads((PRESETS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


@functools.cache
def preset_deviations(name: str, h17: bool) -> tuple[Deviation, ...]:
    """A shipped preset's plays for S17 or H17 games (its insurance entry left out: it
    is folded into insurance_true_count when the config is read)."""
    data = _preset(name)
    problems = Problems()
    plays = []
    for i, raw in enumerate(data["h17" if h17 else "s17"]):
        play = _deviation(raw, index_path(name, i), problems)
        if isinstance(play, Deviation):
            plays.append(play)
    if problems.items:  # a shipped file is wrong: never run it half read
        raise ValueError(f"deviation preset {name}: {problems.items}")
    return tuple(plays)


def _preset_insurance(name: str) -> float | None:
    for raw in _preset(name)["s17"]:
        if raw.get("hand") == "insurance":
            return float(raw["index"])
    return None


def _deviations(
    raw: Any, path: str, problems: Problems
) -> tuple[tuple[Deviation | str, ...], tuple[float, str | None] | None]:
    """`deviations`: a preset name, or a list of preset names and plays. Returns the
    plays and presets in order, and the insurance index with the path of the play that
    gave it (None for a preset's) if any entry gives one."""
    if not check_entries(raw, path, problems, MAX_DEVIATIONS):
        return (), None
    items = raw if isinstance(raw, list) else [raw]
    out: list[Deviation | str] = []
    insurance: tuple[float, str | None] | None = None
    for i, item in enumerate(items):
        at = index_path(path, i) if isinstance(raw, list) else path
        if isinstance(item, str):
            key = _preset_key(item)
            if key is None:
                problems.add(at, f"unknown preset {item!r}; available: {', '.join(preset_names())}")
                continue
            out.append(key)
            index = _preset_insurance(key)
            if index is not None and insurance is None:
                insurance = (index, None)
            continue
        play = _deviation(item, at, problems)
        if isinstance(play, tuple):
            if insurance is not None and insurance[1] is not None and insurance[0] != play[0]:
                problems.add(at, f"contradicts {insurance[1]}")
            insurance = (play[0], at)
        elif play is not None:
            out.append(play)
    return tuple(out), insurance


def deviation_hand(text: str) -> tuple[str, str] | None:
    """(kind, row key) of a hand as a deviation names it: "16" or "hard 16", "soft 18" or
    "A,7", a pair "10,10" / "T,T" / "8,8" / "A,A"; None if it names none."""
    t = text.strip().lower()
    for kind, low, high in (("hard", 4, 21), ("soft", 12, 21)):
        if t.startswith(kind):
            span = total_span(t[len(kind) :].strip(), low, high)
            return (kind, str(span[0])) if span and len(span) == 1 else None
    if "," in t:
        parts = [rank_of(part) for part in t.split(",")]
        if len(parts) != 2 or None in parts:
            return None
        a, b = parts
        if a == b:
            return ("pair", f"{a},{a}")
        if "A" in (a, b):
            other = b if a == "A" else a
            return ("soft", str(11 + int(str(other))))
        return ("hard", str(int(str(a)) + int(str(b))))
    span = total_span(t, 4, 21)
    return ("hard", str(span[0])) if span and len(span) == 1 else None


def _deviation(raw: Any, path: str, problems: Problems) -> Any:
    """One play: a Deviation, (index,) for an insurance play, or None after a problem."""
    if not isinstance(raw, Mapping):
        problems.add(path, 'not a preset name or a {"hand", "vs", "index", "action"} object')
        return None
    f = Fields(plain_entries(raw, path), path, problems)
    hand, vs, index = f.take("hand"), f.take("vs"), f.take("index")
    action, when = f.take("action"), f.take("when")
    f.finish()
    ok = True
    for field_name, value in (("hand", hand), ("index", index)):
        if value is MISSING:
            problems.add(join_path(path, field_name), "required")
            ok = False
    if index is not MISSING and not is_number(index):
        problems.add(f.path_of("index"), "not a number (a true count)")
        ok = False
    elif index is not MISSING and abs(index) > MAX_COUNT:
        problems.add(f.path_of("index"), f"must be -{MAX_COUNT}..{MAX_COUNT}, got {shown(index)}")
        ok = False
    above = True
    if when is not MISSING:
        if not isinstance(when, str) or when.strip().lower() not in _WHEN:
            problems.add(f.path_of("when"), 'not "at_or_above" or "below"')
            ok = False
        else:
            above = _WHEN[when.strip().lower()]
    if isinstance(hand, str) and hand.strip().lower() == "insurance":
        if vs is not MISSING and rank_of(str(vs)) != "A":
            problems.add(f.path_of("vs"), "insurance is only offered against an ace")
            ok = False
        if action is not MISSING and str(action).strip().lower() not in _INSURE:
            problems.add(f.path_of("action"), 'insurance takes no action, or "insure"')
            ok = False
        if not above:
            problems.add(f.path_of("when"), "insurance is taken at or above its index")
            ok = False
        return (float(index),) if ok else None
    found = deviation_hand(str(hand)) if isinstance(hand, (str, int)) else None
    if hand is not MISSING and found is None:
        problems.add(
            f.path_of("hand"),
            'not a hand such as "16", "hard 16", "soft 18", "A,7", "10,10" or "insurance"',
        )
        ok = False
    up = None
    if vs is MISSING:
        problems.add(join_path(path, "vs"), "required")
        ok = False
    else:
        up = rank_of(str(vs))
        if up is None:
            problems.add(f.path_of("vs"), "not a dealer up card 2..10 or A")
            ok = False
    code = None
    if action is MISSING:
        problems.add(join_path(path, "action"), "required")
        ok = False
    else:
        table = "pairs" if found is not None and found[0] == "pair" else "hard"
        code = _action(action, table, f.path_of("action"), problems)
        ok = ok and code is not None
    if not ok or found is None or up is None or code is None:
        return None
    kind: Literal["hard", "soft", "pair"] = (
        "pair" if found[0] == "pair" else ("soft" if found[0] == "soft" else "hard")
    )
    return Deviation(kind=kind, row=found[1], up=up, index=float(index), action=code, above=above)
