"""The counter's statistics from real play: flat_edge by true count, the table's sums, and
the per-hour figures of the results document."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.config import normalize_config
from jost_engine.simulate import results, run_shard
from jost_engine.stats import player_metrics, true_count_table

# A flat bet with the count on: two tiers of the same bet, so the kernel counts and keeps
# the true-count table while every round bets one unit.
FLAT_BY_THE_COUNT = {
    "name": "flat, counted",
    "min_bet": 10,
    "bet_ramp": [
        {"count_threshold": "-Infinity", "bet_multiplier": 1},
        {"count_threshold": 1, "bet_multiplier": 1},
    ],
}
HILO_RAMP = {
    "name": "hilo 1-8",
    "min_bet": 10,
    "bet_ramp": {"-Infinity": 1, "1": 2, "2": 4, "3": 6, "4": 8},
}


def hilo_player(betting: dict[str, Any], name: str = "hilo", spots: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "bankroll": 1e12,
        "playing_strategy": "perfect_s17_basic_strategy",
        "counting_strategy": "hilo",
        "betting_strategy": {**betting, "num_hands": spots},
    }


def six_deck(*players: dict[str, Any], rounds_per_hour: float | None = None) -> Any:
    raw: dict[str, Any] = {
        "casino": "vegas_6d_s17_das",
        "num_rounds": 1,
        "players": list(players),
    }
    if rounds_per_hour is not None:
        raw["rounds_per_hour"] = rounds_per_hour
    return normalize_config(raw)


def test_hilo_flat_edge_rises_about_half_a_percent_per_true_count():
    # The rule of thumb: with Hi-Lo, each true count is worth about 0.5% to a basic-strategy
    # player (Griffin, The Theory of Blackjack; Wong, Professional Blackjack). A weighted
    # least-squares line through the rows +1..+5, each row's flat_edge weighted by
    # 1 / SE^2 (SE = flat_sd / sqrt(rounds)); the line's SE follows from those weights.
    # Row k holds true counts in [k, k + 1), so the offset of the rows does not move the slope.
    stats = run_shard(six_deck(hilo_player(FLAT_BY_THE_COUNT)), 2024, 20_000_000)
    rows = {r["true_count"]: r for r in true_count_table(stats, 0)}
    x = np.arange(1.0, 6.0)
    y = np.array([rows[int(c)]["flat_edge"] for c in x])
    se = np.array([rows[int(c)]["flat_sd"] / np.sqrt(rows[int(c)]["rounds"]) for c in x])
    w = 1.0 / se**2
    centre = (w * x).sum() / w.sum()
    spread = (w * (x - centre) ** 2).sum()
    slope = (w * (x - centre) * y).sum() / spread
    slope_se = 1.0 / np.sqrt(spread)
    assert slope_se < 0.0005  # 20 M rounds pin it to a tenth of the rule of thumb
    assert abs(slope - 0.005) <= 4 * slope_se, (slope, slope_se)


def test_with_one_flat_spot_flat_edge_is_the_ev_per_unit_exactly():
    # Each round's own bet is then the unit, so f and u are the same number every round.
    stats = run_shard(six_deck(hilo_player(FLAT_BY_THE_COUNT)), 3, 200_000)
    m = player_metrics(stats, 0, 1e12)
    assert m["flat_edge"] == m["ev_per_unit"] and m["flat_sd"] == m["sd_per_unit"]


def test_with_two_flat_spots_it_is_per_unit_of_both_bets():
    stats = run_shard(six_deck(hilo_player(FLAT_BY_THE_COUNT, spots=2)), 3, 200_000)
    m = player_metrics(stats, 0, 1e12)
    assert m["flat_edge"] == pytest.approx(m["ev_per_unit"] / 2, rel=1e-12)


@pytest.mark.parametrize("players", [1, 2], ids=["solo loop", "general loop"])
def test_the_tables_rows_add_up_to_the_players_sums(players):
    config = six_deck(*(hilo_player(HILO_RAMP, name=f"p{i}") for i in range(players)))
    stats = run_shard(config, 9, 300_000)
    for p in range(players):
        table = stats.tc_table[p].sum(axis=0)
        assert table[k.T_ROUNDS] == stats.counter(p, "rounds")
        for field, total in (
            (k.T_NET, "net"),
            (k.T_WAGERED, "wagered"),
            (k.T_INITIAL_BET, "initial_bet"),
            (k.T_FLAT, "flat"),
            (k.T_FLAT_SQ, "flat_sq"),
        ):
            assert table[field] == pytest.approx(stats.total(p, total), rel=1e-9), total
        m = player_metrics(stats, p, 1e12)
        rows = true_count_table(stats, p)
        assert sum(r["frequency"] for r in rows) == pytest.approx(1.0)
        # The ramp bets more at higher counts: the rows' average bets climb with them.
        bets = {r["true_count"]: r["bet_per_round"] for r in rows}
        assert bets[-1] == 10.0 and bets[1] == 20.0 and bets[4] == 80.0
        # The ramp earns more per unit than the game gives a flat bet.
        assert m["ev_per_unit"] > m["flat_edge"]


def test_the_document_reports_per_hour_at_the_configs_pace():
    config = six_deck(hilo_player(HILO_RAMP), rounds_per_hour=80)
    doc = results(config, run_shard(config, 4, 50_000))
    player = doc["players"][0]
    assert doc["config"]["rounds_per_hour"] == 80
    assert player["rounds_per_hour"] == 80.0
    assert player["win_per_hour"] == pytest.approx(80 * player["ev_per_round"], rel=1e-12)
    assert player["sd_per_hour"] == pytest.approx(np.sqrt(80) * player["sd_per_round"], rel=1e-12)
    row = player["true_count_table"][0]
    assert {"frequency", "bet_per_round", "ev_per_round", "sd_per_round", "flat_edge"} <= set(row)
