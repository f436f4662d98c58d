"""A worker crash never loses a job, shown with real processes: a Celery worker from the
Procfile's `worker` line (prefork, one pool child), Gunicorn from its `web` line, Celery
beat from its `beat` line, a private Redis and the PostgreSQL test database.

These run on a stack of their own: a Redis database no other test's worker reads, and
small recovery settings (a heartbeat goes stale after 3 s) so each test takes seconds.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.models import JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.helpers import (
    assert_consistent_results,
    http,
    procfile_command,
    start_web,
    start_worker,
)
from tests.integration.processes import start_process, stop_process, wait_until

STALE_AFTER = 3
# Long enough (a few seconds at some millions of rounds a second) to be caught mid-run.
LONG_JOB_ROUNDS = 40_000_000
# Bounded waits: a whole test stays well under a minute on a quiet machine, and these
# leave room for a loaded one.
WAIT = 120


@pytest.fixture(scope="module")
def recovery_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "CELERY_CONCURRENCY": "1",
        "JOB_STALE_AFTER": str(STALE_AFTER),
        "JOB_HEARTBEAT_INTERVAL": "0.5",
        "JOB_PROGRESS_INTERVAL": "0.2",
        # At most 0.2 s a chunk at the slowest assumed speed: 3 x (0.5 + 0.2) <= 3.
        "JOB_CHUNK_ROUNDS": "20000",
        "JOB_REQUEUE_AFTER": "1",
        "JOB_SWEEP_INTERVAL": "1",
    }


@pytest.fixture(scope="module")
def recovery_worker(recovery_env, logs_dir) -> Iterator[tuple[object, Path]]:
    log = logs_dir / "recovery-worker.log"
    proc = start_worker(recovery_env, log, wait=WAIT)
    try:
        yield proc, log
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def recovery_web(recovery_env, logs_dir) -> Iterator[str]:
    proc, base = start_web(recovery_env, logs_dir / "recovery-web.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture
def beat(recovery_env, logs_dir) -> Iterator[Path]:
    """The Procfile's beat line, sweeping every second; stopped after the test."""
    log = logs_dir / "recovery-beat.log"
    proc = start_process(procfile_command("beat"), env=recovery_env, log=log)
    try:
        yield log
    finally:
        stop_process(proc)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc/<pid>/task/*/children."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(p) for p in children.read_text().split()]
            except OSError:
                continue
            found.update(kids)
            todo.extend(kids)
    return found


def wait_for_status(web: str, token: str, job_id: str, want: set[str]) -> dict:
    def reached():
        status, body = http("GET", f"{web}/api/status/{job_id}/", token=token)
        assert status == 200, body
        return body if body["status"] in want else None

    return wait_until(reached, WAIT, f"job {job_id} to be {sorted(want)}", interval=0.2)


class TestWorkerCrash:
    def test_a_job_whose_pool_child_is_killed_mid_run_still_completes(
        self, recovery_web, recovery_worker, alice_token
    ):
        worker, log = recovery_worker
        config = load_master_config(num_rounds=LONG_JOB_ROUNDS)
        status, body = http("POST", f"{recovery_web}/api/submit/", config, token=alice_token)
        assert status == 202, body
        job_id = body["job_id"]

        def running_with_progress():
            job = SimulationJob.objects.get(id=job_id)
            if job.status == JobStatus.COMPLETE:
                pytest.fail("the job finished before it could be killed: make it longer")
            ok = job.status == JobStatus.RUNNING and 0 < job.rounds_done < LONG_JOB_ROUNDS
            return job if ok else None

        job = wait_until(
            running_with_progress, WAIT, "the job to be RUNNING with progress", interval=0.05
        )
        # The pool child that runs it: named in the row, and a child of the worker.
        child = int(job.claimed_by.rsplit(":", 1)[1])
        assert child != worker.pid and child in descendants(worker.pid), (
            job.claimed_by,
            worker.pid,
            descendants(worker.pid),
        )
        os.kill(child, signal.SIGKILL)

        final = wait_for_status(
            recovery_web, alice_token, job_id, {"COMPLETE", "FAILED", "CANCELLED"}
        )
        assert final["status"] == "COMPLETE", (final, log.read_text()[-3000:])
        assert final["progress"]["rounds_done"] == LONG_JOB_ROUNDS
        status, body = http("GET", f"{recovery_web}/api/results/{job_id}/", token=alice_token)
        assert status == 200 and body["status"] == "COMPLETE", body
        assert_consistent_results(body["results"], LONG_JOB_ROUNDS)

        job = SimulationJob.objects.get(id=job_id)
        # Run again from the start under a second claim, by another pool child.
        assert job.attempts == 2
        assert int(job.claimed_by.rsplit(":", 1)[1]) != child
        assert worker.poll() is None, "the worker itself must survive its child's death"


class TestBrokerDownAtSubmit:
    def test_a_job_submitted_while_the_broker_was_down_is_swept_and_completes(
        self, web_with_broker_down, recovery_worker, alice_token, beat
    ):
        # Submitted through a web process whose broker is dead: 202, and no message.
        status, body = http(
            "POST",
            f"{web_with_broker_down}/api/submit/",
            load_master_config(20_000),
            token=alice_token,
        )
        assert status == 202, body
        job_id = body["job_id"]
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.PENDING and job.enqueued_at is None

        # Beat (running against a broker that answers) sends the sweep; the worker runs
        # it, re-enqueues the job, then runs the job.
        def complete():
            job = SimulationJob.objects.get(id=job_id)
            return job if job.status in {JobStatus.COMPLETE, JobStatus.FAILED} else None

        job = wait_until(complete, WAIT, "the swept job to finish", interval=0.2)
        assert job.status == JobStatus.COMPLETE, (job.error, beat.read_text()[-2000:])
        assert job.enqueued_at is not None and job.attempts == 1
        assert job.result_data["rounds_played"] == job.result_data["rounds_asked"] == 20_000
        assert "simulator.sweep_jobs" in beat.read_text()
