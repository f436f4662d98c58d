"""Betting by rules against the ramp: rounds per second of each shipped progression.

    .venv/bin/python bench/progression_speed.py [--rounds 5000000] [--repeats 7]

The game is bench/engine_speed.py's (6 decks, S17, DAS, split to 4 hands, 80%
penetration, one player, the shipped S17 basic strategy), bet flat, by its Hi-Lo ramp (1-2-4-8-12
units; the plain one-spot loop) and by each preset in jost_engine/data/defaults/
betting_strategies/ that bets by rules (the full one-spot loop, its rule table read every
round). Each repeat times one kernel call per game on a fresh session after a warm-up, the
games in turn, so each preset's ratio to the ramp is the median of ratios measured side by
side (the same machine load on both). Figures by this process's CPU time, less sensitive
to other work on a shared machine than the wall clock. Results go in docs/BENCHMARKS.md,
"Betting by rules".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine_speed import CONFIG, RAMP_CONFIG  # noqa: E402
from jost_engine import kernel  # noqa: E402
from jost_engine.config import normalize_config  # noqa: E402
from jost_engine.simulate import new_session  # noqa: E402

PRESETS = ("martingale", "paroli", "dalembert", "oscars_grind", "one_three_two_six", "count_paroli")


def preset_config(name: str) -> dict[str, Any]:
    # The hybrid reads the count: it counts Hi-Lo, as the ramp does.
    player = {**CONFIG["players"][0], "counting_strategy": "hilo", "betting_strategy": name}
    return {**CONFIG, "stop_when_broke": False, "players": [player]}


def rate(raw: dict[str, Any], rounds: int, seed: int) -> float:
    """Rounds per CPU second of one call of the one-spot loop on a fresh session."""
    config = normalize_config(raw)
    arrays = new_session(config, seed).kernel_arrays
    start = time.process_time()
    played = kernel.play_rounds_solo(rounds, *arrays)
    return played / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    games = {
        "hilo_ramp": RAMP_CONFIG,
        "flat": CONFIG,
        **{name: preset_config(name) for name in PRESETS},
    }
    for raw in games.values():  # warm-up: compile or load every loop variant
        rate(raw, 20_000, 0)
    rates: dict[str, list[float]] = {name: [] for name in games}
    for repeat in range(args.repeats):
        for name, raw in games.items():
            rates[name].append(rate(raw, args.rounds, repeat + 1))
    ramp = rates["hilo_ramp"]
    print(f"{args.repeats} repeats of {args.rounds:,} rounds, rounds per CPU second")
    print("| game | median | median of paired ratios to the ramp |")
    print("|---|---|---|")
    for name, values in rates.items():
        ratio = statistics.median(v / r for v, r in zip(values, ramp, strict=True))
        print(f"| {name} | {statistics.median(values) / 1e6:.2f} M/s | {ratio:.2f} |")


if __name__ == "__main__":
    main()
