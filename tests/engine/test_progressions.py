"""Betting by rules in the round loops: each shipped preset's bets on a fixed sequence of
results, the floor and the caps, the cap counter, and a progression's fresh start in each
session.

The results are arranged (an infinite shoe takes any order; kernel.py's deal order: the
player's first card, the dealer's up card, the player's second, the hole card), each round
played by the computed basic strategy for the rules, which stands on every total used here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.config import normalize_config
from jost_engine.simulate import Session, new_session
from jost_engine.stats import FORMAT_1_COUNTERS, Stats
from tests.engine.loop_state import assert_same_state

T = 10
# One round each: 20 v 17 wins, 18 v 20 loses, 18 v 18 pushes, A-T v 17 is a blackjack,
# 16 v 10 (17) surrenders where late surrender is offered.
ROUND = {
    "W": [T, T, T, 7],
    "L": [T, T, 8, T],
    "P": [T, T, 8, 8],
    "B": [1, T, T, 7],
    "S": [T, T, 6, 7],
}
SIGN = {"W": 1, "B": 1, "L": -1, "S": -1, "P": 0}
CASINO = {"deck_count": "infinite", "allow_late_surrender": True}


def session(betting: Any, results: str, bankroll: float = 1e6, log: bool = False) -> Session:
    config = normalize_config(
        {
            "casino": CASINO,
            "num_rounds": len(results),
            "log_hands": log,
            "players": [{"bankroll": bankroll, "betting_strategy": betting}],
        }
    )
    cards = [c for r in results for c in ROUND[r]]
    return new_session(config, 1, arranged=cards)


def bets(betting: Any, results: str, **kw: Any) -> list[float]:
    """The bet of each round, in units of min_bet, with the rounds' results `results`."""
    s = session(betting, results, **kw)
    out = []
    for _ in results:
        before = s.tallies.sums[0, k.S_INITIAL_BET]
        nets = s.tallies.sums[0, k.S_NET]
        assert s.play(1) == 1
        out.append((s.tallies.sums[0, k.S_INITIAL_BET] - before) / s.players.min_bet[0])
        # The arranged cards gave the round the result it was meant to have.
        net = s.tallies.sums[0, k.S_NET] - nets
        assert np.sign(net) == SIGN[results[len(out) - 1]]
    return out


class TestThePresets:
    @pytest.mark.parametrize(
        ("preset", "results", "expected"),
        [
            # Double after a loss, one unit after a win; a push repeats the bet.
            ("martingale", "LLLWPLWBL", [1, 2, 4, 8, 1, 1, 2, 1, 1]),
            # 1-2-4 on wins, back to 1 after the third win or any loss; a push repeats.
            ("paroli", "WWWWLWPW", [1, 2, 4, 1, 2, 1, 2, 2]),
            # One more after a loss, one less after a win, never below one.
            ("dalembert", "LLWLWWWW", [1, 2, 3, 2, 3, 2, 1, 1]),
            # One more after a win but no more than brings the cycle to +1; at +1, restart.
            ("oscars_grind", "LLLWWWW", [1, 1, 1, 1, 2, 1, 1]),
            # 1, 3, 2, 6 on a run of wins; a loss or the fourth win starts over.
            ("one_three_two_six", "WWWWWLWP", [1, 3, 2, 6, 1, 3, 1, 3]),
            # With no count (an infinite shoe's true count is 0) the hybrid bets one unit.
            ("count_paroli", "WLWW", [1, 1, 1, 1]),
        ],
    )
    def test_each_preset_bets_its_sequence_on_a_fixed_sequence_of_results(
        self, preset, results, expected
    ):
        assert bets(preset, results) == expected

    def test_a_surrender_and_a_blackjack_are_results_of_their_own(self):
        betting = {
            "bet_rules": [
                {"when": {"last_result": "surrender"}, "then": {"bet": 5}},
                {"when": {"last_result": "blackjack"}, "then": {"bet": 7}},
                {"when": {"last_result": "loss"}, "then": {"bet": 3}},
                {"when": {"last_result": "win"}, "then": {"bet": 2}},
            ]
        }
        assert bets(betting, "SBLWP") == [1, 5, 7, 3, 2]

    def test_streaks_and_the_session_net_are_conditions(self):
        betting = {
            "bet_rules": [
                {"when": {"net_min": 3}, "then": {"bet": 9}},
                {"when": {"win_streak_min": 2}, "then": {"bet": 4}},
                {"when": {"loss_streak_min": 2}, "then": {"bet": 3}},
                {"then": {"bet": 1}},
            ]
        }
        # Net after each round, in units: -1, -2, -5 (3 lost), -2 (3 won), -1, +3 (4 won):
        # at +3 the first rule bets 9.
        assert bets(betting, "LLLWWWW") == [1, 1, 3, 3, 1, 4, 9]

    def test_the_general_loop_bets_as_the_solo_loop(self):
        # log_hands sends the same game through play_rounds (solo_applies is False).
        assert bets("martingale", "LLLWPLWBL", log=True) == [1, 2, 4, 8, 1, 1, 2, 1, 1]


