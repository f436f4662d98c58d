"""The benchmark game in plain Python: the yardstick the numba kernel is compared against.

Same game as bench/engine_speed.py (6 decks, S17, DAS, split to 4 hands, no resplit of
aces, split aces get one card, peek, 3:2, 80% penetration, one player, flat bet, basic
strategy) and the same resolved action tables as the kernel, written the way a careful
Python programmer would: lists, ints, the standard library's random.shuffle. Not used by
the engine; only timed.
"""

from __future__ import annotations

import random

from jost_engine import kernel as k

HIT, STAND, SPLIT, DOUBLE, SURRENDER = k.HIT, k.STAND, k.SPLIT, k.DOUBLE, k.SURRENDER


def play(
    rounds: int,
    act,
    decks: int = 6,
    penetration: float = 0.8,
    seed: int = 1,
    max_split: int = 4,
    bj_payout: float = 1.5,
) -> tuple[int, float]:
    """Play `rounds` flat-bet rounds of 1 unit; returns (rounds, net units).

    act: the kernel's resolved table for one player as nested lists [ctx][kind][row][up].
    """
    rng = random.Random(seed)
    shoe = ([1, 2, 3, 4, 5, 6, 7, 8, 9] + [10] * 4) * 4 * decks
    n = len(shoe)
    cut = round(penetration * n)
    pos = n  # shuffle before the first round
    net = 0.0
    for _ in range(rounds):
        if pos >= cut:
            rng.shuffle(shoe)
            pos = 0
        p1, up, p2, hole = shoe[pos], shoe[pos + 1], shoe[pos + 2], shoe[pos + 3]
        pos += 4
        natural = (p1 == 1 and p2 == 10) or (p1 == 10 and p2 == 1)
        if (up == 1 or up == 10) and up + hole == 11:
            net += 0.0 if natural else -1.0
            continue
        if natural:
            net += bj_payout
            continue
        # hands: [hard, has_ace, ncards, first, second, bet, done-state]
        hands = [[p1 + p2, p1 == 1 or p2 == 1, 2, p1, p2, 1.0, 0]]
        i = 0
        while i < len(hands):
            h = hands[i]
            if h[2] == 1:
                c = shoe[pos]
                pos += 1
                h[0] += c
                h[1] = h[1] or c == 1
                h[4] = c
                h[2] = 2
                if h[3] == 1:  # split aces: one card
                    h[6] = 1
                    i += 1
                    continue
            split_spot = len(hands) > 1
            while True:
                if h[2] == 2:
                    ctx = 1 if split_spot else 0
                    can_split = (
                        h[3] == h[4] and len(hands) < max_split and (h[3] != 1 or not split_spot)
                    )
                else:
                    ctx = 2
                    can_split = False
                if can_split:
                    a = act[ctx][2][h[3]][up]
                elif h[1] and h[0] + 10 <= 21:
                    a = act[ctx][1][h[0] + 10][up]
                else:
                    a = act[ctx][0][h[0]][up]
                if a in (HIT, DOUBLE):
                    if a == DOUBLE:
                        h[5] *= 2.0
                    c = shoe[pos]
                    pos += 1
                    h[0] += c
                    h[1] = h[1] or c == 1
                    h[2] += 1
                    if h[0] > 21:
                        h[6] = 2
                        break
                    if a == DOUBLE or h[0] == 21 or (h[1] and h[0] == 11):
                        h[6] = 1
                        break
                elif a == STAND:
                    h[6] = 1
                    break
                elif a == SPLIT:
                    c0 = h[3]
                    hands.append([c0, c0 == 1, 1, c0, 0, h[5], 0])
                    h[0], h[1], h[2] = c0, c0 == 1, 1
                    break
                else:
                    h[6] = 3
                    break
            if h[6] == 0:
                continue
            i += 1
        if any(h[6] == 1 for h in hands):
            d_hard, d_ace = up + hole, up == 1 or hole == 1
            while True:
                dv = d_hard + 10 if d_ace and d_hard + 10 <= 21 else d_hard
                if dv >= 17:
                    break
                c = shoe[pos]
                pos += 1
                d_hard += c
                d_ace = d_ace or c == 1
        else:
            dv = 0
        for h in hands:
            if h[6] == 2:
                net -= h[5]
            elif h[6] == 3:
                net -= 0.5 * h[5]
            else:
                pv = h[0] + 10 if h[1] and h[0] + 10 <= 21 else h[0]
                if dv > 21 or pv > dv:
                    net += h[5]
                elif pv < dv:
                    net -= h[5]
    return rounds, net
