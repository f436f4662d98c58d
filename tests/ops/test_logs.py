"""LOG_FORMAT=json against the Procfile's web and worker processes: every line each writes
to stderr is one JSON object, and a submit's X-Request-ID follows the job from the web's
lines to the worker's, with the job id, the shard index, the user id and the host."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from simulator.models import JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.processes import wait_until
from tests.ops.conftest import SHARD_ROUNDS
from tests.ops.test_metrics import request

WAIT = 240
FIELDS = {"time", "level", "logger", "message", "host"}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of `path` as JSON; fails naming the first line that is not."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            pytest.fail(f"{path.name} line {number} is not JSON: {line[:300]!r}")
        assert isinstance(doc, dict) and set(doc) >= FIELDS, line
        lines.append(doc)
    return lines


@pytest.fixture
def alice(transactional_db, django_user_model) -> tuple[Any, str]:
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user(username="alice", password="alice-pw-123")
    return user, Token.objects.create(user=user).key


class TestJsonLogs:
    def test_a_submits_request_id_follows_its_job_into_the_workers_lines(
        self, ops_web, ops_worker, ops_logs, alice
    ):
        user, token = alice
        request_id = "ops-logs-3f2a9c1e-request"
        config = {**load_master_config(2 * SHARD_ROUNDS), "stop_when_broke": False}
        status, body, headers = request(
            "POST",
            f"{ops_web}/api/submit/",
            config,
            {"Authorization": f"Token {token}", "X-Request-ID": request_id},
        )
        assert status == 202, body
        assert headers["X-Request-ID"] == request_id
        job_id = json.loads(body)["job_id"]
        wait_until(
            lambda: SimulationJob.objects.filter(id=job_id, status=JobStatus.COMPLETE).exists(),
            WAIT,
            "the job to COMPLETE",
            interval=0.5,
        )
        assert SimulationJob.objects.get(id=job_id).request_id == request_id

        web = [
            line
            for line in json_lines(ops_logs / "web.err")
            if line.get("request_id") == request_id
        ]
        assert {"POST /api/submit/ 202"} <= {line["message"] for line in web}
        submitted = [line for line in web if line.get("job_id") == job_id]
        assert submitted and all(line["user_id"] == user.pk for line in submitted)
        assert all(line["host"] == socket.gethostname() for line in web)

        # The worker's lines for the job (its two shards stored, the merge), written by
        # the pool process that ran them, carry the submit's request id.
        worker = [line for line in json_lines(ops_worker) if line.get("job_id") == job_id]
        assert worker and all(line.get("request_id") == request_id for line in worker)
        assert all(line["user_id"] == user.pk for line in worker)
        assert {line.get("shard") for line in worker if "stored" in line["message"]} == {0, 1}

    def test_a_request_id_that_is_not_sane_is_replaced_by_a_new_one(self, ops_web):
        status, _, headers = request(
            "GET", f"{ops_web}/healthz", headers={"X-Request-ID": "bad id\\with spaces"}
        )
        assert status == 200
        assert headers["X-Request-ID"] != "bad id\\with spaces"
        assert len(headers["X-Request-ID"]) == 32

    def test_a_request_without_one_gets_one(self, ops_web):
        assert len(request("GET", f"{ops_web}/healthz")[2]["X-Request-ID"]) == 32
