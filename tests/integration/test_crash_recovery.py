"""A crash or an outage never loses a job, and every job, split or not, is COMPLETE within
RECOVERY_BOUND (30 s) plus the lost work's own run time after the fault ends, with the
result an undisturbed run of the same seed gives.

Real processes with the SHIPPED DEFAULTS: not one recovery setting is overridden
(JOB_STALE_AFTER 10 s, JOB_SWEEP_INTERVAL 5 s, JOB_REQUEUE_AFTER 300 s,
JOB_SHARD_REQUEUE_AFTER 60 s, JOB_SHARD_ROUNDS 10 M, connection health checks on): two
Celery workers from the Procfile's `worker` line (one pool child each), Celery beat from
its `beat` line and Gunicorn from its `web` line, on a Redis of this module's own (which
the tests restart: no persistence, its queue is lost) and the PostgreSQL test database
reached through a TCP proxy of this module's own (tests/integration/tcp_proxy.py), which
a test cuts for a database outage that no other test, and no other database, sees.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

import jost_engine
from simulator.models import JobShard, JobStatus, SimulationJob
from tests.helpers import load_master_config
from tests.integration.helpers import (
    assert_consistent_results,
    http,
    live_database_url,
    procfile_command,
    start_web,
    start_worker,
)
from tests.integration.processes import (
    REPO,
    free_port,
    start_process,
    start_redis,
    stop_process,
    wait_until,
)

# What the issue allows after a fault ends, beyond the lost work's own run time.
RECOVERY_BOUND = 30.0
# An unsplit job long enough (some seconds at millions of rounds a second) to be caught
# mid-run; every unsplit job here has this config and seed, so one undisturbed run is the
# reference for all.
LONG_JOB_ROUNDS = 40_000_000
# A split job of ten shards at the shipped JOB_SHARD_ROUNDS (10 M).
SPLIT_ROUNDS = 100_000_000
SEED = 20261202
# Bounded waits: generous for a loaded machine, far below anything the issue measured.
WAIT = 180
WORKER_APP = "jost-recovery-worker"


def unsplit_config() -> dict[str, Any]:
    return {**load_master_config(LONG_JOB_ROUNDS), "seed": SEED}


def split_config() -> dict[str, Any]:
    return {**load_master_config(SPLIT_ROUNDS), "seed": SEED, "stop_when_broke": False}


class Stack:
    """This module's processes: what a test may kill, cut or restart, and bring back."""

    def __init__(self, env: dict[str, str], logs: Path, redis_port: int, proxy: Any) -> None:
        self.env, self.logs, self.redis_port, self.proxy = env, logs, redis_port, proxy
        self.redis: Any = None
        self.workers: dict[str, Any] = {}
        self.base = ""

    def start_redis(self) -> None:
        self.redis = start_redis(self.redis_port, log=self.logs / "recovery-redis.log")

    def restart_redis(self, down_for: float = 0.0) -> None:
        """Stop Redis (no persistence: every queued message is gone) and start it again."""
        stop_process(self.redis)
        time.sleep(down_for)
        self.start_redis()

    def start_workers(self, *names: str) -> None:
        for name in names:
            if name not in self.workers:
                log = self.logs / f"recovery-worker-{name}-{time.time_ns()}.log"
                self.workers[name] = start_worker(self.worker_env, log, name=name, wait=WAIT)

    def stop_workers(self) -> None:
        for name in list(self.workers):
            stop_process(self.workers.pop(name))

    def kill_worker(self, name: str) -> None:
        """SIGKILL a whole worker, its main process and its pool: an OOM kill, a host lost."""
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    @property
    def worker_env(self) -> dict[str, str]:
        # A name of its own on its database connections, for pg_terminate_backend.
        return {
            **self.env,
            "DATABASE_URL": self.env["DATABASE_URL"] + f"?application_name={WORKER_APP}",
        }

    def cut_database(self) -> None:
        self._signal_proxy(signal.SIGUSR1, "cut")

    def restore_database(self) -> None:
        self._signal_proxy(signal.SIGUSR2, "listening")

    def _signal_proxy(self, sig: signal.Signals, word: str) -> None:
        log = self.logs / "recovery-proxy.log"
        before = log.read_text().count(word)
        self.proxy.send_signal(sig)
        wait_until(lambda: log.read_text().count(word) > before, 10, f"the proxy to say {word}")


