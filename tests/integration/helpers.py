"""What the integration tests share besides fixtures: talking HTTP to a started process,
the Procfile's commands, the test database's URL for other processes, and the checks every
COMPLETE job's result must pass."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.integration.processes import REPO, free_port, start_process, stop_process, wait_until

if TYPE_CHECKING:
    from simulator.models import JobShard, SimulationJob


def procfile_command(kind: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise AssertionError(f"Procfile has no {kind}: line")


def live_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "service.postgresql":
        pytest.skip(
            "the integration tests share the test database with real processes: "
            "run them on PostgreSQL (DATABASE_URL=postgres://..., as scripts/test.sh does)"
        )
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")


def start_web(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """Gunicorn from the Procfile's `web` line on a free port, once /healthz answers (200 or
    503: a test may start it with its broker or database down on purpose)."""
    port = free_port()
    proc = start_process(procfile_command("web"), env={**env, "PORT": str(port)}, log=log)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert proc.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
        try:
            return http("GET", f"{base}/healthz", timeout=5)[0] in (200, 503)
        except OSError:
            return False

    try:
        wait_until(answers, 60, "gunicorn to answer /healthz")
    except BaseException:
        stop_process(proc)  # it never came up: nothing else will stop it
        raise
    return proc, base


@contextlib.contextmanager
def running_web(env: dict[str, str], log: Path) -> Iterator[str]:
    """start_web for the time of a `with` (a module fixture's life): yields its base URL
    and stops it on the way out, whatever happened."""
    proc, base = start_web(env, log)
    try:
        yield base
    finally:
        stop_process(proc)


@contextlib.contextmanager
def running_beat(env: dict[str, str], log: Path) -> Iterator[Path]:
    """The Procfile's beat (the sweep that sends a dead worker's shard again) for the time
    of a `with`: yields its log."""
    proc = start_process(procfile_command("beat"), env=env, log=log)
    try:
        yield log
    finally:
        stop_process(proc)


def submit_job(web: str, token: str, body: dict[str, Any], path: str = "/api/submit/") -> str:
    """POST a job (a config, or with path="/api/indices/" an index job) as `token`'s user;
    its id, once the service answered 202."""
    status, answer = http("POST", f"{web}{path}", body, token=token)
    assert status == 202, answer
    return answer["job_id"]


def job_finished(job_id: str, timeout: float, what: str = "job") -> SimulationJob:
    """The job's row once it has stopped for good (complete, failed or cancelled)."""
    from simulator.models import ACTIVE, SimulationJob

    def done() -> SimulationJob | None:
        job = SimulationJob.objects.get(id=job_id)
        return job if job.status not in ACTIVE else None

    return wait_until(done, timeout, f"{what} {job_id} to finish", interval=0.1)


def a_running_shard(job_id: str, timeout: float) -> JobShard:
    """A shard of the job dealing, with at least half its rounds (an index job's: shoes)
    still to deal when it is seen, so that a kill which follows lands mid-shard. The job
    must not finish first: a test that finds it finished has shards too short to kill."""
    from django.db.models import F

    from simulator.models import JobShard, JobStatus, SimulationJob

    def found() -> JobShard | None:
        job = SimulationJob.objects.get(id=job_id)
        assert job.status in {JobStatus.PENDING, JobStatus.RUNNING}, "finished before the kill"
        return (
            JobShard.objects.filter(
                job_id=job_id,
                status=JobStatus.RUNNING,
                rounds_done__gt=0,
                rounds_done__lte=F("rounds") / 2,
            )
            .order_by("index")
            .first()
        )

    return wait_until(found, timeout, f"a shard of {job_id} dealing", interval=0.02)


def start_worker(
    env: dict[str, str], log: Path, *, name: str | None = None, wait: float = 120
) -> subprocess.Popen:
    """The Procfile's worker line (with a node name of its own, `name`@host, when two run
    on one host), once it says it is ready; stopped again if it never gets there."""
    command = procfile_command("worker") + (f" -n {name}@%h" if name else "")
    proc = start_process(command, env=env, log=log)
    try:
        wait_until(
            lambda: proc.poll() is not None or " ready." in log.read_text(errors="replace"),
            wait,
            f"the Celery worker {name or ''} to be ready",
        )
        assert proc.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
    except BaseException:
        stop_process(proc)
        raise
    return proc


def assert_consistent_results(results: dict[str, Any], rounds: int) -> None:
    """What every COMPLETE job's result must satisfy: each round asked was played, and each
    player's net is the difference of the bankrolls."""
    assert results["rounds_played"] == results["rounds_asked"] == rounds
    assert results["players"]
    for player in results["players"]:
        assert math.isclose(
            player["net_gain_loss"],
            player["final_bankroll"] - player["initial_bankroll"],
            abs_tol=1e-6,
        ), player
        assert player["total_wagered"] > 0
