"""Split jobs on real processes: Celery workers from the Procfile's `worker` line, Celery
beat from its `beat` line, Gunicorn from its `web` line, Redis (a private one where a test
restarts it) or RabbitMQ, and the PostgreSQL test database.

A split job ("stop_when_broke": false) is cut into shards of SHARD_ROUNDS rounds; the
same seed gives the same result whatever the number of workers, whatever is killed, and
the same as the engine run in-process over the same shards. Recovery settings are small
(stale after 3 s, a sweep every second), so the bound a test checks is
RECOVERY_BOUND + the lost shards' own run time.

A kill must land mid-shard: the tests that kill play a full table (seven players, some
seconds a shard where one player's shard takes a fifth of a second, about as long as the
first progress report) and kill only a shard that has dealt less than half its rounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jost_engine
from simulator.models import JobShard, JobStatus, SimulationJob
from tests.helpers import FULL_TABLE, load_master_config
from tests.integration.helpers import (
    a_running_shard,
    http,
    job_finished,
    procfile_command,
    running_beat,
    running_web,
    start_web,
    start_worker,
    submit_job,
)
from tests.integration.processes import (
    free_port,
    start_process,
    start_redis,
    stop_process,
    wait_until,
)

SHARD_ROUNDS = 3_000_000
SPLIT_ROUNDS = 30_000_000  # ten shards
KILLED_SHARDS = 4
STALE_AFTER = 3
# What the issue allows after a kill (30 s) beyond the lost shards' own run time.
RECOVERY_BOUND = 30.0
WAIT = 180


def split_config(rounds: int = SPLIT_ROUNDS, seed: int = 9) -> dict[str, Any]:
    return {**load_master_config(rounds), "seed": seed, "stop_when_broke": False}


def full_table_config() -> dict[str, Any]:
    """KILLED_SHARDS shards of a full table: long enough to be killed mid-shard."""
    rounds = KILLED_SHARDS * SHARD_ROUNDS
    return {**load_master_config(rounds, FULL_TABLE), "seed": 9, "stop_when_broke": False}


@pytest.fixture(scope="module")
def split_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/5",
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "JOB_STALE_AFTER": str(STALE_AFTER),
        "JOB_HEARTBEAT_INTERVAL": "0.5",
        "JOB_PROGRESS_INTERVAL": "0.2",
        "JOB_CHUNK_ROUNDS": "20000",
        "JOB_SWEEP_INTERVAL": "1",
        "JOB_MAX_ROUNDS": "10000000000",
        "JOB_MAX_ATTEMPTS": "10",
        "THROTTLE_SUBMIT_RATE": "none",
    }


class Worker:
    """One worker from the Procfile's line, in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int, name: str) -> None:
        self.log = log
        # A node name of its own: two workers on one host must not share one.
        self.proc = start_worker(
            {**env, "CELERY_CONCURRENCY": str(concurrency)}, log, name=name, wait=WAIT
        )

    def stop(self) -> None:
        stop_process(self.proc)


@contextlib.contextmanager
def workers(env: dict[str, str], logs: Path, *concurrency: int) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        for n, c in enumerate(concurrency):
            started.append(Worker(env, logs / f"split-worker-{time.time_ns()}.log", c, f"w{n}"))
        yield started
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture(scope="module")
def split_web(split_env, logs_dir) -> Iterator[str]:
    with running_web(split_env, logs_dir / "split-web.log") as base:
        yield base


@pytest.fixture(scope="module")
def split_beat(split_env, logs_dir) -> Iterator[Path]:
    with running_beat(split_env, logs_dir / "split-beat.log") as log:
        yield log


def submit(web: str, token: str, config: dict[str, Any]) -> str:
    return submit_job(web, token, config)


def finished(job_id: str, timeout: float = WAIT) -> SimulationJob:
    return job_finished(job_id, timeout)


_IN_PROCESS: dict[str, dict[str, Any]] = {}


def in_process(job: SimulationJob) -> dict[str, Any]:
    """The engine in this process over the same shards: what every run must equal (worked
    out once per config and seed: several tests run the same job)."""
    key = json.dumps([job.resolved_config, job.seed], sort_keys=True)
    if key not in _IN_PROCESS:
        _IN_PROCESS[key] = jost_engine.run_simulation_from_config(
            job.resolved_config, seed=job.seed, shard_rounds=SHARD_ROUNDS
        )
    return _IN_PROCESS[key]


