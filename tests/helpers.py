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
