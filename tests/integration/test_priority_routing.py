"""Priorities in-process on the real database, sending to a real Redis (a database of the
private Redis that no worker reads, so a test reads back exactly which queue got what):
alice is in the "priority" group, bob is not. Whole jobs and every shard (simulations
and index jobs) go to the owner's queue, the sweep's re-sends keep it, and the work of a
user without priority that waited JOB_PRIORITY_MAX_WAIT is moved to the urgent queue.
The order workers serve the queues in is proven on real workers in test_priorities.py."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.utils import timezone

from simulator.models import JobShard, JobStatus, SimulationJob
from simulator.selectors import has_priority
from simulator.services.broker import enqueue_job, lost_messages, queue_of
from simulator.services.submit import submit_index_job, submit_job
from simulator.services.sweep import promote_waiting, sweep, sweep_jobs
from tests.index_jobs import NEVER_CHANGES_REQUEST

URGENT, PRIORITY, DEFAULT = "urgent", "priority", "celery"


@pytest.fixture
def broker(redis_url, settings) -> Any:
    """Database 9 of the private Redis, emptied, as the broker the services send to."""
    url = redis_url.rsplit("/", 1)[0] + "/9"
    settings.CELERY_BROKER_URL = url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def priority_alice(alice) -> Any:
    # As an operator does in the admin: alice's user page, Groups, "priority".
    group, _ = Group.objects.get_or_create(name=django_settings.PRIORITY_GROUP)
    alice.groups.add(group)
    return alice


@pytest.fixture
def small_shards(settings) -> Any:
    settings.JOB_SHARD_ROUNDS = 20_000
    settings.JOB_SHARD_SHOES = 100
    settings.JOB_SHARD_WINDOW = 2
    settings.JOB_STALE_AFTER = 120
    settings.JOB_PRIORITY_MAX_WAIT = 30
    return settings


def queued(client: redis.Redis) -> dict[str, list[tuple[str, str]]]:
    """{queue: [(task name, first argument)]} of every message waiting, oldest first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for queue in (URGENT, PRIORITY, DEFAULT):
        for raw in reversed(client.lrange(queue, 0, -1)):  # kombu pushes on the left
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0] or [""]
            found.setdefault(queue, []).append((message["headers"]["task"], str(args[0])))
    return found


def submitted(owner: Any, config: dict[str, Any], capture: Any) -> SimulationJob:
    """submit_job with its on_commit sends run, as after a real request's commit."""
    with capture(execute=True):
        return submit_job(owner, config)


def shard_ids(job: SimulationJob) -> list[str]:
    return [str(pk) for pk in job.shards.order_by("index").values_list("id", flat=True)]


def split_config(master_config: dict[str, Any]) -> dict[str, Any]:
    return {**master_config, "num_rounds": 70_000, "stop_when_broke": False}


def waited(model: type[SimulationJob] | type[JobShard], seconds: float, **filters: Any) -> None:
    model.objects.filter(**filters).update(enqueued_at=timezone.now() - timedelta(seconds=seconds))


class TestWhoHasPriority:
    def test_a_member_of_the_priority_group_has_it_and_others_do_not(
        self, priority_alice, bob, charlie
    ):
        assert has_priority(priority_alice)
        assert not has_priority(bob) and not has_priority(charlie)

    def test_the_migration_makes_the_group_an_operator_picks_in_the_admin(self, db):
        Group.objects.filter(name="priority").delete()
        migration = importlib.import_module("simulator.migrations.0009_job_priority")
        migration.create_group(django_apps, None)
        migration.create_group(django_apps, None)  # run again (a re-applied migration)
        assert Group.objects.filter(name=django_settings.PRIORITY_GROUP).count() == 1

    def test_a_jobs_priority_is_its_owners_at_submit_and_stays(
        self, priority_alice, bob, master_config
    ):
        alice_job, bob_job = (
            submit_job(priority_alice, master_config),
            submit_job(bob, master_config),
        )
        assert alice_job.priority and not bob_job.priority
        # Taken out of the group later: the job keeps the queue it was given.
        priority_alice.groups.clear()
        alice_job.refresh_from_db()
        assert alice_job.priority and queue_of(alice_job.priority) == PRIORITY


class TestRouting:
    def test_a_priority_users_job_goes_to_the_priority_queue_anyone_elses_to_the_default(
        self, broker, priority_alice, bob, master_config, django_capture_on_commit_callbacks
    ):
        alice_job = submitted(priority_alice, master_config, django_capture_on_commit_callbacks)
        bob_job = submitted(bob, master_config, django_capture_on_commit_callbacks)
        assert queued(broker) == {
            PRIORITY: [("simulator.run_simulation_job", str(alice_job.id))],
            DEFAULT: [("simulator.run_simulation_job", str(bob_job.id))],
        }

    def test_every_shard_of_a_split_job_goes_to_its_owners_queue(
        self,
        broker,
        priority_alice,
        bob,
        master_config,
        small_shards,
        django_capture_on_commit_callbacks,
    ):
        config = split_config(master_config)
        alice_job = submitted(priority_alice, config, django_capture_on_commit_callbacks)
        bob_job = submitted(bob, config, django_capture_on_commit_callbacks)
        alice_shards, bob_shards = shard_ids(alice_job), shard_ids(bob_job)
        # The window: two of each job's four shards are sent at submit.
        assert queued(broker) == {
            PRIORITY: [("simulator.run_job_shard", pk) for pk in alice_shards[:2]],
            DEFAULT: [("simulator.run_job_shard", pk) for pk in bob_shards[:2]],
        }
        # The next ones, sent as shards start (a worker topping up the window), too.
        JobShard.objects.filter(id__in=alice_shards[:2] + bob_shards[:2]).update(
            status=JobStatus.COMPLETE
        )
        broker.flushdb()
        sweep()
        assert queued(broker) == {
            PRIORITY: [("simulator.run_job_shard", pk) for pk in alice_shards[2:]],
            DEFAULT: [("simulator.run_job_shard", pk) for pk in bob_shards[2:]],
        }

    def test_an_index_jobs_shards_go_to_its_owners_queue(
        self, broker, priority_alice, bob, small_shards, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            alice_job = submit_index_job(priority_alice, NEVER_CHANGES_REQUEST)
            bob_job = submit_index_job(bob, NEVER_CHANGES_REQUEST)
        assert alice_job.shards_total == 3 and alice_job.priority and not bob_job.priority
        assert queued(broker) == {
            PRIORITY: [("simulator.run_job_shard", pk) for pk in shard_ids(alice_job)[:2]],
            DEFAULT: [("simulator.run_job_shard", pk) for pk in shard_ids(bob_job)[:2]],
        }

    def test_the_sweep_itself_goes_to_the_urgent_queue(self, broker):
        # As Celery beat sends it: by name, routed by CELERY_TASK_ROUTES.
        from service.celery import app

        with app.connection_for_write(django_settings.CELERY_BROKER_URL) as conn:
            app.send_task("simulator.sweep_jobs", connection=conn)
        assert [m[0] for m in queued(broker)[URGENT]] == ["simulator.sweep_jobs"]
        assert set(queued(broker)) == {URGENT}


class TestTheSweepKeepsTheQueue:
    def test_a_lost_or_stale_job_is_sent_again_to_its_own_queue(
        self, broker, priority_alice, bob, master_config, settings
    ):
        settings.JOB_STALE_AFTER = 120
        # Submitted with the broker's message lost (nothing on Redis), past the grace.
        lost = [submit_job(owner, master_config) for owner in (priority_alice, bob)]
        stale = [submit_job(owner, master_config) for owner in (priority_alice, bob)]
        waited(SimulationJob, 10, id__in=[j.id for j in lost])
        SimulationJob.objects.filter(id__in=[j.id for j in stale]).update(
            status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=200)
        )
        sent = sweep_jobs()
        assert len(sent["pending"]) == 2 and len(sent["stale"]) == 2
        run = "simulator.run_simulation_job"
        assert sorted(queued(broker)[PRIORITY]) == sorted(
            [(run, str(lost[0].id)), (run, str(stale[0].id))]
        )
        assert sorted(queued(broker)[DEFAULT]) == sorted(
            [(run, str(lost[1].id)), (run, str(stale[1].id))]
        )

    def test_a_shard_whose_worker_died_is_sent_again_to_its_jobs_queue(
        self, broker, priority_alice, master_config, small_shards
    ):
        job = submit_job(priority_alice, split_config(master_config))
        first = job.shards.get(index=0)
        JobShard.objects.filter(id=first.id).update(
            status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=200)
        )
        sweep()
        # Put back, then sent first in the job's window: to the priority queue.
        assert queued(broker) == {
            PRIORITY: [("simulator.run_job_shard", pk) for pk in shard_ids(job)[:2]]
        }


