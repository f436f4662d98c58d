"""What Flower shows, seen without Flower: a worker from the Procfile's line, with
CELERY_WORKER_SEND_TASK_EVENTS=true, against a real Redis, runs a split job's shard; its
remote control (`celery inspect active`) names the running shard task with its worker, and
the event stream (`celery events`, which Flower consumes) carries the shard's task sent by
the web process, received and started by that worker. The shard id in the task's args is
the JobShard row, which names its job and index.

Flower itself is not installed by the service (it is a monitor an operator runs beside the
fleet, docs/OPERATIONS.md): these are the two interfaces it is built on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.events.receiver import EventReceiver

from simulator.models import JobShard, JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.helpers import http, start_web, start_worker
from tests.integration.processes import stop_process, wait_until

# A shard must outlast one `inspect active` round trip (its timeout below) with room to
# spare on a quiet machine: 20 M rounds ran in 2.9 s there and the job was done before the
# first answer was read; 100 M take about 15 s.
SHARD_ROUNDS = 100_000_000
WAIT = 180
NODE = "ev0"


@pytest.fixture(scope="module")
def events_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        # A database of the private Redis no other test module uses.
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/6",
        "CELERY_WORKER_SEND_TASK_EVENTS": "true",
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "JOB_MAX_ROUNDS": "10000000000",
        "JOB_PROGRESS_INTERVAL": "0.2",
        "JOB_CHUNK_ROUNDS": "20000",
        "THROTTLE_SUBMIT_RATE": "none",
    }


@pytest.fixture(scope="module")
def events_web(events_env, logs_dir) -> Iterator[str]:
    proc, base = start_web(events_env, logs_dir / "events-web.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def events_worker(events_env, logs_dir) -> Iterator[None]:
    proc = start_worker(events_env, logs_dir / "events-worker.log", name=NODE, wait=WAIT)
    try:
        yield
    finally:
        stop_process(proc)


@pytest.fixture
def monitor(events_env, monkeypatch) -> Iterator[Celery]:
    """A Celery app of the test's own on the fleet's broker: what `celery -A service
    inspect` and Flower connect as. (Celery reads CELERY_BROKER_URL from the environment
    before its own configuration: this process's names the tests' broker, not the
    fleet's, so it is the fleet's while the test runs.)"""
    monkeypatch.setenv("CELERY_BROKER_URL", events_env["CELERY_BROKER_URL"])
    app = Celery("monitor", broker=events_env["CELERY_BROKER_URL"], set_as_current=False)
    try:
        yield app
    finally:
        app.close()


class _Listening(EventReceiver):
    """The event stream, kept in a list, with a flag once it is subscribed (Redis's events
    are a publish/subscribe fan-out: one sent before that is never seen)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ready = threading.Event()

    def on_consume_ready(self, *args: Any, **kwargs: Any) -> None:
        super().on_consume_ready(*args, **kwargs)
        self.ready.set()


@pytest.fixture
def event_stream(monitor) -> Iterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    connection = monitor.connection_for_read()
    receiver = _Listening(connection, handlers={"*": events.append}, app=monitor)
    thread = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
    thread.start()
    try:
        assert receiver.ready.wait(30), "the event receiver never subscribed"
        yield events
    finally:
        receiver.should_stop = True  # seen within its 1 s drain timeout
        thread.join(10)
        connection.release()


def _split_job(web: str, token: str) -> str:
    config = {**load_master_config(3 * SHARD_ROUNDS), "seed": 4, "stop_when_broke": False}
    status, body = http("POST", f"{web}/api/submit/", config, token=token)
    assert status == 202, body
    return body["job_id"]


