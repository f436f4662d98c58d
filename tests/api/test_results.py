"""GET /api/results/<job_id>/: results stay null until the job is COMPLETE."""

from simulator.models import JobStatus, SimulationJob


class TestJobResults:
    def test_results_are_null_while_pending(self, alice_client, alice_job):
        response = alice_client.get(f"/api/results/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["job_id"] == str(alice_job.id)
        assert response.json()["status"] == "PENDING"
        assert response.json()["results"] is None

    def test_results_are_null_while_running_even_with_partial_data(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING, result_data={"partial": True}
        )
        assert alice_client.get(f"/api/results/{alice_job.id}/").json()["results"] is None

    def test_a_complete_job_gives_its_results(self, alice_client, alice_job):
        result = {"rounds_played": 500, "players": [{"net_gain_loss": 10.0}]}
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.COMPLETE, result_data=result
        )
        body = alice_client.get(f"/api/results/{alice_job.id}/").json()
        assert body == {
            "job_id": str(alice_job.id),
            "status": "COMPLETE",
            "results": result,
            "error": None,
        }

    def test_a_failed_job_has_no_results_and_says_why(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(status=JobStatus.FAILED, error="boom")
        body = alice_client.get(f"/api/results/{alice_job.id}/").json()
        assert body["results"] is None and body["error"] == "boom"

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_job):
        assert charlie_client.get(f"/api/results/{alice_job.id}/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_job):
        assert anon_client.get(f"/api/results/{alice_job.id}/").status_code == 401
