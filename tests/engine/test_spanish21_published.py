"""Spanish 21's `auto` strategy against Wizard of Odds' published figures.

The figures and their sources are in tests/data/spanish21_published.json (`_about`): the
house edge for 6 and 8 Spanish decks, H17 and S17, with and without redoubling, and the
hard-total rows of the published H17 strategy. Each house edge is simulated with "auto"
for ROUNDS rounds, enough for a standard error of 0.02% at most, and must be within 4 of
the run's own SEs of the published one. The super and envy bonuses are money, not a
share of the bet, and the published table leaves them out: so do these runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from jost_engine import default_profile
from jost_engine.config import normalize_config
from jost_engine.simulate import run_simulation_from_config
from jost_engine.strategy import resolve_playing_strategy

PUBLISHED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "spanish21_published.json").read_text()
)
# SD of a Spanish 21 round about 1.16 (1.28 with redoubling): 42 M rounds give an SE of
# 0.018% of the bet (0.0197% with redoubling; 40 M left it at 0.0202%), within the
# issue's 0.02%.
ROUNDS = 42_000_000
UP_CARDS = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")


def casino(decks: int, hit_soft_17: bool, max_redoubles: int) -> dict[str, Any]:
    rules = default_profile("casino", "spanish21_6d_h17")
    rules.update(
        name=f"spanish 21 {decks}d",
        deck_count=decks,
        hit_on_soft_17=hit_soft_17,
        max_redoubles=max_redoubles,
        super_bonus=0,
        envy_bonus=0,
    )
    return rules


def house_edge(rules: dict[str, Any], seed: int) -> tuple[float, float]:
    """The house edge of "auto" in percent, and its SE, from a run of ROUNDS rounds."""
    config = {
        "casino": rules,
        "num_rounds": ROUNDS,
        "seed": seed,
        "stop_when_broke": False,
        "players": [
            {"bankroll": 1e12, "playing_strategy": "auto", "betting_strategy": {"min_bet": 1}}
        ],
    }
    player = run_simulation_from_config(config)["players"][0]
    n = player["rounds_played"]
    assert n == ROUNDS
    return -100.0 * player["flat_edge"], 100.0 * player["flat_sd"] / math.sqrt(n)


def _row_id(row: dict[str, Any]) -> str:
    return f"{row['decks']}d-{'h17' if row['hit_soft_17'] else 's17'}-rd{row['max_redoubles']}"


# Redoubling: a doubled hand plays its own table (the chart's after_double, as Wizard of
# Odds' strategy has one), so "auto" redoubles where a doubled hand should, not where a
# fresh hand of the same cards would double. Before that table (one cell for double and
# redouble) these two rows fell 0.09% short (seed 2026: 0.501% and 0.540%); with it,
# seed 2026: 6 decks 0.463 +- 0.021 (2.0 SE), 8 decks 0.467 +- 0.021 (0.8 SE); seed 11:
# 0.478 (2.7 SE) and 0.489 (1.8 SE). What is left is the infinite-deck chart's cost, as
# in the rows without redoubling (docs/CONFIG.md, "auto" for Spanish 21).
@pytest.mark.slow  # six runs of 42 M rounds
@pytest.mark.parametrize(
    "row", [pytest.param(row, id=_row_id(row)) for row in PUBLISHED["house_edge_percent"]["rows"]]
)
def test_the_house_edge_of_auto_is_the_published_one_within_4_se(row):
    rules = casino(row["decks"], row["hit_soft_17"], row["max_redoubles"])
    edge, se = house_edge(rules, seed=2026)
    assert se <= 0.02  # the run is as precise as the issue asks
    assert abs(edge - row["house_edge"]) <= 4 * se, (edge, se, row["house_edge"])


def auto_cells(decks: int = 6) -> dict[tuple[int, str, str], str]:
    """The 6-deck H17 "auto" chart's hard cells by (cards, total, up), cards 2..7."""
    config = normalize_config(
        {"casino": casino(decks, True, 0), "num_rounds": 1, "players": [{"bankroll": 1}]}
    )
    chart = resolve_playing_strategy(config.players[0].playing, config.rules)
    cells = {(2, t, u): chart.hard[t][u] for t in chart.hard for u in UP_CARDS}
    for lo, _, tables in chart.more_cards:
        cells.update({(lo, t, u): tables["hard"][t][u] for t in tables["hard"] for u in UP_CARDS})
    return cells


def differences() -> list[str]:
    """Where auto's hard cells play otherwise than the published text says."""
    ours = auto_cells()
    found = []
    for total, row in PUBLISHED["strategy_h17_hard"]["hard"].items():
        for up, published in row.items():
            for cards in range(2, 8):
                mine = ours[(cards, total, up)]
                if published == "D":
                    if cards > 2:
                        continue  # the text does not say
                    want = mine in ("Dh", "Ds")
                elif published == "R":
                    want = mine.startswith("R") if cards == 2 else mine in ("H", "Dh")
                else:
                    hits = published == "H" or (published[0] == "H" and cards >= int(published[1]))
                    if cards == 2:
                        want = mine == ("H" if hits else "S")
                    else:
                        want = mine in (("H", "Dh") if hits else ("S", "Ds"))
                if not want:
                    found.append(f"{cards} cards hard {total} vs {up}: {published} -> {mine}")
    return found


# Each difference is valued exactly in a six-deck shoe, and its reason given, in
# test_spanish21_exact.py (docs/CONFIG.md, "auto" for Spanish 21): in eight cells auto's
# play is the better for every hand of the cell, 13 vs 6 on two cards is a row of hands
# that differ (the 6-7 hits), and the four-card 14 vs 5 is the finite shoe's removal.
EXPECTED_DIFFERENCES = PUBLISHED["strategy_h17_hard"]["auto_differences"]


def test_auto_plays_the_published_hard_totals_but_for_the_listed_cells():
    assert differences() == EXPECTED_DIFFERENCES
