"""Index jobs (POST /api/indices/) on real processes: Celery workers from the Procfile's
`worker` line, beat from its `beat` line, Gunicorn from its `web` line, a private Redis
and the PostgreSQL test database.

An index job is cut into shards of SHARD_SHOES shoes, each dealt from its own seed: the
same request gives the same result bit for bit on one worker or two, after a worker
process is killed mid-shard, and in this process (merge of run_index_shard_spec per
shard). The plays are the Illustrious 18 and Fab 4 on a 6-deck S17 DAS LS game: a shard
takes about a second (step 1 about two), so a worker can be caught mid-shard.
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

from jost_engine import indices
from simulator.models import JobShard, JobStatus, SimulationJob
from tests.integration.helpers import (
    a_running_shard,
    http,
    job_finished,
    running_beat,
    running_web,
    start_worker,
    submit_job,
)
from tests.integration.processes import stop_process, wait_until

SHARD_SHOES = 300
STALE_AFTER = 3
WAIT = 180
GAME = {"parent": "vegas_6d_s17_das", "allow_late_surrender": True, "reshuffle_penetration": 0.8}


def index_request(shoes: int = 2_400, seed: int = 5, step: int = 5) -> dict[str, Any]:
    return {
        "casino": GAME,
        "counting_strategy": "hilo",
        "plays": ["illustrious18", "fab4"],
        "shoes": shoes,
        "seed": seed,
        "step": step,
    }


@pytest.fixture(scope="module")
def index_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/11",
        "JOB_SHARD_SHOES": str(SHARD_SHOES),
        "JOB_CHUNK_SHOES": "25",
        "JOB_STALE_AFTER": str(STALE_AFTER),
        "JOB_HEARTBEAT_INTERVAL": "0.5",
        "JOB_PROGRESS_INTERVAL": "0.2",
        "JOB_SWEEP_INTERVAL": "1",
        "JOB_MAX_ATTEMPTS": "10",
        "THROTTLE_SUBMIT_RATE": "none",
    }


@pytest.fixture(scope="module")
def index_web(index_env, logs_dir) -> Iterator[str]:
    with running_web(index_env, logs_dir / "index-web.log") as base:
        yield base


@pytest.fixture(scope="module")
def index_beat(index_env, logs_dir) -> Iterator[Path]:
    """The sweep: it puts a dead worker's shard back once its heartbeat is stale."""
    with running_beat(index_env, logs_dir / "index-beat.log") as log:
        yield log


@contextlib.contextmanager
def workers(env: dict[str, str], logs: Path, *concurrency: int) -> Iterator[list[Any]]:
    """Workers from the Procfile's line, each with a node name of its own."""
    started = []
    try:
        for n, c in enumerate(concurrency):
            log = logs / f"index-worker-{time.time_ns()}.log"
            started.append(
                start_worker({**env, "CELERY_CONCURRENCY": str(c)}, log, name=f"i{n}", wait=WAIT)
            )
        yield started
    finally:
        for proc in started:
            stop_process(proc)


def submit(web: str, token: str, body: dict[str, Any]) -> str:
    return submit_job(web, token, body, "/api/indices/")


def finished(job_id: str, timeout: float = WAIT) -> SimulationJob:
    return job_finished(job_id, timeout, "index job")


def in_process(job: SimulationJob) -> dict[str, Any]:
    """merge([run_index_shard_spec(...) per shard]) in this process, through JSON as the
    database keeps it: what every run of the job must equal."""
    request = indices.normalize_index_request(job.resolved_config)
    parts = [
        indices.run_index_shard_spec(request, job.seed, spec)
        for spec in indices.plan_index_shards(request, SHARD_SHOES)
    ]
    return json.loads(json.dumps(indices.index_results(request, indices.merge(parts))))


def assert_complete(job: SimulationJob, expected: dict[str, Any]) -> None:
    assert job.status == JobStatus.COMPLETE, job.error
    assert job.result_data == expected
    assert job.rounds_done == job.rounds_total


