"""Spanish 21's round loop (jost_engine.kernel_spanish) against the common game's loops.

    .venv/bin/python bench/spanish_speed.py [--rounds 2000000] [--repeats 7]

Four games, one player on one spot, flat bet, the shipped H17 chart, each timed as one
kernel call on a fresh session after a warm-up call, by this process's CPU time (less
sensitive than the wall clock to other work on a shared machine):

- common solo: vegas_6d_h17_das_ls in the one-spot loop (play_rounds_solo), what most
  configs run;
- common general: the same game in the general loop (kernel.play_rounds called directly);
- spanish, idle rule: the same game with double_down_rescue on but no chart cell that
  rescues, so the Spanish loop plays the common game card for card
  (tests/engine/test_spanish21.py holds it bitwise equal to the general loop);
- spanish21_6d_h17: the shipped Spanish casino (48-card decks and its bonuses).

The repeats interleave the four games, and each ratio is the median of the ratios taken
within a repeat, so both sides of a ratio saw the same machine load. Results go in
docs/BENCHMARKS.md ("Spanish 21").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine import kernel as k
from jost_engine.config import normalize_config
from jost_engine.simulate import new_session


def config(casino: Any) -> Any:
    return normalize_config(
        {
            "casino": casino,
            "num_rounds": 1,
            "stop_when_broke": False,
            "players": [{"playing_strategy": "perfect_h17_basic_strategy"}],
        }
    )


GAMES = {
    "common_solo": config("vegas_6d_h17_das_ls"),
    "common_general": config("vegas_6d_h17_das_ls"),
    "spanish_idle_rule": config({"parent": "vegas_6d_h17_das_ls", "double_down_rescue": True}),
    "spanish21_6d_h17": config("spanish21_6d_h17"),
}


def timed(name: str, rounds: int, seed: int) -> float:
    """M rounds per CPU second of one call on a fresh session (warmed up)."""
    session = new_session(GAMES[name], seed)

    def play(n: int) -> None:
        if name == "common_general":
            k.play_rounds(n, *session.kernel_arrays)
        else:
            session.play(n)

    play(1000)
    start = time.process_time()
    play(rounds)
    return rounds / (time.process_time() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for name in GAMES:  # compile or load every loop before any timing
        timed(name, 1000, 1)
    runs: dict[str, list[float]] = {name: [] for name in GAMES}
    for r in range(args.repeats):
        for name in GAMES:
            runs[name].append(timed(name, args.rounds, 100 + r))
    base = runs["common_solo"]
    report: dict[str, Any] = {
        "rounds_per_call": args.rounds,
        "repeats": args.repeats,
        "load_average_at_end": list(os.getloadavg()),
    }
    for name, speeds in runs.items():
        report[name] = {
            "median_M_per_cpu_s": round(statistics.median(speeds), 2),
            "ratio_to_common_solo_median": round(
                statistics.median(s / b for s, b in zip(speeds, base, strict=True)), 3
            ),
            "ratio_to_common_general_median": round(
                statistics.median(
                    s / g for s, g in zip(speeds, runs["common_general"], strict=True)
                ),
                3,
            ),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
