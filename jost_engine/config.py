"""Every config dialect in, one typed, validated config out.

The dataclasses below are the engine's one internal shape of a simulation config: every
other module (strategy, exact, kernel, simulate) reads these and never the raw JSON.
`normalize_config` is the only place that knows JOST's dialects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

# Canonical action codes of a chart cell. Each conditional code names its fallback, so a
# chart says exactly what to do when the first choice is not allowed:
#   Dh double if allowed, else hit;  Ds double if allowed, else stand;
#   Rh surrender if allowed, else hit;  Rs ... else stand;  Rp ... else split.
# JOST's own codes map onto these at the boundary: D -> Dh, R / Sr / u -> Rh.
ACTIONS: tuple[str, ...] = ("H", "S", "P", "Dh", "Ds", "Rh", "Rs", "Rp")

# Dealer up-card keys as charts write them; "10" stands for every ten-value card.
UP_CARDS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")
HARD_TOTALS: tuple[int, ...] = tuple(range(4, 22))   # 4 (2,2 that cannot split) .. 21
SOFT_TOTALS: tuple[int, ...] = tuple(range(12, 22))  # 12 (A,A that cannot split) .. 21
PAIR_KEYS: tuple[str, ...] = ("2,2", "3,3", "4,4", "5,5", "6,6", "7,7", "8,8", "9,9", "10,10", "A,A")

# Card tags of a counting system, in rank order 2..9, 10 (every ten-value card), A.
TAG_RANKS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")


class ConfigError(ValueError):
    """A config that cannot be run. `problems` holds (JSON path, reason) for every fault."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))


@dataclass(frozen=True)
class Rules:
    """A casino's table rules, in one spelling."""

    name: str
    decks: int  # 1..8; 0 means an infinite shoe (every card drawn with replacement)
    hit_soft_17: bool
    # Two-card totals a player may double on; None means any two cards.
    double_totals: tuple[int, ...] | None
    double_after_split: bool
    max_split_hands: int  # 1 = no splitting, 2 = one split, 4 = resplit to four hands
    resplit_aces: bool
    hit_split_aces: bool  # False: each split ace gets exactly one card
    late_surrender: bool
    early_surrender: bool  # surrender before the dealer checks for blackjack
    blackjack_payout: float  # 1.5 for 3:2, 1.2 for 6:5, 1.0 for 1:1
    penetration: float  # fraction of the shoe dealt before the cut card, 0 < p < 1
    offer_insurance: bool
    dealer_peeks: bool  # False: European no hole card, doubles and splits lost to a blackjack


@dataclass(frozen=True)
class PlayingStrategy:
    """A chart, or `auto` (basic strategy computed for the rules of the run).

    Cells are canonical ACTIONS, keyed as charts are written:
    hard[str(total)][up], soft[str(total)][up], pairs["8,8"][up], with up in UP_CARDS.
    With `auto` the three grids are empty and strategy.py computes them.
    """

    name: str
    auto: bool
    hard: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    soft: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pairs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BettingStrategy:
    """Bets in money; the ramp multiplies `min_bet` by true-count tier.

    `ramp` is sorted by threshold, starts at -inf, and gives (threshold, multiplier):
    the multiplier of the highest threshold <= the true count applies. A flat bet is
    ((-inf, 1.0),).
    """

    name: str
    min_bet: float
    num_hands: int  # spots this player plays each round
    ramp: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class CountingSystem:
    """Tags for 2..9, 10, A (TAG_RANKS order); the true count divides by decks unseen."""

    name: str
    tags: tuple[int, ...]


@dataclass(frozen=True)
class Player:
    name: str
    bankroll: float
    playing: PlayingStrategy
    betting: BettingStrategy
    counting: CountingSystem


@dataclass(frozen=True)
class Config:
    rules: Rules
    players: tuple[Player, ...]  # in seat order
    num_rounds: int
    seed: int | None
    log_hands: bool


# Looks a named profile up: resolve(kind, name) -> the raw profile dict, or None if unknown.
# kind is one of "casino", "player", "playing_strategy", "betting_strategy", "counting_system".
Resolver = Callable[[str, str], "Mapping[str, Any] | None"]


def normalize_config(raw: Any, resolve: Resolver | None = None) -> Config:
    """Turn any JOST dialect into a validated Config, or raise ConfigError naming every fault."""
    raise NotImplementedError("normalize_config lands with the config module")