def _running_shard_task(monitor: Celery, job_id: str) -> tuple[str, dict[str, Any], JobShard]:
    """(node, task, shard): a shard task `inspect active` reports while the database holds
    that shard RUNNING, claimed by that node's process."""

    def seen() -> tuple[str, dict[str, Any], JobShard] | None:
        with monitor.connection_for_read() as connection:
            active = monitor.control.inspect(timeout=1, connection=connection).active() or {}
        for node, tasks in active.items():
            for task in tasks:
                if task["name"] != "simulator.run_job_shard":
                    continue
                shard = JobShard.objects.filter(id=task["args"][0], job_id=job_id).first()
                if shard is not None and shard.status == JobStatus.RUNNING:
                    return node, task, shard
        return None

    return wait_until(seen, WAIT, f"inspect active to show a running shard of {job_id}")


def _wait_until_no_shard_runs(monitor: Celery) -> None:
    def idle() -> bool:
        with monitor.connection_for_read() as connection:
            active = monitor.control.inspect(timeout=1, connection=connection).active() or {}
        return not any(
            task["name"] == "simulator.run_job_shard" for tasks in active.values() for task in tasks
        )

    wait_until(idle, 60, "the cancelled job's shard to stop")


class TestAWorkerWithEventsOn:
    def test_inspect_active_names_the_running_shard_and_its_worker(
        self, events_web, events_worker, monitor, alice_token
    ):
        job_id = _split_job(events_web, alice_token)
        try:
            node, task, shard = _running_shard_task(monitor, job_id)
            assert node.startswith(f"{NODE}@")
            assert task["hostname"] == node
            # The row says the same: the node, and the pool process that runs it.
            assert shard.claimed_by.startswith(f"{node}:")
            assert shard.claimed_by.rsplit(":", 1)[1] == str(task["worker_pid"])
            assert str(shard.job_id) == job_id and 0 <= shard.index < 3
            assert task["time_start"] is not None
        finally:
            http("POST", f"{events_web}/api/jobs/{job_id}/cancel/", {}, token=alice_token)
            # The shard stops at its next progress report; the test's database is emptied
            # after it, never under a worker still writing.
            _wait_until_no_shard_runs(monitor)

    def test_the_event_stream_shows_the_shard_sent_received_and_started(
        self, events_web, events_worker, monitor, event_stream, alice_token
    ):
        job_id = _split_job(events_web, alice_token)
        try:
            _, task, shard = _running_shard_task(monitor, job_id)
            uuid = task["id"]

            def of_task(kind: str) -> dict[str, Any] | None:
                return next(
                    (e for e in list(event_stream) if e["type"] == kind and e["uuid"] == uuid),
                    None,
                )

            started = wait_until(lambda: of_task("task-started"), 30, "task-started")
            received = of_task("task-received")
            assert received is not None
            assert received["name"] == "simulator.run_job_shard"
            assert str(shard.id) in received["args"]
            assert received["hostname"] == started["hostname"] == task["hostname"]
            # An event's pid is its sender's, the worker's main process: the middle of the
            # shard's claimed_by (node:main pid:pool pid).
            assert shard.claimed_by.split(":")[-2] == str(started["pid"])
            # Sent by the web process (CELERY_TASK_SEND_SENT_EVENT follows the switch), so
            # a monitor sees a shard waiting in the queue before any worker takes it.
            sent = of_task("task-sent")
            assert sent is not None and sent["name"] == "simulator.run_job_shard"
            # The worker's heartbeats (what Flower's worker list shows as online) flow too.
            # (every 2 s: waited for, bounded, since the shard is found within a second)
            wait_until(
                lambda: any(e["type"] == "worker-heartbeat" for e in list(event_stream)),
                30,
                "a worker heartbeat event",
            )
        finally:
            http("POST", f"{events_web}/api/jobs/{job_id}/cancel/", {}, token=alice_token)

        def stopped() -> bool:
            return SimulationJob.objects.get(id=job_id).status == JobStatus.CANCELLED

        wait_until(stopped, 30, "the job to be cancelled")
        # The shard that ran stops at its next progress report: its task ends, and says so.
        wait_until(
            lambda: any(
                e["type"] in {"task-succeeded", "task-failed"} and e["uuid"] == uuid
                for e in list(event_stream)
            ),
            60,
            "the cancelled shard's task to end",
        )
