"""The fleet over two hosts: a split job's shards run on both, and cutting one host's link
mid-job leaves the job to the other, COMPLETE within RECOVERY_BOUND (30 s) plus the run
time of the shards still to do, with the result an undisturbed run of the same seed gives;
the cut host coming back stores nothing twice (its late store is refused).

Each "host" is a Linux network namespace made here (`ip netns add`) with a veth pair to
the root namespace on a /30 of its own, and a UTS namespace of its own (`unshare --uts`),
so its Celery worker is `celery@<its host name>` as on a real machine. A worker is the
Procfile's `worker` line run inside it with its own JOST_CACHE_DIR and NUMBA_CACHE_DIR
(copies of what one build step compiled, as every host of a release gets the same slug
or image). It reaches the broker and PostgreSQL only through the root side's address of
its own link: this module's redis-server listens on those addresses alone, and PostgreSQL
(loopback only) is reached through one tests/integration/tcp_proxy.py per host, bound to
that host's link. Cutting a host is `ip link set <its link> down`: its worker keeps
running, and nothing it sends arrives anywhere until the link is up again.

Gunicorn and Celery beat run in the root namespace (a third machine, as on a platform).
Needs root and iproute2 (`ip`, `unshare`): skipped with the reason otherwise. Every
namespace, link and process made here is removed again, by name and by pid, whatever
the outcome.

The cut may land while the cut host's worker is inside a transaction (a store, the top-up
of the job's window): the rows it locked stay locked until the server ends its
transaction after DATABASE_IDLE_TRANSACTION_TIMEOUT (10 s, left at its default here), and
the job still completes within the bound.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

import jost_engine
from jost_engine import indices
from simulator.models import JobKind, JobShard, JobStatus, SimulationJob
from tests.helpers import FULL_TABLE, load_master_config
from tests.integration.helpers import (
    assert_consistent_results,
    http,
    live_database_url,
    procfile_command,
    start_web,
)
from tests.integration.processes import (
    REPO,
    free_port,
    start_process,
    start_redis,
    stop_process,
    wait_until,
)
from tests.numba_cache import seed_cache_dir

# What the issue allows after the cut, beyond the run time of the shards still to do.
RECOVERY_BOUND = 30.0
WAIT = 240
SEED = 20261202
# Eight shards of about two seconds each: long enough to catch one mid-run with seconds
# still to deal, short enough for the whole test to stay in minutes. One player's shard of
# 3 M rounds takes a fifth of a second, so the simulation is a full table (seven players),
# and the index job counts every true count (step 1: about 3 ms a shoe).
SHARD_ROUNDS = 3_000_000
SPLIT_ROUNDS = 8 * SHARD_ROUNDS
SHARD_SHOES = 600
INDEX_SHOES = 8 * SHARD_SHOES
HOSTS = ("a", "b")
# A shard's progress is written only when it is stored (the interval outlasts a shard),
# so the cut host's worker has nothing to say to the database until it stores: when the
# link comes back, that store is the first thing it tries, and it must be refused.
PROGRESS_INTERVAL = 60


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def _ip(*args: str) -> None:
    done = _run("ip", *args)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _why_no_namespaces() -> str | None:
    """Why this machine cannot make the test's hosts, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (iproute2, util-linux)"
    return None


