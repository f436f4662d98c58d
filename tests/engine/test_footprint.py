"""jost_engine.footprint: a job's work in spot-rounds and its peak memory, known at submit.

The memory estimate must be an upper bound of what a shard and a merge really allocate:
two tests measure them with tracemalloc on the very paths a service takes (a shard's
statistics to JSON; every shard's JSON read back, merged and made a results document).
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from jost_engine import (
    Stats,
    footprint,
    merge,
    normalize_config,
    plan_shards,
    results,
    run_shard_spec,
)
from jost_engine.simulate import MAX_SHARD_SESSIONS

MB = 2**20


def config(**overrides):
    base = {
        "casino": "master_casino",
        "num_rounds": 1000,
        "players": [{"profile": "master_player"}],
    }
    base.update(overrides)
    return normalize_config(base)


def table(players: int, **overrides):
    return config(players=[{"profile": "master_player"} for _ in range(players)], **overrides)


class TestWork:
    def test_spots_count_a_spots_ramp_at_its_widest(self):
        betting = {"num_hands": 1, "spots_ramp": {"2": 3, "4": 5}}
        cfg = config(players=[{"betting_strategy": betting}, {}], num_rounds=1000)
        cost = footprint(cfg)
        assert cost.spots == 6
        assert cost.spot_rounds == 6000

    def test_an_unsplit_job_is_one_sequence(self):
        cost = footprint(config(num_rounds=5_000_000))
        assert cost.sequence_rounds == 5_000_000

    def test_a_session_is_one_sequence_however_the_shards_hold_them(self):
        cost = footprint(config(num_rounds=400, sessions=1000), shard_rounds=100_000)
        assert cost.sequence_rounds == 400
        assert cost.total_rounds == 400_000

    def test_a_split_job_plays_one_shard_in_order(self):
        cost = footprint(config(num_rounds=25, stop_when_broke=False), shard_rounds=10)
        assert cost.sequence_rounds == 10


class TestMemory:
    def test_a_million_sessions_of_a_full_table_is_the_issues_800_mb(self):
        cost = footprint(table(7, num_rounds=1, sessions=1_000_000))
        assert cost.memory_field == "sessions"
        assert cost.memory_bytes > 512 * MB
        fit = cost.sessions_within(512 * MB)
        assert 0 < fit < 1_000_000
        assert footprint(table(7, num_rounds=1, sessions=fit)).memory_bytes <= 512 * MB
        assert footprint(table(7, num_rounds=1, sessions=fit + 1)).memory_bytes > 512 * MB

    def test_a_shard_holds_at_most_its_share_of_sessions(self):
        cfg = table(7, num_rounds=1, sessions=1_000_000)
        specs = plan_shards(cfg)
        assert max(spec.sessions for spec in specs) == MAX_SHARD_SESSIONS
        assert sum(spec.sessions for spec in specs) == 1_000_000
        assert footprint(cfg).shard_bytes < 16 * MB

    def test_a_split_job_of_many_shards_names_its_rounds(self):
        cost = footprint(config(num_rounds=10**9, stop_when_broke=False), shard_rounds=10_000)
        assert cost.merge_bytes > cost.shard_bytes
        assert cost.memory_field == "num_rounds"

    def test_the_hand_log_is_named_when_it_is_the_largest_part(self):
        cost = footprint(config(log_hands=True))
        assert cost.memory_field == "log_hands"
        assert cost.merge_bytes == 0

    def test_index_plays_are_counted_for_the_player_that_has_them(self):
        plays = [{"hand": "16", "vs": "10", "index": i / 10, "action": "S"} for i in range(100)]
        cfg = config(players=[{}, {"playing_strategy": {"strategy": "auto", "deviations": plays}}])
        cost = footprint(cfg)
        assert cost.memory_field == "players[1].playing_strategy.deviations"
        assert "players[0].playing_strategy.deviations" not in cost.parts

    @pytest.mark.slow  # a full shard of sessions, twice
    def test_the_estimate_bounds_what_a_shard_allocates(self):
        cfg = table(7, num_rounds=2, sessions=MAX_SHARD_SESSIONS, seed=3)
        spec = plan_shards(cfg)[0]
        run_shard_spec(cfg, 3, spec)  # the compiled loops loaded before measuring
        tracemalloc.start()
        try:
            stats = run_shard_spec(cfg, 3, spec)
            json.dumps(stats.to_dict())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= footprint(cfg).shard_bytes

    @pytest.mark.slow
    @pytest.mark.parametrize("players", [1, 7])
    def test_the_estimate_bounds_what_a_merge_allocates(self, players):
        cfg = table(players, num_rounds=1, sessions=4 * MAX_SHARD_SESSIONS, seed=3)
        stored = [json.dumps(run_shard_spec(cfg, 3, s).to_dict()) for s in plan_shards(cfg)]
        tracemalloc.start()
        try:
            rows = [json.loads(text) for text in stored]  # a query holds every row at once
            merged = merge(*(Stats.from_dict(row) for row in rows))
            json.dumps(results(cfg, merged, seed=3))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= footprint(cfg).merge_bytes
