"""The claim in-process, on the real database: a job runs under exactly one live claim,
a RUNNING job whose heartbeat went stale is taken over, and the worker that lost its
claim can no longer write to the job."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from simulator.models import JobStatus, SimulationJob
from simulator.services import jobs as job_services
from simulator.services.jobs import (
    _progress_reporter,
    claim_job,
    complete_job,
    fail_job,
    record_progress,
    run_job,
)
from simulator.services.runs import Outcome
from simulator.services.submit import submit_job
from simulator.tasks import run_simulation_job


@pytest.fixture
def pending_job(alice, master_config) -> SimulationJob:
    return submit_job(alice, master_config)


def _age_heartbeat(job_id: UUID, seconds: float) -> None:
    SimulationJob.objects.filter(id=job_id).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


class TestClaimJob:
    def test_a_claim_sets_running_a_heartbeat_an_attempt_and_who_runs_it(self, pending_job):
        before = timezone.now()
        claim = claim_job(pending_job.id, "w1@host:123")
        assert claim is not None
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.status == JobStatus.RUNNING and job.claim == claim
        assert job.attempts == 1 and job.claimed_by == "w1@host:123"
        assert job.heartbeat_at >= before - timedelta(seconds=1)

    def test_fresh_running_is_not_reclaimable(self, pending_job, settings):
        settings.JOB_STALE_AFTER = 120
        first = claim_job(pending_job.id, "w1")
        _age_heartbeat(pending_job.id, 60)
        assert claim_job(pending_job.id, "w2") is None
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.claim, job.attempts, job.claimed_by) == (first, 1, "w1")

    def test_stale_running_is_reclaimable_with_a_new_claim(self, pending_job, settings):
        settings.JOB_STALE_AFTER = 120
        first = claim_job(pending_job.id, "w1")
        record_progress(pending_job.id, first, 250, 500)
        _age_heartbeat(pending_job.id, 121)
        second = claim_job(pending_job.id, "w2")
        assert second is not None and second != first
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.claim, job.attempts, job.claimed_by) == (
            JobStatus.RUNNING,
            second,
            2,
            "w2",
        )
        # The run starts again from the start: progress shows the new run's.
        assert job.rounds_done == 0
        assert job.heartbeat_at > timezone.now() - timedelta(seconds=5)

    def test_running_without_a_heartbeat_predates_heartbeats_and_is_reclaimable(self, pending_job):
        SimulationJob.objects.filter(id=pending_job.id).update(status=JobStatus.RUNNING)
        assert claim_job(pending_job.id, "w2") is not None

    @pytest.mark.parametrize("status", [JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED])
    def test_a_finished_job_is_never_claimed_even_long_after(self, pending_job, status):
        SimulationJob.objects.filter(id=pending_job.id).update(status=status)
        _age_heartbeat(pending_job.id, 10_000)
        assert claim_job(pending_job.id, "w2") is None
        assert SimulationJob.objects.get(id=pending_job.id).status == status


class TestAJobThatKeepsKillingItsWorker:
    def test_after_max_attempts_a_stale_job_is_failed_instead_of_claimed(
        self, pending_job, settings
    ):
        settings.JOB_STALE_AFTER = 120
        settings.JOB_MAX_ATTEMPTS = 2
        for attempt in (1, 2):
            assert claim_job(pending_job.id, f"w{attempt}") is not None
            _age_heartbeat(pending_job.id, 121)
        assert claim_job(pending_job.id, "w3") is None
        assert run_job(pending_job.id, worker="w3").status == JobStatus.FAILED
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.attempts, job.claim) == (JobStatus.FAILED, 2, None)
        assert "stopped 2 times without finishing it" in job.error


class TestOnlyTheClaimHolderWrites:
    @pytest.fixture
    def reclaimed(self, pending_job, settings):
        """(stale claim, live claim): w1 claimed, went silent, w2 took the job over."""
        settings.JOB_STALE_AFTER = 120
        stale = claim_job(pending_job.id, "w1")
        _age_heartbeat(pending_job.id, 121)
        live = claim_job(pending_job.id, "w2")
        return stale, live

    def test_a_stale_worker_cannot_complete_a_reclaimed_job(self, pending_job, reclaimed):
        stale, live = reclaimed
        assert complete_job(pending_job.id, stale, {"rounds_played": 1}) is False
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.status == JobStatus.RUNNING and job.result_data is None

        assert complete_job(pending_job.id, live, {"rounds_played": 500}) is True
        # Coming back after the live worker finished changes nothing either.
        assert complete_job(pending_job.id, stale, {"rounds_played": 1}) is False
        assert fail_job(pending_job.id, stale, "late") is False
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.result_data, job.error) == (
            JobStatus.COMPLETE,
            {"rounds_played": 500},
            "",
        )

    def test_a_stale_worker_cannot_fail_a_reclaimed_job(self, pending_job, reclaimed):
        stale, _ = reclaimed
        assert fail_job(pending_job.id, stale, "killed") is False
        assert SimulationJob.objects.get(id=pending_job.id).status == JobStatus.RUNNING

    def test_a_stale_worker_cannot_write_progress_or_a_heartbeat(self, pending_job, reclaimed):
        stale, live = reclaimed
        record_progress(pending_job.id, live, 100, 500)
        _age_heartbeat(pending_job.id, 100)
        assert record_progress(pending_job.id, stale, 400, 500) is False
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.rounds_done == 100
        # Its write did not refresh the heartbeat, so it cannot keep the job looking alive.
        assert job.heartbeat_at < timezone.now() - timedelta(seconds=90)

    def test_a_run_whose_claim_was_taken_over_drops_its_result(
        self, pending_job, settings, monkeypatch
    ):
        # While this worker runs, another reclaims the job (as after a long pause here).
        settings.JOB_STALE_AFTER = 120
        real_complete = complete_job

        def taken_over_then_complete(job_id, claim, result):
            _age_heartbeat(job_id, 121)
            claim_job(job_id, "w2")
            return real_complete(job_id, claim, result)

        monkeypatch.setattr(job_services, "complete_job", taken_over_then_complete)
        assert run_job(pending_job.id, worker="w1").status == Outcome.LOST
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.claimed_by, job.result_data) == (JobStatus.RUNNING, "w2", None)

    def test_a_worker_that_finds_its_claim_taken_over_mid_run_stops_the_engine(
        self, alice, master_config, settings, monkeypatch
    ):
        settings.JOB_STALE_AFTER = 120
        settings.JOB_PROGRESS_INTERVAL = 0.0
        settings.JOB_CHUNK_ROUNDS = 100
        master_config["num_rounds"] = 100_000
        job = submit_job(alice, master_config)
        real_record = record_progress
        writes = []

        def taken_over_after_the_first_write(job_id, claim, done, total=None):
            writes.append(done)
            if len(writes) == 2:  # this worker stalled; w2 took the job over meanwhile
                _age_heartbeat(job_id, 121)
                claim_job(job_id, "w2")
            return real_record(job_id, claim, done, total)

        monkeypatch.setattr(job_services, "record_progress", taken_over_after_the_first_write)
        assert run_job(job.id, worker="w1").status == Outcome.LOST
        # It stopped at the first write that found the claim gone, not after 1,000 chunks.
        assert writes == [100, 200]
        job.refresh_from_db()
        assert (job.status, job.claimed_by, job.attempts, job.rounds_done) == (
            JobStatus.RUNNING,
            "w2",
            2,
            0,
        )


class TestHeartbeat:
    def test_each_progress_write_refreshes_the_heartbeat(self, pending_job, settings):
        settings.JOB_PROGRESS_INTERVAL = 0.0
        claim = claim_job(pending_job.id, "w1")
        _age_heartbeat(pending_job.id, 100)
        _progress_reporter(pending_job.id, claim)(250, 500)
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.rounds_done == 250
        assert job.heartbeat_at > timezone.now() - timedelta(seconds=5)

    def test_the_heartbeat_interval_caps_a_longer_progress_interval(
        self, pending_job, settings, monkeypatch
    ):
        # Progress every 60 s at most, heartbeat every 5 s at least: a report 6 s after
        # the last write is written, or the job would look dead at JOB_STALE_AFTER.
        settings.JOB_PROGRESS_INTERVAL = 60.0
        settings.JOB_HEARTBEAT_INTERVAL = 5.0
        clock = [1000.0]
        monkeypatch.setattr(job_services.time, "monotonic", lambda: clock[0])
        claim = claim_job(pending_job.id, "w1")
        report = _progress_reporter(pending_job.id, claim)
        report(100, 500)
        clock[0] += 2
        report(200, 500)  # within both intervals: not written
        assert SimulationJob.objects.get(id=pending_job.id).rounds_done == 100
        clock[0] += 4
        report(300, 500)
        assert SimulationJob.objects.get(id=pending_job.id).rounds_done == 300

    def test_a_run_records_heartbeats_while_the_engine_reports(
        self, alice, master_config, settings
    ):
        settings.JOB_CHUNK_ROUNDS = 100
        settings.JOB_PROGRESS_INTERVAL = 0.0
        job = submit_job(alice, master_config)
        assert run_job(job.id, worker="w1").status == JobStatus.COMPLETE
        job.refresh_from_db()
        assert job.heartbeat_at >= job.started_at
        assert job.attempts == 1 and job.claimed_by == "w1"


class TestDeliveryThatFindsTheJobBusy:
    def test_it_leaves_the_job_alone_and_retries_after_the_heartbeat_would_go_stale(
        self, pending_job, settings
    ):
        settings.JOB_STALE_AFTER = 120
        claim = claim_job(pending_job.id, "w1")
        _age_heartbeat(pending_job.id, 30)
        outcome = run_job(pending_job.id, worker="w2")
        assert outcome.status == Outcome.BUSY
        assert 90 <= outcome.retry_in <= 93
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.claim, job.attempts, job.result_data) == (
            JobStatus.RUNNING,
            claim,
            1,
            None,
        )

    def test_the_task_asks_celery_to_retry_it_instead_of_dropping_it(self, pending_job):
        claim_job(pending_job.id, "w1")
        with pytest.raises(Retry):
            run_simulation_job(str(pending_job.id))
        assert SimulationJob.objects.get(id=pending_job.id).attempts == 1

    def test_the_retry_reclaims_and_completes_a_job_whose_worker_died(self, pending_job, settings):
        settings.JOB_STALE_AFTER = 120
        claim_job(pending_job.id, "dead worker")
        _age_heartbeat(pending_job.id, 121)
        assert run_simulation_job(str(pending_job.id)) == JobStatus.COMPLETE
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.attempts == 2
        assert job.result_data["rounds_played"] == job.result_data["rounds_asked"] == 500

    def test_its_retries_are_bounded_and_then_it_leaves_the_job_to_its_worker(
        self, pending_job, settings, caplog
    ):
        # Eagerly applied, each retry runs at once (no countdown): a job that stays fresh
        # for every one of them is the case of a live worker on a long job.
        settings.JOB_BUSY_MAX_RETRIES = 3
        claim = claim_job(pending_job.id, "w1")
        with caplog.at_level("INFO", logger="simulator.services"):
            result = run_simulation_job.apply(args=[str(pending_job.id)])
            assert result.get() == Outcome.BUSY
        # The first delivery and its three retries, then no more.
        assert sum("is running elsewhere" in r.getMessage() for r in caplog.records) == 4
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.status, job.claim, job.attempts) == (JobStatus.RUNNING, claim, 1)

    @pytest.mark.parametrize("status", [JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED])
    def test_it_stops_quietly_when_the_job_is_finished(self, pending_job, status):
        SimulationJob.objects.filter(id=pending_job.id).update(status=status)
        assert run_simulation_job(str(pending_job.id)) == "SKIPPED"
