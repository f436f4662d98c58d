"""Fixtures the engine tests share: the published charts, a rules builder and the Hi-Lo count.

The published charts live in tests/data/published_charts.json (Wizard of Odds,
BlackjackInfo, Blackjack Apprenticeship; sources, cross-checks and the disputed cells in its
`_about`). The engine never ships a copy: it computes its charts, and the tests hold it to
these. The file is read by a fixture, not at import, so a missing file fails the tests that
need it instead of stopping the collection of the whole suite.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from jost_engine.config import (
    HARD_TOTALS,
    PAIR_KEYS,
    SOFT_TOTALS,
    UP_CARDS,
    CountingSystem,
    PlayingStrategy,
    Rules,
)

PUBLISHED_CHARTS = Path(__file__).resolve().parents[1] / "data" / "published_charts.json"

# "auto" is solved in every test, never read from the shipped charts or a cache on disk: the
# tests of the solver must test the solver, and no test writes into the user's cache.
# tests/engine/test_auto_cache.py turns the cache on, in a directory of its own.
os.environ["JOST_AUTO_CACHE"] = "off"

# The rules the builder starts from: an infinite shoe (so any arranged card order is
# possible), S17, double any two, DAS, split to 4 hands, no resplit or hit of split aces,
# no surrender, 3:2, insurance offered, American peek.
BASE_RULES = Rules(
    name="test",
    decks=0,
    hit_soft_17=False,
    double_totals=None,
    double_after_split=True,
    max_split_hands=4,
    resplit_aces=False,
    hit_split_aces=False,
    late_surrender=False,
    early_surrender=False,
    blackjack_payout=1.5,
    penetration=0.8,
    offer_insurance=True,
    dealer_peeks=True,
)


@pytest.fixture(scope="session")
def published_charts() -> dict[str, dict[str, Any]]:
    """Every published chart by key ("6D_S17_DAS_noLS", ...): its rules block and its
    hard, soft and pairs tables (ace as "A", tens as "10")."""
    charts: dict[str, dict[str, Any]] = json.loads(PUBLISHED_CHARTS.read_text())["charts"]
    return charts


@pytest.fixture(scope="session")
def published_chart(
    published_charts: dict[str, dict[str, Any]],
) -> Callable[[str], PlayingStrategy]:
    """published_chart(key): that published chart as a playing strategy the engine reads."""

    def chart(key: str) -> PlayingStrategy:
        c = published_charts[key]
        return PlayingStrategy(
            name=key, auto=False, hard=c["hard"], soft=c["soft"], pairs=c["pairs"]
        )

    return chart


@pytest.fixture(scope="session")
def make_rules() -> Callable[..., Rules]:
    """make_rules(**changes): BASE_RULES with the fields given changed."""

    def make(**changes: Any) -> Rules:
        return dataclasses.replace(BASE_RULES, **changes)

    return make


@pytest.fixture(scope="session")
def hilo() -> CountingSystem:
    """Hi-Lo: 2-6 count +1, 7-9 count 0, tens and aces -1 (tags in rank order 2..9, 10, A)."""
    return CountingSystem(name="hilo", tags=(1, 1, 1, 1, 1, 0, 0, 0, -1, -1))


@pytest.fixture(scope="session")
def uniform_chart() -> Callable[..., PlayingStrategy]:
    """uniform_chart(hard, soft=hard, pairs=hard): a chart with one action in every cell of
    each table, e.g. "Rh" everywhere (surrender every first two cards) or "Dh" with "P"
    pairs (double or split every first two cards), to isolate what a rule does."""

    def chart(hard: str, soft: str | None = None, pairs: str | None = None) -> PlayingStrategy:
        def grid(rows: Iterable[object], action: str) -> dict[str, dict[str, str]]:
            return {str(row): dict.fromkeys(UP_CARDS, action) for row in rows}

        return PlayingStrategy(
            name=f"always {hard}",
            auto=False,
            hard=grid(HARD_TOTALS, hard),
            soft=grid(SOFT_TOTALS, soft or hard),
            pairs=grid(PAIR_KEYS, pairs or hard),
        )

    return chart


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Overrides tests/conftest.py's fixture of that name, which clears the service's
    throttle counters through Django's cache: the engine has no throttles and never imports
    Django (tests/engine/test_profiles.py holds it to that), so its tests clear nothing."""
