"""`auto` basic strategy: total-dependent, computed for the exact rules and deck count."""

from __future__ import annotations

from jost_engine.config import PlayingStrategy, Rules


def auto_strategy(rules: Rules) -> PlayingStrategy:
    raise NotImplementedError("auto basic strategy is being written (deliverable 2)")
