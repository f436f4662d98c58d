"""Slow clients against the web tier: what 200 half-sent requests held for a minute cost.

    .venv/bin/python bench/slow_clients.py [--sockets 200] [--seconds 60] [--rounds 3]

The service stack of bench/service_stack.py (PostgreSQL, Redis, a worker and the Procfile's
gunicorn with WEB_CONCURRENCY=2 and the shipped read deadlines). Each round holds
`--sockets` connections for `--seconds` (half with half a header block, half with a whole
header block and 11 bytes of a 1,000-byte body, each replaced as soon as the server
closes it) while /healthz is asked five times a second (tests/integration/slow_clients.py).
Reported per round: /healthz median, p95 and max, and how long the server took to close
each kind of socket; then the medians over the rounds, beside /healthz with no attack
(`--seconds` of polling alone, before each round: same run, same machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from service_stack import REPO, stack

sys.path.insert(0, str(REPO))
from tests.integration.slow_clients import hold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    p95s, quiet, heads, bodies = [], [], [], []
    with stack() as running:
        for n in range(1, args.rounds + 1):
            alone = hold(running.base, 0, args.seconds)
            quiet.append(alone.health_p95() * 1000)
            print(f"round {n}, no attack: {alone.summary().splitlines()[-1]}", flush=True)
            report = hold(running.base, args.sockets, args.seconds)
            print(f"round {n}:\n{report.summary()}", flush=True)
            p95s.append(report.health_p95() * 1000)
            heads.append(max(report.lifetimes("head"), default=float("nan")))
            bodies.append(max(report.lifetimes("body"), default=float("nan")))
    print(
        f"median of {args.rounds} rounds: /healthz p95 {statistics.median(p95s):.1f} ms "
        f"under attack, {statistics.median(quiet):.1f} ms without; "
        f"longest-lived half header {statistics.median(heads):.1f} s, "
        f"half body {statistics.median(bodies):.1f} s"
    )


if __name__ == "__main__":
    main()
