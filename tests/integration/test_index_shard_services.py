"""Index jobs' shards in-process on the real database: each shard deals its shoes from its
own seed and stores IndexSums.to_dict(), the last one stored merges the job into the
engine's own index_results, and a shard stored in another format is dealt again from
its seed instead of failing the job."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

from jost_engine import indices
from simulator.models import JobKind, JobShard, JobStatus, SimulationJob
from simulator.services import broker as broker_services
from simulator.services.runs import Outcome
from simulator.services.shards import run_shard
from simulator.services.submit import submit_index_job

SHARD_SHOES = 20
REQUEST = {
    "casino": "vegas_6d_s17_das",
    "plays": ["insurance", {"hand": "16", "vs": "10", "actions": ["H", "S"]}],
    "shoes": 50,
    "seed": 11,
}


@pytest.fixture
def index_settings(settings):
    settings.JOB_SHARD_SHOES = SHARD_SHOES
    settings.JOB_CHUNK_SHOES = 7
    settings.JOB_STALE_AFTER = 120
    return settings


@pytest.fixture
def sent() -> Any:
    """What would have gone to the broker."""
    with mock.patch.object(broker_services, "send_task") as send:
        yield send


def in_process(job: SimulationJob) -> dict[str, Any]:
    """merge([run_index_shard_spec(...) per shard]) in this process: what the job must give,
    through JSON as the database keeps it."""
    request = indices.normalize_index_request(job.resolved_config)
    parts = [
        indices.run_index_shard_spec(request, job.seed, spec)
        for spec in indices.plan_index_shards(request, SHARD_SHOES)
    ]
    return json.loads(json.dumps(indices.index_results(request, indices.merge(parts))))


def run(job: SimulationJob, *indexes: int) -> list[str]:
    shards = JobShard.objects.filter(job=job).order_by("index")
    if indexes:
        shards = shards.filter(index__in=indexes)
    return [run_shard(pk, worker="w").status for pk in shards.values_list("id", flat=True)]


class TestIndexShards:
    def test_the_last_shard_stored_merges_the_engines_result(self, alice, index_settings, sent):
        job = submit_index_job(alice, REQUEST)
        assert run(job) == [Outcome.STORED, Outcome.STORED, Outcome.COMPLETE]
        job.refresh_from_db()
        assert job.kind == JobKind.INDICES and job.status == JobStatus.COMPLETE, job.error
        assert job.result_data == in_process(job)
        assert job.rounds_done == job.rounds_total == 50
        stored = job.shards.order_by("index").values_list("rounds_done", "stats")
        assert [(done, stats["format"]) for done, stats in stored] == [
            (20, indices.SUMS_FORMAT),
            (20, indices.SUMS_FORMAT),
            (10, indices.SUMS_FORMAT),
        ]

    def test_the_chunk_changes_no_bit(self, alice, index_settings, sent):
        job = submit_index_job(alice, REQUEST)
        run(job)
        index_settings.JOB_CHUNK_SHOES = 1000
        again = submit_index_job(alice, REQUEST)
        run(again)
        job.refresh_from_db()
        again.refresh_from_db()
        assert job.result_data == again.result_data


class TestAnotherFormat:
    def test_a_shard_stored_in_another_format_is_dealt_again_to_the_same_result(
        self, alice, index_settings, sent
    ):
        job = submit_index_job(alice, REQUEST)
        run(job, 0, 1)
        # As a worker of another release would have stored it.
        JobShard.objects.filter(job=job, index=0).update(stats={"format": 99, "sums": []})
        assert run(job, 2) == [Outcome.STORED]  # the merge found shard 0 unreadable
        job.refresh_from_db()
        shard = job.shards.get(index=0)
        assert job.status == JobStatus.RUNNING and job.merge_started_at is None
        assert (shard.status, shard.stats, shard.attempts) == (JobStatus.PENDING, None, 1)
        assert job.rounds_done == 30  # shard 0's shoes no longer counted
        assert run(job, 0) == [Outcome.COMPLETE]
        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETE, job.error
        # Said in the result, where the client reads it.
        [note] = job.result_data.pop("notes")
        assert note.startswith("Shard 0 stored statistics") and "format 99" in note
        assert job.result_data == in_process(job)
        assert job.rounds_done == 50
        assert job.shards.get(index=0).attempts == 2

    def test_one_unreadable_after_job_max_attempts_fails_the_job_saying_so(
        self, alice, index_settings, sent
    ):
        index_settings.JOB_MAX_ATTEMPTS = 1
        job = submit_index_job(alice, REQUEST)
        run(job, 0, 1)
        JobShard.objects.filter(job=job, index=1).update(stats={"format": 99})
        run(job, 2)
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert "Shard 1's stored statistics cannot be read" in job.error
        assert "format 99" in job.error
        assert job.result_data is None
