"""The progressions side by side: what each shipped preset changes, and what it cannot.

    .venv/bin/python scripts/progression_table.py [--sessions 10000] [--rounds 1000]

Each betting strategy (the flat bet and every preset that bets by rules) plays `--sessions`
trips of `--rounds` rounds with a 100-unit bankroll (1,000 at a 10 min_bet) and the broke
rule, by basic strategy ("auto") on 6 decks S17 DAS (vegas_6d_s17_das), seed 2026; the
hybrid counts Hi-Lo, the player's default. Prints the Markdown table of docs/RESULTS.md,
"Betting by rules: what a progression changes".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine import run_simulation_from_config

STRATEGIES = (
    "flat_betting",
    "martingale",
    "paroli",
    "dalembert",
    "oscars_grind",
    "one_three_two_six",
    "count_paroli",
)


def trips(betting: str, sessions: int, rounds: int) -> dict[str, Any]:
    config = {
        "casino": "vegas_6d_s17_das",
        "num_rounds": rounds,
        "sessions": sessions,
        "seed": 2026,
        "players": [{"bankroll": 1000, "betting_strategy": betting}],
    }
    player: dict[str, Any] = run_simulation_from_config(config)["players"][0]
    return player


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1_000)
    args = parser.parse_args()
    print(
        "| betting | average bet (units) | flat_edge +/- 1 SE | player_edge | SD per round "
        "(units) | trip ruin | chance of loss | median final bankroll | bets capped |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in STRATEGIES:
        p = trips(name, args.sessions, args.rounds)
        n = p["rounds_played"]
        se = p["flat_sd"] / n**0.5
        print(
            f"| {name} | {p['average_bet'] / 10:.2f} | {pct(p['flat_edge'])} +/- {pct(se)} "
            f"| {pct(p['player_edge'])} | {p['sd_per_unit']:.2f} | {pct(p['trip_ruin'])} "
            f"| {pct(p['chance_of_loss'])} | {p['final_bankroll_percentiles']['50']:,.0f} "
            f"| {p['bets_capped']:,} |"
        )


if __name__ == "__main__":
    main()