class TestSameResultEverywhere:
    def test_one_worker_and_two_give_the_same_bits_as_this_process(
        self, index_env, index_web, index_beat, logs_dir, alice_token
    ):
        with workers(index_env, logs_dir, 1):
            alone = finished(submit(index_web, alice_token, index_request()))
        with workers(index_env, logs_dir, 1, 1):
            shared = finished(submit(index_web, alice_token, index_request()))
        pids = {c.rsplit(":", 2)[1] for c in shared.shards.values_list("claimed_by", flat=True)}
        assert len(pids) == 2, pids  # both workers dealt shards of the second job
        assert alone.shards_total == shared.shards_total == 8
        expected = in_process(alone)
        assert_complete(alone, expected)
        assert_complete(shared, expected)
        assert len(expected["indices"]) == 22
        # The result as the API serves it: the document as stored.
        status, body = http("GET", f"{index_web}/api/results/{shared.id}/", token=alice_token)
        assert status == 200 and body["results"] == expected


class TestKilled:
    def test_a_worker_process_killed_mid_shard_costs_that_shard_only(
        self, index_env, index_web, index_beat, logs_dir, alice_token
    ):
        with workers(index_env, logs_dir, 2):
            job_id = submit(index_web, alice_token, index_request(shoes=1_800, step=1))
            shard = a_running_shard(job_id, WAIT)
            # The pool process dealing it (claimed_by is host:worker pid:pool pid).
            os.kill(int(shard.claimed_by.rsplit(":", 1)[1]), signal.SIGKILL)
            job = finished(job_id)
        shard.refresh_from_db()
        assert shard.attempts == 2 and shard.status == JobStatus.COMPLETE
        assert set(job.shards.exclude(id=shard.id).values_list("attempts", flat=True)) == {1}
        assert_complete(job, in_process(job))

    def test_a_whole_worker_killed_then_a_new_one_completes_the_same_job(
        self, index_env, index_web, index_beat, logs_dir, alice_token
    ):
        with workers(index_env, logs_dir, 2) as [worker]:
            job_id = submit(index_web, alice_token, index_request(shoes=1_800, step=1))
            a_running_shard(job_id, WAIT)
            # The worker and its pool, by the process group it was started in.
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
            lost = set(
                JobShard.objects.filter(job_id=job_id, status=JobStatus.RUNNING).values_list(
                    "index", flat=True
                )
            )
        assert lost
        with workers(index_env, logs_dir, 2):
            job = finished(job_id)
        assert set(job.shards.filter(index__in=lost).values_list("attempts", flat=True)) == {2}
        assert_complete(job, in_process(job))


class TestCancel:
    def test_cancel_mid_run_stops_it_with_no_result_and_the_workers_go_on(
        self, index_env, index_web, index_beat, logs_dir, alice_token
    ):
        with workers(index_env, logs_dir, 2):
            job_id = submit(index_web, alice_token, index_request(shoes=60_000, step=1))
            wait_until(
                lambda: JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).exists(),
                WAIT,
                "a first shard stored",
            )
            status, body = http("POST", f"{index_web}/api/jobs/{job_id}/cancel/", token=alice_token)
            assert status == 200 and body["status"] == "CANCELLED", body
            stored = set(
                JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).values_list(
                    "index", flat=True
                )
            )
            # The workers go on with the next job.
            after = finished(submit(index_web, alice_token, index_request(shoes=600)), 60)
            assert after.status == JobStatus.COMPLETE, after.error
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.CANCELLED and job.result_data is None
        assert job.shards_total == 200 and len(stored) < 10
        shards = JobShard.objects.filter(job_id=job_id)
        assert set(shards.filter(status=JobStatus.COMPLETE).values_list("index", flat=True)) == (
            stored
        )
        assert not shards.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING]).exists()
        status, body = http("GET", f"{index_web}/api/results/{job_id}/", token=alice_token)
        assert status == 200 and body["status"] == "CANCELLED" and body["results"] is None
