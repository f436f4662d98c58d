"""Safe retries against the live web process: a submit whose answer is lost after the
service stored the job is sent again with the same Idempotency-Key and makes one job; a
429 is waited out for as long as Retry-After says; a call that is not safe to repeat is
not repeated."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from jost_client import JostClient, RetryPolicy, TransportError
from simulator.models import SimulationJob
from tests.client.dropping_proxy import DroppingProxy
from tests.helpers import load_master_config
from tests.integration.helpers import start_web
from tests.integration.processes import stop_process


@pytest.fixture
def alice_client(users, web) -> JostClient:
    users("alice")
    client = JostClient(web)
    client.create_token("alice", "alice-password-123")
    return client


def _through(proxy: DroppingProxy, client: JostClient, sleeps: list[float]) -> JostClient:
    routed = JostClient(proxy.url, client.token, retry=RetryPolicy(backoff=0.05))
    routed.transport.sleep = sleeps.append  # waits recorded, not slept
    return routed


def test_a_submit_whose_answer_was_lost_is_retried_and_makes_one_job(alice_client, web):
    proxy = DroppingProxy(web, drop=1)
    sleeps: list[float] = []
    try:
        accepted = _through(proxy, alice_client, sleeps).jobs.submit(load_master_config(100))
    finally:
        proxy.close()
    # The service answered twice (stored once), the client read the second answer.
    assert proxy.dropped == 1 and proxy.forwarded == 2 and len(sleeps) == 1
    assert list(SimulationJob.objects.values_list("id", flat=True)) == [uuid.UUID(accepted.job_id)]


def test_a_profile_create_whose_answer_was_lost_is_not_sent_again(alice_client, web):
    proxy = DroppingProxy(web, drop=1)
    sleeps: list[float] = []
    try:
        with pytest.raises(TransportError):
            _through(proxy, alice_client, sleeps).profiles.create(
                "casino", "mine", {"hit_on_soft_17": False}
            )
    finally:
        proxy.close()
    assert proxy.forwarded == 1 and sleeps == []
    assert [p.name for p in alice_client.profiles.list()] == ["mine"]


@pytest.fixture(scope="module")
def throttled_web(service_env, logs_dir) -> Iterator[str]:
    """The web process with one submit a second per user: a second submit in the same
    second is a 429 with Retry-After."""
    env = {**service_env, "THROTTLE_SUBMIT_RATE": "1/second"}
    proc, base = start_web(env, logs_dir / "web-throttled.log")
    try:
        yield base
    finally:
        stop_process(proc)


def test_a_429_is_waited_out_as_retry_after_says(users, throttled_web):
    users("alice")
    client = JostClient(throttled_web, retry=RetryPolicy(backoff=0.01))
    client.create_token("alice", "alice-password-123")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client.transport.sleep = sleep
    ids = {client.jobs.submit(load_master_config(100)).job_id for _ in range(3)}
    # Three jobs in at most three windows: at least one submit met the 429 and waited the
    # full Retry-After (1 s), far longer than the backoff alone (at most 0.01 s, doubled).
    assert len(ids) == 3 and SimulationJob.objects.count() == 3
    assert waits and all(w >= 1.0 for w in waits)