@pytest.fixture(scope="module")
def stack(service_env, logs_dir) -> Iterator[Stack]:
    db = urlsplit(live_database_url())
    proxy_port = free_port()
    proxy_log = logs_dir / "recovery-proxy.log"
    proxy = start_process(
        [
            sys.executable,
            str(REPO / "tests/integration/tcp_proxy.py"),
            str(proxy_port),
            db.hostname or "127.0.0.1",
            str(db.port or 5432),
        ],
        env=dict(os.environ),
        log=proxy_log,
    )
    try:
        wait_until(lambda: "listening" in proxy_log.read_text(), 20, "the database proxy")
    except BaseException:
        stop_process(proxy)  # it never came up: nothing else will stop it
        raise
    through_proxy = db._replace(netloc=db.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy_port}")
    redis_port = free_port()
    # The shipped defaults: nothing of service_env's that concerns recovery or connections.
    env = {k: v for k, v in service_env.items() if not k.startswith(("JOB_", "CONN_"))}
    env.update(
        {
            "DATABASE_URL": urlunsplit(through_proxy),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CELERY_CONCURRENCY": "1",
        }
    )
    stack = Stack(env, logs_dir, redis_port, proxy)
    procs = []
    try:
        stack.start_redis()
        web, stack.base = start_web(env, logs_dir / "recovery-web.log")
        procs.append(web)
        procs.append(
            start_process(procfile_command("beat"), env=env, log=logs_dir / "recovery-beat.log")
        )
        stack.start_workers("w0", "w1")
        yield stack
    finally:
        stack.stop_workers()
        for proc in reversed(procs):
            stop_process(proc)
        if stack.redis is not None:
            stop_process(stack.redis)
        stop_process(proxy)


@pytest.fixture(scope="module")
def undisturbed() -> dict[str, dict[str, Any]]:
    """The engine's own results for the two configs and the seed, run in this process
    (the same shards for the split one): what every recovered job must equal. Computed on
    first use, once."""
    return {}


def reference(cache: dict[str, dict[str, Any]], job: SimulationJob) -> dict[str, Any]:
    key = "split" if job.shards_total else "unsplit"
    if key not in cache:
        kwargs = {"shard_rounds": job.shard_rounds} if job.shards_total else {}
        cache[key] = jost_engine.run_simulation_from_config(
            job.resolved_config, seed=job.seed, **kwargs
        )
    return cache[key]


def submit(stack: Stack, token: str, config: dict[str, Any]) -> str:
    status, body = http("POST", f"{stack.base}/api/submit/", config, token=token)
    assert status == 202, body
    return body["job_id"]


def running_with_progress(job_id: str) -> SimulationJob:
    def found() -> SimulationJob | None:
        job = SimulationJob.objects.get(id=job_id)
        assert job.status in {JobStatus.PENDING, JobStatus.RUNNING}, "finished before the fault"
        return job if job.status == JobStatus.RUNNING and job.rounds_done > 0 else None

    return wait_until(found, WAIT, f"job {job_id} RUNNING with progress", interval=0.05)


def finished(job_id: str) -> tuple[SimulationJob, float]:
    """The job once it is finished, and when (time.monotonic()) that was first seen."""

    def done() -> SimulationJob | None:
        job = SimulationJob.objects.get(id=job_id)
        return (
            job
            if job.status in {JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED}
            else None
        )

    job = wait_until(done, WAIT, f"job {job_id} to finish", interval=0.1)
    return job, time.monotonic()


