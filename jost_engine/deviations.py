"""Index plays as kernel arrays: a per-player deviation table, built once per session.

A playing strategy's `deviations` (custom plays and the shipped presets, expanded here
for the rules: the S17 or H17 variant) become, for every chart cell (kind, row, up), up
to S entries of (threshold, direction, action per decision context), plus a base action
per context for when none matches. The kernel looks at a cell's entries only when the
cell has some (`dev_n`), and takes the first entry whose condition holds.

How a play meets the rules (resolved here, never in the kernel):

- A surrender play (Rh, Rs, Rp) decides whether to surrender: it applies only on the
  original two cards where late or early surrender is offered (elsewhere it is ignored).
  Where a cell has surrender plays, the cell surrenders only when one of them holds (the
  chart's own surrender gives way to the index: Fab 4's 15 vs 10 from 0 does not
  surrender below 0) and otherwise plays the chart's non-surrender action.
- Any other play decides the action when not surrendering. Where the chart surrenders
  and no surrender play is given for the cell, the surrender stands (I18's 16 vs 10
  "stand from 0" is for hands that cannot surrender: three cards, or no surrender).
- A double (Dh, Ds) where doubling is not allowed (the total, three cards, no DAS) plays
  its fallback (hit or stand); a split (P) the bankroll cannot cover plays the pair's
  total as the chart does. A play whose hand never reaches its cell (a pair that can no
  longer be split is read from its hard or soft row) is simply never consulted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jost_engine import kernel as k
from jost_engine.chart import ACTION_CODE, pair_index, up_index
from jost_engine.config import Rules
from jost_engine.config.charts import preset_deviations
from jost_engine.config.types import Deviation

# A surrender code and what it falls back to where surrender is not offered.
SURRENDER_FALLBACK = {
    ACTION_CODE["Rh"]: ACTION_CODE["H"],
    ACTION_CODE["Rs"]: ACTION_CODE["S"],
    ACTION_CODE["Rp"]: ACTION_CODE["P"],
}
_KIND = {"hard": k.KIND_HARD, "soft": k.KIND_SOFT, "pair": k.KIND_PAIR}
NOT_HERE = -1  # an entry that does not apply in a context


@dataclass
class DeviationTables:
    """dev_n int8[3 kind, 22, 11]; dev_thr float64[3, 22, 11, S]; dev_above uint8[...S];
    dev_act and dev_act_poor int8[3 ctx, 3 kind, 22, 11, S + 1] (slot S: no entry holds)."""

    n: np.ndarray
    thr: np.ndarray
    above: np.ndarray
    act: np.ndarray
    act_poor: np.ndarray


def expand(deviations: Sequence[Deviation | str], rules: Rules) -> list[Deviation]:
    """Presets replaced by their plays for these rules (H17 or S17), in order.

    A play written again (a preset named twice) is dropped: the first copy holds whenever
    the second would, so the second is never played, and kept it would only take a slot
    of its cell (the kernel counts a cell's plays in an int8)."""
    plays: dict[Deviation, None] = {}
    for item in deviations:
        found = preset_deviations(item, rules.hit_soft_17) if isinstance(item, str) else (item,)
        for play in found:
            plays.setdefault(play, None)
    return list(plays)


def _cell(play: Deviation) -> tuple[int, int, int]:
    row = pair_index(play.row) if play.kind == "pair" else int(play.row)
    return _KIND[play.kind], row, up_index(play.up)


def resolve_code(
    code: int,
    ctx: int,
    kind: int,
    row: int,
    up: int,
    rules: Rules,
    poor: bool,
    act_poor: np.ndarray,
) -> int:
    """The kernel action a chart code is in one cell and context under these rules: the
    one rule for the chart's cells (simulate.action_tables) and for index plays. A
    surrender where it is not offered is NOT_HERE (the caller decides what stands
    instead); a split the bankroll cannot cover is what `act_poor` holds for the pair's
    total (its hard and soft cells filled first)."""
    value = (12 if row == 1 else 2 * row) if kind == k.KIND_PAIR else row
    if code in SURRENDER_FALLBACK:
        if rules.surrender_offered and ctx == k.CTX_FIRST:
            return k.SURRENDER
        return NOT_HERE
    if code == ACTION_CODE["H"]:
        return k.HIT
    if code == ACTION_CODE["S"]:
        return k.STAND
    if code in (ACTION_CODE["Dh"], ACTION_CODE["Ds"]):
        may = (
            not poor
            and ctx in (k.CTX_FIRST, k.CTX_SPLIT)
            and rules.may_double(value, after_split=ctx == k.CTX_SPLIT)
        )
        if may:
            return k.DOUBLE
        return k.HIT if code == ACTION_CODE["Dh"] else k.STAND
    # P: only pair plays carry it (the config refuses it elsewhere).
    if not poor:
        return k.SPLIT
    return int(act_poor[ctx, k.KIND_SOFT if row == 1 else k.KIND_HARD, value, up])


def deviation_tables(
    plays: Sequence[Deviation],
    codes: tuple[np.ndarray, np.ndarray, np.ndarray],
    act: np.ndarray,
    act_poor: np.ndarray,
    rules: Rules,
    slots: int,
) -> DeviationTables:
    """The kernel's deviation arrays for one player. codes: the chart's hard, soft and
    pairs code tables (chart_arrays); act, act_poor: its resolved action tables
    (simulate.action_tables); slots: S, at least the most plays of any cell."""
    n = np.zeros((3, 22, 11), dtype=np.int8)
    thr = np.zeros((3, 22, 11, slots), dtype=np.float64)
    above = np.zeros((3, 22, 11, slots), dtype=np.uint8)
    dev_act = np.full((3, 3, 22, 11, slots + 1), NOT_HERE, dtype=np.int8)
    dev_poor = np.full_like(dev_act, NOT_HERE)
    by_cell: dict[tuple[int, int, int], list[Deviation]] = {}
    for play in plays:
        by_cell.setdefault(_cell(play), []).append(play)
    for (kind, row, up), cell_plays in by_cell.items():
        # Surrender plays first: whether to surrender is decided before how to play.
        ordered = [p for p in cell_plays if ACTION_CODE[p.action] in SURRENDER_FALLBACK] + [
            p for p in cell_plays if ACTION_CODE[p.action] not in SURRENDER_FALLBACK
        ]
        if len(ordered) > np.iinfo(n.dtype).max:
            raise ValueError(f"{len(ordered)} index plays in one cell; the kernel keeps 127")
        n[kind, row, up] = len(ordered)
        for j, play in enumerate(ordered):
            thr[kind, row, up, j] = play.index
            above[kind, row, up, j] = play.above
        chart_code = int(codes[kind][row, up])
        for ctx in range(3):
            for poor, out, table in ((False, dev_act, act), (True, dev_poor, act_poor)):
                resolved = [
                    resolve_code(ACTION_CODE[p.action], ctx, kind, row, up, rules, poor, act_poor)
                    for p in ordered
                ]
                surrender_here = any(
                    ACTION_CODE[p.action] in SURRENDER_FALLBACK and r == k.SURRENDER
                    for p, r in zip(ordered, resolved, strict=True)
                )
                base = int(table[ctx, kind, row, up])
                if surrender_here and base == k.SURRENDER:
                    # The index decides the surrender: without it, the chart's fallback.
                    fallback = SURRENDER_FALLBACK[chart_code]
                    base = resolve_code(fallback, ctx, kind, row, up, rules, poor, act_poor)
                elif base == k.SURRENDER:
                    # The chart surrenders here and no play says otherwise.
                    resolved = [NOT_HERE] * len(ordered)
                out[ctx, kind, row, up, : len(ordered)] = resolved
                out[ctx, kind, row, up, slots] = base
    return DeviationTables(n=n, thr=thr, above=above, act=dev_act, act_poor=dev_poor)


def max_plays_per_cell(plays: Sequence[Deviation]) -> int:
    counts: dict[tuple[int, int, int], int] = {}
    for play in plays:
        cell = _cell(play)
        counts[cell] = counts.get(cell, 0) + 1
    return max(counts.values(), default=0)
