"""Submit -> COMPLETE wall time of a 10,000-round job on a warm worker (median of 20).

    .venv/bin/python bench/service_latency.py [--jobs 20] [--rounds 10000]

Starts its own stack (bench/service_stack.py: PostgreSQL database, private Redis, Celery
worker and Gunicorn from the Procfile), warms the worker with two jobs (the engine's first
run loads its compiled kernel), then times each job from the POST /api/submit/ until
GET /api/status/ first says COMPLETE, polling every 10 ms. Jobs run one after another.
"""

from __future__ import annotations

import argparse
import statistics
import time

from service_stack import http, master_config, stack


def one_job(base: str, token: str, config: dict) -> tuple[float, float]:
    started = time.perf_counter()
    status, body = http("POST", f"{base}/api/submit/", config, token)
    assert status == 202, body
    accepted = time.perf_counter() - started
    job_id = body["job_id"]
    while True:
        status, body = http("GET", f"{base}/api/status/{job_id}/", token=token)
        if body["status"] == "COMPLETE":
            return time.perf_counter() - started, accepted
        if body["status"] in {"FAILED", "CANCELLED"}:
            raise SystemExit(f"job {job_id} ended {body}")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10_000)
    args = parser.parse_args()
    config = master_config(args.rounds)
    with stack() as running:
        for _ in range(2):
            one_job(running.base, running.token, config)
        walls, accepts = [], []
        for _ in range(args.jobs):
            wall, accepted = one_job(running.base, running.token, config)
            walls.append(wall)
            accepts.append(accepted)
    print(f"{args.jobs} jobs of {args.rounds} rounds, warm worker:")
    print(
        f"  submit -> COMPLETE  median {statistics.median(walls) * 1000:.0f} ms "
        f"(min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f})"
    )
    print(f"  submit -> 202       median {statistics.median(accepts) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
