"""POST /api/validate/: the config as the engine will run it, or every problem, and no job."""

import jost_engine
from simulator.models import SimulationJob


class TestValidateConfig:
    def test_a_good_config_comes_back_normalised(self, alice_client, master_config):
        response = alice_client.post("/api/validate/", master_config, format="json")
        assert response.status_code == 200
        expected = jost_engine.config_to_dict(jost_engine.normalize_config(master_config))
        assert response.json() == expected
        # Normalised: the casino's name became its rules, and the seat got its name.
        assert isinstance(response.json()["casino"], dict)
        assert response.json()["players"][0]["name"]

    def test_nothing_is_stored(self, alice_client, master_config):
        alice_client.post("/api/validate/", master_config, format="json")
        assert not SimulationJob.objects.exists()

    def test_a_bad_config_gets_the_same_400_as_submit(self, alice_client, master_config):
        master_config["num_rounds"] = -5
        master_config["players"][0]["betting_strategy"] = {"bet_ramp": {"x": 2}}
        validated = alice_client.post("/api/validate/", master_config, format="json")
        submitted = alice_client.post("/api/submit/", master_config, format="json")
        assert validated.status_code == submitted.status_code == 400
        assert validated.json() == submitted.json()
        assert set(validated.json()) == {"detail", "errors"}

    def test_it_names_every_bad_field_with_its_path(self, alice_client, master_config):
        master_config["num_rounds"] = "lots"
        master_config["casino"] = "no_such_casino"
        errors = alice_client.post("/api/validate/", master_config, format="json").json()["errors"]
        paths = [error["path"] for error in errors]
        assert "num_rounds" in paths and "casino" in paths, errors
        assert all(set(error) == {"path", "reason"} and error["reason"] for error in errors)

    def test_a_body_that_is_not_an_object_gets_400(self, alice_client):
        response = alice_client.post("/api/validate/", [1, 2, 3], format="json")
        assert response.status_code == 400
        assert response.json()["errors"]

    def test_malformed_json_gets_400(self, alice_client):
        response = alice_client.post(
            "/api/validate/", data="{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_bob_and_charlie_may_validate_too(self, bob_client, charlie_client, master_config):
        assert bob_client.post("/api/validate/", master_config, format="json").status_code == 200
        assert (
            charlie_client.post("/api/validate/", master_config, format="json").status_code == 200
        )

    def test_a_session_user_may_validate_with_the_csrf_token(self, alice, master_config):
        from rest_framework.test import APIClient

        client = APIClient(enforce_csrf_checks=True)
        client.force_login(alice)
        # Session auth is how the dashboard calls it, so CSRF protection applies.
        refused = client.post("/api/validate/", master_config, format="json")
        assert refused.status_code == 403
        client.get("/dashboard/login/")
        token = client.cookies["csrftoken"].value
        accepted = client.post(
            "/api/validate/", master_config, format="json", HTTP_X_CSRFTOKEN=token
        )
        assert accepted.status_code == 200

    def test_without_credentials_it_gets_401(self, anon_client, master_config):
        assert anon_client.post("/api/validate/", master_config, format="json").status_code == 401