class TestFloorAndCaps:
    def test_a_bet_below_one_unit_is_floored_at_min_bet(self):
        assert bets({"bet_rules": [{"then": {"add": -3}}]}, "WWW") == [1, 1, 1]

    def test_the_martingale_stops_at_max_bet_and_counts_each_capped_bet(self):
        martingale = {"last_result": "loss"}
        s = session(
            {
                "min_bet": 10,
                "max_bet": 40,
                "bet_rules": [{"when": martingale, "then": {"multiply": 2}}],
            },
            "LLLLL",
        )
        s.play(5)
        # 1, 2, 4 units, then 8 and 16 wanted: both capped at 4 units.
        assert s.tallies.sums[0, k.S_INITIAL_BET] == 10 * (1 + 2 + 4 + 4 + 4)
        assert s.stats().counter(0, "bets_capped") == 2

    def test_a_bet_the_bankroll_cannot_cover_is_capped_at_the_bankroll(self):
        # 45: loses 10 and 20, then 40 is wanted with 15 left: it bets 15, capped.
        s = session("martingale", "LLL", bankroll=45)
        s.play(3)
        assert s.tallies.sums[0, k.S_INITIAL_BET] == 10 + 20 + 15
        assert s.stats().counter(0, "bets_capped") == 1

    def test_below_one_unit_of_bankroll_the_player_stops_as_with_any_bet(self):
        s = session("martingale", "LLL", bankroll=35)  # 25 after one, 5 after two
        assert s.play(3) == 2
        assert s.all_broke and s.stats().counter(0, "bets_capped") == 0

    def test_the_cap_counter_is_in_the_results_and_merges(self):
        from jost_engine.simulate import run_simulation_from_config

        config = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 20_000,
            "seed": 5,
            "stop_when_broke": False,
            "players": [
                {
                    "betting_strategy": {
                        "min_bet": 10,
                        "max_bet": 80,
                        "bet_rules": [
                            {"when": {"last_result": "loss"}, "then": {"multiply": 2}},
                            {"when": {"last_result": "win"}, "then": {"reset": True}},
                        ],
                    }
                }
            ],
        }
        doc = run_simulation_from_config(config, shard_rounds=5_000)
        player = doc["players"][0]
        # Four losses in a row (about 1 round in 20) want 16 units: well over a hundred.
        assert player["bets_capped"] == player["counts"]["bets_capped"] > 100


class TestTheLoops:
    def test_rules_betting_runs_in_the_full_loop_and_a_flat_bet_in_the_plain_one(self):
        for betting, plain in (("martingale", False), ("flat_betting", True)):
            s = session(betting, "W")
            assert k.plain_game(s.table, s.players, True) is plain
            assert k.plain_game(s.table, s.players, False) is plain

    @pytest.mark.parametrize("log", [False, True])
    def test_a_watched_round_leaves_the_progression_where_it_was(self, log):
        # An infinite shoe's true count is 0, under wong_in: every round is watched, so
        # no rule bets (a capped bet would be counted) and nothing moves.
        betting = {"min_bet": 10, "max_bet": 20, "wong_in": 1, "bet_rules": [{"then": {"bet": 5}}]}
        s = session(betting, "LLW", log=log)
        start = s.seats.progress.copy()
        s.play(3)
        assert s.stats().counter(0, "rounds_watched") == 3
        assert s.stats().counter(0, "bets_capped") == 0
        assert np.array_equal(s.seats.progress, start)


class TestBounds:
    def test_the_largest_values_the_config_allows_play_without_overflow(self):
        from jost_engine.simulate import run_simulation_from_config

        huge = {
            "min_bet": 1e8,  # x 10,000 units: the 10^12 largest bet
            "bet_steps": [10_000] * 100,
            "bet_rules": [
                {
                    "when": {
                        "true_count_min": -1e6,
                        "true_count_max": 1e6,
                        "win_streak_max": 10**9,
                        "loss_streak_max": 10**9,
                        "net_min": -1e12,
                        "net_max": 1e12,
                        "cycle_net_max": 1e12,
                        "step_max": 99,
                    },
                    "then": {"multiply": 10_000},
                },
                {"then": {"add": 10_000, "cycle_target": 10_000}},
            ],
        }
        config = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 20_000,
            "seed": 1,
            "stop_when_broke": False,
            "players": [{"bankroll": 1e12, "betting_strategy": huge}],
        }
        player = run_simulation_from_config(config)["players"][0]
        assert player["rounds_played"] == 20_000
        assert player["average_bet"] == 1e12  # every bet at the cap
        assert math.isfinite(player["net_gain_loss"]) and math.isfinite(player["sd_per_round"])
        assert player["bets_capped"] == 20_000


