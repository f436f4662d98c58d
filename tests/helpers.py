"""Helpers the whole suite shares (fixtures live in the conftest files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MASTER_SIMULATION = (
    REPO / "jost_engine" / "data" / "defaults" / "simulations" / "master_simulation.json"
)


def load_master_config(num_rounds: int) -> dict[str, Any]:
    """The master simulation the engine ships, shortened to `num_rounds` for speed."""
    config: dict[str, Any] = json.loads(MASTER_SIMULATION.read_text())
    config["num_rounds"] = num_rounds
    config["seed"] = 42
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
