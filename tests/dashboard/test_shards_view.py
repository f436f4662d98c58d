"""A split job's shards on the dashboard: the job page (simulation and index jobs) and its
shard list endpoint list every shard with its state, worker, attempts, run time and
rounds (shoes), a stuck or retried shard marked; the history shows "n of m shards".
Staff only, like every dashboard page. Rows are made here as workers leave them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from simulator.models import JobKind, JobShard, JobStatus, SimulationJob

WORKER = "w0@host-a:100:101"


def _split_job(owner, *, kind: str = JobKind.SIMULATION, shards: int = 5) -> SimulationJob:
    now = timezone.now()
    job = SimulationJob.objects.create(
        owner=owner,
        kind=kind,
        request_data={"num_rounds": 5_000_000},
        status=JobStatus.RUNNING,
        rounds_total=shards * 1_000_000,
        shards_total=shards,
        shard_rounds=1_000_000,
        started_at=now - timedelta(seconds=30),
        heartbeat_at=now,
    )
    for index in range(shards):
        JobShard.objects.create(job=job, index=index, rounds=1_000_000)
    return job


def _shard(job: SimulationJob, index: int, **fields) -> None:
    JobShard.objects.filter(job=job, index=index).update(**fields)


@pytest.fixture
def running_split_job(alice) -> SimulationJob:
    """Five shards: 0 and 1 stored, 2 running with a fresh heartbeat, 3 running with a
    heartbeat an hour old (stuck), 4 pending after a worker died under it (retried)."""
    job = _split_job(alice)
    now = timezone.now()
    for index in (0, 1):
        _shard(
            job,
            index,
            status=JobStatus.COMPLETE,
            claimed_by=WORKER,
            attempts=1,
            rounds_done=1_000_000,
            started_at=now - timedelta(seconds=20),
            finished_at=now - timedelta(seconds=10),
            wall_seconds=2.5,
            engine_seconds=2.25,
            stats={"format": 1},
        )
    _shard(
        job,
        2,
        status=JobStatus.RUNNING,
        claimed_by="w1@host-b:200:201",
        attempts=1,
        rounds_done=400_000,
        started_at=now - timedelta(seconds=4),
        heartbeat_at=now,
    )
    _shard(
        job,
        3,
        status=JobStatus.RUNNING,
        claimed_by="w1@host-b:200:202",
        attempts=1,
        rounds_done=100_000,
        started_at=now - timedelta(hours=2),
        heartbeat_at=now - timedelta(hours=1),
    )
    _shard(job, 4, status=JobStatus.PENDING, attempts=2, claimed_by="")
    return job


def _rows(html: str) -> dict[int, str]:
    """Each shard's table row by index."""
    return {
        int(index): row
        for index, row in re.findall(r'<tr data-shard="(\d+)"(.*?)</tr>', html, flags=re.S)
    }


class TestJobPageListsTheShards:
    def test_each_shard_shows_its_state_worker_attempts_run_time_and_rounds(
        self, staff_client, running_split_job
    ):
        html = staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode()
        rows = _rows(html)
        assert sorted(rows) == [0, 1, 2, 3, 4]
        assert 'data-status="COMPLETE"' in rows[0]
        assert WORKER in rows[0]
        assert "2.5 s (engine 2.2 s)" in rows[0]
        assert "1,000,000 of 1,000,000 rounds" in rows[0]
        assert 'data-status="RUNNING"' in rows[2] and "host-b:200:201" in rows[2]
        assert "400,000 of 1,000,000 rounds" in rows[2]
        # Since its claim, by the database's clock: about 4 s.
        assert re.search(r"[4-9]\.\d s so far", rows[2]), rows[2]
        assert 'data-field="attempts">1<' in rows[2]

    def test_a_stuck_shard_is_marked_with_how_long_it_has_been_silent(
        self, staff_client, running_split_job
    ):
        rows = _rows(staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode())
        assert 'data-mark="stuck"' in rows[3]
        assert "stuck: no heartbeat for 1 h 00 min" in rows[3]
        assert "data-mark" not in rows[2]  # a fresh heartbeat is not stuck

    def test_a_running_shard_that_never_beat_is_stuck(self, staff_client, alice):
        # A row from before heartbeats: RUNNING with none at all is taken for dead too.
        job = _split_job(alice, shards=1)
        _shard(job, 0, status=JobStatus.RUNNING, attempts=1, heartbeat_at=None)
        rows = _rows(staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode())
        assert 'data-mark="stuck"' in rows[0] and "stuck: no heartbeat<" in rows[0]

    def test_a_retried_shard_is_marked_with_its_attempt(self, staff_client, running_split_job):
        rows = _rows(staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode())
        assert 'data-mark="retried"' in rows[4] and "retried: attempt 2" in rows[4]
        assert 'data-field="attempts">2<' in rows[4]

    def test_the_counts_cover_every_shard(self, staff_client, running_split_job):
        html = staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode()
        counts = html[html.index('data-field="shard-counts"') :]
        counts = counts[: counts.index("</p>")]
        assert "2 of 5 shards complete" in counts
        assert "2 running" in counts and "1 pending" in counts
        assert "1 stuck" in counts and "1 retried" in counts

    def test_a_running_job_asks_the_script_to_refresh_the_list(
        self, staff_client, running_split_job
    ):
        html = staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode()
        assert f'data-shards-url="/dashboard/jobs/{running_split_job.id}/shards/"' in html
        assert 'data-live="1"' in html

    def test_a_finished_job_lists_its_shards_without_asking_for_refreshes(
        self, staff_client, running_split_job
    ):
        SimulationJob.objects.filter(id=running_split_job.id).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now()
        )
        html = staff_client.get(f"/dashboard/jobs/{running_split_job.id}/").content.decode()
        assert len(_rows(html)) == 5
        assert 'data-live="1"' not in html

    def test_a_job_run_whole_has_no_shard_list(self, staff_client, alice):
        job = SimulationJob.objects.create(
            owner=alice, request_data={"num_rounds": 1000}, rounds_total=1000
        )
        html = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        assert 'id="shards"' not in html

    def test_an_index_jobs_shards_count_shoes(self, staff_client, alice):
        job = _split_job(alice, kind=JobKind.INDICES, shards=3)
        _shard(job, 0, status=JobStatus.RUNNING, rounds_done=250, started_at=timezone.now())
        html = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        rows = _rows(html)
        assert "250 of 1,000,000 shoes" in rows[0]
        assert '<th scope="col">Shoes</th>' in html

    def test_past_the_listed_rows_the_rest_are_linked_in_the_admin(
        self, staff_client, alice, monkeypatch
    ):
        from simulator import selectors

        monkeypatch.setattr(selectors, "SHARD_ROWS", 3)
        job = _split_job(alice, shards=5)
        html = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        assert sorted(_rows(html)) == [0, 1, 2]
        assert f"/admin/simulator/jobshard/?job__id__exact={job.id}" in html
        assert "2 more" in html


