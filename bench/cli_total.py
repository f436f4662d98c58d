"""The whole CLI run, import to JSON written: `python -m jost_engine` on 20 M rounds.

    .venv/bin/python bench/cli_total.py [--rounds 20000000] [--repeats 5]

Issue 10's game: 6 decks, S17, DAS, split to 4 hands, no resplit of aces, no surrender,
one player, flat bet, `"playing_strategy": "auto"` (the shipped vegas_6d_s17_das casino).
Each run is a fresh `python -m jost_engine config.json --out FILE` subprocess, timed by the
wall clock from start to exit; the document's `duration_seconds` (set-up and play) and
`play_seconds` (the round loop) split it. The target: at most half of freebj's 4.1 s
(measured by issue 10's author on this machine), so 2.05 s.

Four cases, in this order:
- `no cache`: JOST_AUTO_CACHE=off, so every run solves "auto" (the figure before the cache);
- `shipped chart`: the chart in jost_engine/data/auto_charts/ (what a fresh install gets);
- `disk cache, cold`: a rule set no casino ships (the same game with resplit aces) and an
  empty JOST_CACHE_DIR: the first run solves and writes the chart;
- `disk cache, warm`: the same rule set again, read from that directory.
Then, in this process: `auto_strategy` for that rule set with the memory cache cleared,
read from the disk cache (the issue's "at most 0.1 s in a warm process"), against solving.
The numba cache of the round loop must be warm (run `python -m jost_engine --warm-up`
first); the script runs one unmeasured CLI call to make sure.
Results go in docs/BENCHMARKS.md ("The whole CLI run").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jost_engine import _basic_strategy  # noqa: E402
from jost_engine.config import normalize_config  # noqa: E402

FREEBJ_SECONDS = 4.1


def config(rounds: int, resplit_aces: bool = False) -> dict[str, Any]:
    casino: dict[str, Any] | str = "vegas_6d_s17_das"
    if resplit_aces:
        from jost_engine.profiles import default_profile

        casino = {**(default_profile("casino", "vegas_6d_s17_das") or {}), "name": "bench_rsa"}
        casino["allow_resplit_aces"] = True
    return {
        "casino": casino,
        "num_rounds": rounds,
        "seed": 1,
        "players": [
            {
                "name": "bench",
                "bankroll": 1e12,
                "playing_strategy": "auto",
                "betting_strategy": {"name": "FlatBettingStrategy", "params": {"bet_amount": 10}},
            }
        ],
    }


def cli_run(cfg: dict[str, Any], env: dict[str, str], workdir: Path) -> dict[str, float]:
    path = workdir / "config.json"
    out = workdir / "out.json"
    path.write_text(json.dumps(cfg))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "jost_engine", str(path), "--out", str(out)],
        cwd=REPO,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - start
    doc = json.loads(out.read_text())
    return {"wall": wall, "duration": doc["duration_seconds"], "play": doc["play_seconds"]}


def show(label: str, runs: list[dict[str, float]]) -> None:
    walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
    med = {key: statistics.median(r[key] for r in runs) for key in ("wall", "duration", "play")}
    print(
        f"{label:<20} wall {walls} s | median wall {med['wall']:.2f} s "
        f"(duration {med['duration']:.2f}, play {med['play']:.2f}); "
        f"{med['wall'] / FREEBJ_SECONDS:.0%} of freebj's {FREEBJ_SECONDS} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    base = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = work / "cache"
        cli_run(config(1000), base, work)  # the round loop's numba cache, loaded once

        off = {**base, "JOST_AUTO_CACHE": "off"}
        show("no cache", [cli_run(config(args.rounds), off, work) for _ in range(args.repeats)])
        show(
            "shipped chart", [cli_run(config(args.rounds), base, work) for _ in range(args.repeats)]
        )
        disk = {**base, "JOST_CACHE_DIR": str(cache)}
        show("disk cache, cold", [cli_run(config(args.rounds, resplit_aces=True), disk, work)])
        warm = [
            cli_run(config(args.rounds, resplit_aces=True), disk, work) for _ in range(args.repeats)
        ]
        show("disk cache, warm", warm)

        # In this process: the solver's numba functions are loaded once, then a rule set is
        # solved, and read back from the disk cache with the memory cache cleared.
        os.environ["JOST_CACHE_DIR"] = str(cache)
        rules = normalize_config(config(1, resplit_aces=True)).rules
        _basic_strategy.auto_strategy(replace(rules, decks=1))  # load the solvers
        solve_times, read_times = [], []
        for _ in range(args.repeats):
            for decks in (6,):
                key = _basic_strategy._strategy_key(replace(rules, decks=decks))
                start = time.perf_counter()
                _basic_strategy.solve(key)
                solve_times.append(time.perf_counter() - start)
                _basic_strategy._auto_for.cache_clear()
                start = time.perf_counter()
                _basic_strategy.auto_strategy(rules)
                read_times.append(time.perf_counter() - start)
        print(
            f"warm process, 6D S17 DAS RSA: solve median {statistics.median(solve_times):.3f} s, "
            f"read from the disk cache median {statistics.median(read_times) * 1e3:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
