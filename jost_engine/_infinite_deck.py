"""Expected values of the player's hands against one dealer distribution.

`HandValues(q, dealer, rules)` answers every question the strategy and the exact
calculator ask: EV of standing, hitting, doubling, splitting a hand, playing either
optimally or by a chart. Cards are drawn with fixed probabilities `q` (index 1..10,
ace = 1): this is the infinite deck, where it is exact (finite shoes go through
_finite_shoe, which removes every card seen). `dealer` is an outcome
vector of _dealer (17..21, bust, blackjack): conditioned on no blackjack after a peek
(and with no hole card when a blackjack takes only the original bet, which makes the
game a peek game in value), unconditioned in a no-hole-card game where a dealer blackjack
beats every non-blackjack hand, doubles and split hands included (`no_hole_card_loses`
"all").

EVs are per unit of the hand's initial bet; a double counts twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from jost_engine._dealer import BLACKJACK, BUST
from jost_engine.chart import ACTION_CODE
from jost_engine.config import Rules

H, S, P, DH, DS, RH, RS, RP = (
    ACTION_CODE[a] for a in ("H", "S", "P", "Dh", "Ds", "Rh", "Rs", "Rp")
)

# A hand limit this high is treated as unlimited (closed form). Needing more than 64 hands
# takes over 62 resplits: for a chart that splits tens (the likeliest pair card, 4/13)
# that moves the EV by under 1e-6 of a unit, for any other pair by far less.
UNLIMITED_HANDS = 64


@cache
def add_card(total: int, soft: bool, card: int) -> tuple[int, bool]:
    """Hand (total, soft) plus a card -> new (total, soft); total 22 means bust.
    Soft means an ace is counted as 11."""
    t = total + card
    if card == 1 and not soft and t + 10 <= 21:
        return t + 10, True
    if t > 21 and soft:
        return t - 10, False
    return (22, False) if t > 21 else (t, soft)


def one_card(card: int) -> tuple[int, bool]:
    return (11, True) if card == 1 else (card, False)


def two_cards(c1: int, c2: int) -> tuple[int, bool]:
    return add_card(*one_card(c1), c2)


@dataclass(frozen=True)
class Chart:
    """A chart as int8 tables (chart.chart_arrays) plus the up card being played."""

    hard: np.ndarray
    soft: np.ndarray
    pairs: np.ndarray
    up: int

    def cell(self, total: int, soft: bool) -> int:
        return int((self.soft if soft else self.hard)[total, self.up])

    def pair_cell(self, rank: int) -> int:
        return int(self.pairs[rank, self.up])


def hit_or_stand(code: int) -> int:
    """What a cell means once doubling, surrendering and splitting are over: the fallback
    hit or stand. A split code in the hard/soft tables (not a pair) hits."""
    return S if code in (S, DS, RS) else H


class HandValues:
    """EVs of hands against `dealer`, drawing cards with probabilities `q`."""

    def __init__(self, q: np.ndarray, dealer: np.ndarray, rules: Rules) -> None:
        self.q = q
        self.dealer = dealer
        self.rules = rules
        self._stand = np.empty(23)
        for t in range(23):
            self._stand[t] = self._stand_ev(t)
        self._multi_opt: dict[tuple[int, bool], float] = {}
        self._multi_chart: dict[tuple[int, bool], float] = {}

    def _stand_ev(self, total: int) -> float:
        d = self.dealer
        if total > 21:
            return -1.0
        ev = d[BUST] - d[BLACKJACK]
        for i, dealer_total in enumerate(range(17, 22)):
            ev += d[i] * (1.0 if total > dealer_total else -1.0 if total < dealer_total else 0.0)
        return ev

    # -- single actions -------------------------------------------------------------

    def stand(self, total: int) -> float:
        return float(self._stand[total])

    def double(self, total: int, soft: bool) -> float:
        return 2.0 * sum(self.q[c] * self._stand[add_card(total, soft, c)[0]] for c in range(1, 11))

    def hit(self, total: int, soft: bool, chart: Chart | None = None) -> float:
        """Hit once, then play on by hit/stand: optimally, or by the chart's fallbacks."""
        ev = 0.0
        for c in range(1, 11):
            t, s = add_card(total, soft, c)
            ev += self.q[c] * (-1.0 if t > 21 else self.multi(t, s, chart))
        return ev

    def multi(self, total: int, soft: bool, chart: Chart | None = None) -> float:
        """Value of a hand that may only hit or stand (three or more cards)."""
        memo = self._multi_opt if chart is None else self._multi_chart
        key = (total, soft)
        if key not in memo:
            if total == 21:
                memo[key] = self.stand(21)
            elif chart is None:
                memo[key] = max(self.stand(total), self.hit(total, soft))
            elif hit_or_stand(chart.cell(total, soft)) == S:
                memo[key] = self.stand(total)
            else:
                memo[key] = self.hit(total, soft, chart)
        return memo[key]

    # -- two-card hands after a split ---------------------------------------------

    def after_split_options(self, card: int, other: int) -> dict[str, float]:
        """EVs a split hand (card, other) may take, without resplitting."""
        total, soft = two_cards(card, other)
        if card == 1 and not self.rules.hit_split_aces:
            return {"S": self.stand(total)}
        options = {"S": self.stand(total), "H": self.hit(total, soft)}
        if self.rules.may_double(total, after_split=True):
            options["D"] = self.double(total, soft)
        return options

    def after_split_chart(self, card: int, other: int, chart: Chart) -> float:
        total, soft = two_cards(card, other)
        if card == 1 and not self.rules.hit_split_aces:
            return self.stand(total)
        code = chart.cell(total, soft)
        if code in (DH, DS) and self.rules.may_double(total, after_split=True):
            return self.double(total, soft)
        if hit_or_stand(code) == S:
            return self.stand(total)
        return self.hit(total, soft, chart)

    def split(self, card: int, chart: Chart | None = None) -> float:
        """EV of splitting a pair of `card`, all hands together, per unit of the original
        bet. A pair drawn to a split hand is resplit while the hand limit allows (and, for
        aces, resplit_aces), as a chart that splits the pair does; with an infinite deck
        every hand's draws are independent, so the total is the sum over hands of their
        EVs and only the number of hands is random (see _split_total)."""
        rules = self.rules

        def value(other: int) -> float:
            if chart is None:
                return max(self.after_split_options(card, other).values())
            return self.after_split_chart(card, other, chart)

        r = float(self.q[card])
        w = sum(self.q[x] * value(x) for x in range(1, 11) if x != card)
        stuck = value(card)  # a pair that may not be resplit plays as its total
        resplit = card != 1 or rules.resplit_aces
        k = max(rules.max_split_hands - 2, 0) if resplit else 0
        return _split_total(w, r, stuck, k)


def _split_total(w: float, r: float, stuck: float, resplits: int) -> float:
    """Expected sum over split hands. Each pending hand draws its second card: a non-pair
    card adds `w` (already weighted by its probability); the pair card (probability r)
    either resplits, making two pending hands, while resplits are left, or adds `stuck`.

    f(s, 0) = s (w + r stuck);  f(s, k) = w + (1 - r) f(s - 1, k) + r f(s + 1, k - 1).
    Unlimited: each hand is worth V = w / (1 - 2 r), two of them to start with.
    """
    if resplits >= UNLIMITED_HANDS - 2:
        return 2.0 * w / (1.0 - 2.0 * r)

    @cache
    def f(s: int, k: int) -> float:
        if s == 0:
            return 0.0
        if k == 0:
            return s * (w + r * stuck)
        return w + (1.0 - r) * f(s - 1, k) + r * f(s + 1, k - 1)

    return f(2, resplits)