class TestShardListEndpoint:
    def test_it_answers_the_same_block_for_the_script(self, staff_client, running_split_job):
        response = staff_client.get(f"/dashboard/jobs/{running_split_job.id}/shards/")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card" id="shards"')
        assert sorted(_rows(html)) == [0, 1, 2, 3, 4]
        assert "<html" not in html  # a fragment, not a page

    def test_it_reads_a_bounded_number_of_queries_whatever_the_shards(self, staff_client, alice):
        small, large = _split_job(alice, shards=2), _split_job(alice, shards=40)
        with CaptureQueriesContext(connection) as two:
            staff_client.get(f"/dashboard/jobs/{small.id}/shards/")
        with CaptureQueriesContext(connection) as forty:
            staff_client.get(f"/dashboard/jobs/{large.id}/shards/")
        assert len(forty) == len(two)

    def test_it_never_reads_the_stored_statistics(self, staff_client, running_split_job):
        with CaptureQueriesContext(connection) as queries:
            staff_client.get(f"/dashboard/jobs/{running_split_job.id}/shards/")
        shard_reads = [q["sql"] for q in queries if "simulator_jobshard" in q["sql"]]
        assert shard_reads and not any('"stats"' in sql for sql in shard_reads)

    def test_an_unknown_job_is_a_404(self, staff_client):
        response = staff_client.get("/dashboard/jobs/00000000-0000-0000-0000-000000000000/shards/")
        assert response.status_code == 404

    def test_alice_who_is_not_staff_is_sent_to_log_in(self, client, alice, running_split_job):
        client.force_login(alice)
        response = client.get(f"/dashboard/jobs/{running_split_job.id}/shards/")
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"]

    def test_charlie_signed_out_sees_nothing(self, client, running_split_job):
        response = client.get(f"/dashboard/jobs/{running_split_job.id}/shards/")
        assert response.status_code == 302
        assert "host-b" not in response.content.decode()


class TestHistoryShowsShardProgress:
    def test_a_split_job_shows_its_shards_stored_of_all(self, staff_client, running_split_job):
        html = staff_client.get("/dashboard/jobs/").content.decode()
        assert re.search(r'data-field="shards">2 of 5 shards<', html)

    def test_a_job_run_whole_shows_no_shard_count(self, staff_client, alice):
        SimulationJob.objects.create(
            owner=alice, request_data={"num_rounds": 1000}, rounds_total=1000
        )
        html = staff_client.get("/dashboard/jobs/").content.decode()
        assert 'data-field="shards"' not in html

    def test_the_count_costs_no_query_per_job(self, staff_client, alice):
        _split_job(alice, shards=2)
        with CaptureQueriesContext(connection) as one:
            staff_client.get("/dashboard/jobs/")
        for _ in range(5):
            _split_job(alice, shards=3)
        with CaptureQueriesContext(connection) as six:
            html = staff_client.get("/dashboard/jobs/").content.decode()
        assert len(six) == len(one)
        assert html.count("0 of 3 shards") == 5
