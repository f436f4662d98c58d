"""GET /api/status/<job_id>/: {"job_id", "status"} plus progress, for the owner only."""

import uuid

from simulator.models import JobStatus, SimulationJob


class TestJobStatus:
    def test_alice_sees_her_pending_job(self, alice_client, alice_job):
        response = alice_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        body = response.json()
        assert body["job_id"] == str(alice_job.id)
        assert body["status"] == "PENDING"
        assert body["progress"]["rounds_done"] == 0
        assert body["progress"]["rounds_total"] == alice_job.rounds_total

    def test_progress_shows_while_running(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING, rounds_done=alice_job.rounds_total // 2
        )
        body = alice_client.get(f"/api/status/{alice_job.id}/").json()
        assert body["status"] == "RUNNING"
        assert body["progress"]["fraction"] == 0.5

    def test_a_failed_job_says_why(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.FAILED, error="num_rounds: expected a whole number"
        )
        body = alice_client.get(f"/api/status/{alice_job.id}/").json()
        assert body["status"] == "FAILED"
        assert "num_rounds" in body["error"]

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_job):
        assert charlie_client.get(f"/api/status/{alice_job.id}/").status_code == 404

    def test_bob_gets_404_for_alices_job_too(self, bob_client, alice_job):
        assert bob_client.get(f"/api/status/{alice_job.id}/").status_code == 404

    def test_an_unknown_job_is_404(self, alice_client):
        assert alice_client.get(f"/api/status/{uuid.uuid4()}/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_job):
        assert anon_client.get(f"/api/status/{alice_job.id}/").status_code == 401
