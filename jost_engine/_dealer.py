"""The dealer's final-total distribution, exact, for a finite shoe or an infinite deck.

Arrays are indexed by rank 1..10 (1 = ace, 10 = every ten-value card; index 0 unused).
An outcome vector has OUTCOMES slots: final totals 17..21, bust, blackjack.
"""

from __future__ import annotations

from functools import cache

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


def dealer_outcomes(counts: np.ndarray, up: int, h17: bool, deplete: bool) -> np.ndarray:
    """P(17, 18, 19, 20, 21, bust, blackjack) for a dealer showing `up`, hole card and
    draws from `counts` (the up card already removed; with deplete=False the proportions
    of `counts` never change: an infinite deck). Not conditioned on anything."""
    return dealer_outcomes_by_states(counts, *dealer_states(up, h17), deplete)


def given_no_blackjack(outcomes: np.ndarray) -> np.ndarray:
    """The same distribution conditioned on the dealer not having a blackjack (after the
    peek): Bayes, the blackjack mass removed and the rest renormalised."""
    conditioned = outcomes.copy()
    conditioned[:6] /= 1.0 - outcomes[BLACKJACK]
    conditioned[BLACKJACK] = 0.0
    return conditioned


@cache
def dealer_states(up: int, h17: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every multiset of cards (hole card and draws) with which a dealer showing `up`
    still has to draw, by number of cards, and where each next card leads.

    Whether the dealer draws depends only on the multiset of his cards, and so does the
    chance of each next card from a given shoe, so the final-total distribution is a
    forward pass over these few hundred states instead of an enumeration of the tens of
    thousands of draw sequences (see dealer_outcomes_by_states).

    Returns counts[s, rank], size[s] and nxt[s, card]: a state index, or -1 - k for
    outcome k (OUTCOMES order: 17..21, bust, blackjack). State 0 is the up card alone.
    """
    index: dict[tuple[int, ...], int] = {(0,) * 11: 0}
    states: list[tuple[int, ...]] = [(0,) * 11]
    nxt_rows: list[list[int]] = []
    i = 0
    while i < len(states):
        counts = states[i]
        hard = up + sum(c * k for c, k in enumerate(counts))
        row = [0] * 11
        for c in range(1, 11):
            if i == 0 and {up, c} == {1, 10}:
                row[c] = -1 - BLACKJACK
                continue
            h = hard + c
            ace = up == 1 or counts[1] > 0 or c == 1
            soft = ace and h + 10 <= 21
            v = h + 10 if soft else h
            if h > 21:
                row[c] = -1 - BUST
            elif v > 17 or (v == 17 and not (soft and h17)):
                row[c] = -1 - (v - 17)
            else:
                after = list(counts)
                after[c] += 1
                key = tuple(after)
                if key not in index:
                    index[key] = len(states)
                    states.append(key)
                row[c] = index[key]
        nxt_rows.append(row)
        i += 1
    table = np.array(states, dtype=np.int64)
    return table, table.sum(axis=1), np.array(nxt_rows, dtype=np.int64)


@njit(cache=True)
def dealer_outcomes_by_states(
    counts: np.ndarray,
    st_counts: np.ndarray,
    st_size: np.ndarray,
    st_next: np.ndarray,
    deplete: bool,
) -> np.ndarray:
    """dealer_outcomes computed as a forward pass over dealer_states: same answer."""
    n_states = st_counts.shape[0]
    reach = np.zeros(n_states)
    reach[0] = 1.0
    out = np.zeros(7)
    n = counts.sum()
    for s in range(n_states):
        p_s = reach[s]
        if p_s == 0.0:
            continue
        left = n - st_size[s] if deplete else n
        for c in range(1, 11):
            k = counts[c] - st_counts[s, c] if deplete else counts[c]
            if k <= 0:
                continue
            p = p_s * k / left
            j = st_next[s, c]
            if j >= 0:
                reach[j] += p
            else:
                out[-1 - j] += p
    return out
