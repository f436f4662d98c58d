"""Helpers the whole suite shares (fixtures live in the conftest files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MASTER_SIMULATION = (
    REPO / "jost_engine" / "data" / "defaults" / "simulations" / "master_simulation.json"
)


# Seven players: a full table. A round takes about seven times one player's, which the
# tests that must catch a shard mid-deal need (one player's 3 M-round shard takes about a
# fifth of a second, as long as a progress report's interval).
FULL_TABLE = 7


def load_master_config(num_rounds: int, seats: int = 1) -> dict[str, Any]:
    """The master simulation the engine ships, shortened to `num_rounds` for speed, with its
    player in `seats` seats (FULL_TABLE for a slow round)."""
    config: dict[str, Any] = json.loads(MASTER_SIMULATION.read_text())
    config["num_rounds"] = num_rounds
    config["seed"] = 42
    config["players"] = config["players"] * seats
    return config


def s17_and_h17_results() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two real results documents of the master simulation, 3,000 rounds each: S17 (seed 1)
    and H17 (seed 2), the pair the comparison's tests read."""
    from jost_engine import run_simulation_from_config

    def run(seed: int, h17: bool) -> dict[str, Any]:
        config = load_master_config(num_rounds=3000)
        config["seed"] = seed
        config["casino"] = {"parent": "master_casino", "hit_on_soft_17": h17}
        return run_simulation_from_config(config)

    return run(1, False), run(2, True)
