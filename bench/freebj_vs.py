"""The whole run on every core, same game, same machine: `python -m jost_engine --jobs J`
against freebj's `-j J`, alternating.

    .venv/bin/python bench/freebj_vs.py --freebj PATH [--rounds 20000000] [--jobs 2]
                                        [--pairs 9]

PATH is a freebj binary built from its source (docs/BENCHMARKS.md says how). The game is
issue 10's (bench/cli_total.py): 6 decks, S17, DAS, double any two, split to 4 hands, no
resplit or play of split aces, no surrender, 3:2, 75% penetration, one player, flat bet,
basic strategy (`"auto"`, the shipped vegas_6d_s17_das casino for JOST; freebj's own
chart), with `"stop_when_broke": false` so JOST may split the run into shards (10 M
rounds each, the service's JOB_SHARD_ROUNDS default).

Each run is a fresh process, timed by the wall clock from start to exit (JOST: interpreter,
imports, the "auto" chart, the workers, the merge and the JSON written; freebj: the same
from its side), with the CPU time of the process and its children. The pairs alternate
which program goes first, so a change in the machine's load falls on both alike. The
figure is rounds per second of wall clock, median over the pairs, and the median of the
paired ratios. The round loop's numba cache must be warm (`python -m jost_engine
--warm-up`); one unmeasured run of each comes first. Results go in docs/BENCHMARKS.md
("Every core"): 20 M rounds (issue 10's run), 100 M (`--rounds 100000000 --pairs 5`) and
1,000 M (`--rounds 1000000000 --pairs 3`, about 6 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def config(rounds: int) -> dict[str, Any]:
    return {
        "casino": "vegas_6d_s17_das",
        "num_rounds": rounds,
        "seed": 1,
        "stop_when_broke": False,
        "players": [
            {
                "name": "bench",
                "bankroll": 1e12,
                "playing_strategy": "auto",
                "betting_strategy": {"name": "FlatBettingStrategy", "params": {"bet_amount": 10}},
            }
        ],
    }


def freebj_argv(binary: str, rounds: int, jobs: int) -> list[str]:
    # American hole card with the peek, S17, DAS, double any two, split to 4 hands, split
    # aces get one card, no surrender, 6 decks cut at 75%: vegas_6d_s17_das.
    game = "--ahc --s17 --das -d 6 -p 75% --max-splits 4 --no-playAA --no-surr --db-any2"
    return [binary, "-n", str(rounds), "-j", str(jobs), *game.split()]


def timed(argv: list[str], stdout: Any, env: dict[str, str] | None = None) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--freebj", required=True, help="a freebj binary")
    parser.add_argument("--rounds", type=int, default=20_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=9)
    args = parser.parse_args()
    print(f"load average before {os.getloadavg()}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path, out = work / "config.json", work / "out.json"
        path.write_text(json.dumps(config(args.rounds)))
        ours_argv = [sys.executable, "-m", "jost_engine", str(path), "--jobs", str(args.jobs)]
        ours_argv += ["--out", str(out)]
        theirs_argv = freebj_argv(args.freebj, args.rounds, args.jobs)

        def ours() -> dict[str, float]:
            run = timed(ours_argv, subprocess.DEVNULL, env)
            doc = json.loads(out.read_text())
            run["ev"] = doc["players"][0]["ev_per_unit"]
            run["shards"] = doc["shards"]
            return run

        def theirs() -> dict[str, float]:
            with open(work / "freebj.json", "w") as sink:
                run = timed(theirs_argv, sink)
            run["ev"] = json.loads((work / "freebj.json").read_text())["ev"]
            return run

        ours()  # the numba cache loaded, the files in the page cache
        theirs()
        runs: dict[str, list[dict[str, float]]] = {"jost": [], "freebj": []}
        for pair in range(args.pairs):
            first, second = (("jost", ours), ("freebj", theirs))[:: 1 if pair % 2 == 0 else -1]
            for name, run in (first, second):
                runs[name].append(run())
    print(f"load average after {os.getloadavg()}")
    print(f"{args.rounds:,} rounds, --jobs {args.jobs} / -j {args.jobs}, {args.pairs} pairs")
    for name, rs in runs.items():
        walls = ", ".join(f"{r['wall']:.2f}" for r in rs)
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        print(
            f"{name:<7} wall {walls} s | median {wall:.2f} s, {args.rounds / wall / 1e6:.1f} M "
            f"rounds/s whole-process; CPU median {cpu:.2f} s; ev/unit {rs[-1]['ev']:+.5f}"
        )
    ratios = [t["wall"] / o["wall"] for o, t in zip(runs["jost"], runs["freebj"], strict=True)]
    medians = statistics.median(r["wall"] for r in runs["freebj"]) / statistics.median(
        r["wall"] for r in runs["jost"]
    )
    print(
        f"JOST / freebj rounds per second: ratio of medians {medians:.2f}x, median of paired "
        f"ratios {statistics.median(ratios):.2f}x (pairs {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
