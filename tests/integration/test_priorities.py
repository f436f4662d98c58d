"""Priorities on real processes: a Celery worker from the Procfile's `worker` line (one pool
process, so every start is a choice between the queues), Celery beat from its `beat` line,
Gunicorn from its `web` line, a private Redis and the PostgreSQL test database. alice is in
the "priority" group, bob is not.

- With both queued, alice's work (a whole job and every shard of a split job) starts
  before any of bob's.
- With alice's jobs submitted continuously, so the priority queue is never empty, bob's
  jobs still start within the stated bound (docs/OPERATIONS.md, Priorities):
  JOB_PRIORITY_MAX_WAIT + JOB_SWEEP_INTERVAL + the run time of the task the worker was
  busy with, plus SLACK for a loaded machine; and not before JOB_PRIORITY_MAX_WAIT,
  since until then the priority queue always had work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group

from simulator.models import JobShard, JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.helpers import (
    http,
    running_beat,
    running_web,
    start_worker,
    submit_job,
)
from tests.integration.processes import stop_process, wait_until

MAX_WAIT = 8.0
SWEEP_INTERVAL = 1.0
# Beyond the bound: beat's tick, the sweep's own run, processes waiting for a core on a
# machine other test runs share.
SLACK = 5.0
SHARD_ROUNDS = 20_000
WAIT = 180
# Rounds of one of alice's jobs: a second or two of one core (0.1-0.3 s for 1.5 M rounds
# on a quiet machine, too short: the worker drained alice's queue between two refills and
# took bob's job early), so the worker is always in the middle of one when bob's job is
# moved ahead, and the refill below keeps pace.
ALICE_ROUNDS = 15_000_000


@pytest.fixture(scope="module")
def prio_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/9",
        "JOB_PRIORITY_MAX_WAIT": str(MAX_WAIT),
        "JOB_SWEEP_INTERVAL": str(SWEEP_INTERVAL),
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "THROTTLE_SUBMIT_RATE": "none",
    }


@pytest.fixture(scope="module")
def prio_web(prio_env, logs_dir) -> Iterator[str]:
    with running_web(prio_env, logs_dir / "prio-web.log") as base:
        yield base


@pytest.fixture
def worker(prio_env, logs_dir) -> Iterator[Any]:
    """start(): the Procfile's worker with one pool process, stopped at the test's end."""
    started = []

    def start() -> None:
        log = logs_dir / f"prio-worker-{time.time_ns()}.log"
        started.append(start_worker({**prio_env, "CELERY_CONCURRENCY": "1"}, log, wait=WAIT))

    yield start
    for proc in started:
        stop_process(proc)


@pytest.fixture
def beat(prio_env, logs_dir) -> Iterator[Path]:
    with running_beat(prio_env, logs_dir / f"prio-beat-{time.time_ns()}.log") as log:
        yield log


@pytest.fixture
def alice_has_priority(alice_token, django_user_model) -> None:
    # As an operator does in the admin: alice's user page, Groups, "priority".
    group, _ = Group.objects.get_or_create(name="priority")
    django_user_model.objects.get(username="alice").groups.add(group)


def submit(web: str, token: str, config: dict[str, Any]) -> str:
    return submit_job(web, token, config)


def config(rounds: int, *, split: bool = False, seed: int = 7) -> dict[str, Any]:
    return {**load_master_config(rounds), "seed": seed, "stop_when_broke": not split}


def alice_config(seed: int) -> dict[str, Any]:
    """One of alice's long unsplit jobs, with a bankroll no seed goes broke with: a player
    who went broke would end the job early and empty her queue."""
    job = config(ALICE_ROUNDS, seed=seed)
    job["players"][0]["bankroll"] = 10**9
    return job


def starts(job_id: str) -> list[float]:
    """When the job and each of its shards started (epoch seconds), all of them started."""
    job = SimulationJob.objects.get(id=job_id)
    rows = [job, *JobShard.objects.filter(job_id=job_id)]
    assert all(row.started_at for row in rows), f"job {job_id} has work never started"
    return [row.started_at.timestamp() for row in rows]


def all_finished(*job_ids: str) -> bool:
    return not SimulationJob.objects.filter(
        id__in=job_ids, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).exists()


class TestPriorityFirst:
    def test_with_both_queued_alices_work_starts_before_any_of_bobs(
        self, prio_web, worker, alice_token, bob_token, alice_has_priority
    ):
        # No worker yet (and no beat, so nothing is moved ahead): bob's jobs queue first.
        bobs = [
            submit(prio_web, bob_token, config(10_000)),
            submit(prio_web, bob_token, config(2 * SHARD_ROUNDS, split=True)),
        ]
        alices = [
            submit(prio_web, alice_token, config(300_000)),
            submit(prio_web, alice_token, config(3 * SHARD_ROUNDS, split=True)),
        ]
        worker()
        wait_until(lambda: all_finished(*bobs, *alices), WAIT, "every job to finish")
        statuses = set(SimulationJob.objects.values_list("status", flat=True))
        assert statuses == {JobStatus.COMPLETE}
        # alice's split job's third shard was sent only as its first started: still
        # to the priority queue, still ahead of bob's.
        last_of_alice = max(t for job_id in alices for t in starts(job_id))
        first_of_bob = min(t for job_id in bobs for t in starts(job_id))
        assert last_of_alice < first_of_bob


class TestNoStarvation:
    def test_bobs_jobs_start_within_the_bound_while_alices_keep_coming(
        self, prio_web, worker, beat, alice_token, bob_token, alice_has_priority
    ):
        worker()
        alices = [submit(prio_web, alice_token, alice_config(n)) for n in range(3)]
        wait_until(
            lambda: SimulationJob.objects.filter(id__in=alices, status=JobStatus.RUNNING),
            WAIT,
            "alice's first job to start",
        )
        bobs = [
            submit(prio_web, bob_token, config(10_000)),
            submit(prio_web, bob_token, config(2 * SHARD_ROUNDS, split=True)),
        ]
        deadline = time.monotonic() + 4 * (MAX_WAIT + SWEEP_INTERVAL + SLACK) + 60
        # alice keeps at least two jobs queued, so the priority queue is never empty
        # when the worker picks its next task, until every one of bob's has started.
        while not all(
            SimulationJob.objects.filter(id=job_id, started_at__isnull=False).exists()
            for job_id in bobs
        ):
            assert time.monotonic() < deadline, "bob's jobs never started"
            queued = SimulationJob.objects.filter(id__in=alices, status=JobStatus.PENDING)
            if queued.count() < 2:
                alices.append(submit(prio_web, alice_token, alice_config(len(alices))))
            time.sleep(0.2)
        for job_id in alices:  # what is left of alice's is not this test's subject
            http("POST", f"{prio_web}/api/jobs/{job_id}/cancel/", token=alice_token)
        wait_until(lambda: all_finished(*bobs), WAIT, "bob's jobs to finish")

        alice_jobs = SimulationJob.objects.filter(id__in=alices, finished_at__isnull=False)
        longest = max(
            (job.finished_at - job.started_at).total_seconds()
            for job in alice_jobs
            if job.started_at
        )
        bob_rows = [SimulationJob.objects.get(id=job_id) for job_id in bobs]
        assert all(job.status == JobStatus.COMPLETE for job in bob_rows), [
            job.error for job in bob_rows
        ]
        # bob's own tasks run one after the other in the urgent queue: the later ones
        # also wait for the earlier ones.
        bobs_own = sum(
            (row.finished_at - row.started_at).total_seconds()
            for row in [bob_rows[0], *JobShard.objects.filter(job_id=bobs[1])]
        )
        bound = MAX_WAIT + SWEEP_INTERVAL + longest + SLACK + bobs_own
        for job in bob_rows:
            waited = (job.started_at - job.created_at).total_seconds()
            # Not before it was due: until then alice's queue always had work.
            assert MAX_WAIT - 0.5 <= waited <= bound, (waited, MAX_WAIT, bound, longest)
        # alice's work really kept coming: more of it was submitted while bob's waited.
        assert len(alices) >= 5
