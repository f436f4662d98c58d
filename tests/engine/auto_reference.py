"""The shipped casinos' rule sets and 48 random ones, with the `auto` charts the solver of
commit 7611f30 gave them, for tests/engine/test_auto_solver.py.

    .venv/bin/python -m tests.engine.auto_reference  # writes tests/data/auto_reference_charts.json

The file was written by running this module in a copy of commit 7611f30 (`git archive`),
before the solver was rewritten for speed (issue 16): the rewritten solver is held to those
charts cell by cell. Rewrite the file only on purpose, when a chart is meant to change, and
say why in the commit.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from pathlib import Path
from typing import Any

from jost_engine.config import PlayingStrategy, Rules

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "auto_reference_charts.json"
SEED = 16
COUNT = 48


def random_rule_sets(seed: int = SEED, count: int = COUNT) -> list[Rules]:
    """`count` rule sets drawn over every rule the solver reads; mostly finite shoes, which
    is where the solver spends its time, an infinite shoe about one time in nine."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        peek = rng.random() < 0.6
        early = rng.random() < 0.2
        out.append(
            Rules(
                name=f"random {i}",
                decks=rng.randint(0, 8),
                hit_soft_17=rng.random() < 0.5,
                double_totals=rng.choice([None, None, (9, 10, 11), (10, 11), (11,)]),
                double_after_split=rng.random() < 0.6,
                max_split_hands=rng.choice([1, 2, 2, 3, 4, 4, 4, 8]),
                resplit_aces=rng.random() < 0.3,
                hit_split_aces=rng.random() < 0.2,
                late_surrender=not early and rng.random() < 0.4,
                early_surrender=early,
                blackjack_payout=1.5,
                penetration=0.5,
                offer_insurance=False,
                dealer_peeks=peek,
                no_hole_card_loses="all" if peek else rng.choice(["all", "original_bet"]),
            )
        )
    return out


def _grids(chart: PlayingStrategy) -> dict[str, Any]:
    return {"name": chart.name, "hard": chart.hard, "soft": chart.soft, "pairs": chart.pairs}


def load() -> list[tuple[Rules, dict[str, Any]]]:
    """(rules as the solver keys them, the reference chart's name and grids) per rule set."""
    data = json.loads(REFERENCE.read_text())
    out = []
    for entry in data["charts"]:
        rules = dict(entry["rules"])
        if rules["double_totals"] is not None:
            rules["double_totals"] = tuple(rules["double_totals"])
        out.append((Rules(**rules), entry["chart"]))
    return out


def shipped_rule_sets() -> list[Rules]:
    """The rules of every shipped casino "auto" plays (the charts jost_engine/data/auto_charts
    holds; not Spanish 21's)."""
    from jost_engine._auto_cache import auto_casinos
    from jost_engine.config import normalize_config

    return [
        normalize_config(
            {"casino": casino, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
        ).rules
        for casino in auto_casinos()
    ]


def main() -> int:
    from jost_engine._basic_strategy import _strategy_key, solve

    charts = []
    for rules in shipped_rule_sets() + random_rule_sets():
        key = _strategy_key(rules)
        charts.append({"rules": dataclasses.asdict(key), "chart": _grids(solve(key))})
        print(len(charts), key, flush=True)
    # One line per rule set: a changed chart shows as that line in a diff.
    lines = [json.dumps(c, separators=(",", ":")) for c in charts]
    head = f'{{"seed": {SEED}, "written_by": "7611f30", "charts": [\n'
    REFERENCE.write_text(head + ",\n".join(lines) + "\n]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
