"""Composition-dependent EVs of a starting hand against a finite shoe and one up card.

Standing, hitting and doubling are exact: every card the player draws leaves the shoe,
and every final hand is compared with the dealer's distribution computed (exactly, see
_dealer) from the shoe less the player's cards and the up card, memoised on the multiset
of the player's cards. After a peek the player's draws also carry what the peek told
(the hole card does not complete a blackjack; see _draw_probs); so do they with no hole
card when a blackjack takes only the original bet (Rules.blackjack_takes_one_bet). One
simplification, as in the standard engines:
- a split hand's cards and play come from the shoe less the up card, the pair cards
  dealt so far in the split and its own cards, ignoring the other split hands' non-pair
  cards (see FiniteShoeUpCard.split).
A hand drawing to a hard total of 11 or less never stands (hitting cannot bust it); that
only skips dealer computations.

The recursion runs in numba (it visits tens of thousands of hand compositions per up
card); the Python class only combines its answers under the rules.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import njit, types
from numba.typed import Dict

from jost_engine._dealer import dealer_outcomes_by_states, dealer_states
from jost_engine._infinite_deck import two_cards
from jost_engine.config import Rules

# The player's cards taken from the shoe, as one int64: 5 bits per rank (a hand holds at
# most 21 cards of a rank), rank c at bits 5c, so ranks 1..10 use bits 5..54. Hand-value
# memo keys shift it by 6 more bits for (total, soft): bit 60 at most.
ONE = tuple(1 << (5 * c) for c in range(11))

# Splits track the pair cards that leave the shoe up to this many (the pair and four
# more: every resplit and stuck pair of a four-hand game); further ones are ignored.
TRACKED_PAIR_CARDS = 6
# With more resplits than this still allowed, a split is valued as unlimited. Only a
# split of tens (never the best play) can need that many with a real chance.
UNLIMITED_RESPLITS = 20

# For the type checker only (numba types the compiled functions from their arguments):
# the dealer's state tables of _dealer.dealer_states, and numba typed dicts memoising
# results by the bit mask of the cards removed.
DealerStates = tuple[np.ndarray, np.ndarray, np.ndarray]
Memo = Any


@njit(cache=True)
def _dealer(
    shoe: np.ndarray, st: DealerStates, peek: bool, removed: int, dmemo: Memo
) -> np.ndarray:
    # [P(17..21), P(bust), P(bj) in the play frame, P(bj) unconditioned]: with a peek the
    # frame is conditioned on no dealer blackjack.
    if removed in dmemo:
        return dmemo[removed]
    left = shoe.copy()
    for c in range(1, 11):
        left[c] -= (removed >> (5 * c)) & 31
    out = dealer_outcomes_by_states(left, st[0], st[1], st[2], True)
    res = np.empty(8)
    pbj = out[6]
    if peek:
        for i in range(6):
            res[i] = out[i] / (1.0 - pbj)
        res[6] = 0.0
    else:
        for i in range(7):
            res[i] = out[i]
    res[7] = pbj
    dmemo[removed] = res
    return res


@njit(cache=True)
def _stand(total: int, d: np.ndarray) -> float:
    if total > 21:
        return -1.0
    ev = d[5] - d[6]
    for i in range(5):
        if total > 17 + i:
            ev += d[i]
        elif total < 17 + i:
            ev -= d[i]
    return ev


@njit(cache=True)
def _add(total: int, soft: bool, card: int) -> tuple[int, bool]:
    t = total + card
    if card == 1 and not soft and t + 10 <= 21:
        return t + 10, True
    if t > 21 and soft:
        return t - 10, False
    if t > 21:
        return 22, False
    return t, soft


@njit(cache=True)
def _draw_probs(shoe: np.ndarray, n: int, partner: int, removed: int) -> np.ndarray:
    # P(next card) by rank. After a peek the hole card is known not to complete a
    # blackjack (partner = the rank that would); by exchangeability the hole card may be
    # treated as dealt after the player's cards, so card c comes with
    # P(c) * P(no bj | shoe less c) / P(no bj | shoe), which still sums to 1.
    probs = np.zeros(11)
    left = n
    for c in range(1, 11):
        left -= (removed >> (5 * c)) & 31
    before = 1.0
    partner_left = 0
    if partner > 0:
        partner_left = shoe[partner] - ((removed >> (5 * partner)) & 31)
        before = 1.0 - partner_left / left
    for c in range(1, 11):
        k = shoe[c] - ((removed >> (5 * c)) & 31)
        if k <= 0:
            continue
        after = 1.0
        if partner > 0:
            after = 1.0 - (partner_left - (1 if c == partner else 0)) / (left - 1)
        probs[c] = k / left * after / before
    return probs


@njit(cache=True)
def _multi(
    shoe: np.ndarray,
    n: int,
    st: DealerStates,
    peek: bool,
    partner: int,
    total: int,
    soft: bool,
    removed: int,
    dmemo: Memo,
    mmemo: Memo,
) -> float:
    # Best of hit and stand for a hand that may only hit or stand.
    key = (removed << 6) | (total << 1) | (1 if soft else 0)
    if key in mmemo:
        return mmemo[key]
    if total == 21:
        value = _stand(21, _dealer(shoe, st, peek, removed, dmemo))
    else:
        probs = _draw_probs(shoe, n, partner, removed)
        hit = 0.0
        for c in range(1, 11):
            if probs[c] == 0.0:
                continue
            t, s = _add(total, soft, c)
            if t > 21:
                hit -= probs[c]
            else:
                hit += probs[c] * _multi(
                    shoe, n, st, peek, partner, t, s, removed + (1 << (5 * c)), dmemo, mmemo
                )
        value = hit
        if total > 11 or soft:
            value = max(hit, _stand(total, _dealer(shoe, st, peek, removed, dmemo)))
    mmemo[key] = value
    return value


@njit(cache=True)
def _hand_evs(
    shoe: np.ndarray,
    n: int,
    st: DealerStates,
    peek: bool,
    partner: int,
    total: int,
    soft: bool,
    removed: int,
    dmemo: Memo,
    mmemo: Memo,
) -> np.ndarray:
    # [stand, hit then play on optimally, double, P(dealer bj) unconditioned].
    d = _dealer(shoe, st, peek, removed, dmemo)
    probs = _draw_probs(shoe, n, partner, removed)
    hit = 0.0
    double = 0.0
    for c in range(1, 11):
        if probs[c] == 0.0:
            continue
        t, s = _add(total, soft, c)
        after = removed + (1 << (5 * c))
        if t > 21:
            hit -= probs[c]
            double -= 2.0 * probs[c]
        else:
            hit += probs[c] * _multi(shoe, n, st, peek, partner, t, s, after, dmemo, mmemo)
            double += 2.0 * probs[c] * _stand(t, _dealer(shoe, st, peek, after, dmemo))
    res = np.empty(4)
    res[0] = _stand(total, d)
    res[1] = hit
    res[2] = double
    res[3] = d[7]
    return res


class FiniteShoeUpCard:
    """EVs of two-card starting hands for one up card; `shoe` excludes the up card."""

    def __init__(self, rules: Rules, shoe: np.ndarray, up: int) -> None:
        self.rules = rules
        self.shoe = shoe.astype(np.int64)
        self.n = int(shoe.sum())
        self.up = up
        self._states = dealer_states(up, rules.hit_soft_17)
        # Valued as after a peek whenever a dealer blackjack costs one bet (a peek, or no
        # hole card with "original_bet"): only rounds without one depend on the play, and
        # in those the hole card is known not to complete a blackjack.
        self.partner = {1: 10, 10: 1}.get(up, 0) if rules.blackjack_takes_one_bet else 0
        self._dmemo = Dict.empty(key_type=types.int64, value_type=types.float64[:])
        # Split hands share this memo safely: their removed cards include the other pair
        # card, so (removed, total, soft) never equals a non-split hand's key.
        self._mmemo = Dict.empty(key_type=types.int64, value_type=types.float64)

    def hand_evs(self, total: int, soft: bool, removed: int) -> np.ndarray:
        """[stand, hit, double, P(dealer bj)] for a hand of (total, soft) with the
        player's cards `removed` (an int, see ONE) out of the shoe."""
        return _hand_evs(
            self.shoe,
            self.n,
            self._states,
            self.rules.blackjack_takes_one_bet,
            self.partner,
            total,
            soft,
            removed,
            self._dmemo,
            self._mmemo,
        )

    def options(self, c1: int, c2: int) -> tuple[dict[str, float], float]:
        """Hand EVs of every legal first action on (c1, c2) in the play frame, and
        P(dealer blackjack) given those cards."""
        total, soft = two_cards(c1, c2)
        stand, hit, double, p_blackjack = self.hand_evs(total, soft, ONE[c1] + ONE[c2])
        options = {"S": float(stand), "H": float(hit)}
        if self.rules.may_double(total):
            options["D"] = float(double)
        if c1 == c2 and self.rules.max_split_hands >= 2:
            options["P"] = self.split(c1)
        return options, float(p_blackjack)

    def split(self, card: int) -> float:
        """EV of splitting a pair of `card` (all hands, per unit of the original bet).

        Hands are completed one after another. A hand's second card, and its play, come
        from the shoe less the up card, the pair cards dealt so far in this split (the
        pair itself, any resplit or stuck pair cards) and the hand's own cards; the other
        hands' non-pair cards are ignored (the standard approximation). Drawing the pair
        card resplits while the hand limit allows (as the kernel does when the pairs cell
        says P), otherwise the hand is a pair that plays as its total.
        """
        rules = self.rules
        resplit = card != 1 or rules.resplit_aces
        resplits = max(rules.max_split_hands - 2, 0) if resplit else 0

        @cache
        def parts(m: int) -> tuple[float, float, float]:
            # (w, r, stuck) with m pair cards out: w = sum over non-pair cards x of
            # P(x) * EV of the hand (card, x); r = P(pair card); stuck = EV of (card, card).
            out = m * ONE[card]
            probs = _draw_probs(self.shoe, self.n, self.partner, out)

            def value(other: int) -> float:
                total, soft = two_cards(card, other)
                stand, hit, double, _ = self.hand_evs(total, soft, out + ONE[other])
                if card == 1 and not rules.hit_split_aces:
                    return float(stand)
                best = max(stand, hit)
                if rules.may_double(total, after_split=True):
                    best = max(best, double)
                return float(best)

            r = float(probs[card])
            w = sum(probs[x] * value(x) for x in range(1, 11) if x != card and probs[x] > 0)
            return w, r, (value(card) if r > 0 else 0.0)

        @cache
        def f(pending: int, left: int, m: int) -> float:
            # Expected sum of the EVs of `pending` hands still to get their second card,
            # `left` resplits allowed, m pair cards out of the shoe.
            if pending == 0:
                return 0.0
            if m >= TRACKED_PAIR_CARDS:
                return frozen(pending, left)
            w, r, stuck = parts(m)
            if left == 0:
                return w + (1.0 - r) * f(pending - 1, 0, m) + r * (stuck + f(pending - 1, 0, m + 1))
            return w + (1.0 - r) * f(pending - 1, left, m) + r * f(pending + 1, left - 1, m + 1)

        @cache
        def frozen(pending: int, left: int) -> float:
            # The same once TRACKED_PAIR_CARDS are out: later pair cards no longer change
            # the shoe, and a hand limit this far off counts as unlimited.
            w, r, stuck = parts(TRACKED_PAIR_CARDS)
            if pending == 0:
                return 0.0
            if left >= UNLIMITED_RESPLITS:
                return pending * w / (1.0 - 2.0 * r)
            if left == 0:
                return pending * (w + r * stuck)
            return w + (1.0 - r) * frozen(pending - 1, left) + r * frozen(pending + 1, left - 1)

        # Past the pair cards in the shoe none can be drawn (r = 0): no more resplits.
        return f(2, min(resplits, int(self.shoe[card]) - 2), 2)
