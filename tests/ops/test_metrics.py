"""GET /metrics from the Procfile's web process (two gunicorn workers) while the
Procfile's worker runs jobs: the counters of every process add up and move by exactly
what happened (jobs and shards submitted and finished, rounds played, requests by view
and status, a throttled read), the database's and the broker's gauges are read at scrape
time, and the endpoint is closed without its token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from simulator.models import JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.processes import stop_process, wait_until
from tests.ops.conftest import METRICS_TOKEN, READ_RATE, SHARD_ROUNDS, SHARD_SHOES, start_ops_web

WAIT = 240
UNSPLIT_ROUNDS = 2_000
SPLIT_ROUNDS = 3 * SHARD_ROUNDS
INDEX_SHOES = 2 * SHARD_SHOES
# Two plays of a 6-deck shoe: a few seconds of one core.
INDEX_REQUEST = {
    "casino": {"deck_count": 6},
    "plays": [{"hand": "16", "vs": "10", "actions": ["H", "S"]}, "insurance"],
    "shoes": INDEX_SHOES,
    "seed": 11,
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def scrape(base: str) -> Samples:
    status, body, headers = request(
        "GET", f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def alice_token(transactional_db, django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user(username="alice", password="alice-pw-123")
    return Token.objects.create(user=user).key


@pytest.fixture
def bob_token(transactional_db, django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user(username="bob", password="bob-pw-123")
    return Token.objects.create(user=user).key


class TestMetricsWhileJobsRun:
    @pytest.fixture
    def run(self, ops_web, ops_worker, alice_token, bob_token) -> Iterator[dict[str, Any]]:
        """Scrape, then: alice submits two unsplit jobs, a split job of three shards and
        an index job of two; bob reads until he is throttled; all jobs COMPLETE; scrape."""
        before = scrape(ops_web)
        auth = {"Authorization": f"Token {alice_token}"}
        submits = [
            ("submit", load_master_config(UNSPLIT_ROUNDS)),
            ("submit", {**load_master_config(UNSPLIT_ROUNDS), "seed": 7}),
            ("submit", {**load_master_config(SPLIT_ROUNDS), "stop_when_broke": False}),
            ("indices", INDEX_REQUEST),
        ]
        for path, body in submits:
            status, answer, _ = request("POST", f"{ops_web}/api/{path}/", body, auth)
            assert status == 202, answer
        # Alice never reads over HTTP (her reads would count against the read rate): the
        # test follows her jobs in the database.
        wait_until(
            lambda: (
                SimulationJob.objects.filter(status=JobStatus.COMPLETE).count() == 4
                or SimulationJob.objects.filter(status=JobStatus.FAILED).exists()
            ),
            WAIT,
            "the four jobs to COMPLETE",
            interval=0.5,
        )
        assert not SimulationJob.objects.exclude(status=JobStatus.COMPLETE).exists(), list(
            SimulationJob.objects.values("status", "error")
        )
        bob = {"Authorization": f"Token {bob_token}"}
        answers = [
            request("GET", f"{ops_web}/api/jobs/", None, bob)[0] for _ in range(READ_RATE + 1)
        ]
        assert answers == [200] * READ_RATE + [429]
        yield {"before": before, "after": scrape(ops_web)}

    def test_every_counter_moves_by_what_the_jobs_and_the_requests_did(self, run):
        # One run of the jobs (a minute of the shared machine) read four ways.
        self.check_jobs_and_shards_submitted_and_finished(run)
        self.check_rounds_played_move_by_the_rounds_and_index_jobs_by_their_shoes(run)
        self.check_http_requests_by_view_and_status_and_the_throttled_read_by_reason(run)
        self.check_the_database_and_the_broker_are_read_at_scrape_time(run)

    def check_jobs_and_shards_submitted_and_finished(self, run):
        before, after = run["before"], run["after"]
        assert moved(before, after, "jost_jobs_submitted_total", kind="simulation") == 3
        assert moved(before, after, "jost_jobs_submitted_total", kind="indices") == 1
        assert moved(before, after, "jost_shards_submitted_total", kind="simulation") == 3
        assert moved(before, after, "jost_shards_submitted_total", kind="indices") == 2
        for kind, jobs in (("simulation", 3), ("indices", 1)):
            assert (
                moved(before, after, "jost_jobs_finished_total", kind=kind, status="COMPLETE")
                == jobs
            )
            assert moved(before, after, "jost_job_run_seconds_count", kind=kind) == jobs
        assert moved(before, after, "jost_shards_finished_total", kind="simulation") == 3
        assert moved(before, after, "jost_shards_finished_total", kind="indices") == 2
        assert moved(before, after, "jost_shard_run_seconds_count", kind="indices") == 2
        assert (
            moved(before, after, "jost_jobs_finished_total", kind="simulation", status="FAILED")
            == 0
        )
        assert moved(before, after, "jost_shards_failed_total", kind="simulation") == 0

    def check_rounds_played_move_by_the_rounds_and_index_jobs_by_their_shoes(self, run):
        before, after = run["before"], run["after"]
        rounds = 2 * UNSPLIT_ROUNDS + SPLIT_ROUNDS
        assert moved(before, after, "jost_rounds_played_total", kind="simulation") == rounds
        assert moved(before, after, "jost_rounds_played_total", kind="indices") == INDEX_SHOES
        assert moved(before, after, "jost_engine_seconds_total", kind="simulation") > 0

    def check_http_requests_by_view_and_status_and_the_throttled_read_by_reason(self, run):
        before, after = run["before"], run["after"]
        assert (
            moved(before, after, "jost_http_requests_total", view="api-submit", status="202") == 3
        )
        assert (
            moved(before, after, "jost_http_requests_total", view="api-indices", status="202") == 1
        )
        assert (
            moved(before, after, "jost_http_requests_total", view="api-jobs", status="200")
            == READ_RATE
        )
        assert moved(before, after, "jost_http_requests_total", view="api-jobs", status="429") == 1
        assert moved(before, after, "jost_http_refused_total", reason="throttle_read") == 1
        assert moved(before, after, "jost_http_request_seconds_count", view="api-submit") == 3
        # The scrape before this one was answered and counted too.
        assert moved(before, after, "jost_http_requests_total", view="metrics", status="200") == 1

    def check_the_database_and_the_broker_are_read_at_scrape_time(self, run):
        after = run["after"]
        assert value(after, "jost_jobs", status="COMPLETE", kind="simulation") == 3
        assert value(after, "jost_jobs", status="COMPLETE", kind="indices") == 1
        assert value(after, "jost_jobs", status="RUNNING", kind="simulation") == 0
        assert value(after, "jost_shards", status="COMPLETE", kind="indices") == 2
        assert value(after, "jost_broker_up") == 1
        # Every job done: nothing waits in the workers' queue.
        for queue in ("urgent", "priority", "celery"):  # every queue a worker serves
            assert ("jost_queue_depth", frozenset({("queue", queue)})) in after
            assert value(after, "jost_queue_depth", queue=queue) == 0


class TestMetricsAccess:
    def test_no_token_set_is_404(self, ops_env, ops_logs):
        env = {k: v for k, v in ops_env.items() if k != "METRICS_TOKEN"}
        proc, base = start_ops_web(env, ops_logs, "web-no-token")
        try:
            headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            assert request("GET", f"{base}/metrics", headers=headers)[0] == 404
        finally:
            stop_process(proc)

    @pytest.mark.parametrize(
        "header",
        [None, f"Bearer {METRICS_TOKEN}x", "Bearer ", f"Token {METRICS_TOKEN}", METRICS_TOKEN],
    )
    def test_a_missing_or_wrong_bearer_token_is_401(self, ops_web, header):
        headers = {"Authorization": header} if header is not None else {}
        status, body, answer = request("GET", f"{ops_web}/metrics", headers=headers)
        assert status == 401
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert b"jost_" not in body
