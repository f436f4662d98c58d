"""Split runs in the engine: stop_when_broke false and sessions, the shard plan and its
seeds, trip ruin and the final-bankroll percentiles, and a merge that is bitwise the same
whatever order or grouping the shards come in."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pytest

import jost_engine
from jost_engine import ConfigError, ShardSpec, normalize_config, plan_shards, run_shard_spec
from jost_engine.stats import wilson_interval


def config(**extra: Any) -> dict[str, Any]:
    """A flat bettor of 10 with 50 in hand at a 6:5 table (a house edge near 1.4%)."""
    return {
        "casino": "single_deck_6to5",
        "num_rounds": 100_000,
        "seed": 11,
        "players": [{"bankroll": 50, "betting_strategy": "flat_betting"}],
        **extra,
    }


def two_players(**extra: Any) -> dict[str, Any]:
    cfg = config(**extra)
    cfg["players"] = [
        {"name": "a", "bankroll": 30, "betting_strategy": "flat_betting"},
        {"name": "b", "bankroll": 30, "betting_strategy": "flat_betting"},
    ]
    return cfg


class TestConfigFields:
    def test_the_defaults_are_josts_one_session_with_the_broke_rule(self):
        cfg = normalize_config(config())
        assert cfg.stop_when_broke is True and cfg.sessions is None and not cfg.splittable

    def test_both_forms_round_trip_through_config_to_dict(self):
        for raw in (config(stop_when_broke=False), config(sessions=40, num_rounds=500)):
            cfg = normalize_config(raw)
            again = normalize_config(json.loads(json.dumps(jost_engine.config_to_dict(cfg))))
            assert again == cfg and cfg.splittable

    @pytest.mark.parametrize(
        ("extra", "problem"),
        [
            ({"stop_when_broke": "no"}, ("stop_when_broke", "not true or false")),
            ({"sessions": 0}, ("sessions", "must be 1..1000000, got 0")),
            ({"sessions": 2.5}, ("sessions", "not a whole number")),
            ({"sessions": 2_000_000}, ("sessions", "must be 1..1000000, got 2000000")),
        ],
    )
    def test_a_bad_value_is_named_with_its_path(self, extra, problem):
        with pytest.raises(ConfigError) as caught:
            normalize_config(config(**extra))
        assert problem in caught.value.problems

    def test_sessions_without_the_broke_rule_is_refused_saying_why(self):
        with pytest.raises(ConfigError) as caught:
            normalize_config(config(sessions=3, stop_when_broke=False))
        [(path, reason)] = caught.value.problems
        assert path == "sessions" and "needs the broke rule" in reason

    def test_sessions_times_rounds_is_bounded(self):
        with pytest.raises(ConfigError) as caught:
            normalize_config(config(sessions=1_000_000, num_rounds=100_000))
        assert caught.value.problems[0][0] == "sessions"


class TestPlayOnWhenBroke:
    @pytest.mark.parametrize(
        "raw", [config(stop_when_broke=False), two_players(stop_when_broke=False)]
    )
    def test_nobody_stops_and_bankrolls_go_below_zero(self, raw):
        cfg = normalize_config(raw)
        stats = run_shard_spec(cfg, 3, ShardSpec(0, 100_000))
        assert stats.rounds_played == 100_000
        result = jost_engine.results(cfg, stats)
        for player in result["players"]:
            assert player["rounds_played"] == 100_000
            assert not player["broke"]
            assert math.isclose(
                player["final_bankroll"] - player["initial_bankroll"], player["net_gain_loss"]
            )
        # Expected loss 14,000 against an SD near 3,600: far below zero.
        assert max(p["final_bankroll"] for p in result["players"]) < 0

    def test_a_broke_player_still_doubles_and_splits_as_the_chart_says(self):
        # The same rounds (same seed) with a bankroll that always covers and with one that
        # is soon below zero: with play-on, every decision is the same, so every count is.
        rich = normalize_config(
            config(
                stop_when_broke=False,
                players=[{"bankroll": 10**9, "betting_strategy": "flat_betting"}],
            )
        )
        poor = normalize_config(config(stop_when_broke=False))
        a = run_shard_spec(rich, 5, ShardSpec(0, 100_000))
        b = run_shard_spec(poor, 5, ShardSpec(0, 100_000))
        assert np.array_equal(a.counters, b.counters)
        assert np.array_equal(a.sums, b.sums)

    def test_the_general_loop_and_the_solo_loop_agree_with_play_on(self):
        from jost_engine import kernel as k
        from jost_engine.simulate import new_session

        cfg = normalize_config(config(stop_when_broke=False))
        solo = new_session(cfg, 8)
        general = new_session(cfg, 8)
        assert k.solo_applies(solo.table, solo.players)
        k.play_rounds_solo(100_000, *solo.kernel_arrays)
        k.play_rounds(100_000, *general.kernel_arrays)
        assert np.array_equal(solo.tallies.counters, general.tallies.counters)
        assert np.array_equal(solo.seats.bankroll, general.seats.bankroll)
        assert solo.seats.bankroll[0] < 0


class TestPlanAndSeeds:
    def test_a_run_without_the_broke_rule_is_cut_into_shards_of_shard_rounds(self):
        cfg = normalize_config(config(num_rounds=25, stop_when_broke=False))
        assert [s.rounds for s in plan_shards(cfg, 10)] == [10, 10, 5]
        assert [s.index for s in plan_shards(cfg, 10)] == [0, 1, 2]

    def test_sessions_are_kept_whole(self):
        cfg = normalize_config(config(num_rounds=300, sessions=7))
        assert [(s.first_session, s.sessions, s.rounds) for s in plan_shards(cfg, 1000)] == [
            (0, 3, 900),
            (3, 3, 900),
            (6, 1, 300),
        ]
        # A session longer than a shard is a shard of its own.
        assert len(plan_shards(cfg, 10)) == 7

    def test_josts_semantics_are_one_shard(self):
        assert plan_shards(normalize_config(config()), 10) == [ShardSpec(0, 100_000)]

    def test_a_shards_seed_is_the_spawned_child_of_the_job_seed(self):
        for index in (0, 3, 99):
            spawned = np.random.SeedSequence(12345).spawn(100)[index]
            assert np.array_equal(
                jost_engine.shard_seed(12345, index).generate_state(4),
                spawned.generate_state(4),
            )


class TestMergeDeterminism:
    def test_the_merge_is_bitwise_the_same_in_any_finishing_order_and_through_json(self):
        cfg = normalize_config(two_players(stop_when_broke=False, num_rounds=60_000))
        specs = plan_shards(cfg, 7_000)
        parts = {s.index: run_shard_spec(cfg, 21, s) for s in specs}
        expected = jost_engine.results(cfg, jost_engine.merge(*(parts[s.index] for s in specs)))
        order = list(parts)
        random.Random(4).shuffle(order)
        # Stored by each worker as JSON, read back, merged in shard order by the service.
        stored = {i: json.loads(json.dumps(parts[i].to_dict())) for i in order}
        again = jost_engine.merge(*(jost_engine.Stats.from_dict(stored[i]) for i in sorted(stored)))
        assert jost_engine.results(cfg, again) == expected

    def test_a_rerun_shard_gives_the_same_bits(self):
        cfg = normalize_config(config(stop_when_broke=False))
        a = run_shard_spec(cfg, 77, ShardSpec(2, 5_000))
        b = run_shard_spec(cfg, 77, ShardSpec(2, 5_000))
        assert a.to_dict() == b.to_dict()

    def test_sessions_give_the_same_draws_however_they_are_grouped(self):
        cfg = normalize_config(config(num_rounds=2_000, sessions=30))
        one_each = jost_engine.run_shards(cfg, 6, shard_rounds=2_000)
        all_in_one = jost_engine.run_shards(cfg, 6, shard_rounds=10**9)
        assert np.array_equal(one_each.counters, all_in_one.counters)
        assert np.array_equal(one_each.final_bankrolls, all_in_one.final_bankrolls)
        assert np.array_equal(one_each.players_broke, all_in_one.players_broke)

    def test_run_simulation_from_config_is_the_merge_of_the_plan(self):
        cfg = normalize_config(config(stop_when_broke=False, num_rounds=30_000))
        doc = jost_engine.run_simulation_from_config(cfg, shard_rounds=8_000)
        merged = jost_engine.run_shards(cfg, 11, shard_rounds=8_000)
        expected = jost_engine.results(cfg, merged, seed=11, shards=4, shard_rounds=8_000)
        for key in ("players", "rounds_played", "shards", "shard_rounds", "sessions"):
            assert doc[key] == expected[key]
        assert doc["sessions"] == 1 and doc["shards"] == 4


class TestSessions:
    def test_each_session_starts_from_the_initial_bankroll_as_a_fresh_session_would(self):
        cfg = normalize_config(config(num_rounds=3_000, sessions=5))
        stats = run_shard_spec(cfg, 9, ShardSpec(0, 15_000, first_session=0, sessions=5))
        for n in range(5):
            alone = jost_engine.simulate.new_session(cfg, jost_engine.shard_seed(9, n))
            alone.play(3_000)
            assert stats.final_bankrolls[0, n] == alone.seats.bankroll[0]

    def test_trip_ruin_and_percentiles_are_in_the_results(self):
        cfg = normalize_config(config(num_rounds=1_000, sessions=400))
        doc = jost_engine.run_simulation_from_config(cfg, shard_rounds=50_000)
        [player] = doc["players"]
        stats = jost_engine.run_shards(cfg, 11, shard_rounds=50_000)
        finals = stats.final_bankrolls[0]
        broke = int((finals < 10).sum())  # one who cannot cover the 10 bet stopped broke
        assert player["sessions"] == 400 and player["sessions_broke"] == broke
        assert player["trip_ruin"] == broke / 400
        assert player["trip_ruin_95ci"] == wilson_interval(broke, 400)
        assert player["final_bankroll_percentiles"] == {
            str(q): float(np.percentile(finals, q)) for q in (5, 25, 50, 75, 95)
        }
        assert doc["stop_reason"] == "completed" and doc["sessions"] == 400

    def test_trip_ruin_matches_the_first_passage_of_a_random_walk_within_four_se(self):
        # 4,000 sessions of 1,000 rounds from 5 units. Going broke is the first passage of
        # the bankroll below one bet; for a walk with this game's mean m and SD s per round
        # (measured on 2,000,000 rounds), the Brownian first passage below -a by round T:
        #   P = Phi((-a - mT) / (s sqrt T)) + exp(-2 m a / s^2) Phi((-a + mT) / (s sqrt T)),
        # with the barrier moved out by Siegmund's 0.583 s for a walk's overshoot.
        cfg = normalize_config(config(num_rounds=1_000, sessions=4_000, seed=3))
        stats = jost_engine.run_shards(cfg, 3, shard_rounds=200_000)
        flat = normalize_config(config(num_rounds=2_000_000, stop_when_broke=False, seed=4))
        [player] = jost_engine.results(flat, run_shard_spec(flat, 4, ShardSpec(0, 2_000_000)))[
            "players"
        ]
        m, s, t = player["ev_per_unit"], player["sd_per_unit"], 1_000

        def phi(x: float) -> float:
            return 0.5 * (1 + math.erf(x / math.sqrt(2)))

        a = 4 + 0.583 * s  # broke below one 10 bet: 4 units lost from 5, plus the overshoot
        root = s * math.sqrt(t)
        expected = phi((-a - m * t) / root) + math.exp(-2 * m * a / s**2) * phi((-a + m * t) / root)
        got = stats.players_broke[0] / 4_000
        se = math.sqrt(expected * (1 - expected) / 4_000)
        assert abs(got - expected) <= 4 * se, (got, expected, se)

    def test_wilson_interval_stays_in_zero_one_and_covers_the_estimate(self):
        assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(0, 50)[1] > 0
        assert wilson_interval(50, 50)[1] == 1.0
        low, high = wilson_interval(30, 100)
        assert low < 0.3 < high
        assert wilson_interval(0, 0) is None