class TestStoredStats:
    def test_stats_stored_before_the_cap_counter_read_with_none_capped(self):
        s = session("martingale", "LW")
        s.play(2)
        data = s.stats().to_dict()
        assert data["format"] == 2
        data["format"] = 1  # a worker of the release before: 16 counters
        data["counters"] = [row[:FORMAT_1_COUNTERS] for row in data["counters"]]
        old = Stats.from_dict(data)
        assert old.counter(0, "bets_capped") == 0 and old.counter(0, "rounds") == 2

    def test_stats_of_this_format_with_a_column_missing_are_refused(self):
        s = session("martingale", "LW")
        s.play(2)
        data = s.stats().to_dict()
        data["counters"] = [row[:-1] for row in data["counters"]]
        with pytest.raises(ValueError):
            Stats.from_dict(data)


class TestSessions:
    def test_a_progression_starts_fresh_in_each_session(self):
        s = session("martingale", "LLL")
        s.play(3)
        assert s.seats.progress[0, k.PG_LAST] == 4.0
        s.restart(2)
        assert np.array_equal(s.seats.progress, s.initial[-1])
        s.play(1)
        # The first round of the new session bets one unit (its cards are random).
        assert s.tallies.sums[0, k.S_INITIAL_BET] == 10 * (1 + 2 + 4 + 1)

    def test_a_sessions_run_reports_the_trips_that_ended_behind(self):
        from jost_engine.simulate import run_shards
        from jost_engine.stats import session_metrics

        raw = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 200,
            "sessions": 300,
            "seed": 9,
            "players": [{"bankroll": 200, "betting_strategy": "martingale"}],
        }
        stats = run_shards(normalize_config(raw), 9)
        finals = stats.final_bankrolls[0]
        behind = int((finals < 200).sum())
        assert 0 < behind < 300 and int((finals == 200).sum()) < 300 - behind  # some ahead
        metrics = session_metrics(stats, 0, 200.0)
        assert metrics["sessions_behind"] == behind
        assert metrics["chance_of_loss"] == behind / 300
        low, high = metrics["chance_of_loss_95ci"]
        assert low < behind / 300 < high
        assert session_metrics(stats, 0)["chance_of_loss"] is None  # no bankroll given

    def test_a_chunked_session_equals_one_call(self):
        config = normalize_config(
            {
                "casino": "vegas_6d_s17_das",
                "num_rounds": 1,
                "stop_when_broke": False,
                "players": [{"betting_strategy": "oscars_grind"}, {"betting_strategy": "paroli"}],
            }
        )
        whole, pieces = new_session(config, 3), new_session(config, 3)
        whole.play(3000)
        for _ in range(6):
            pieces.play(500)
        assert_same_state(whole, pieces)


@pytest.fixture(scope="module")
def hybrid() -> k.Players:
    config = normalize_config(
        {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 1,
            "players": [{"betting_strategy": "count_paroli"}],
        }
    )
    return new_session(config, 1).players


class TestTheStepFunction:
    """kernel.rule_units, the compiled rule table, on a count the loop would read."""

    @pytest.mark.parametrize(
        ("count", "result", "wins", "last", "expected"),
        [
            (-1.0, k.RES_NONE, 0, 1.0, 1.0),
            (1.0, k.RES_LOSS, 0, 1.0, 2.0),
            (2.5, k.RES_LOSS, 0, 2.0, 4.0),
            (3.0, k.RES_PUSH, 0, 4.0, 6.0),
            (4.0, k.RES_NONE, 0, 6.0, 8.0),
            # A first win at +2 or more presses the bet once; a second falls to the ramp.
            (2.0, k.RES_WIN, 1, 4.0, 8.0),
            (2.0, k.RES_BLACKJACK, 1, 4.0, 8.0),
            (2.0, k.RES_WIN, 2, 8.0, 4.0),
            (1.9, k.RES_WIN, 1, 4.0, 2.0),
        ],
    )
    def test_the_hybrid_ramps_on_the_count_and_presses_a_first_win(
        self, hybrid, count, result, wins, last, expected
    ):
        progress = np.zeros((1, k.N_PG))
        progress[0, k.PG_RESULT] = result
        progress[0, k.PG_WINS] = wins
        progress[0, k.PG_LAST] = last
        assert k.rule_units(hybrid, 0, progress, count) == expected
        assert hybrid.bet_cap[0] == 16.0  # max_bet 160 / min_bet 10