def assert_complete_and_equal(job: SimulationJob, without_timing, expected: dict) -> None:
    assert job.status == JobStatus.COMPLETE, job.error
    assert without_timing(job.result_data) == without_timing(expected)
    assert job.rounds_done == job.rounds_total == job.result_data["rounds_played"]


class TestSameResultEverywhere:
    def test_one_worker_and_two_give_the_engines_in_process_result(
        self, split_env, split_web, split_beat, logs_dir, alice_token, without_timing
    ):
        with workers(split_env, logs_dir, 1):
            alone = finished(submit(split_web, alice_token, split_config()))
        with workers(split_env, logs_dir, 1, 1):
            shared = finished(submit(split_web, alice_token, split_config()))
        # Both workers took shards of the second job.
        pids = {
            claimed.rsplit(":", 2)[1]
            for claimed in shared.shards.values_list("claimed_by", flat=True)
        }
        assert len(pids) == 2, pids
        expected = in_process(alone)
        assert_complete_and_equal(alone, without_timing, expected)
        assert_complete_and_equal(shared, without_timing, expected)
        assert alone.result_data["shards"] == 10
        assert set(shared.shards.values_list("attempts", flat=True)) == {1}


class TestKilled:
    def test_a_pool_child_killed_mid_shard_costs_that_shard_only(
        self, split_env, split_web, split_beat, logs_dir, alice_token, without_timing
    ):
        with workers(split_env, logs_dir, 2):
            job_id = submit(split_web, alice_token, full_table_config())
            shard = a_running_shard(job_id, WAIT)
            killed_at = time.monotonic()
            os.kill(int(shard.claimed_by.rsplit(":", 1)[1]), signal.SIGKILL)
            job = finished(job_id)
            took = time.monotonic() - killed_at
        shard.refresh_from_db()
        assert shard.attempts == 2 and shard.status == JobStatus.COMPLETE
        assert_complete_and_equal(job, without_timing, in_process(job))
        assert set(job.shards.exclude(index=shard.index).values_list("attempts", flat=True)) == {1}
        # Every shard left after the kill ran, plus the lost one again.
        assert took < RECOVERY_BOUND + KILLED_SHARDS * shard.wall_seconds, took

    def test_a_whole_worker_killed_then_a_new_one_completes_within_the_bound(
        self, split_env, split_web, split_beat, logs_dir, alice_token, without_timing
    ):
        with workers(split_env, logs_dir, 2) as [worker]:
            job_id = submit(split_web, alice_token, full_table_config())
            a_running_shard(job_id, WAIT)
            os.killpg(worker.proc.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            lost = list(
                JobShard.objects.filter(job_id=job_id, status=JobStatus.RUNNING).values_list(
                    "index", flat=True
                )
            )
            worker.proc.wait(10)
        assert lost
        with workers(split_env, logs_dir, 2):
            job = finished(job_id)
        took = time.monotonic() - killed_at
        assert_complete_and_equal(job, without_timing, in_process(job))
        rerun = job.shards.filter(index__in=lost)
        assert set(rerun.values_list("attempts", flat=True)) == {2}
        # The new worker's start-up counts against us too.
        run_time = sum(job.shards.values_list("wall_seconds", flat=True))
        assert took < RECOVERY_BOUND + run_time, (took, run_time)

    def test_sigterm_puts_the_running_shards_back_at_once(
        self, split_env, split_web, split_beat, logs_dir, alice_token, without_timing
    ):
        with workers(split_env, logs_dir, 2) as [worker]:
            job_id = submit(split_web, alice_token, full_table_config())
            shard = a_running_shard(job_id, WAIT)
            os.kill(worker.proc.pid, signal.SIGTERM)
            worker.proc.wait(20)
            # Back in the queue at once: well before a heartbeat would have gone stale.
            shard.refresh_from_db()
            assert shard.status in {JobStatus.PENDING, JobStatus.COMPLETE}, shard.status
            assert not JobShard.objects.filter(job_id=job_id, status=JobStatus.RUNNING).exists()
        with workers(split_env, logs_dir, 2):
            job = finished(job_id)
        assert_complete_and_equal(job, without_timing, in_process(job))


class TestCancel:
    def test_cancel_mid_run_stores_no_shard_after_it_and_the_workers_go_on(
        self, split_env, split_web, split_beat, logs_dir, alice_token
    ):
        with workers(split_env, logs_dir, 2):
            job_id = submit(split_web, alice_token, split_config(rounds=300_000_000))
            wait_until(
                lambda: JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).exists(),
                WAIT,
                "a first shard stored",
            )
            status, body = http("POST", f"{split_web}/api/jobs/{job_id}/cancel/", token=alice_token)
            assert status == 200 and body["status"] == "CANCELLED", body
            stored = set(
                JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).values_list(
                    "index", flat=True
                )
            )
            # The workers go on with the next job.
            after = finished(submit(split_web, alice_token, load_master_config(20_000)), 60)
            assert after.status == JobStatus.COMPLETE, after.error
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.CANCELLED
        assert (
            set(
                JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).values_list(
                    "index", flat=True
                )
            )
            == stored
        )
        assert not JobShard.objects.filter(
            job_id=job_id, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        ).exists()


