"""A split job on the real stack (bench/service_stack.py: PostgreSQL, a private Redis, the
Procfile's worker, beat and web, default settings): a 600-million-round
"stop_when_broke": false job with one worker process and with two (the same seed, so the
same result), the share of each shard's wall time spent inside the engine, and the time
from a whole-worker SIGKILL until every shard it held is stored again by a new worker.

    .venv/bin/python bench/split_job.py [--rounds 600000000] [--repeats 3] [--kills 3]

Not a test; never run by pytest. Prints one JSON document (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_stack import ADMIN_URL, Stack, http, procfile, wait

TIMING = ("duration_seconds", "play_seconds", "rounds_per_second")


def config(rounds: int, seed: int = 2024) -> dict[str, Any]:
    return {
        "casino": "master_casino",
        "num_rounds": rounds,
        "seed": seed,
        "stop_when_broke": False,
        "players": [{"profile": "master_player"}],
    }


def query(stack: Stack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import psycopg

    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + stack.db_name
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, args).fetchall())


def run_job(stack: Stack, rounds: int) -> dict[str, Any]:
    start = time.monotonic()
    status, body = http("POST", f"{stack.base}/api/submit/", config(rounds), token=stack.token)
    assert status == 202, body
    job_id = body["job_id"]

    def done() -> bool:
        _, state = http("GET", f"{stack.base}/api/status/{job_id}/", token=stack.token)
        return state["status"] in {"COMPLETE", "FAILED", "CANCELLED"}

    wait(done, 3600, f"job {job_id}")
    seconds = time.monotonic() - start
    _, result = http("GET", f"{stack.base}/api/results/{job_id}/", token=stack.token)
    assert result["status"] == "COMPLETE", result
    [(engine, wall, shards)] = query(
        stack,
        "SELECT sum(engine_seconds), sum(wall_seconds), count(*) FROM simulator_jobshard "
        "WHERE job_id = %s",
        job_id,
    )
    doc = {k: v for k, v in result["results"].items() if k not in TIMING}
    return {
        "seconds": round(seconds, 2),
        "engine_share": round(engine / wall, 4),
        "shards": shards,
        "result": doc,
    }


def start_worker(stack: Stack, concurrency: int, name: str) -> Any:
    log = f"worker-{name}.log"
    proc = stack._start(
        f"{procfile('worker')} -n {name}@%h",
        {**stack.env, "CELERY_CONCURRENCY": str(concurrency)},
        log,
    )
    wait(lambda: " ready." in (stack.tmp / log).read_text(errors="replace"), 120, name)
    return proc


def recovery(stack: Stack, n: int) -> dict[str, Any]:
    """SIGKILL a whole worker (its main process and pool) holding shards, start a new one,
    and time until every shard it held is stored again."""
    victim = start_worker(stack, 1, f"victim{n}")
    _, body = http(
        "POST", f"{stack.base}/api/submit/", config(200_000_000, seed=n), token=stack.token
    )
    job_id = body["job_id"]

    def victim_runs() -> bool:
        return bool(
            query(
                stack,
                "SELECT 1 FROM simulator_jobshard WHERE job_id = %s AND status = 'RUNNING' "
                "AND claimed_by LIKE %s",
                job_id,
                f"victim{n}@%",
            )
        )

    wait(victim_runs, 120, "a shard on the victim")
    lost = [
        row[0]
        for row in query(
            stack,
            "SELECT index FROM simulator_jobshard WHERE job_id = %s AND status = 'RUNNING' "
            "AND claimed_by LIKE %s",
            job_id,
            f"victim{n}@%",
        )
    ]
    os.killpg(victim.pid, signal.SIGKILL)
    killed = time.time()
    victim.wait()
    replacement = start_worker(stack, 1, f"replacement{n}")

    def stored_again() -> bool:
        rows = query(
            stack,
            "SELECT count(*) FROM simulator_jobshard WHERE job_id = %s AND index = ANY(%s) "
            "AND status = 'COMPLETE'",
            job_id,
            lost,
        )
        return rows[0][0] == len(lost)

    wait(stored_again, 600, "the lost shards stored again")
    [(last, run_time)] = query(
        stack,
        "SELECT extract(epoch FROM max(finished_at)), max(wall_seconds) FROM simulator_jobshard "
        "WHERE job_id = %s AND index = ANY(%s)",
        job_id,
        lost,
    )
    http("POST", f"{stack.base}/api/jobs/{job_id}/cancel/", token=stack.token)
    os.killpg(replacement.pid, signal.SIGTERM)
    replacement.wait()
    return {
        "lost_shards": len(lost),
        "seconds_to_stored_again": round(float(last) - killed, 2),
        "lost_shard_run_seconds": round(float(run_time), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=600_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, Any] = {"load_before": os.getloadavg()}
    with Stack() as stack:  # one worker, one process
        stack._start(procfile("beat"), stack.env, "beat.log")
        one = [run_job(stack, args.rounds) for _ in range(args.repeats)]
        print("one process:", [r["seconds"] for r in one], file=sys.stderr, flush=True)
        second = start_worker(stack, 1, "second")
        two = [run_job(stack, args.rounds) for _ in range(args.repeats)]
        print(
            "two processes:",
            [r["seconds"] for r in two],
            "engine share:",
            [r["engine_share"] for r in one + two],
            file=sys.stderr,
            flush=True,
        )
        os.killpg(second.pid, signal.SIGTERM)
        second.wait()
        same = all(r["result"] == one[0]["result"] for r in one + two)
        kills = []
        for n in range(args.kills):
            kills.append(recovery(stack, n))
            print("recovery:", kills[-1], file=sys.stderr, flush=True)
    one_s = statistics.median(r["seconds"] for r in one)
    two_s = statistics.median(r["seconds"] for r in two)
    out.update(
        {
            "rounds": args.rounds,
            "shards": one[0]["shards"],
            "one_process_seconds": [r["seconds"] for r in one],
            "two_processes_seconds": [r["seconds"] for r in two],
            "speedup_median": round(one_s / two_s, 3),
            "speedup_per_pair": [
                round(a["seconds"] / b["seconds"], 3) for a, b in zip(one, two, strict=True)
            ],
            "identical_results": same,
            "engine_share": [r["engine_share"] for r in one + two],
            "engine_share_median": statistics.median(r["engine_share"] for r in one + two),
            "recovery": kills,
            "recovery_median_seconds": statistics.median(
                k["seconds_to_stored_again"] for k in kills
            )
            if kills
            else None,
            "load_after": os.getloadavg(),
            "ev_per_round": one[0]["result"]["players"][0]["ev_per_round"],
        }
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