def assert_undisturbed(job: SimulationJob, undisturbed, without_timing) -> None:
    assert job.status == JobStatus.COMPLETE, job.error
    rounds = SPLIT_ROUNDS if job.shards_total else LONG_JOB_ROUNDS
    assert_consistent_results(job.result_data, rounds)
    assert without_timing(job.result_data) == without_timing(reference(undisturbed, job))


def own_run_seconds(job: SimulationJob) -> float:
    """How long the run that completed an unsplit job took (its last claim to its end)."""
    return (job.finished_at - job.started_at).total_seconds()


def shard_seconds_after(job: SimulationJob, moment: float, now: float) -> float:
    """Run time of the shards stored after `moment` (time.monotonic()): the work that was
    still to do, or to do again, when the fault ended. Wall time, one worker's worth."""
    wall_now = time.time()
    since = wall_now - (now - moment)
    rows = job.shards.filter(status=JobStatus.COMPLETE).values_list("finished_at", "wall_seconds")
    return sum(seconds for at, seconds in rows if at.timestamp() > since)


class TestWorkerKilled:
    def test_an_unsplit_job_whose_worker_is_sigkilled_completes_within_the_bound(
        self, stack, alice_token, undisturbed, without_timing
    ):
        job_id = submit(stack, alice_token, unsplit_config())
        job = running_with_progress(job_id)
        victim = job.claimed_by.split("@", 1)[0]
        assert victim in stack.workers, job.claimed_by
        stack.kill_worker(victim)
        killed = time.monotonic()
        try:
            job, done = finished(job_id)
        finally:
            stack.start_workers(victim)
        took = done - killed
        assert_undisturbed(job, undisturbed, without_timing)
        # Run again from the start under a second claim, by the other worker.
        assert job.attempts == 2 and not job.claimed_by.startswith(f"{victim}@")
        assert took < RECOVERY_BOUND + own_run_seconds(job), (took, own_run_seconds(job))

    def test_a_job_whose_pool_child_is_killed_completes_and_the_worker_lives(
        self, stack, alice_token, undisturbed, without_timing
    ):
        job_id = submit(stack, alice_token, unsplit_config())
        job = running_with_progress(job_id)
        worker = stack.workers[job.claimed_by.split("@", 1)[0]]
        child = int(job.claimed_by.rsplit(":", 1)[1])
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)
        killed = time.monotonic()
        job, done = finished(job_id)
        assert_undisturbed(job, undisturbed, without_timing)
        assert job.attempts == 2 and int(job.claimed_by.rsplit(":", 1)[1]) != child
        assert done - killed < RECOVERY_BOUND + own_run_seconds(job)
        assert worker.poll() is None, "the worker itself must survive its child's death"


class TestDatabaseConnectionDropped:
    def test_a_job_whose_workers_connections_are_terminated_mid_run_completes_at_once(
        self, stack, alice_token, undisturbed, without_timing
    ):
        job_id = submit(stack, alice_token, unsplit_config())
        running_with_progress(job_id)
        with psycopg.connect(live_database_url(), autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [WORKER_APP],
            ).fetchone()[0]
        dropped = time.monotonic()
        assert ended >= 1
        job, done = finished(job_id)
        assert_undisturbed(job, undisturbed, without_timing)
        # The database failed, not the job: the claim was given back and taken again at
        # once, and the attempt not counted against the job.
        assert job.attempts == 1
        assert done - dropped < RECOVERY_BOUND + own_run_seconds(job)
        assert all(proc.poll() is None for proc in stack.workers.values())


