"""A delivery that meets an unreachable database (the connection dropped, the server
refusing or restarting) is not the job's fault: the job is given back, not FAILED, and
the error goes up for the task to retry (simulator/tasks.py); the real processes are in
test_crash_recovery.py. On committed rows (transactional_db): the give-back opens a fresh
connection, as the worker does."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

import jost_engine
from simulator.models import JobShard, JobStatus, SimulationJob
from simulator.services import shards as shard_services
from simulator.services.jobs import run_job
from simulator.services.shards import run_shard
from simulator.services.submit import submit_job


def dropped(*_: object, **__: object) -> None:
    raise OperationalError("terminating connection due to administrator command")


@pytest.mark.django_db(transaction=True)
class TestGiveBack:
    def test_a_job_whose_database_fails_mid_run_is_given_back_not_failed(
        self, alice, master_config
    ):
        job = submit_job(alice, master_config)
        with (
            mock.patch.object(jost_engine, "run_simulation_from_config", dropped),
            pytest.raises(OperationalError),
        ):
            run_job(job.id, worker="w")
        job.refresh_from_db()
        assert job.status == JobStatus.PENDING and job.claim is None and job.error == ""
        # Not counted as a crash of its worker, and the next delivery claims it at once.
        assert job.attempts == 0
        assert run_job(job.id, worker="w").status == JobStatus.COMPLETE
        assert SimulationJob.objects.get(id=job.id).attempts == 1

    def test_a_shard_whose_database_fails_mid_run_is_given_back_and_marked_sent(
        self, alice, master_config, settings
    ):
        settings.JOB_SHARD_ROUNDS = 20_000
        job = submit_job(alice, {**master_config, "num_rounds": 40_000, "stop_when_broke": False})
        shard = job.shards.get(index=0)
        with (
            mock.patch.object(shard_services, "dispatch_shards"),
            mock.patch.object(jost_engine, "run_shard_spec", dropped),
            pytest.raises(OperationalError),
        ):
            run_shard(shard.id, worker="w")
        shard = JobShard.objects.get(id=shard.id)
        assert shard.status == JobStatus.PENDING and shard.claim is None
        assert shard.attempts == 0 and shard.enqueued_at is not None
        assert SimulationJob.objects.get(id=job.id).status == JobStatus.RUNNING
