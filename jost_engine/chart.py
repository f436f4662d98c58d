"""Playing charts: the action codes, the chart keys and the kernel's chart arrays.

A leaf module (it imports nothing else of the engine) that the config, the strategy
resolver, the basic-strategy solvers, the exact calculator and the simulator all share.
A chart is a `PlayingStrategy` with canonical cells (ACTIONS, keyed by HARD_TOTALS,
SOFT_TOTALS, PAIR_KEYS and UP_CARDS). The numba kernel cannot read strings or dicts, so
`chart_arrays` turns a chart into three int8 tables once per run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from jost_engine.config import PlayingStrategy

# Canonical action codes of a chart cell. Each conditional code names its fallback, so a
# chart says exactly what to do when the first choice is not allowed:
#   Dh double if allowed, else hit;  Ds double if allowed, else stand;
#   Rh surrender if allowed, else hit;  Rs ... else stand;  Rp ... else split.
# JOST's own codes map onto these at the boundary: D -> Dh, R / Sr / u -> Rh.
ACTIONS: tuple[str, ...] = ("H", "S", "P", "Dh", "Ds", "Rh", "Rs", "Rp")

# Dealer up-card keys as charts write them; "10" stands for every ten-value card.
UP_CARDS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")
HARD_TOTALS: tuple[int, ...] = tuple(range(4, 22))  # 4 (2,2 that cannot split) .. 21
SOFT_TOTALS: tuple[int, ...] = tuple(range(12, 22))  # 12 (A,A that cannot split) .. 21
PAIR_KEYS: tuple[str, ...] = (
    "2,2",
    "3,3",
    "4,4",
    "5,5",
    "6,6",
    "7,7",
    "8,8",
    "9,9",
    "10,10",
    "A,A",
)


# int8 codes the kernel branches on; the order is ACTIONS so the two never drift.
ACTION_CODE: dict[str, int] = {"H": 0, "S": 1, "P": 2, "Dh": 3, "Ds": 4, "Rh": 5, "Rs": 6, "Rp": 7}
assert tuple(ACTION_CODE) == ACTIONS

# Cells the kernel never reads (index 0, hard totals below 4, soft totals below 12) hold
# "S": if a kernel bug ever read one, the hand would stand rather than loop or crash.
FILL_CODE = ACTION_CODE["S"]


def up_index(up: str) -> int:
    """Chart key of an up card ("2".."10", "A") -> array index 1..10, ace = 1."""
    return 1 if up == "A" else int(up)


def pair_index(key: str) -> int:
    """Pair key ("2,2".."10,10", "A,A") -> rank index 1..10, ace = 1."""
    return up_index(key.split(",")[0])


def chart_arrays(playing: PlayingStrategy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chart as the kernel's int8 tables: hard[22, 11], soft[22, 11], pairs[11, 11].

    hard[total][up] and soft[total][up] are indexed by the hand's total (soft: an ace
    counted as 11) and pairs[rank][up] by the pair's rank; up and rank run 1..10 with
    1 = ace and 10 = any ten-value card. Index 0, hard totals below 4 and soft totals below
    12 never occur in play and hold "S" (FILL_CODE).

    The chart must give every canonical cell, with two exceptions that published charts
    routinely leave out and whose play is not in doubt: hard 4 (2,2 that may not be split
    any more) takes the hard 5 row, and soft 12 (A,A that may not be split) is a hit.
    Anything else missing is a ValueError, since guessing a cell would silently change
    the strategy being simulated.
    """
    if playing.auto:
        raise ValueError("chart_arrays needs a chart; call resolve_playing_strategy first")
    hard = np.full((22, 11), FILL_CODE, dtype=np.int8)
    soft = np.full((22, 11), FILL_CODE, dtype=np.int8)
    pairs = np.full((11, 11), FILL_CODE, dtype=np.int8)
    missing: list[str] = []

    def cell(table: str, grid: Mapping[str, Mapping[str, str]], row: str, up: str) -> int | None:
        try:
            action = grid[row][up]
        except KeyError:
            return None
        if action not in ACTION_CODE:
            raise ValueError(
                f"{playing.name}: {table}[{row}][{up}] = {action!r} is not one of {ACTIONS}"
            )
        return ACTION_CODE[action]

    for total in HARD_TOTALS:
        for up in UP_CARDS:
            code = cell("hard", playing.hard, str(total), up)
            if code is None and total == 4:
                code = cell("hard", playing.hard, "5", up)
            if code is None:
                missing.append(f"hard[{total}][{up}]")
                continue
            hard[total, up_index(up)] = code
    for total in SOFT_TOTALS:
        for up in UP_CARDS:
            code = cell("soft", playing.soft, str(total), up)
            if code is None and total == 12:
                code = ACTION_CODE["H"]
            if code is None:
                missing.append(f"soft[{total}][{up}]")
                continue
            soft[total, up_index(up)] = code
    for key in PAIR_KEYS:
        for up in UP_CARDS:
            code = cell("pairs", playing.pairs, key, up)
            if code is None:
                missing.append(f"pairs[{key}][{up}]")
                continue
            pairs[pair_index(key), up_index(up)] = code
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ValueError(f"{playing.name}: chart is missing {len(missing)} cells: {shown}")
    return hard, soft, pairs
