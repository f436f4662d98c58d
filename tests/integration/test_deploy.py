"""A deploy with work in flight, on real processes and the previous release's own code.

The previous release is the last one RELEASES.txt lists that HEAD contains, checked out by
the test as a `git worktree` in a temporary directory. Its processes run from that tree
with the same virtual environment, against the test database, which pytest-django migrated
to THIS release's head: as in a deploy, whose release phase (`migrate`) runs while the
previous release's web and workers still run. So these tests also hold that this release's
migrations keep the previous release working (tests/ops/test_migrations.py holds it
operation by operation).

- A split job submitted through this release: the previous release's worker stores some
  of its shards (taking this release's messages), is stopped, and this release's worker
  finishes the job with the result an undisturbed run gives.
- A split job submitted by the previous release's code (its web process inserting into the
  new schema, its messages without a format version): this release's worker runs them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

import jost_engine
from simulator.models import JobShard, JobStatus, SimulationJob
from simulator.services.broker import MESSAGE_FORMAT_HEADER
from tests.helpers import FULL_TABLE, load_master_config
from tests.integration.helpers import (
    http,
    job_finished,
    running_beat,
    running_web,
    start_worker,
)
from tests.integration.processes import REPO, VENV_BIN, start_process, stop_process, wait_until
from tests.numba_cache import seed_cache_dir
from tests.releases import previous_release as listed_previous_release

SHARD_ROUNDS = 400_000
ROUNDS = 3_200_000  # eight shards
# The job is a full table: a quarter of a second a shard, where one player's took 0.03 s.
# The previous release's worker is stopped once it has stored two shards, and the job
# must still have shards left to deal: with 0.03 s shards that margin was a tenth of a
# second.
WAIT = 300  # a job's run, generous for a loaded machine
# A worker's start: a cold numba cache (the previous release's, on a machine's first run)
# took 8 minutes to compile with six test runs sharing two cores; about 35 s when idle.
START_WAIT = 900


def _git(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def previous_release() -> Iterator[Path]:
    """The previous release's tree, a detached `git worktree` of our own in the temporary
    directory, removed after. Its path is the same on every run, and its files' times are
    the tag's commit time, so its engine's numba cache (kept beside the tree, see old_env; numba
    keys it by a source file's path and time) compiles once per machine: minutes on a
    loaded one."""
    release = listed_previous_release()
    tag = release.name
    tree = Path(tempfile.gettempdir()) / f"jost-previous-release-{tag}"
    if tree.exists():  # left by a run that was killed before its clean-up
        _git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(tree, ignore_errors=True)
        _git("worktree", "prune")
    added = _git("worktree", "add", "--detach", str(tree), release.commit)
    assert added.returncode == 0, added.stderr
    try:
        committed = int(_git("log", "-1", "--format=%ct", release.commit).stdout.strip())
        for path in tree.rglob("*"):
            if path.is_file() and path.name != ".git":
                os.utime(path, (committed, committed))
        yield tree
    finally:
        _git("worktree", "remove", "--force", str(tree))
        _git("worktree", "prune")


@pytest.fixture(scope="module")
def deploy_env(service_env, redis_url) -> dict[str, str]:
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/7",
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "JOB_STALE_AFTER": "3",
        "JOB_HEARTBEAT_INTERVAL": "0.5",
        "JOB_PROGRESS_INTERVAL": "0.2",
        "JOB_SWEEP_INTERVAL": "1",
        "JOB_MAX_ATTEMPTS": "10",
        "THROTTLE_SUBMIT_RATE": "none",
    }


@pytest.fixture(scope="module")
def old_env(deploy_env, previous_release) -> dict[str, str]:
    """The previous release's processes: the same settings, and caches of their own (its
    engine's sources are other files), kept beside its tree between runs."""
    cache = previous_release.with_name(previous_release.name + "-cache")
    # What it shares with this release (the round loops, unchanged for long) loads from
    # this checkout's compiled files instead of compiling for minutes.
    seed_cache_dir(previous_release / "jost_engine", cache / "numba")
    return {
        **deploy_env,
        "NUMBA_CACHE_DIR": str(cache / "numba"),
        "JOST_CACHE_DIR": str(cache / "jost"),
    }


@pytest.fixture(scope="module")
def deploy_web(deploy_env, logs_dir) -> Iterator[str]:
    with running_web(deploy_env, logs_dir / "deploy-web.log") as base:
        yield base


@pytest.fixture(scope="module")
def deploy_beat(deploy_env, logs_dir) -> Iterator[Path]:
    """This release's beat: the sweep that sends again what a stopped worker left."""
    with running_beat(deploy_env, logs_dir / "deploy-beat.log") as log:
        yield log


def start_old_worker(tree: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """The previous release's worker, from its own Procfile line and its own tree."""
    line = next(
        line.partition(":")[2].strip()
        for line in (tree / "Procfile").read_text().splitlines()
        if line.startswith("worker:")
    )
    proc = start_process(f"{line} -n old@%h", env=env, log=log, cwd=tree)
    try:
        wait_until(
            lambda: proc.poll() is not None or " ready." in log.read_text(errors="replace"),
            START_WAIT,
            "the previous release's worker to be ready",
        )
        assert proc.poll() is None, f"the old worker exited:\n{log.read_text()[-3000:]}"
    except BaseException:
        stop_process(proc)
        raise
    return proc


def split_config(seed: int) -> dict[str, Any]:
    return {**load_master_config(ROUNDS, FULL_TABLE), "seed": seed, "stop_when_broke": False}


def undisturbed(job: SimulationJob) -> dict[str, Any]:
    """The engine in this process over the same shards: what the job must give."""
    return jost_engine.run_simulation_from_config(
        job.resolved_config, seed=job.seed, shard_rounds=SHARD_ROUNDS
    )


def finished(job_id: str) -> SimulationJob:
    return job_finished(job_id, WAIT)


def queued_shard_messages(broker_url: str) -> list[tuple[dict[str, Any], list[Any]]]:
    """(headers, [args, kwargs]) of the shard messages waiting in the default queue
    (kombu's Redis transport keeps each as JSON; Celery's protocol 2: the task's fields in
    the headers, the body [args, kwargs, embed] in base64)."""
    client = redis.Redis.from_url(broker_url)
    found = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"].get("task") == "simulator.run_job_shard":
            body = json.loads(base64.b64decode(message["body"]))
            found.append((message["headers"], body[:2]))
    return found


class TestPreviousReleaseWorker:
    def test_its_stored_shards_and_this_releases_worker_give_the_undisturbed_result(
        self,
        previous_release,
        old_env,
        deploy_env,
        deploy_web,
        deploy_beat,
        logs_dir,
        alice_token,
        without_timing,
    ):
        old = start_old_worker(previous_release, old_env, logs_dir / "deploy-old-worker.log")
        try:
            status, body = http(
                "POST", f"{deploy_web}/api/submit/", split_config(seed=21), token=alice_token
            )
            assert status == 202, body
            job_id = body["job_id"]
            wait_until(
                lambda: (
                    JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).count() >= 2
                ),
                WAIT,
                "the previous release's worker to store two shards",
                interval=0.05,
            )
        finally:
            stop_process(old)
        by_old = list(
            JobShard.objects.filter(job_id=job_id, status=JobStatus.COMPLETE).values_list(
                "index", "stats", "claimed_by"
            )
        )
        job = SimulationJob.objects.get(id=job_id)
        assert job.status == JobStatus.RUNNING and len(by_old) < job.shards_total, by_old
        # Stored as the previous release stores them: no format version.
        assert all("format" not in stats for _, stats, _ in by_old), by_old
        assert all(by.startswith("old@") for _, _, by in by_old), by_old

        new = start_worker(
            deploy_env, logs_dir / "deploy-new-worker.log", name="new", wait=START_WAIT
        )
        try:
            job = finished(job_id)
        finally:
            stop_process(new)
        assert job.status == JobStatus.COMPLETE, job.error
        assert without_timing(job.result_data) == without_timing(undisturbed(job))
        assert job.rounds_done == job.rounds_total == job.result_data["rounds_played"] == ROUNDS
        # The old shards were merged as they were: none dealt again, nothing to note.
        assert "notes" not in job.result_data
        kept = job.shards.filter(index__in=[index for index, _, _ in by_old])
        assert set(kept.values_list("attempts", flat=True)) == {1}
        assert all(by.startswith("old@") for by in kept.values_list("claimed_by", flat=True))
        assert (
            job.shards.exclude(claimed_by__startswith="old@")
            .filter(stats__format=jost_engine.stats.STATS_FORMAT)
            .exists()
        )


class TestPreviousReleaseMessages:
    def test_a_job_and_messages_it_sent_run_on_this_releases_worker(
        self, previous_release, old_env, deploy_env, logs_dir, alice_token, without_timing
    ):
        # The previous release's web code submits (inserting into this release's schema:
        # the columns it does not know need a database default) and sends the window.
        script = (
            "import json, sys, django; django.setup()\n"
            "from django.contrib.auth import get_user_model\n"
            "from simulator.services.submit import submit_job\n"
            "owner = get_user_model().objects.get(username='alice')\n"
            "print(submit_job(owner, json.loads(sys.argv[1])).id)\n"
        )
        submitted = subprocess.run(
            [str(VENV_BIN / "python"), "-c", script, json.dumps(split_config(seed=22))],
            cwd=previous_release,
            env=old_env,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )
        assert submitted.returncode == 0, submitted.stderr[-3000:]
        job_id = submitted.stdout.strip().splitlines()[-1]
        queued = queued_shard_messages(deploy_env["CELERY_BROKER_URL"])
        assert queued, "the previous release sent no shard message"
        # release-16's argument list (the shard's id alone), and no format version.
        ids = {
            str(pk) for pk in JobShard.objects.filter(job_id=job_id).values_list("id", flat=True)
        }
        assert all(MESSAGE_FORMAT_HEADER not in headers for headers, _ in queued), queued
        assert all(
            len(args) == 1 and args[0] in ids and kwargs == {} for _, (args, kwargs) in queued
        ), queued

        log = logs_dir / "deploy-new-worker-old-messages.log"
        new = start_worker(deploy_env, log, name="new", wait=START_WAIT)
        try:
            job = finished(job_id)
        finally:
            stop_process(new)
        assert job.status == JobStatus.COMPLETE, job.error
        assert job.kind == "simulation"
        assert without_timing(job.result_data) == without_timing(undisturbed(job))
        # Run as they are: no warning about a message format.
        assert "a message of format" not in log.read_text(errors="replace")