@dataclass
class Host:
    """One machine of the fleet: a network namespace, its link to the root namespace, and
    what runs in it."""

    name: str  # its host name, and so its worker's node name celery@<name>
    netns: str
    link: str  # the root namespace's end of its veth pair: what a cut takes down
    peer: str  # its own end
    root_address: str  # where it reaches the broker and the database
    address: str
    home: Path
    proxy: subprocess.Popen | None = None
    proxy_port: int = 0
    worker: subprocess.Popen | None = None
    log: Path = field(default_factory=Path)

    def make(self, prefix_length: int) -> None:
        _ip("netns", "add", self.netns)
        _ip("link", "add", self.link, "type", "veth", "peer", "name", self.peer)
        _ip("link", "set", self.peer, "netns", self.netns)
        _ip("addr", "add", f"{self.root_address}/{prefix_length}", "dev", self.link)
        _ip("link", "set", self.link, "up")
        inside = ("netns", "exec", self.netns, "ip")
        _ip(*inside, "addr", "add", f"{self.address}/{prefix_length}", "dev", self.peer)
        _ip(*inside, "link", "set", self.peer, "up")
        _ip(*inside, "link", "set", "lo", "up")

    def unmake(self) -> None:
        # Deleting one end deletes the pair; the namespace goes once nothing runs in it.
        _run("ip", "link", "del", self.link)
        _run("ip", "netns", "del", self.netns)

    def cut(self) -> None:
        _ip("link", "set", self.link, "down")

    def restore(self) -> None:
        _ip("link", "set", self.link, "up")

    @property
    def node(self) -> str:
        return f"celery@{self.name}"

    def ran(self, shard: JobShard) -> bool:
        return shard.claimed_by.startswith(f"{self.node}:")


class Fleet:
    """The module's processes and hosts: what a test submits to, cuts and restores."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.hosts: dict[str, Host] = {}
        self.base = ""

    def start_worker(self, host: Host, worker_env: dict[str, str]) -> None:
        """The Procfile's worker line inside the host's namespaces, once it is ready."""
        host.log = self.logs / f"hosts-worker-{host.name}.log"
        command = [
            "ip",
            "netns",
            "exec",
            host.netns,
            "unshare",
            "--uts",
            "/bin/bash",
            "-c",
            f"hostname {host.name} && {procfile_command('worker')}",
        ]
        host.worker = start_process(command, env=worker_env, log=host.log)
        wait_until(
            lambda: (
                host.worker.poll() is not None or " ready." in host.log.read_text(errors="replace")
            ),
            WAIT,
            f"the worker of host {host.name} to be ready",
        )
        assert host.worker.poll() is None, f"the worker exited:\n{host.log.read_text()[-3000:]}"


def _addresses() -> tuple[int, dict[str, tuple[str, str]]]:
    """A /30 per host (root side .1, host side .2 of each) in a 10.213.x.0/24 chosen by
    this process's id, so two runs at once do not share addresses."""
    subnet = 100 + os.getpid() % 150
    pairs = {
        name: (f"10.213.{subnet}.{4 * n + 1}", f"10.213.{subnet}.{4 * n + 2}")
        for n, name in enumerate(HOSTS)
    }
    return 30, pairs


def _build_image(env: dict[str, str], image: Path, log: Path) -> None:
    """What a release's build step does once (README, Deploy): compile the engine's round
    loops, the "auto" solvers and the index kernel into numba's cache (or find them there
    already, from the last run). Every host starts from a copy of it, as every host of a
    release runs the same image. Minutes on a loaded machine the first time."""
    script = (
        "from jost_engine.__main__ import warm_up; warm_up(); "
        "from jost_engine import indices as i; "
        "r = i.normalize_index_request({'casino': {'deck_count': 6}, 'shoes': 2, "
        "'plays': ['insurance']}); i.run_index_shard(r, 1, 2)"
    )
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env={
                **env,
                "NUMBA_CACHE_DIR": str(image / "numba"),
                "JOST_CACHE_DIR": str(image / "jost"),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=900,
        )


@pytest.fixture(scope="module")
def fleet(service_env, logs_dir, tmp_path_factory) -> Iterator[Fleet]:
    why = _why_no_namespaces()
    if why:
        pytest.skip(why)
    db = urlsplit(live_database_url())
    prefix_length, pairs = _addresses()
    tag = str(os.getpid())[-6:]
    root = tmp_path_factory.mktemp("hosts")
    hosts = {
        name: Host(
            name=f"jost-host-{name}",
            netns=f"jost-host-{name}-{tag}",
            link=f"jh{tag}{name}r",
            peer=f"jh{tag}{name}h",
            root_address=pairs[name][0],
            address=pairs[name][1],
            home=root / name,
        )
        for name in HOSTS
    }
    redis_port = free_port()
    # Recovery settings small, as the issue allows for this test: a cut host's shard is
    # stale after 3 s and the sweep (every second) puts it back.
    env = {
        **service_env,
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "JOB_SHARD_SHOES": str(SHARD_SHOES),
        # Short chunks: an index shard's heartbeat comes between chunks (see the test).
        "JOB_CHUNK_SHOES": "50",
        "JOB_STALE_AFTER": "3",
        "JOB_HEARTBEAT_INTERVAL": "0.5",
        "JOB_SWEEP_INTERVAL": "1",
        "JOB_PROGRESS_INTERVAL": str(PROGRESS_INTERVAL),
        "JOB_MAX_ATTEMPTS": "10",
        "THROTTLE_SUBMIT_RATE": "none",
        "CELERY_CONCURRENCY": "1",
        # The root namespace reaches the broker through host a's link; it is never cut.
        "CELERY_BROKER_URL": f"redis://{pairs['a'][0]}:{redis_port}/0",
    }
    fleet = Fleet(env, logs_dir)
    made: list[Host] = []
    procs: list[subprocess.Popen] = []
    try:
        for host in hosts.values():
            made.append(host)
            try:
                host.make(prefix_length)
            except RuntimeError as exc:
                pytest.skip(f"cannot make a network namespace with a veth pair here: {exc}")
        fleet.hosts = hosts
        procs.append(
            start_redis(
                redis_port,
                log=logs_dir / "hosts-redis.log",
                bind=tuple(host.root_address for host in hosts.values()),
            )
        )
        # In the checkout's var/ (ignored by git), as numba's in-tree cache the other
        # tests' workers use: the build runs every time, and compiles only what changed,
        # starting from what this checkout's processes compiled already (on a clean
        # clone the build would otherwise compile everything, minutes).
        image = REPO / "var" / "test-hosts-image"
        seed_cache_dir(REPO / "jost_engine", image / "numba")
        _build_image(env, image, logs_dir / "hosts-build.log")
        for host in hosts.values():
            host.proxy_port = free_port()
            proxy_log = logs_dir / f"hosts-proxy-{host.name}.log"
            host.proxy = start_process(
                [
                    sys.executable,
                    str(REPO / "tests/integration/tcp_proxy.py"),
                    str(host.proxy_port),
                    db.hostname or "127.0.0.1",
                    str(db.port or 5432),
                    host.root_address,
                ],
                env=dict(os.environ),
                log=proxy_log,
            )
            procs.append(host.proxy)
            wait_until(lambda log=proxy_log: "listening" in log.read_text(), 20, "a proxy")
        web, fleet.base = start_web(env, logs_dir / "hosts-web.log")
        procs.append(web)
        procs.append(
            start_process(procfile_command("beat"), env=env, log=logs_dir / "hosts-beat.log")
        )
        for host in hosts.values():
            shutil.copytree(image / "numba", host.home / "numba")
            (host.home / "jost").mkdir()
            through = db._replace(
                netloc=db.netloc.rsplit("@", 1)[0] + f"@{host.root_address}:{host.proxy_port}"
            )
            fleet.start_worker(
                host,
                {
                    **env,
                    "DATABASE_URL": urlunsplit(through),
                    "CELERY_BROKER_URL": f"redis://{host.root_address}:{redis_port}/0",
                    "NUMBA_CACHE_DIR": str(host.home / "numba"),
                    "JOST_CACHE_DIR": str(host.home / "jost"),
                },
            )
        yield fleet
    finally:
        for host in made:
            # A cut link left down by a failed test: up, so its worker can stop cleanly.
            _run("ip", "link", "set", host.link, "up")
            if host.worker is not None:
                stop_process(host.worker)
        for proc in reversed(procs):
            stop_process(proc)
        for host in made:
            host.unmake()


def _connects_from(host: Host, address: str, port: int) -> bool:
    """Whether a TCP connection from inside the host's network namespace is accepted."""
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({address!r}, {port}), timeout=3).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", host.netns, sys.executable, "-I", "-c", probe],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


def test_each_host_reaches_the_database_and_the_broker_only_through_its_link(fleet):
    db_port = urlsplit(live_database_url()).port or 5432
    redis_port = int(urlsplit(fleet.env["CELERY_BROKER_URL"]).port or 6379)
    for host in fleet.hosts.values():
        # Its loopback is its own: PostgreSQL's port there is nobody's.
        assert not _connects_from(host, "127.0.0.1", db_port), host.name
        assert _connects_from(host, host.root_address, host.proxy_port), host.name
        assert _connects_from(host, host.root_address, redis_port), host.name


def submit(fleet: Fleet, token: str, kind: str) -> str:
    if kind == JobKind.INDICES:
        body: dict[str, Any] = {
            "casino": {"parent": "vegas_6d_s17_das", "allow_late_surrender": True},
            "counting_strategy": "hilo",
            "plays": ["illustrious18", "fab4"],
            "shoes": INDEX_SHOES,
            "seed": SEED,
            "step": 1,
        }
        path = "/api/indices/"
    else:
        config = load_master_config(SPLIT_ROUNDS, FULL_TABLE)
        body = {**config, "seed": SEED, "stop_when_broke": False}
        path = "/api/submit/"
    status, answer = http("POST", fleet.base + path, body, token=token)
    assert status == 202, answer
    return answer["job_id"]


def undisturbed(job: SimulationJob, without_timing) -> dict[str, Any]:
    """The engine's own merge of the job's shards, each from its own seed, in this
    process (an index job's through JSON, as the database keeps it): what the job's
    result must be."""
    if job.kind == JobKind.INDICES:
        request = indices.normalize_index_request(job.resolved_config)
        parts = [
            indices.run_index_shard_spec(request, job.seed, spec)
            for spec in indices.plan_index_shards(request, SHARD_SHOES)
        ]
        return json.loads(json.dumps(indices.index_results(request, indices.merge(parts))))
    result = jost_engine.run_simulation_from_config(
        job.resolved_config, seed=job.seed, shard_rounds=job.shard_rounds
    )
    return without_timing(result)


def comparable(job: SimulationJob, without_timing) -> dict[str, Any]:
    return job.result_data if job.kind == JobKind.INDICES else without_timing(job.result_data)


def shards(job_id: str) -> list[JobShard]:
    return list(JobShard.objects.filter(job_id=job_id).order_by("index"))


def refused(host: Host, since: int, shard: JobShard) -> str | None:
    """How the host's worker was refused `shard` after byte `since` of its log, or None
    while it has not been. Its store matched nothing (its claim was taken over: the
    delivery ends LOST, simulator.services.shards.store_shard), or the server had ended
    the transaction it was cut off in (DATABASE_IDLE_TRANSACTION_TIMEOUT): the store
    failed, and the retried delivery found the shard stored (SKIPPED)."""
    with host.log.open("rb") as handle:
        handle.seek(since)
        text = handle.read().decode(errors="replace")
    ended = r"run_job_shard\[[^\]]+\] succeeded in [^:]+: .*"
    if re.search(ended + "LOST", text):
        return "LOST"
    failed = text.find(f"Shard {shard.id}: the database failed mid-run")
    if failed >= 0 and re.search(ended + "SKIPPED", text[failed:]):
        return "retried, SKIPPED"
    return None


