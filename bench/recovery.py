"""How long a job takes to recover from each fault of issue 14, on the real stack with the
shipped defaults (no recovery setting changed): a database of its own on PostgreSQL
reached through a TCP proxy it can cut (tests/integration/tcp_proxy.py), a private Redis
it can restart, Gunicorn, Celery beat and two workers (one pool child each) from the
Procfile.

    .venv/bin/python bench/recovery.py [--kills 3]

Each figure is the time from the end of the fault (the kill, the connections
terminated, Redis or the database back) until the job is first seen COMPLETE, beside the
run time of the work that had to be done after it (an unsplit job: its last run; a split
job: the shards stored after the fault, one worker's time). The target: at most 30 s
more than that run time. Not a test; never run by pytest. Prints one JSON document
(docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_stack import (
    ADMIN_URL,
    REPO,
    answers,
    http,
    manage,
    master_config,
    procfile,
    redis_pings,
    redis_server,
    service_env,
    wait,
)

from tests.integration.processes import free_port, start_process, stop_process

UNSPLIT_ROUNDS = 40_000_000
SPLIT_ROUNDS = 100_000_000  # ten shards of the default JOB_SHARD_ROUNDS
WORKER_APP = "jost-bench-worker"


class RecoveryStack:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="jost-recovery-"))
        self.db_name = f"jost_bench_recovery_{os.getpid()}"
        self.db_url = ADMIN_URL.rsplit("/", 1)[0] + "/" + self.db_name
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.redis: subprocess.Popen | None = None
        self.redis_port = free_port()
        self.proxy_port = free_port()
        self.base = ""
        self.token = ""

    def start(self, command: str | list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        # Appended: a restarted Redis or worker writes on after its predecessor.
        return start_process(command, env=env, log=self.tmp / log)

    def __enter__(self) -> RecoveryStack:
        try:
            return self._bring_up()
        except BaseException:
            self.__exit__()
            raise

    def _bring_up(self) -> RecoveryStack:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.start_redis()
        admin = ADMIN_URL.split("://", 1)[1]
        host_port = admin.split("@", 1)[1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        self.proxy = self.start(
            [
                sys.executable,
                str(REPO / "tests/integration/tcp_proxy.py"),
                str(self.proxy_port),
                host,
                port or "5432",
            ],
            dict(os.environ),
            "proxy.log",
        )
        self.procs.append(self.proxy)
        wait(lambda: "listening" in (self.tmp / "proxy.log").read_text(), 20, "the proxy")
        user = admin.split("@", 1)[0]
        proxied = f"postgres://{user}@127.0.0.1:{self.proxy_port}/{self.db_name}"
        self.env = {
            **service_env("service.settings", proxied, self.redis_port),
            "WEB_CONCURRENCY": "1",
            "THROTTLE_SUBMIT_RATE": "none",
        }
        manage(self.env, "migrate", "--noinput")
        self.token = manage(self.env, "ensure_dev_user", "--username", "bench").strip()
        web_port = free_port()
        self.procs.append(
            self.start(procfile("web"), {**self.env, "PORT": str(web_port)}, "web.log")
        )
        self.base = f"http://127.0.0.1:{web_port}"
        wait(lambda: answers(f"{self.base}/healthz"), 60, "gunicorn")
        self.procs.append(self.start(procfile("beat"), self.env, "beat.log"))
        self.start_workers("w0", "w1")
        return self

    def start_redis(self) -> None:
        command = redis_server(self.redis_port, self.tmp)
        self.redis = self.start(command, dict(os.environ), "redis.log")
        wait(lambda: redis_pings(self.redis_port), 20, "redis")

    def restart_redis(self, down_for: float = 0.0) -> None:
        assert self.redis is not None
        stop_process(self.redis)
        time.sleep(down_for)
        self.start_redis()

    def start_workers(self, *names: str) -> None:
        env = {
            **self.env,
            "DATABASE_URL": self.env["DATABASE_URL"] + f"?application_name={WORKER_APP}",
        }
        for name in names:
            log = f"worker-{name}-{time.time_ns()}.log"
            self.workers[name] = self.start(f"{procfile('worker')} -n {name}@%h", env, log)
        for name in names:
            log_file = max(self.tmp.glob(f"worker-{name}-*.log"))
            wait(lambda f=log_file: " ready." in f.read_text(errors="replace"), 120, name)

    def stop_workers(self) -> None:
        for name in list(self.workers):
            stop_process(self.workers.pop(name))

    def signal_proxy(self, sig: signal.Signals, word: str) -> None:
        log = self.tmp / "proxy.log"
        before = log.read_text().count(word)
        self.proxy.send_signal(sig)
        wait(lambda: log.read_text().count(word) > before, 10, f"the proxy to say {word}")

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return list(conn.execute(sql, args).fetchall())

    def submit(self, config: dict[str, Any]) -> str:
        status, body = http("POST", f"{self.base}/api/submit/", config, token=self.token)
        assert status == 202, body
        return body["job_id"]

    def job(self, job_id: str) -> dict[str, Any]:
        [row] = self.query(
            "SELECT status, rounds_done, claimed_by, attempts, "
            "extract(epoch FROM finished_at - started_at) FROM simulator_simulationjob "
            "WHERE id = %s",
            job_id,
        )
        keys = ("status", "rounds_done", "claimed_by", "attempts", "run_seconds")
        found = dict(zip(keys, row, strict=True))
        if found["run_seconds"] is not None:  # extract() gives a Decimal
            found["run_seconds"] = float(found["run_seconds"])
        return found

    def complete(self, job_id: str) -> float:
        """When (time.monotonic()) the job was first seen COMPLETE."""
        wait(lambda: self.job(job_id)["status"] in {"COMPLETE", "FAILED"}, 600, job_id)
        seen = time.monotonic()
        assert self.job(job_id)["status"] == "COMPLETE", self.job(job_id)
        return seen

    def running(self, job_id: str) -> dict[str, Any]:
        wait(
            lambda: self.job(job_id)["status"] == "RUNNING" and self.job(job_id)["rounds_done"] > 0,
            120,
            f"{job_id} running",
        )
        return self.job(job_id)

    def shards_stored(self, job_id: str) -> int:
        return self.query(
            "SELECT count(*) FROM simulator_jobshard WHERE job_id = %s AND status = 'COMPLETE'",
            job_id,
        )[0][0]

    def shard_seconds_since(self, job_id: str, since_wall: float) -> float:
        return float(
            self.query(
                "SELECT coalesce(sum(wall_seconds), 0) FROM simulator_jobshard WHERE job_id = %s "
                "AND finished_at > to_timestamp(%s)",
                job_id,
                since_wall,
            )[0][0]
        )

    def __exit__(self, *exc: object) -> None:
        self.stop_workers()
        for proc in reversed(self.procs):
            stop_process(proc)
        if self.redis is not None:
            stop_process(self.redis)
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def unsplit(seed: int) -> dict[str, Any]:
    return {**master_config(UNSPLIT_ROUNDS), "seed": seed}


def split(seed: int) -> dict[str, Any]:
    return {**master_config(SPLIT_ROUNDS), "seed": seed, "stop_when_broke": False}


def figure(seconds: float, run_seconds: float) -> dict[str, float]:
    run_seconds = float(run_seconds)
    return {
        "seconds_to_complete": round(seconds, 1),
        "run_seconds": round(run_seconds, 1),
        "beyond_run_seconds": round(seconds - run_seconds, 1),
    }


def sigkill(stack: RecoveryStack, seed: int) -> dict[str, float]:
    """The whole worker running an unsplit job SIGKILLed (main process and pool)."""
    job_id = stack.submit(unsplit(seed))
    victim = stack.running(job_id)["claimed_by"].split("@", 1)[0]
    proc = stack.workers.pop(victim)
    os.killpg(proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    done = stack.complete(job_id)
    stack.start_workers(victim)
    return figure(done - killed, stack.job(job_id)["run_seconds"])


def connections_dropped(stack: RecoveryStack) -> dict[str, float]:
    job_id = stack.submit(unsplit(101))
    stack.running(job_id)
    stack.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        WORKER_APP,
    )
    dropped = time.monotonic()
    done = stack.complete(job_id)
    return figure(done - dropped, stack.job(job_id)["run_seconds"])


def pending_through_redis_restart(stack: RecoveryStack) -> dict[str, float]:
    stack.stop_workers()
    job_id = stack.submit(unsplit(102))
    stack.restart_redis()
    back = time.monotonic()
    stack.start_workers("w0", "w1")
    done = stack.complete(job_id)
    return {**figure(done - back, stack.job(job_id)["run_seconds"]), "workers_restarted": 1}


def split_through(stack: RecoveryStack, fault: str) -> dict[str, float]:
    job_id = stack.submit(split(103 if fault == "redis" else 104))
    wait(lambda: stack.shards_stored(job_id) >= 1, 120, "a first shard stored")
    if fault == "redis":
        stack.restart_redis(down_for=5)
    else:
        stack.signal_proxy(signal.SIGUSR1, "cut")
        time.sleep(15)
        stack.signal_proxy(signal.SIGUSR2, "listening")
    back, back_wall = time.monotonic(), time.time()
    done = stack.complete(job_id)
    return figure(done - back, stack.shard_seconds_since(job_id, back_wall))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, Any] = {"load_before": os.getloadavg()}
    with RecoveryStack() as stack:
        # One undisturbed run first: it also loads the engine into both workers' caches.
        job_id = stack.submit(unsplit(100))
        stack.complete(job_id)
        out["unsplit_undisturbed_run_seconds"] = round(stack.job(job_id)["run_seconds"], 1)
        kills = []
        for seed in range(1, args.kills + 1):
            kills.append(sigkill(stack, seed))
            print("sigkill", kills[-1], file=sys.stderr, flush=True)
        out["unsplit_sigkill"] = kills
        out["unsplit_sigkill_median_seconds"] = statistics.median(
            k["seconds_to_complete"] for k in kills
        )
        out["unsplit_connections_terminated"] = connections_dropped(stack)
        out["unsplit_pending_redis_restarted"] = pending_through_redis_restart(stack)
        out["split_redis_down_5_s"] = split_through(stack, "redis")
        out["split_database_down_15_s"] = split_through(stack, "database")
    out["load_after"] = os.getloadavg()
    import json

    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
