"""The Celery task in-process, on the real engine and the real database: it claims a job
once, runs it, and records COMPLETE with the engine's result or FAILED with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from celery.exceptions import Retry

from simulator.models import JobStatus, SimulationJob
from simulator.services.broker import MESSAGE_FORMAT, MESSAGE_FORMAT_HEADER
from simulator.services.jobs import _progress_reporter, claim_job
from simulator.services.runs import describe_failure, json_safe
from simulator.services.submit import submit_job
from simulator.tasks import run_simulation_job
from tests.integration.helpers import assert_consistent_results


@pytest.fixture
def pending_job(alice, master_config) -> SimulationJob:
    return submit_job(alice, master_config)


class TestRunSimulationJob:
    def test_it_runs_a_pending_job_to_complete_with_consistent_numbers(self, pending_job):
        assert run_simulation_job(str(pending_job.id)) == JobStatus.COMPLETE
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.status == JobStatus.COMPLETE
        assert job.error == ""
        assert job.started_at <= job.finished_at
        assert_consistent_results(job.result_data, pending_job.rounds_total)
        assert job.rounds_done == pending_job.rounds_total

    def test_a_job_without_a_seed_reruns_to_the_same_result_with_the_seed_drawn_at_submit(
        self, alice, master_config, without_timing
    ):
        # A job reclaimed after a crash runs again from the start: with the seed fixed at
        # submit, the rerun gives the result the first run would have given.
        master_config.pop("seed", None)
        job = submit_job(alice, master_config)
        assert run_simulation_job(str(job.id)) == JobStatus.COMPLETE
        first = SimulationJob.objects.get(id=job.id).result_data
        assert first["seed"] == job.seed
        SimulationJob.objects.filter(id=job.id).update(status=JobStatus.PENDING, result_data=None)
        assert run_simulation_job(str(job.id)) == JobStatus.COMPLETE
        again = SimulationJob.objects.get(id=job.id).result_data
        assert without_timing(again) == without_timing(first)

    def test_a_redelivered_message_does_not_run_the_job_twice(self, pending_job):
        run_simulation_job(str(pending_job.id))
        first = SimulationJob.objects.get(id=pending_job.id)
        assert run_simulation_job(str(pending_job.id)) == "SKIPPED"
        again = SimulationJob.objects.get(id=pending_job.id)
        assert (again.status, again.finished_at, again.result_data) == (
            first.status,
            first.finished_at,
            first.result_data,
        )

    def test_a_job_another_worker_claimed_is_left_alone(self, pending_job):
        # Another worker's live claim (a fresh heartbeat): this delivery must not run it,
        # and comes back later (Retry) rather than dropping it.
        claim = claim_job(pending_job.id, "another worker")
        with pytest.raises(Retry):
            run_simulation_job(str(pending_job.id))
        job = SimulationJob.objects.get(id=pending_job.id)
        assert job.status == JobStatus.RUNNING and job.result_data is None
        assert (job.claim, job.attempts) == (claim, 1)

    def test_a_cancelled_job_is_not_run(self, pending_job):
        SimulationJob.objects.filter(id=pending_job.id).update(status=JobStatus.CANCELLED)
        assert run_simulation_job(str(pending_job.id)) == "SKIPPED"
        assert SimulationJob.objects.get(id=pending_job.id).status == JobStatus.CANCELLED

    def test_only_one_of_two_claims_wins(self, pending_job):
        assert claim_job(pending_job.id) is not None
        assert claim_job(pending_job.id) is None

    def test_an_unknown_job_id_is_skipped_not_raised(self, db):
        assert run_simulation_job("00000000-0000-0000-0000-000000000000") == "SKIPPED"

    def test_a_config_the_engine_rejects_fails_the_job_naming_the_fields(
        self, alice, master_config
    ):
        # Stored without going through submit (as a row edited after submission would be):
        # the engine, not the API, is the one that refuses it here.
        master_config["num_rounds"] = "lots"
        job = SimulationJob.objects.create(owner=alice, request_data=master_config)
        assert run_simulation_job(str(job.id)) == JobStatus.FAILED
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert "num_rounds" in job.error
        assert "invalid" in job.error
        assert job.finished_at is not None and job.result_data is None


class TestFailureMessages:
    def test_an_unexpected_engine_exception_gives_its_type_and_message(self):
        message = describe_failure(ZeroDivisionError("division by zero"))
        assert "ZeroDivisionError: division by zero" in message
        assert "report it" in message


class TestProgress:
    def test_progress_is_written_to_the_running_row(self, pending_job, settings):
        settings.JOB_PROGRESS_INTERVAL = 0.0
        claim = claim_job(pending_job.id)
        _progress_reporter(pending_job.id, claim)(250, 500)
        job = SimulationJob.objects.get(id=pending_job.id)
        assert (job.rounds_done, job.rounds_total) == (250, 500)

    def test_progress_writes_are_throttled(self, pending_job, settings):
        settings.JOB_PROGRESS_INTERVAL = 60.0
        claim = claim_job(pending_job.id)
        report = _progress_reporter(pending_job.id, claim)
        report(100, 500)
        report(400, 500)  # within the interval: not written
        assert SimulationJob.objects.get(id=pending_job.id).rounds_done == 100


class TestJsonSafe:
    def test_numpy_values_and_non_finite_floats_become_plain_json(self):
        value = {"a": np.float64(1.5), "b": np.arange(3), "c": float("inf"), "d": (np.int64(2),)}
        assert json_safe(value) == {"a": 1.5, "b": [0, 1, 2], "c": None, "d": [2]}


class TestMessagesOfOtherReleases:
    def test_a_later_releases_message_with_an_argument_it_adds_runs_saying_so(
        self, pending_job, caplog
    ):
        # A rollback: a message sent by a later release, which may add keyword arguments
        # (never change the first, the job's id), reaches this release's worker.
        with caplog.at_level("WARNING", logger="simulator.tasks"):
            outcome = run_simulation_job.apply(
                args=[str(pending_job.id)],
                kwargs={"added_later": 1},
                headers={MESSAGE_FORMAT_HEADER: MESSAGE_FORMAT + 1},
            ).get()
        assert outcome == JobStatus.COMPLETE
        assert "a message of format 2 (this worker's is 1)" in caplog.text
        assert "ignoring ['added_later']" in caplog.text

    def test_a_message_without_a_format_as_release_16_sent_runs_without_a_word(
        self, pending_job, caplog
    ):
        with caplog.at_level("WARNING", logger="simulator.tasks"):
            assert run_simulation_job.apply(args=[str(pending_job.id)]).get() == "COMPLETE"
        assert "a message of format" not in caplog.text