class TestRedisRestarted:
    def test_a_pending_job_whose_redis_restarted_before_a_worker_took_it_completes(
        self, stack, alice_token, undisturbed, without_timing
    ):
        stack.stop_workers()
        try:
            job_id = submit(stack, alice_token, unsplit_config())
            stack.restart_redis()  # its message is gone
            back = time.monotonic()
            # Workers come back after the restart, as on a host that rebooted: their
            # start-up counts against the bound too.
            stack.start_workers("w0", "w1")
            job, done = finished(job_id)
        finally:
            stack.start_workers("w0", "w1")
        assert_undisturbed(job, undisturbed, without_timing)
        assert job.attempts == 1
        assert done - back < RECOVERY_BOUND + own_run_seconds(job), done - back

    def test_a_split_job_through_a_redis_outage_completes_within_the_bound(
        self, stack, alice_token, undisturbed, without_timing
    ):
        job_id = submit(stack, alice_token, split_config())
        wait_until(
            lambda: JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).exists(),
            WAIT,
            "a first shard stored",
            interval=0.05,
        )
        # Down about as long as the (5.8 s); its queued shards are lost.
        stack.restart_redis(down_for=5)
        back = time.monotonic()
        job, done = finished(job_id)
        assert_undisturbed(job, undisturbed, without_timing)
        left = shard_seconds_after(job, back, done)
        assert done - back < RECOVERY_BOUND + left, (done - back, left)


class TestDatabaseOutage:
    def test_a_split_job_through_a_15_s_database_outage_completes_and_the_web_says_503(
        self, stack, alice_token, undisturbed, without_timing
    ):
        job_id = submit(stack, alice_token, split_config())
        wait_until(
            lambda: JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).exists(),
            WAIT,
            "a first shard stored",
            interval=0.05,
        )
        stack.cut_database()
        cut = time.monotonic()
        try:
            # While it is down: the API says 503 with Retry-After, in JSON; a page says
            # 503 too; /healthz names the database. None is a 500.
            status, body, headers = request(stack.base + f"/api/status/{job_id}/", alice_token)
            assert status == 503 and headers["Content-Type"] == "application/json", body
            assert "database" in body and int(headers["Retry-After"]) > 0
            # A session cookie makes the dashboard read the database.
            session = "sessionid=" + "a" * 32
            status, body, headers = request(stack.base + "/dashboard/", cookie=session)
            assert status == 503 and headers["Content-Type"].startswith("text/html"), body
            assert int(headers["Retry-After"]) > 0
            status, body, _ = request(stack.base + "/healthz")
            assert status == 503 and '"database"' in body
            time.sleep(max(0.0, 15 - (time.monotonic() - cut)))
        finally:
            stack.restore_database()
        back = time.monotonic()
        job, done = finished(job_id)
        assert_undisturbed(job, undisturbed, without_timing)
        left = shard_seconds_after(job, back, done)
        assert done - back < RECOVERY_BOUND + left, (done - back, left)
        assert all(proc.poll() is None for proc in stack.workers.values())
        status, _, _ = request(stack.base + f"/api/status/{job_id}/", alice_token)
        assert status == 200


class TestBrokerDownAtSubmit:
    def test_a_job_submitted_while_the_broker_was_down_is_swept_and_completes(
        self, web_with_broker_down, stack, alice_token
    ):
        # Submitted through a web process whose broker is dead: 202, and no message.
        status, body = http(
            "POST",
            f"{web_with_broker_down}/api/submit/",
            load_master_config(20_000),
            token=alice_token,
        )
        assert status == 202, body
        job_id = body["job_id"]
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.PENDING and job.enqueued_at is None and job.send_failed
        # Beat (with a broker that answers) sends the sweep; a worker runs it, which sends
        # the job, then runs the job.
        job, _ = finished(job_id)
        assert job.status == JobStatus.COMPLETE, job.error
        assert job.enqueued_at is not None and job.attempts == 1
        assert job.result_data["rounds_played"] == job.result_data["rounds_asked"] == 20_000


def request(url: str, token: str | None = None, cookie: str | None = None) -> tuple[int, str, Any]:
    """Status, body text and headers of a GET, whatever the status."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        req.add_header("Authorization", f"Token {token}")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers
