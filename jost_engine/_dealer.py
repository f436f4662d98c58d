"""The dealer's final-total distribution, exact, for a finite shoe or an infinite deck.

Arrays are indexed by rank 1..10 (1 = ace, 10 = every ten-value card; index 0 unused).
An outcome vector has OUTCOMES slots: final totals 17..21, bust, blackjack.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OUTCOMES = ("17", "18", "19", "20", "21", "bust", "blackjack")
BUST = 5
BLACKJACK = 6


def full_shoe(decks: int) -> np.ndarray:
    """Card counts of `decks` fresh decks by rank (index 1..10); decks=0 gives the
    proportions of one deck, which is what an infinite shoe draws from."""
    counts = np.zeros(11, dtype=np.int64)
    counts[1:10] = 4 * max(decks, 1)
    counts[10] = 16 * max(decks, 1)
    return counts


@njit(cache=True)
def _draw(counts, n, hard, ace, prob, h17, deplete, out):
    # Enumerates every sequence of dealer draws; `hard` counts aces as 1. With `deplete`
    # each card drawn leaves the shoe (finite shoe), otherwise proportions stay fixed.
    for c in range(1, 11):
        k = counts[c]
        if k == 0:
            continue
        p = prob * k / n
        h = hard + c
        a = ace or c == 1
        if h > 21:
            out[5] += p
            continue
        soft = a and h + 10 <= 21
        v = h + 10 if soft else h
        if v > 17 or (v == 17 and not (soft and h17)):
            out[v - 17] += p
            continue
        if deplete:
            counts[c] -= 1
            _draw(counts, n - 1, h, a, p, h17, deplete, out)
            counts[c] += 1
        else:
            _draw(counts, n, h, a, p, h17, deplete, out)


@njit(cache=True)
def dealer_outcomes(counts, up, h17, deplete):
    """P(17, 18, 19, 20, 21, bust, blackjack) for a dealer showing `up`, hole card and
    draws from `counts` (the up card already removed). Not conditioned on anything."""
    out = np.zeros(7)
    shoe = counts.copy()
    n = shoe.sum()
    for hole in range(1, 11):
        k = shoe[hole]
        if k == 0:
            continue
        p = k / n
        if (up == 1 and hole == 10) or (up == 10 and hole == 1):
            out[6] += p
            continue
        h = up + hole
        a = up == 1 or hole == 1
        soft = a and h + 10 <= 21
        v = h + 10 if soft else h
        if v > 17 or (v == 17 and not (soft and h17)):
            out[v - 17] += p
            continue
        if deplete:
            shoe[hole] -= 1
            _draw(shoe, n - 1, h, a, p, h17, deplete, out)
            shoe[hole] += 1
        else:
            _draw(shoe, n, h, a, p, h17, deplete, out)
    return out


def given_no_blackjack(outcomes: np.ndarray) -> np.ndarray:
    """The same distribution conditioned on the dealer not having a blackjack (after the
    peek): Bayes, the blackjack mass removed and the rest renormalised."""
    conditioned = outcomes.copy()
    conditioned[:6] /= 1.0 - outcomes[BLACKJACK]
    conditioned[BLACKJACK] = 0.0
    return conditioned