class TestFairness:
    def test_bobs_small_job_finishes_while_alices_huge_split_job_holds_every_worker(
        self, split_env, split_web, split_beat, logs_dir, alice_token, bob_token
    ):
        with workers(split_env, logs_dir, 2):
            alice_job = submit(split_web, alice_token, split_config(rounds=2_000_000_000))
            wait_until(
                lambda: (
                    JobShard.objects.filter(job_id=alice_job, status=JobStatus.RUNNING).count() == 2
                ),
                WAIT,
                "alice's shards on both worker processes",
                interval=0.05,
            )
            submitted = time.monotonic()
            bob_job = finished(submit(split_web, bob_token, load_master_config(10_000)), 60)
            waited = time.monotonic() - submitted
            http("POST", f"{split_web}/api/jobs/{alice_job}/cancel/", token=alice_token)
        assert bob_job.status == JobStatus.COMPLETE, bob_job.error
        own = (bob_job.finished_at - bob_job.started_at).total_seconds()
        assert waited < 5 + own, (waited, own)
        assert SimulationJob.objects.get(id=alice_job).status == JobStatus.CANCELLED


@pytest.fixture
def own_redis(logs_dir) -> Iterator[tuple[str, Any]]:
    """A Redis of this test's own, which it restarts (no persistence: its queue is lost)."""
    port = free_port()
    procs = []

    def start() -> None:
        procs.append(start_redis(port, log=logs_dir / "own-redis.log"))

    def restart() -> None:
        stop_process(procs[-1])
        start()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        stop_process(procs[-1])


class TestBroker:
    def test_redis_restarted_between_submit_and_pickup_loses_nothing(
        self, split_env, own_redis, logs_dir, alice_token, without_timing
    ):
        url, restart = own_redis
        env = {**split_env, "CELERY_BROKER_URL": url, "CACHE_URL": ""}
        web, base = start_web(env, logs_dir / "own-redis-web.log")
        beat = None
        try:
            job_id = submit(base, alice_token, split_config())
            restart()  # the queued shards' messages are gone
            beat = start_process(procfile_command("beat"), env=env, log=logs_dir / "own-beat.log")
            with workers(env, logs_dir, 2):
                job = finished(job_id)
        finally:
            if beat is not None:
                stop_process(beat)
            stop_process(web)
        assert_complete_and_equal(job, without_timing, in_process(job))

    def test_a_split_job_submitted_while_the_broker_was_down_runs_when_it_is_back(
        self, web_with_broker_down, split_env, split_beat, logs_dir, alice_token
    ):
        # web_with_broker_down plans with the default shard size: 2 shards of 10 M rounds.
        job_id = submit(web_with_broker_down, alice_token, split_config(rounds=12_000_000))
        job = SimulationJob.objects.get(id=job_id)
        assert job.send_failed and not job.shards.filter(enqueued_at__isnull=False).exists()
        with workers(split_env, logs_dir, 2):
            job = finished(job_id)
        assert job.status == JobStatus.COMPLETE, job.error
        assert job.result_data["rounds_played"] == 12_000_000 and job.shards_total == 2

    def test_a_split_job_runs_on_rabbitmq(self, split_env, logs_dir, alice_token, without_timing):
        import socket

        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", 5672)) != 0:
                pytest.skip("no RabbitMQ on 127.0.0.1:5672")
        env = {**split_env, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}
        web, base = start_web(env, logs_dir / "amqp-web.log")
        try:
            with workers(env, logs_dir, 1, 1):
                job = finished(submit(base, alice_token, split_config()))
        finally:
            stop_process(web)
        assert_complete_and_equal(job, without_timing, in_process(job))
