"""POST /api/submit/: a valid config becomes a PENDING job; a bad one never does."""

import json
import logging

from simulator.models import JobStatus, SimulationJob


class TestSubmitJob:
    def test_it_returns_202_and_a_job_id(self, alice_client, alice, master_config):
        response = alice_client.post("/api/submit/", master_config, format="json")
        assert response.status_code == 202
        job = SimulationJob.objects.get()
        # The contract user_terminal was written against: these two keys, in this order.
        assert list(json.loads(response.content)) == ["message", "job_id"]
        assert response.json() == {"message": "Simulation job accepted.", "job_id": str(job.id)}

    def test_the_job_is_alices_pending_and_keeps_the_config_as_sent(
        self, alice_client, alice, master_config
    ):
        job_id = alice_client.post("/api/submit/", master_config, format="json").json()["job_id"]
        job = SimulationJob.objects.get(id=job_id)
        assert job.owner == alice
        assert job.status == JobStatus.PENDING
        assert job.request_data == master_config
        assert job.rounds_total == master_config["num_rounds"]
        assert job.result_data is None

    def test_the_job_keeps_the_configs_seed(self, alice_client, master_config):
        master_config["seed"] = 1234
        job_id = alice_client.post("/api/submit/", master_config, format="json").json()["job_id"]
        assert SimulationJob.objects.get(id=job_id).seed == 1234

    def test_a_config_without_a_seed_gets_one_drawn_at_submit(self, alice_client, master_config):
        master_config.pop("seed", None)
        ids = [
            alice_client.post("/api/submit/", master_config, format="json").json()["job_id"]
            for _ in range(2)
        ]
        seeds = [SimulationJob.objects.get(id=job_id).seed for job_id in ids]
        assert all(isinstance(seed, int) and 0 <= seed < 2**63 for seed in seeds)
        assert seeds[0] != seeds[1]
        assert "seed" not in SimulationJob.objects.get(id=ids[0]).request_data  # kept as sent

    def test_it_names_the_bad_field(self, alice_client, master_config):
        master_config["num_rounds"] = "lots"
        response = alice_client.post("/api/submit/", master_config, format="json")
        assert response.status_code == 400
        paths = [error["path"] for error in response.json()["errors"]]
        assert any("num_rounds" in path for path in paths), response.json()
        assert all(error["reason"] for error in response.json()["errors"])

    def test_it_names_every_bad_field_at_once(self, alice_client, master_config):
        master_config["num_rounds"] = -5
        master_config["players"] = "nobody"
        response = alice_client.post("/api/submit/", master_config, format="json")
        assert response.status_code == 400
        paths = " ".join(error["path"] for error in response.json()["errors"])
        assert "num_rounds" in paths and "players" in paths, response.json()

    def test_a_bad_config_never_becomes_a_job(self, alice_client, master_config):
        master_config["num_rounds"] = "lots"
        alice_client.post("/api/submit/", master_config, format="json")
        assert not SimulationJob.objects.exists()

    def test_a_body_that_is_not_an_object_gets_400(self, alice_client):
        response = alice_client.post("/api/submit/", [1, 2, 3], format="json")
        assert response.status_code == 400
        assert not SimulationJob.objects.exists()

    def test_malformed_json_gets_400(self, alice_client):
        response = alice_client.post(
            "/api/submit/", data="{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_a_form_post_gets_415(self, alice_client):
        response = alice_client.post("/api/submit/", {"num_rounds": "10"})
        assert response.status_code == 415

    def test_without_a_token_it_gets_401(self, anon_client, master_config, db):
        response = anon_client.post("/api/submit/", master_config, format="json")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Token")
        assert not SimulationJob.objects.exists()

    def test_the_job_is_queued_only_after_commit(
        self, alice_client, master_config, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            alice_client.post("/api/submit/", master_config, format="json")
        assert len(callbacks) == 1

    def test_a_broker_that_is_down_still_gives_202_and_leaves_the_job_pending(
        self, alice_client, master_config, settings, django_capture_on_commit_callbacks, caplog
    ):
        # Nothing listens on port 1: the broker is down at submit time.
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        settings.BROKER_CHECK_TIMEOUT = 0.5
        with (
            caplog.at_level(logging.ERROR, logger="simulator.services"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = alice_client.post("/api/submit/", master_config, format="json")
        assert response.status_code == 202
        job = SimulationJob.objects.get(id=response.json()["job_id"])
        assert job.status == JobStatus.PENDING
        assert "stays PENDING" in caplog.text and str(job.id) in caplog.text
