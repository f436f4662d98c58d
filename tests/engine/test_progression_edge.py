"""What a progression cannot change: the game's edge.

Each shipped preset, played by basic strategy with nobody stopping when broke, has the
flat game's `flat_edge` (the mean of each round's net over its own initial bet: the edge
whatever the bets): on other cards within 4 SE of the flat game's, the SE of the
difference from both runs' own flat_sd; on the same cards, exactly the same.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from jost_engine.simulate import run_simulation_from_config
from tests.engine.test_betting_rules import PRESETS

ROUNDS = 1_000_000


def run(betting: Any, seed: int) -> dict[str, Any]:
    config = {
        "casino": "vegas_6d_s17_das",
        "num_rounds": ROUNDS,
        "seed": seed,
        "stop_when_broke": False,
        "players": [{"bankroll": 1000, "betting_strategy": betting}],
    }
    return run_simulation_from_config(config)["players"][0]


@pytest.fixture(scope="module")
def flat() -> dict[str, Any]:
    return run({"min_bet": 10}, seed=11)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_has_the_flat_games_edge_within_4_se(preset, flat):
    mine = run(preset, seed=12)
    assert mine["rounds_played"] == flat["rounds_played"] == ROUNDS
    se = math.hypot(
        mine["flat_sd"] / math.sqrt(mine["rounds_played"]),
        flat["flat_sd"] / math.sqrt(flat["rounds_played"]),
    )
    assert abs(mine["flat_edge"] - flat["flat_edge"]) <= 4 * se
    # ...while the money it bets is not the flat game's (a preset bets more than one unit).
    assert mine["average_bet"] > flat["average_bet"]


@pytest.mark.parametrize("preset", PRESETS)
def test_on_the_same_cards_a_preset_plays_every_round_as_the_flat_game(preset, flat):
    # Nothing the player decides depends on the bet when nobody stops when broke, so the
    # same seed deals the same rounds: the flat results are equal, not just close.
    mine = run(preset, seed=11)
    assert mine["flat_edge"] == flat["flat_edge"] and mine["flat_sd"] == flat["flat_sd"]
    assert mine["counts"]["win"] == flat["counts"]["win"]
