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

    def test_a_token_request_reads_the_token_user_and_job_in_one_query(
        self, alice_client, alice_job, django_assert_num_queries
    ):
        # Clients poll this endpoint: the token, its user and the job come in one query.
        with django_assert_num_queries(1):
            response = alice_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["job_id"] == str(alice_job.id)

    def test_the_one_query_path_still_gives_charlie_nothing(
        self, charlie_client, alice_job, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            response = charlie_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 404
        assert str(alice_job.id) not in response.content.decode()

    def test_a_wrong_token_is_401(self, alice_job):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert client.get(f"/api/status/{alice_job.id}/").status_code == 401

    def test_an_inactive_users_token_is_401(self, alice, alice_client, alice_job):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        assert alice_client.get(f"/api/status/{alice_job.id}/").status_code == 401

    def test_a_logged_in_session_reads_it_too(self, client, alice, alice_job):
        # The dashboard polls with its session, not a token.
        client.force_login(alice)
        response = client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["status"] == "PENDING"

    def test_it_serves_the_same_body_as_the_job_read_by_the_orm(self, alice_client, alice_job):
        from simulator.api.serializers import JobStatusSerializer

        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING, rounds_done=7, error=""
        )
        expected = JobStatusSerializer(SimulationJob.objects.get(id=alice_job.id)).data
        assert alice_client.get(f"/api/status/{alice_job.id}/").json() == expected
