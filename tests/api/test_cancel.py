"""POST /api/jobs/<id>/cancel/ and cancel_job: a PENDING job never runs, a RUNNING
one stops at its next progress report keeping its rounds, a finished one is a 409."""

import uuid

import pytest

from simulator.models import JobStatus, SimulationJob
from simulator.services.jobs import (
    _progress_reporter,
    cancel_job,
    claim_job,
    complete_job,
    record_progress,
    run_job,
)
from simulator.services.runs import ClaimLost, Outcome


def _running(job: SimulationJob, rounds_done: int = 0) -> uuid.UUID:
    claim = claim_job(job.id, "test-worker")
    assert claim is not None
    if rounds_done:
        assert record_progress(job.id, claim, rounds_done)
    return claim


class TestCancelJob:
    def test_alice_cancels_her_pending_job(self, alice_client, alice_job):
        response = alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert response.status_code == 200
        assert response.json()["status"] == "CANCELLED"
        alice_job.refresh_from_db()
        assert alice_job.status == JobStatus.CANCELLED
        assert alice_job.finished_at is not None

    def test_a_cancelled_pending_job_is_never_claimed_or_run(self, alice_client, alice_job):
        alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert claim_job(alice_job.id, "late-worker") is None
        assert run_job(alice_job.id).status == Outcome.SKIPPED
        alice_job.refresh_from_db()
        assert alice_job.status == JobStatus.CANCELLED
        assert alice_job.result_data is None and alice_job.attempts == 0

    def test_a_running_job_is_cancelled_with_the_rounds_it_played(self, alice_client, alice_job):
        _running(alice_job, rounds_done=200)
        response = alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "CANCELLED"
        assert body["progress"]["rounds_done"] == 200
        alice_job.refresh_from_db()
        assert (alice_job.status, alice_job.rounds_done) == (JobStatus.CANCELLED, 200)

    def test_the_worker_stops_at_its_next_progress_report(self, alice_client, alice_job):
        claim = _running(alice_job, rounds_done=100)
        report = _progress_reporter(alice_job.id, claim)
        alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        with pytest.raises(ClaimLost):
            report(300, alice_job.rounds_total)
        # Nor can it record a result after the cancel.
        assert not complete_job(alice_job.id, claim, {"rounds_played": 500})
        alice_job.refresh_from_db()
        assert (alice_job.status, alice_job.rounds_done) == (JobStatus.CANCELLED, 100)

    @pytest.mark.parametrize("finished", [JobStatus.COMPLETE, JobStatus.FAILED])
    def test_a_finished_job_is_a_409_that_says_why(self, alice_client, alice_job, finished):
        SimulationJob.objects.filter(id=alice_job.id).update(status=finished)
        response = alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert response.status_code == 409
        assert response.json()["status"] == finished
        assert finished in response.json()["detail"]
        assert "PENDING or RUNNING" in response.json()["detail"]
        alice_job.refresh_from_db()
        assert alice_job.status == finished

    def test_cancelling_twice_is_a_409(self, alice_client, alice_job):
        alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        response = alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert response.status_code == 409
        assert response.json()["status"] == "CANCELLED"

    def test_status_results_and_the_job_list_show_cancelled(self, alice_client, alice_job):
        alice_client.post(f"/api/jobs/{alice_job.id}/cancel/")
        assert alice_client.get(f"/api/status/{alice_job.id}/").json()["status"] == "CANCELLED"
        results = alice_client.get(f"/api/results/{alice_job.id}/").json()
        assert (results["status"], results["results"]) == ("CANCELLED", None)
        listed = alice_client.get("/api/jobs/").json()["results"]
        assert [job["status"] for job in listed] == ["CANCELLED"]

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_job):
        assert charlie_client.post(f"/api/jobs/{alice_job.id}/cancel/").status_code == 404
        alice_job.refresh_from_db()
        assert alice_job.status == JobStatus.PENDING

    def test_bob_gets_404_for_alices_job_too(self, bob_client, alice_job):
        assert bob_client.post(f"/api/jobs/{alice_job.id}/cancel/").status_code == 404
        alice_job.refresh_from_db()
        assert alice_job.status == JobStatus.PENDING

    def test_an_unknown_job_is_404(self, alice_client):
        assert alice_client.post(f"/api/jobs/{uuid.uuid4()}/cancel/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_job):
        assert anon_client.post(f"/api/jobs/{alice_job.id}/cancel/").status_code == 401
        alice_job.refresh_from_db()
        assert alice_job.status == JobStatus.PENDING

    def test_anyones_job_is_cancelled_only_when_asked_for_any_owner(self, bob, alice_job):
        # The dashboard's staff cancel any job; through the API only the owner can.
        assert cancel_job(bob, alice_job.id) is None
        assert cancel_job(bob, alice_job.id, any_owner=True).status == "CANCELLED"


class TestProgressRate:
    def test_status_reports_rate_and_time_left_while_running(self, alice_client, alice_job):
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING,
            started_at=now - timedelta(seconds=4),
            heartbeat_at=now,
            rounds_done=100,
            rounds_total=500,
        )
        progress = alice_client.get(f"/api/status/{alice_job.id}/").json()["progress"]
        # 100 rounds in the 4 s between the claim and the report: 25/s, 400 left -> 16 s.
        assert progress == {
            "rounds_done": 100,
            "rounds_total": 500,
            "fraction": 0.2,
            "rate": 25.0,
            "eta_seconds": 16.0,
        }

    def test_no_rate_before_the_first_report(self, alice_client, alice_job):
        progress = alice_client.get(f"/api/status/{alice_job.id}/").json()["progress"]
        assert progress["rate"] is None and progress["eta_seconds"] is None