@pytest.mark.parametrize("kind", [JobKind.SIMULATION, JobKind.INDICES])
def test_a_split_job_runs_on_both_hosts_and_survives_one_host_cut_off(
    fleet, alice_token, without_timing, kind
):
    a, b = fleet.hosts["a"], fleet.hosts["b"]
    job_id = submit(fleet, alice_token, kind)

    def both_hosts_stored_and_b_dealing() -> JobShard | None:
        rows = shards(job_id)
        assert SimulationJob.objects.get(id=job_id).status in {
            JobStatus.PENDING,
            JobStatus.RUNNING,
        }, "the job finished before both hosts had worked on it"
        stored = [row for row in rows if row.status == JobStatus.COMPLETE]
        if not (any(a.ran(row) for row in stored) and any(b.ran(row) for row in stored)):
            return None
        # A shard host b began dealing a moment ago: its worker is inside the engine, past
        # the claim and the window's top-up, with seconds of the shard still to deal. (Not
        # by its heartbeat: the index kernel holds the GIL, so an index shard's heartbeat
        # thread beats only between chunks.)
        now = timezone.now()
        for row in rows:
            if (
                row.status == JobStatus.RUNNING
                and b.ran(row)
                and row.started_at is not None
                and 0.3 <= (now - row.started_at).total_seconds() < 2.5
            ):
                return row
        return None

    wait_until(
        both_hosts_stored_and_b_dealing, WAIT, "both hosts storing and b dealing", interval=0.05
    )
    b.cut()
    cut = time.monotonic()
    cut_wall = time.time()
    try:
        # What b held when it was cut (read after the cut: b can change nothing now; a
        # store it had begun stays uncommitted, and its row RUNNING to everyone else).
        held = [row for row in shards(job_id) if row.status == JobStatus.RUNNING and b.ran(row)]
        assert len(held) == 1, [(row.index, row.status, row.claimed_by) for row in held]
        victim = held[0]

        def finished() -> SimulationJob | None:
            job = SimulationJob.objects.get(id=job_id)
            return job if job.status not in {JobStatus.PENDING, JobStatus.RUNNING} else None

        job = wait_until(finished, WAIT, f"job {job_id} to finish without host b", interval=0.1)
        done = time.monotonic()
        assert b.worker is not None and b.worker.poll() is None, "b's worker must still run"
        rows = shards(job_id)
    finally:
        # Nothing b's worker writes of the shard while it is cut off: it cannot reach the
        # database.
        restored_at = b.log.stat().st_size
        b.restore()
    assert job.status == JobStatus.COMPLETE, job.error
    # The shard b was dealing was dealt again, on a, from its own seed.
    again = next(row for row in rows if row.index == victim.index)
    assert a.ran(again) and again.attempts >= 2, (again.claimed_by, again.attempts)
    # Within the bound plus the run time of the shards stored after the cut: the work
    # left to a, one host's worth.
    left = sum(
        row.wall_seconds or 0.0
        for row in rows
        if row.finished_at is not None and row.finished_at.timestamp() > cut_wall
    )
    assert done - cut < RECOVERY_BOUND + left, (done - cut, left)
    # Shards on both hosts: the rows name both (b's stored before the cut).
    assert any(a.ran(row) for row in rows) and any(b.ran(row) for row in rows), [
        row.claimed_by for row in rows
    ]
    assert all(row.status == JobStatus.COMPLETE for row in rows)
    assert len(rows) == job.shards_total == len({row.index for row in rows})
    expected = undisturbed(job, without_timing)
    assert comparable(job, without_timing) == expected
    if kind == JobKind.SIMULATION:
        assert_consistent_results(job.result_data, SPLIT_ROUNDS)

    # Host b comes back: its worker finishes the shard it was dealing and tries to store
    # it. Refused, and nothing of the job moves.
    wait_until(
        lambda: refused(b, restored_at, victim),
        WAIT,
        "host b's late store of its shard to be refused",
        interval=0.5,
    )
    after = SimulationJob.objects.get(id=job_id)
    assert after.status == JobStatus.COMPLETE
    assert comparable(after, without_timing) == expected
    assert after.rounds_done == after.rounds_total and after.finished_at == job.finished_at
    assert [
        (row.index, row.claimed_by, row.attempts, row.stats, row.finished_at)
        for row in shards(job_id)
    ] == [(row.index, row.claimed_by, row.attempts, row.stats, row.finished_at) for row in rows]
    assert b.worker.poll() is None and a.worker is not None and a.worker.poll() is None