class TestPromotion:
    def test_a_job_of_a_user_without_priority_that_waited_goes_to_the_urgent_queue(
        self, broker, priority_alice, bob, master_config, small_shards
    ):
        bobs_old = enqueued(bob, master_config, ago=31)
        bobs_new = enqueued(bob, master_config, ago=29)
        alices_old = enqueued(priority_alice, master_config, ago=3600)
        broker.flushdb()
        assert promote_waiting() == {"jobs_promoted": 1, "shards_promoted": 0}
        # Priority work is never moved: it waits behind priority work only.
        assert queued(broker) == {URGENT: [("simulator.run_simulation_job", str(bobs_old))]}
        # Marked sent now: moved again only after another JOB_PRIORITY_MAX_WAIT.
        assert promote_waiting() == {"jobs_promoted": 0, "shards_promoted": 0}
        recent = timezone.now() - timedelta(seconds=5)
        sent_at = dict(SimulationJob.objects.values_list("id", "enqueued_at"))
        assert sent_at[bobs_old] > recent
        assert sent_at[bobs_new] < recent and sent_at[alices_old] < recent

    def test_a_waiting_shard_goes_to_the_urgent_queue_and_one_never_sent_does_not(
        self, broker, priority_alice, bob, master_config, small_shards
    ):
        bob_job = submit_job(bob, split_config(master_config))
        alice_job = submit_job(priority_alice, split_config(master_config))
        for job in (bob_job, alice_job):
            # Shards 0 and 1 sent long ago (the window); 2 and 3 never sent.
            waited(JobShard, 31, job=job, index__lt=2)
        assert promote_waiting() == {"jobs_promoted": 0, "shards_promoted": 2}
        assert queued(broker) == {
            URGENT: [("simulator.run_job_shard", pk) for pk in shard_ids(bob_job)[:2]]
        }

    def test_finished_running_and_cancelled_work_is_not_moved(
        self, broker, bob, master_config, small_shards
    ):
        for status in (JobStatus.RUNNING, JobStatus.COMPLETE, JobStatus.CANCELLED):
            job_id = enqueued(bob, master_config, ago=3600)
            SimulationJob.objects.filter(id=job_id).update(status=status)
        job = submit_job(bob, split_config(master_config))
        waited(JobShard, 3600, job=job)
        SimulationJob.objects.filter(id=job.id).update(status=JobStatus.CANCELLED)
        assert promote_waiting() == {"jobs_promoted": 0, "shards_promoted": 0}
        assert URGENT not in queued(broker)

    def test_the_sweep_promotes_before_it_re_sends_and_reports_it(
        self, broker, bob, master_config, small_shards
    ):
        job = submit_job(bob, split_config(master_config))
        # Past JOB_SHARD_REQUEUE_AFTER as well: promoted, so not re-sent to its own queue.
        waited(JobShard, small_shards.JOB_SHARD_REQUEUE_AFTER + 1, job=job, index__lt=2)
        broker.flushdb()
        swept = sweep()
        assert swept["promoted"] == {"jobs_promoted": 0, "shards_promoted": 2}
        assert swept["shards"]["shards_resent"] == 0
        assert queued(broker) == {
            URGENT: [("simulator.run_job_shard", pk) for pk in shard_ids(job)[:2]]
        }

    def test_a_promoted_message_is_on_the_broker_not_lost(self, broker, bob, master_config):
        job_id = enqueued(bob, master_config, ago=3600)
        broker.flushdb()
        promote_waiting()
        assert lost_messages("simulator.run_simulation_job", [str(job_id)]) == set()

    def test_with_the_broker_down_nothing_is_marked_sent(
        self, bob, master_config, settings, small_shards
    ):
        from tests.integration.processes import free_port

        job_id = enqueued(bob, master_config, ago=3600, send=False)
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
        settings.BROKER_CHECK_TIMEOUT = 0.5
        before = SimulationJob.objects.get(id=job_id).enqueued_at
        assert promote_waiting() == {"jobs_promoted": 0, "shards_promoted": 0}
        job = SimulationJob.objects.get(id=job_id)
        # enqueue_job marks a refused send for the next sweep, which tries again at once.
        assert job.enqueued_at == before and job.send_failed


def enqueued(owner: Any, config: dict[str, Any], *, ago: float, send: bool = True) -> Any:
    """A PENDING unsplit job of `owner`'s, sent `ago` seconds ago."""
    job = submit_job(owner, config)
    if send:
        enqueue_job(job.id)
    waited(SimulationJob, ago, id=job.id)
    return job.id
