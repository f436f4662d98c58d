"""sweep_jobs in-process on the real database, sending to a real Redis (a database of the
private Redis that no worker reads, so the test reads back exactly what was sent)."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from uuid import UUID

import pytest
import redis
from django.core.management import CommandError, call_command
from django.utils import timezone

from simulator.models import JobStatus, SimulationJob
from simulator.services.broker import enqueue_job
from simulator.services.sweep import sweep_jobs
from tests.integration.processes import free_port

QUEUE = "celery"


@pytest.fixture
def broker(redis_url, settings) -> redis.Redis:
    """Database 3 of the private Redis, emptied, as the broker enqueue_job sends to."""
    url = redis_url.rsplit("/", 1)[0] + "/3"
    settings.CELERY_BROKER_URL = url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


def sent_job_ids(client: redis.Redis) -> list[str]:
    ids = []
    for raw in client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "simulator.run_simulation_job"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


def put_message(client: redis.Redis, job_id: UUID, *, delivered_ago: float | None) -> None:
    """A real message for `job_id` on the broker: queued, or taken by a worker
    `delivered_ago` seconds ago (moved to kombu's "unacked" hash, its delivery time in
    "unacked_index", as the transport does on delivery)."""
    enqueue_job(job_id)
    if delivered_ago is not None:
        raw = client.lpop(QUEUE)  # the newest: kombu pushes on the left
        message = json.loads(raw)
        tag = f"tag-{job_id}"
        client.hset("unacked", tag, json.dumps([message, "", QUEUE]))
        client.zadd("unacked_index", {tag: time.time() - delivered_ago})


@pytest.fixture
def jobs(alice, master_config, settings, broker) -> dict[str, UUID]:
    """One job in every state the sweep must tell apart, by what it should do with it."""
    settings.JOB_STALE_AFTER = 120
    settings.JOB_REQUEUE_AFTER = 300
    settings.JOB_LOST_MESSAGE_GRACE = 5
    now = timezone.now()
    long_ago = now - timedelta(hours=1)

    def make(status: str, **fields) -> UUID:
        job = SimulationJob.objects.create(
            owner=alice, request_data=master_config, rounds_total=500
        )
        # auto_now_add ignores a value given to create(); an UPDATE sets it.
        SimulationJob.objects.filter(id=job.id).update(
            status=status, created_at=fields.pop("created_at", long_ago), **fields
        )
        return job.id

    lately = now - timedelta(seconds=10)
    made = {
        # Picked: no message went out (broker down at submit), or it went out long ago.
        "pending_never_sent": make(JobStatus.PENDING),
        "pending_sent_long_ago": make(JobStatus.PENDING, enqueued_at=long_ago),
        "running_stale": make(JobStatus.RUNNING, heartbeat_at=now - timedelta(seconds=121)),
        "running_without_heartbeat": make(JobStatus.RUNNING),
        # Picked where the broker can be read: sent lately, but Redis holds no message,
        # or only one a worker took long ago and never started (that worker died).
        "pending_sent_lately_but_lost": make(JobStatus.PENDING, enqueued_at=lately),
        "pending_held_by_a_dead_worker": make(JobStatus.PENDING, enqueued_at=long_ago),
        # Left alone: its message is queued or with a worker, or it was just sent, or a
        # worker is alive.
        "pending_just_submitted": make(JobStatus.PENDING, created_at=now),
        "pending_sent_lately": make(JobStatus.PENDING, enqueued_at=lately),
        "pending_delivered": make(JobStatus.PENDING, enqueued_at=lately),
        "running_fresh": make(JobStatus.RUNNING, heartbeat_at=now - timedelta(seconds=60)),
        "running_stale_but_just_resent": make(
            JobStatus.RUNNING,
            heartbeat_at=now - timedelta(seconds=200),
            enqueued_at=lately,
        ),
        "complete": make(JobStatus.COMPLETE, heartbeat_at=long_ago),
        "failed": make(JobStatus.FAILED, heartbeat_at=long_ago),
        "cancelled": make(JobStatus.CANCELLED),
    }
    put_message(broker, made["pending_sent_lately"], delivered_ago=None)
    put_message(broker, made["pending_delivered"], delivered_ago=2)
    put_message(broker, made["pending_held_by_a_dead_worker"], delivered_ago=3600)
    # enqueue_job marked them sent now; back to "lately", past the grace (the one a dead
    # worker holds was sent an hour ago, but not past JOB_REQUEUE_AFTER: it is the
    # message's age in the worker that tells).
    SimulationJob.objects.filter(
        id__in=[made["pending_sent_lately"], made["pending_delivered"]]
    ).update(enqueued_at=lately)
    SimulationJob.objects.filter(id=made["pending_held_by_a_dead_worker"]).update(
        enqueued_at=now - timedelta(seconds=200)
    )
    return made


# Picked by time, whether the broker can be read or not.
PICKED_BY_TIME = {
    "pending_never_sent",
    "pending_sent_long_ago",
    "running_stale",
    "running_without_heartbeat",
}
PICKED = PICKED_BY_TIME | {"pending_sent_lately_but_lost", "pending_held_by_a_dead_worker"}
# Messages on the broker before the sweep.
ALREADY_QUEUED = ["pending_sent_lately"]


class TestSweepJobs:
    def test_it_enqueues_exactly_the_lost_pending_and_the_stale_running_jobs(self, broker, jobs):
        sent = sweep_jobs()
        assert set(sent["pending"]) == {
            jobs["pending_never_sent"],
            jobs["pending_sent_long_ago"],
            jobs["pending_sent_lately_but_lost"],
            jobs["pending_held_by_a_dead_worker"],
        }
        assert set(sent["stale"]) == {jobs["running_stale"], jobs["running_without_heartbeat"]}
        assert sent["unsent"] == [] and sent["failed"] == []
        assert sorted(sent_job_ids(broker)) == sorted(
            str(jobs[name]) for name in [*PICKED, *ALREADY_QUEUED]
        )
        # Each is marked sent now, which keeps the next sweeps from sending it again.
        recent = timezone.now() - timedelta(seconds=30)
        assert all(
            job.enqueued_at > recent
            for job in SimulationJob.objects.filter(id__in=[jobs[n] for n in PICKED])
        )

    def test_it_changes_no_job_state_the_claim_decides(self, broker, jobs):
        before = dict(SimulationJob.objects.values_list("id", "status"))
        sweep_jobs()
        assert dict(SimulationJob.objects.values_list("id", "status")) == before

    def test_a_second_sweep_right_after_sends_nothing_again(self, broker, jobs):
        sweep_jobs()
        again = sweep_jobs()
        assert again == {"pending": [], "stale": [], "unsent": [], "failed": []}
        assert len(sent_job_ids(broker)) == len(PICKED) + len(ALREADY_QUEUED)

    def test_a_stale_job_is_sent_again_once_per_stale_period_while_it_stays_stale(
        self, broker, jobs, settings
    ):
        sweep_jobs()
        SimulationJob.objects.filter(id=jobs["running_stale"]).update(
            enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER + 1)
        )
        assert sweep_jobs()["stale"] == [jobs["running_stale"]]

    def test_a_pending_job_whose_message_redis_lost_is_sent_again_at_once(
        self, broker, jobs, settings
    ):
        sweep_jobs()
        # Some seconds later (past the grace of what the sweep just sent), Redis restarts
        # without persistence.
        SimulationJob.objects.filter(enqueued_at__isnull=False).update(
            enqueued_at=timezone.now() - timedelta(seconds=10)
        )
        broker.flushdb()
        sent = sweep_jobs()
        # Every PENDING job past the grace, sent lately or not; none of the RUNNING ones
        # (their workers are alive, or they were just sent).
        assert set(sent["pending"]) == {
            jobs[name]
            for name in [
                "pending_never_sent",
                "pending_sent_long_ago",
                "pending_sent_lately_but_lost",
                "pending_held_by_a_dead_worker",
                "pending_sent_lately",
                "pending_delivered",
            ]
        }
        assert sent["stale"] == []

    def test_with_the_broker_down_it_sends_nothing_and_says_so(self, jobs, settings):
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
        settings.BROKER_CHECK_TIMEOUT = 0.5
        before = dict(SimulationJob.objects.values_list("id", "enqueued_at"))
        sent = sweep_jobs()
        assert sent["pending"] == [] and sent["stale"] == []
        # A broker that cannot be read tells no lost message: only time does.
        assert {jobs[name] for name in PICKED_BY_TIME} == set(sent["unsent"])
        # Nothing was marked sent, so the next sweep (broker back) picks them all again.
        assert dict(SimulationJob.objects.values_list("id", "enqueued_at")) == before

    def test_a_stale_job_whose_worker_died_too_often_is_failed_not_sent(
        self, broker, jobs, settings
    ):
        settings.JOB_MAX_ATTEMPTS = 3
        SimulationJob.objects.filter(id=jobs["running_stale"]).update(attempts=3)
        SimulationJob.objects.filter(id=jobs["running_fresh"]).update(attempts=3)
        sent = sweep_jobs()
        assert sent["failed"] == [jobs["running_stale"]]
        assert jobs["running_stale"] not in sent["stale"]
        assert str(jobs["running_stale"]) not in sent_job_ids(broker)
        job = SimulationJob.objects.get(id=jobs["running_stale"])
        assert job.status == JobStatus.FAILED and "stopped 3 times" in job.error
        # A live job is never failed for its attempts, however many.
        assert SimulationJob.objects.get(id=jobs["running_fresh"]).status == JobStatus.RUNNING


class TestSweepCommand:
    def test_it_reports_what_it_sent(self, broker, jobs, capsys):
        call_command("sweep_jobs")
        out = capsys.readouterr().out
        # The two PENDING ones sent longest ago (past JOB_PRIORITY_MAX_WAIT, their owner
        # without priority) were sent to the urgent queue before the rest of the sweep.
        assert "moved to the urgent queue after waiting: 2 job(s), 0 shard(s)" in out
        assert "2 PENDING and 2 stale RUNNING job(s) re-enqueued" in out
        assert f"re-enqueued stale RUNNING job {jobs['running_stale']}" in out
        assert str(jobs["running_fresh"]) not in out

    def test_it_fails_loudly_when_the_broker_is_down(self, jobs, settings):
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
        settings.BROKER_CHECK_TIMEOUT = 0.5
        with pytest.raises(CommandError, match="4 job\\(s\\) not re-enqueued"):
            call_command("sweep_jobs")
