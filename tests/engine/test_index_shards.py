"""An index job's shards (jost_engine.indices): cut from the request alone, dealt in
chunks to the bits of one call, stored as JSON and read back exactly, and the request
written out for a job to store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jost_engine.indices import (
    SUMS_FORMAT,
    IndexRequest,
    IndexShard,
    IndexSums,
    index_request_to_dict,
    merge,
    normalize_index_request,
    plan_index_shards,
    run_index_shard_spec,
)

REQUEST = {
    "casino": {"deck_count": 2, "allow_late_surrender": True},
    "plays": ["insurance", {"hand": "16", "vs": "10", "actions": ["H", "R"]}],
    "seed": 8,
    "shoes": 45,
}


@pytest.fixture(scope="module")
def request_() -> IndexRequest:
    return normalize_index_request(REQUEST)


def test_the_shards_cover_the_shoes_in_order(request_: IndexRequest) -> None:
    shards = plan_index_shards(request_, 20)
    assert shards == [IndexShard(0, 20), IndexShard(1, 20), IndexShard(2, 5)]
    assert plan_index_shards(request_, 100) == [IndexShard(0, 45)]
    with pytest.raises(ValueError, match="at least 1"):
        plan_index_shards(request_, 0)


def test_a_shard_dealt_in_chunks_is_the_bits_of_one_call(request_: IndexRequest) -> None:
    spec = IndexShard(1, 20)
    whole = run_index_shard_spec(request_, 8, spec, chunk=20)
    reports: list[int] = []
    chunked = run_index_shard_spec(request_, 8, spec, reports.append, chunk=3)
    assert np.array_equal(whole.sums, chunked.sums)
    assert np.array_equal(whole.counters, chunked.counters)
    assert reports == [3, 6, 9, 12, 15, 18, 20]


def test_shards_of_one_job_differ_and_merge_in_order(request_: IndexRequest) -> None:
    parts = [run_index_shard_spec(request_, 8, spec) for spec in plan_index_shards(request_, 20)]
    assert not np.array_equal(parts[0].sums, parts[1].sums)  # each shard its own stream
    total = merge(parts)
    assert np.array_equal(total.sums, parts[0].sums + parts[1].sums + parts[2].sums)


def test_a_progress_callback_that_raises_stops_the_shard(request_: IndexRequest) -> None:
    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_index_shard_spec(request_, 8, IndexShard(0, 20), stop, chunk=5)


def test_sums_survive_json_exactly(request_: IndexRequest) -> None:
    sums = run_index_shard_spec(request_, 8, IndexShard(0, 20))
    back = IndexSums.from_dict(json.loads(json.dumps(sums.to_dict())))
    assert np.array_equal(back.sums, sums.sums)
    assert np.array_equal(back.counters, sums.counters)
    assert np.array_equal(back.centres, sums.centres)


def test_sums_of_another_format_are_refused(request_: IndexRequest) -> None:
    data = run_index_shard_spec(request_, 8, IndexShard(0, 5)).to_dict()
    with pytest.raises(ValueError, match=f"this engine reads {SUMS_FORMAT}"):
        IndexSums.from_dict({**data, "format": SUMS_FORMAT + 1})
    with pytest.raises(ValueError, match="wrong shape"):
        IndexSums.from_dict({**data, "sums": [[[0.0, 1.0]]]})


def test_the_request_written_out_reads_back_as_itself() -> None:
    raw = {
        **REQUEST,
        "counting_strategy": "ko",
        "betting_strategy": {"min_bet": 5, "bet_ramp": {"2": 4, "4": 8}, "max_bet": 30},
        "bankroll": 2000,
        "true_count_rounding": "floor",
    }
    request = normalize_index_request(raw)
    written = index_request_to_dict(request)
    assert json.loads(json.dumps(written)) == written
    assert normalize_index_request(written) == request
