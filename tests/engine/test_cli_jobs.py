"""python -m jost_engine --jobs N: a splittable config's shards over N processes, the same
bits as one process and as the service's split job; an unsplittable config on one core,
saying why; a bad --jobs named; Ctrl-C stopping every worker."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

import jost_engine
from jost_engine import parallel
from jost_engine.__main__ import ONE_CORE, main
from jost_engine.parallel import run_shards_parallel, run_simulation_parallel
from tests.engine.interrupts import assert_all_gone, interrupt_run

REPO = Path(__file__).parents[2]
PLAYER = {
    "name": "flat",
    "bankroll": 1000,
    "playing_strategy": "auto",
    "betting_strategy": "flat_betting",
}
# Shards of 20,000 rounds keep the runs short while cutting each into several shards (the
# CLI's default is the service's 10 M).
SHARD = 20_000
SPLIT = {
    "casino": "vegas_6d_s17_das",
    "num_rounds": 90_000,
    "seed": 5,
    "stop_when_broke": False,
    "players": [
        PLAYER,
        {
            **PLAYER,
            "name": "ramp",
            "betting_strategy": "true_count_betting",
            "counting_strategy": "hilo",
        },
    ],
}
# Sessions of 3,000 rounds, grouped six to a shard of SHARD rounds: 40 sessions, 7 shards.
SESSIONS = {**SPLIT, "stop_when_broke": True, "sessions": 40, "num_rounds": 3_000}
ONE_SEQUENCE = {**SPLIT, "stop_when_broke": True, "num_rounds": 20_000}


def write(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[dict[str, Any], str]:
    assert main(list(argv)) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def as_the_service_runs_it(raw: dict[str, Any], shard_rounds: int) -> dict[str, Any]:
    """What the service's split path computes for a job of this config and seed, without
    the service: submit_job plans the shards, each shard task runs run_shard_spec and stores
    Stats.to_dict as JSON, merge_shards reads them back in index order, merges and builds
    the document (simulator/services.py)."""
    config = jost_engine.normalize_config(raw)
    seed = int(raw["seed"])
    stored = [
        json.loads(json.dumps(jost_engine.run_shard_spec(config, seed, spec).to_dict()))
        for spec in jost_engine.plan_shards(config, shard_rounds)
    ]
    merged = jost_engine.merge(*(jost_engine.Stats.from_dict(s) for s in stored))
    return jost_engine.results(
        dataclasses.replace(config, seed=seed),
        merged,
        seed=seed,
        shards=len(stored),
        shard_rounds=shard_rounds,
    )


@pytest.mark.parametrize("raw", [SPLIT, SESSIONS], ids=["play_on_when_broke", "sessions"])
class TestTheSameBits:
    def test_jobs_3_gives_the_results_of_jobs_1(self, raw, tmp_path, capsys, without_timing):
        path = str(write(tmp_path, raw))
        one, _ = run_cli(capsys, path, "--jobs", "1", "--shard-rounds", str(SHARD))
        three, err = run_cli(capsys, path, "--jobs", "3", "--shard-rounds", str(SHARD))
        assert err == ""
        assert three["shards"] > 3  # more shards than workers: some play two
        assert without_timing(three) == without_timing(one)

    def test_jobs_2_gives_the_results_of_the_services_split_job(
        self, raw, tmp_path, capsys, without_timing
    ):
        doc, _ = run_cli(
            capsys, str(write(tmp_path, raw)), "--jobs", "2", "--shard-rounds", str(SHARD)
        )
        assert without_timing(doc) == without_timing(as_the_service_runs_it(raw, SHARD))


def test_spawned_workers_give_the_bits_of_forked_ones(without_timing):
    # spawn is what macOS and Windows use: workers that import everything afresh. A chart,
    # not "auto": the tests solve "auto" with no cache, and each spawned worker would too.
    chart = {"playing_strategy": "perfect_s17_basic_strategy"}
    config = jost_engine.normalize_config(
        {**SPLIT, "players": [{**player, **chart} for player in SPLIT["players"]]}
    )
    docs = [
        run_simulation_parallel(
            config, 2, shard_rounds=SHARD, context=multiprocessing.get_context(method)
        )
        for method in ("fork", "spawn")
    ]
    assert without_timing(docs[0]) == without_timing(docs[1])


def test_the_default_shard_size_is_the_services(tmp_path, capsys):
    doc, _ = run_cli(capsys, str(write(tmp_path, SPLIT)), "--jobs", "2")
    assert doc["shard_rounds"] == jost_engine.SHARD_ROUNDS and doc["shards"] == 1


def test_the_timing_fields_are_the_wall_clock_and_the_shards_seconds(tmp_path, capsys):
    doc, _ = run_cli(
        capsys, str(write(tmp_path, SPLIT)), "--jobs", "2", "--shard-rounds", str(SHARD)
    )
    assert doc["duration_seconds"] > 0 and doc["play_seconds"] > 0
    assert doc["rounds_per_second"] == pytest.approx(doc["rounds_played"] / doc["play_seconds"])


def test_progress_counts_every_shards_rounds(tmp_path, capsys):
    _, err = run_cli(
        capsys,
        str(write(tmp_path, SPLIT)),
        "--jobs",
        "2",
        "--shard-rounds",
        str(SHARD),
        "--progress",
    )
    assert "90,000 / 90,000 rounds" in err


class TestOneCore:
    def test_an_unsplittable_config_says_why_and_runs(self, tmp_path, capsys, without_timing):
        path = str(write(tmp_path, ONE_SEQUENCE))
        doc, err = run_cli(capsys, path, "--jobs", "2")
        assert err == ONE_CORE + "\n"
        assert '"stop_when_broke": false or "sessions": K' in err
        alone, err = run_cli(capsys, path, "--jobs", "1")
        assert err == ""  # one job asked, one core used: nothing to explain
        assert without_timing(doc) == without_timing(alone)

    def test_the_default_is_the_cores_this_process_may_use(self, tmp_path, capsys, monkeypatch):
        monkeypatch.setattr("jost_engine.__main__.available_cores", lambda: 4)
        _, err = run_cli(capsys, str(write(tmp_path, ONE_SEQUENCE)))
        assert err == ONE_CORE + "\n"
        monkeypatch.setattr("jost_engine.__main__.available_cores", lambda: 1)
        _, err = run_cli(capsys, str(write(tmp_path, ONE_SEQUENCE)))
        assert err == ""

    def test_available_cores_is_the_affinity_mask(self):
        if not hasattr(os, "sched_getaffinity"):
            pytest.skip("no affinity mask on this platform")
        assert parallel.available_cores() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value", ["0", "-2"])
def test_jobs_below_one_exits_2_naming_jobs(tmp_path, capsys, value):
    assert main([str(write(tmp_path, SPLIT)), "--jobs", value]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"--jobs: must be at least 1 (processes), got {value}\n"
    assert captured.out == ""


@pytest.mark.parametrize("value", ["0", str(10**10 + 1)])
def test_a_shard_size_out_of_range_exits_2_naming_it(tmp_path, capsys, value):
    assert main([str(write(tmp_path, SPLIT)), "--shard-rounds", value]) == 2
    assert capsys.readouterr().err.startswith("--shard-rounds: must be 1..")


def test_a_shard_size_that_would_cut_a_million_shards_exits_2(tmp_path, capsys):
    # 2 x 10^9 rounds in shards of 1,999: 1,000,500 shards, a plan too long to hold.
    path = str(write(tmp_path, {**SPLIT, "num_rounds": 2 * 10**9}))
    assert main([path, "--shard-rounds", "1999"]) == 2
    assert capsys.readouterr().err == (
        "--shard-rounds: 1999 would cut 2000000000 rounds into more than 1,000,000 shards; "
        "at least 2000 here\n"
    )


def test_a_failing_shard_stops_the_run_with_its_error(monkeypatch):
    real = parallel.run_shard_spec

    def fails_on_shard_2(config, seed, spec, progress=None):
        if spec.index == 2:
            raise RuntimeError("shard 2 broke")
        return real(config, seed, spec, progress)

    # The workers are forked from this process, so they play the patched function.
    monkeypatch.setattr(parallel, "run_shard_spec", fails_on_shard_2)
    config = jost_engine.normalize_config(SPLIT)
    with pytest.raises(RuntimeError, match="shard 2 broke"):
        run_shards_parallel(config, 5, 2, SHARD, context=multiprocessing.get_context("fork"))


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
@pytest.mark.parametrize(
    ("how", "sig"),
    [
        ("the process group", signal.SIGINT),
        ("the parent", signal.SIGINT),
        ("the parent", signal.SIGTERM),
    ],
    ids=["ctrl_c_at_a_terminal", "sigint_to_the_parent", "sigterm_to_the_parent"],
)
def test_an_interrupt_stops_every_worker(tmp_path, how, sig):
    # A long run: 2,000 shards of 1 M rounds, two workers. A terminal's Ctrl-C goes to the
    # process group; `kill -INT` or a `timeout` (SIGTERM) to the parent alone.
    path = write(tmp_path, {**SPLIT, "num_rounds": 2 * 10**9})
    argv = [str(path), "--jobs", "2", "--shard-rounds", "1000000", "--progress"]
    # The bar's first draw: the workers are playing.
    run = interrupt_run(argv, lambda seen: "rounds" in seen, how, sig)
    assert len(run.workers) >= 2
    assert run.returncode == 130
    assert "interrupted" in run.err and run.out == ""
    assert_all_gone(run.workers)
