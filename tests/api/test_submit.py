"""POST /api/submit/: a valid config becomes a PENDING job; a bad one never does."""

import json
import logging

import pytest

import jost_engine
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


class TestWhatAJobCosts:
    """The submit-time checks (services.validate_config): a job that could not finish in
    the time limit, or whose shard or merge could not fit JOB_SHARD_MAX_MEMORY_MB, is a
    400 naming the field and saying what fits; nothing is written."""

    @pytest.fixture
    def slow_engine(self, settings):
        # 80% of 100 s at a million spot-rounds a second: 80,000,000 spot-rounds fit.
        settings.CELERY_TASK_SOFT_TIME_LIMIT = 100
        settings.ENGINE_SPOT_ROUNDS_PER_SECOND = 1_000_000

    def _refusal(self, client, config):
        response = client.post("/api/submit/", config, format="json")
        assert response.status_code == 400, response.json()
        assert not SimulationJob.objects.exists()
        [error] = response.json()["errors"]
        return error["path"], error["reason"]

    def test_a_spots_ramp_counts_at_its_widest_against_the_time_limit(
        self, alice_client, master_config, slow_engine
    ):
        # One spot at low counts, seven from +2: the job plays up to 7 spots a round.
        player = {
            "profile": "master_player",
            "betting_strategy": {"min_bet": 10, "num_hands": 1, "spots_ramp": {"2": 7}},
        }
        config = {**master_config, "players": [player], "num_rounds": 20_000_000}
        path, reason = self._refusal(alice_client, config)
        assert path == "num_rounds"
        assert "of 7 spot(s)" in reason and f"at most {80_000_000 // 7} rounds fit" in reason
        config["num_rounds"] = 80_000_000 // 7
        assert alice_client.post("/api/submit/", config, format="json").status_code == 202

    def test_a_session_that_would_outlast_the_time_limit_is_a_400(
        self, alice_client, master_config, slow_engine
    ):
        config = {**master_config, "num_rounds": 100_000_000, "sessions": 2}
        path, reason = self._refusal(alice_client, config)
        assert path == "num_rounds" and "per session" in reason
        assert "at most 80000000 rounds fit" in reason and "more sessions" in reason

    def test_a_million_sessions_of_a_full_table_is_a_400_saying_what_fits(
        self, alice_client, master_config
    ):
        # Issue 14: this 300-byte config cost a worker 800 MB.
        players = [{"profile": "master_player"} for _ in range(7)]
        config = {**master_config, "players": players, "num_rounds": 1, "sessions": 1_000_000}
        path, reason = self._refusal(alice_client, config)
        cost = jost_engine.footprint(jost_engine.normalize_config(config))
        fit = cost.sessions_within(512 * 2**20)
        assert path == "sessions" and "JOB_SHARD_MAX_MEMORY_MB" in reason
        assert f"at most {fit} sessions fit with 7 player(s)" in reason
        assert 0 < fit < 1_000_000

    @pytest.mark.parametrize("megabytes, accepted", [(16, False), (64, True)])
    def test_the_memory_limit_is_the_setting(
        self, alice_client, master_config, settings, megabytes, accepted
    ):
        settings.JOB_SHARD_MAX_MEMORY_MB = megabytes
        config = {**master_config, "log_each_hand": True}  # about 15 MB of hand history
        response = alice_client.post("/api/submit/", config, format="json")
        if accepted:
            assert response.status_code == 202
            return
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["path"] == "log_hands" and "JOB_SHARD_MAX_MEMORY_MB" in error["reason"]

    def test_validate_refuses_what_submit_refuses(self, alice_client, master_config):
        players = [{"profile": "master_player"} for _ in range(7)]
        config = {**master_config, "players": players, "num_rounds": 1, "sessions": 1_000_000}
        response = alice_client.post("/api/validate/", config, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "sessions"

    def test_the_issues_overflowing_count_is_a_400_naming_tag_scale(
        self, alice_client, master_config
    ):
        # Issue 14: these tags at tag_scale 1e308 passed, then crashed the worker.
        counting = {"tags": [10, 10, 10, 10, 10, 0, 0, 0, -10, -10], "tag_scale": 1e308}
        player = {"profile": "master_player", "counting_strategy": counting}
        config = {**master_config, "players": [player]}
        for url in ("/api/validate/", "/api/submit/"):
            response = alice_client.post(url, config, format="json")
            assert response.status_code == 400
            paths = [error["path"] for error in response.json()["errors"]]
            assert paths == ["players[0].counting_strategy.tag_scale"]
        assert not SimulationJob.objects.exists()
