"""/admin/: SimulationJob is registered, so an operator can read and filter the ledger."""


class TestAdmin:
    def test_a_superuser_sees_the_jobs(self, admin_client, alice_job):
        response = admin_client.get("/admin/simulator/simulationjob/")
        assert response.status_code == 200
        assert str(alice_job.id) in response.content.decode()

    def test_the_job_page_opens(self, admin_client, alice_job):
        assert (
            admin_client.get(f"/admin/simulator/simulationjob/{alice_job.id}/change/").status_code
            == 200
        )

    def test_alice_without_staff_rights_is_sent_to_log_in(self, client, alice, alice_job):
        client.force_login(alice)
        response = client.get("/admin/simulator/simulationjob/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_the_home_page_points_to_the_api(self, client, db):
        response = client.get("/")
        assert response.status_code == 200 and b"/api/jobs/" in response.content
