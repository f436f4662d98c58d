"""Cancel against the real worker: a RUNNING job stops at its next progress report, keeps
the rounds it played, and the same worker then runs the next job to the end."""

from __future__ import annotations

import time

from tests.helpers import load_master_config
from tests.integration.helpers import assert_consistent_results, http
from tests.integration.processes import wait_until

# The first job in a fresh worker may compile the engine's kernel (numba) before it runs.
JOB_TIMEOUT = 300


def status_of(web: str, token: str, job_id: str) -> dict:
    code, body = http("GET", f"{web}/api/status/{job_id}/", token=token)
    assert code == 200, body
    return body


class TestCancelOnTheWorker:
    def test_a_running_job_stops_and_the_worker_completes_the_next(
        self, web, celery_worker, alice_token
    ):
        # Far more rounds than the test could wait for: only the cancel can end it.
        long = load_master_config(num_rounds=500_000_000)
        code, body = http("POST", f"{web}/api/submit/", long, token=alice_token)
        assert code == 202, body
        long_id = body["job_id"]

        def running_with_progress() -> bool:
            status = status_of(web, alice_token, long_id)  # one answer, one moment
            return status["status"] == "RUNNING" and status["progress"]["rounds_done"] > 0

        wait_until(running_with_progress, JOB_TIMEOUT, "the long job to report progress")

        code, body = http("POST", f"{web}/api/jobs/{long_id}/cancel/", token=alice_token)
        assert code == 200, body
        assert body["status"] == "CANCELLED"
        # The worker stops at its next report and says so; it records nothing more.
        wait_until(
            lambda: f"Job {long_id} cancelled while running" in celery_worker.read_text(),
            30,
            "the worker to stop the cancelled job",
        )
        stopped = status_of(web, alice_token, long_id)
        time.sleep(1.0)
        later = status_of(web, alice_token, long_id)
        assert later["status"] == "CANCELLED"
        assert later["progress"]["rounds_done"] == stopped["progress"]["rounds_done"] > 0
        assert later["progress"]["rounds_done"] < 500_000_000

        code, body = http("POST", f"{web}/api/jobs/{long_id}/cancel/", token=alice_token)
        assert code == 409 and body["status"] == "CANCELLED", body

        short = load_master_config(num_rounds=2000)
        code, body = http("POST", f"{web}/api/submit/", short, token=alice_token)
        assert code == 202, body
        short_id = body["job_id"]
        final = wait_until(
            lambda: (lambda s: s if s["status"] in {"COMPLETE", "FAILED", "CANCELLED"} else None)(
                status_of(web, alice_token, short_id)
            ),
            JOB_TIMEOUT,
            "the next job to finish",
        )
        assert final["status"] == "COMPLETE", final
        code, body = http("GET", f"{web}/api/results/{short_id}/", token=alice_token)
        assert_consistent_results(body["results"], 2000)
