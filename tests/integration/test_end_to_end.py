"""A job submitted over HTTP to Gunicorn runs on a real Celery worker through the real
engine, and its result is read back over HTTP."""

from __future__ import annotations

import time

from kombu import Connection

from simulator.models import JobStatus, SimulationJob
from simulator.tasks import run_simulation_job
from tests.helpers import load_master_config
from tests.integration.helpers import assert_consistent_results, http
from tests.integration.processes import wait_until

# The first job in a fresh worker may compile the engine's kernel (numba) before it runs.
JOB_TIMEOUT = 300


def poll_until_finished(web: str, token: str, job_id: str) -> dict:
    seen: list[str] = []
    running_progress: list[int] = []

    def finished():
        status, body = http("GET", f"{web}/api/status/{job_id}/", token=token)
        assert status == 200, body
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == "RUNNING":
            running_progress.append(body["progress"]["rounds_done"])
        return body if body["status"] in {"COMPLETE", "FAILED", "CANCELLED"} else None

    body = wait_until(finished, JOB_TIMEOUT, f"job {job_id} to finish", interval=0.25)
    body["seen"] = seen
    body["running_progress"] = running_progress
    return body


class TestEndToEnd:
    def test_a_job_submitted_over_http_completes_with_consistent_numbers(
        self, web, celery_worker, alice_token
    ):
        config = load_master_config(num_rounds=2000)
        status, body = http("POST", f"{web}/api/submit/", config, token=alice_token)
        assert status == 202, body
        assert list(body) == ["message", "job_id"]
        assert body["message"] == "Simulation job accepted."
        job_id = body["job_id"]

        final = poll_until_finished(web, alice_token, job_id)
        assert final["status"] == "COMPLETE", final
        assert final["progress"]["rounds_done"] == 2000

        status, body = http("GET", f"{web}/api/results/{job_id}/", token=alice_token)
        assert status == 200 and body["status"] == "COMPLETE"
        assert_consistent_results(body["results"], 2000)

        status, listing = http("GET", f"{web}/api/jobs/", token=alice_token)
        assert status == 200 and listing["results"][0]["job_id"] == job_id

    def test_a_job_the_engine_rejects_fails_with_the_reason_and_the_worker_goes_on(
        self, web, web_with_broker_down, celery_worker, alice_token, redis_url
    ):
        # Submitted while the broker is down, the job waits PENDING with no message; its
        # config is then broken in the database, where no validation guards it, and the
        # job is queued: the engine in the worker is the one that must refuse it.
        status, body = http(
            "POST",
            f"{web_with_broker_down}/api/submit/",
            load_master_config(100),
            token=alice_token,
        )
        assert status == 202
        job_id = body["job_id"]
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.PENDING
        # Both copies: the worker runs the config resolved at submit (resolved_config).
        job.request_data["num_rounds"] = "lots"
        job.resolved_config["num_rounds"] = "lots"
        job.save(update_fields=["request_data", "resolved_config"])
        with Connection(redis_url) as connection:
            run_simulation_job.apply_async(args=[job_id], connection=connection)

        final = poll_until_finished(web, alice_token, job_id)
        assert final["status"] == "FAILED"
        assert "num_rounds" in final["error"]
        status, body = http("GET", f"{web}/api/results/{job_id}/", token=alice_token)
        assert body["results"] is None and "num_rounds" in body["error"]

        # The same worker takes the next job and finishes it.
        status, body = http(
            "POST", f"{web}/api/submit/", load_master_config(500), token=alice_token
        )
        assert status == 202
        assert poll_until_finished(web, alice_token, body["job_id"])["status"] == "COMPLETE"

    def test_charlie_gets_404_and_a_stranger_401_over_http(
        self, web, alice_token, django_user_model
    ):
        from rest_framework.authtoken.models import Token

        alice = django_user_model.objects.get(username="alice")
        job = SimulationJob.objects.create(owner=alice, request_data={"num_rounds": 1})
        charlie = django_user_model.objects.create_user(username="charlie", password="x-123456!")
        charlie_token = Token.objects.create(user=charlie).key
        assert http("GET", f"{web}/api/status/{job.id}/", token=charlie_token)[0] == 404
        assert http("GET", f"{web}/api/status/{job.id}/")[0] == 401

    def test_healthz_is_200_with_database_and_broker_up(self, web):
        status, body = http("GET", f"{web}/healthz")
        assert status == 200 and body["status"] == "ok", body


class TestBrokerDown:
    def test_a_submit_still_gets_202_and_the_job_stays_pending(
        self, web_with_broker_down, alice_token
    ):
        started = time.monotonic()
        status, body = http(
            "POST",
            f"{web_with_broker_down}/api/submit/",
            load_master_config(100),
            token=alice_token,
        )
        assert status == 202, body
        assert time.monotonic() - started < 10
        assert SimulationJob.objects.get(id=body["job_id"]).status == JobStatus.PENDING

    def test_healthz_is_503_naming_the_broker(self, web_with_broker_down, transactional_db):
        status, body = http("GET", f"{web_with_broker_down}/healthz")
        assert status == 503
        assert body["down"] == ["broker"] and body["checks"]["database"] == "ok"


class TestDatabaseDown:
    def test_healthz_is_503_naming_the_database(self, web_with_database_down):
        status, body = http("GET", f"{web_with_database_down}/healthz")
        assert status == 503
        assert body["down"] == ["database"] and body["checks"]["broker"] == "ok"


class TestTimeLimit:
    def test_a_job_past_the_soft_time_limit_fails_saying_so_and_the_worker_goes_on(
        self, web, celery_worker, alice_token, redis_url, django_user_model
    ):
        # Celery puts the time limits in the message, from the sender's settings: this
        # one is sent with a 2 s soft limit, as a web process with
        # CELERY_TASK_SOFT_TIME_LIMIT=2 would send it.
        alice = django_user_model.objects.get(username="alice")
        config = load_master_config(num_rounds=1_000_000_000)
        job = SimulationJob.objects.create(
            owner=alice, request_data=config, rounds_total=config["num_rounds"]
        )
        with Connection(redis_url) as connection:
            run_simulation_job.apply_async(
                args=[str(job.id)], connection=connection, soft_time_limit=2, time_limit=60
            )
        final = poll_until_finished(web, alice_token, str(job.id))
        assert final["status"] == "FAILED"
        assert "time limit of 2 s" in final["error"]
        # While it ran, its progress showed in /api/status/.
        assert max(final["running_progress"], default=0) > 0, final

        _status, body = http(
            "POST", f"{web}/api/submit/", load_master_config(500), token=alice_token
        )
        assert poll_until_finished(web, alice_token, body["job_id"])["status"] == "COMPLETE"
