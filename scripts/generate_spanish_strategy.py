"""Write the shipped Spanish 21 playing strategy from the engine's own `auto` solver.

    .venv/bin/python scripts/generate_spanish_strategy.py

jost_engine/data/defaults/playing_strategies/spanish21_6d_h17_basic_strategy.json is the
`auto` chart (jost_engine._spanish) of the shipped casino spanish21_6d_h17, the common
venue's rules (six Spanish decks, H17, late surrender, double any number of cards,
rescue, DAS, resplit and hit/double split aces, the usual bonuses, no redoubling), in
the chart format of docs/CONFIG.md with its `more_cards`, `compositions` and `rescue`
tables: so a player can pick it by name, and a reader can see what "auto" plays. Run it
after any change to the Spanish solver (tests/engine/test_spanish_solver.py fails until
then).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine.config import config_to_dict, normalize_config
from jost_engine.strategy import resolve_playing_strategy

CASINO = "spanish21_6d_h17"
NAME = "spanish21_6d_h17_basic_strategy"
OUT = (
    Path(__file__).resolve().parents[1]
    / "jost_engine"
    / "data"
    / "defaults"
    / "playing_strategies"
    / f"{NAME}.json"
)
DESCRIPTION = (
    "Spanish 21 basic strategy for spanish21_6d_h17 (six 48-card decks, dealer hits soft "
    "17, late surrender, double any number of cards, rescue, DAS, resplit and hit/double "
    'split aces, the usual 21 bonuses, no redoubling): the engine\'s own "auto" chart for '
    "those rules (scripts/generate_spanish_strategy.py), with rows by number of cards "
    "(more_cards), the two-card hands that play otherwise than their row (compositions) "
    "and the rescue table."
)


def strategy() -> dict[str, object]:
    """The chart as config_to_dict writes a playing strategy's tables."""
    config = normalize_config(
        {"casino": CASINO, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
    )
    player = config.players[0]
    chart = dataclasses.replace(resolve_playing_strategy(player.playing, config.rules), name=NAME)
    solved = dataclasses.replace(config, players=(dataclasses.replace(player, playing=chart),))
    return config_to_dict(solved)["players"][0]["playing_strategy"]["strategy"]


def to_json(profile: dict[str, object]) -> str:
    """Indented JSON with each chart row on one line, so the file reads like a chart."""

    def write(value: object, indent: int) -> str:
        leaf = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        if isinstance(value, dict) and value and not leaf:
            pad = "  " * (indent + 1)
            items = [f"{pad}{json.dumps(k)}: {write(v, indent + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
        return json.dumps(value)

    return write(profile, 0) + "\n"


def main() -> int:
    profile = {"name": NAME, "description": DESCRIPTION, "strategy": strategy()}
    OUT.write_text(to_json(profile), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
