"""A same-process A/B of the round loops: this tree's engine against COMMIT's, both loaded in
one process and timed pair by pair.

    .venv/bin/python bench/loop_ab.py --against COMMIT [--pairs 15] [--rounds 1000000]

engine_speed.py --ab times the two trees in alternating processes, whose speed on this
shared machine drifts by more than a few percent between processes (an A/A run of it has
shown 1.035). Here COMMIT's `jost_engine` is exported (`git archive`) and renamed
`jost_before` (every `jost_engine` in its sources rewritten), so one process holds both
engines; each pair plays the same game on a fresh session in each (the order alternating
pair by pair) and the report gives each side's median M rounds per CPU second and the
median (and mean +- SE) of the paired ratios this tree / COMMIT's. `--against HEAD` on an
unchanged tree is the A/A that says what noise looks like. Games (one player on one spot
unless said, flat bet, the shipped H17 chart): the common game in the solo loop and in
the general loop (two players), the Spanish loop on the common game with a rule that never
fires, and spanish21_6d_h17. Not a test; never run by pytest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.commit_tree import export_tree  # noqa: E402

CHART = {"playing_strategy": "perfect_h17_basic_strategy"}
GAMES: dict[str, tuple[Any, int]] = {
    "common_solo": ("vegas_6d_h17_das_ls", 1),
    "common_general": ("vegas_6d_h17_das_ls", 2),
    "spanish_idle_rule": ({"parent": "vegas_6d_h17_das_ls", "double_down_rescue": True}, 1),
    "spanish21_6d_h17": ("spanish21_6d_h17", 1),
}


def load_before(commit: str, into: Path) -> Any:
    """COMMIT's jost_engine as the package jost_before."""
    tree = export_tree(commit, into, "jost_engine")
    (tree / "jost_engine").rename(tree / "jost_before")
    for source in (tree / "jost_before").rglob("*.py"):
        text = source.read_text()
        source.write_text(re.sub(r"\bjost_engine\b", "jost_before", text))
    sys.path.insert(0, str(tree))
    return importlib.import_module("jost_before")


def sessions(engine: str) -> dict[str, Any]:
    config = importlib.import_module(f"{engine}.config")
    simulate = importlib.import_module(f"{engine}.simulate")
    made = {}
    for name, (casino, players) in GAMES.items():
        normal = config.normalize_config(
            {
                "casino": casino,
                "num_rounds": 1,
                "stop_when_broke": False,
                "players": [CHART] * players,
            }
        )
        made[name] = (simulate.new_session, normal)
    return made


def timed(game: tuple[Any, Any], rounds: int, seed: int) -> float:
    new_session, config = game
    session = new_session(config, seed)
    session.play(1000)
    start = time.process_time()
    session.play(rounds)
    return rounds / (time.process_time() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, metavar="COMMIT")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.pairs < 2:
        parser.error("--pairs must be at least 2 (the ratios' standard error needs two)")
    with tempfile.TemporaryDirectory(prefix="jost-loop-ab-") as tmp:
        load_before(args.against, Path(tmp))
        sides = {"before": sessions("jost_before"), "after": sessions("jost_engine")}
        for side in sides.values():  # compile every loop before any timing
            for game in side.values():
                timed(game, 1000, 1)
        speeds: dict[str, dict[str, list[float]]] = {
            name: {"before": [], "after": []} for name in GAMES
        }
        for pair in range(args.pairs):
            order = ("before", "after") if pair % 2 == 0 else ("after", "before")
            for name in GAMES:
                for side in order:
                    speeds[name][side].append(timed(sides[side][name], args.rounds, 100 + pair))
    report: dict[str, Any] = {"against": args.against, "pairs": args.pairs, "rounds": args.rounds}
    for name, by_side in speeds.items():
        ratios = [a / b for a, b in zip(by_side["after"], by_side["before"], strict=True)]
        report[name] = {
            "before_median_M": round(statistics.median(by_side["before"]), 2),
            "after_median_M": round(statistics.median(by_side["after"]), 2),
            "paired_ratio_median": round(statistics.median(ratios), 3),
            "paired_ratio_mean": round(statistics.mean(ratios), 3),
            "paired_ratio_se": round(statistics.stdev(ratios) / len(ratios) ** 0.5, 3),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
