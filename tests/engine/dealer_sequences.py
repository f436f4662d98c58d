"""The dealer's outcome distribution by brute force, for the tests only.

jost_engine._dealer computes it from the dealer's states; this enumerates every sequence
of draws instead, so the two share no code and each checks the other.
"""

import numpy as np
from numba import njit


@njit
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


@njit
def dealer_outcomes_by_sequences(counts, up, h17, deplete):
    """The same distribution by enumerating every sequence of draws: slow, an
    independent check of jost_engine._dealer.dealer_outcomes_by_states."""
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
