"""Composition-dependent EVs of a starting hand against a finite shoe and one up card.

Standing, hitting and doubling are exact: every card the player draws leaves the shoe,
and every final hand is compared with the dealer's distribution computed (exactly, see
_dealer) from the shoe less the player's cards and the up card. After a peek the player's
draws also carry what the peek told (the hole card does not complete a blackjack; see
_draw_probs_into); so do they with no hole card when a blackjack takes only the original
bet (Rules.blackjack_takes_one_bet). One simplification, as in the standard engines:
- a split hand's cards and play come from the shoe less the up card, the pair cards
  dealt so far in the split and its own cards, ignoring the other split hands' non-pair
  cards (see FiniteShoeUpCard.split).
A hand drawing to a hard total of 11 or less never stands (hitting cannot bust it); that
only skips dealer computations.

How it is computed (in numba; the Python class only combines the answers under the
rules), in three steps:
1. the graph of every hand reachable from the starting hands asked (two-card hands and
   split hands with each number of pair cards out), built once for all ten up cards: a
   hand that may only hit or stand is a node keyed by the multiset of the player's cards
   out of the shoe and its (total, soft), with an edge per card it may draw;
2. per up card, the dealer's distribution for every composition a hand stands or
   doubles on (tens of thousands, most of them for split hands), all in one batched
   forward pass over the dealer's states (_dealer_batch, vectorised across
   compositions);
3. per up card, every node valued children first (best of hit and stand), then the
   starting hands' stand, hit and double.
The answers are those of the memoised recursion this replaced (commit 7611f30), to float
rounding: tests/engine/test_auto_solver.py holds the charts to the ones it gave.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from numba import njit

from jost_engine._dealer import BUST, dealer_states
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
def _draw_probs_into(
    probs: np.ndarray, shoe: np.ndarray, n: int, partner: int, removed: int
) -> None:
    # P(next card) by rank. After a peek the hole card is known not to complete a
    # blackjack (partner = the rank that would); by exchangeability the hole card may be
    # treated as dealt after the player's cards, so card c comes with
    # P(c) * P(no bj | shoe less c) / P(no bj | shoe), which still sums to 1.
    left = n
    for c in range(1, 11):
        left -= (removed >> (5 * c)) & 31
    scale = 1.0 / left
    scale_partner = scale
    if partner > 0:
        partner_left = shoe[partner] - ((removed >> (5 * partner)) & 31)
        before = 1.0 - partner_left / left
        scale = scale * (1.0 - partner_left / (left - 1)) / before
        scale_partner = scale_partner * (1.0 - (partner_left - 1) / (left - 1)) / before
    probs[0] = 0.0
    for c in range(1, 11):
        k = shoe[c] - ((removed >> (5 * c)) & 31)
        if k <= 0:
            probs[c] = 0.0
        else:
            probs[c] = k * (scale_partner if c == partner else scale)


@njit(cache=True)
def _draw_probs(shoe: np.ndarray, n: int, partner: int, removed: int) -> np.ndarray:
    probs = np.empty(11)
    _draw_probs_into(probs, shoe, n, partner, removed)
    return probs


# -- the hands' graph ---------------------------------------------------------------------

# Every hand reachable from the starting hands asked, built once for all up cards: node i
# is a hand that may only hit or stand, keyed as (removed << 6) | (total << 1) | soft;
# child[i, c] is the node after drawing c, BUSTED if that busts it, -1 if the shoe has no
# c left. A dealer distribution is needed for each distinct `removed` a hand stands or
# doubles on: those are numbered too (deal[i], -1 when the hand never stands), so that one
# batched pass per up card computes them all (_dealer_batch) before any hand is valued.

BUSTED = -2


@njit(cache=True)
def _intern(table: np.ndarray, key: int, count: np.ndarray) -> int:
    # The number of `key` in `table` (rows of [key, number], key -1 when empty), a new
    # one (count[0], then incremented) the first time it is seen. Open addressing, linear
    # probing, Fibonacci hashing (the high bits of the key times 2^64 / golden ratio).
    mask = table.shape[0] - 1
    i = ((key * -7046029254386353131) >> 40) & mask
    while True:
        k = table[i, 0]
        if k == key:
            return table[i, 1]
        if k == -1:
            table[i, 0] = key
            table[i, 1] = count[0]
            count[0] += 1
            return table[i, 1]
        i = (i + 1) & mask


@njit(cache=True)
def _build_graph(
    shoe: np.ndarray,
    r_total: np.ndarray,
    r_soft: np.ndarray,
    r_removed: np.ndarray,
    r_expand: np.ndarray,
    capacity: int,
) -> tuple[
    bool,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]:
    # Returns (fits, node removed, total, soft, child, deal, dealer compositions, root deal,
    # root child, root deal after each card), nodes numbered children first; fits is
    # False when more than capacity/2 nodes or compositions would be needed (the caller
    # retries bigger).
    limit = capacity // 2
    n_table = np.full((capacity, 2), -1, dtype=np.int64)
    d_table = np.full((capacity, 2), -1, dtype=np.int64)
    n_removed = np.empty(limit, dtype=np.int64)
    n_total = np.empty(limit, dtype=np.int64)
    n_soft = np.empty(limit, dtype=np.bool_)
    child = np.full((limit, 11), -1, dtype=np.int32)
    deal = np.full(limit, -1, dtype=np.int64)
    comps = np.empty(limit, dtype=np.int64)
    n_count = np.zeros(1, dtype=np.int64)
    d_count = np.zeros(1, dtype=np.int64)
    n_roots = r_total.size
    root_deal = np.empty(n_roots, dtype=np.int64)
    root_child = np.full((n_roots, 11), -1, dtype=np.int64)
    root_after = np.full((n_roots, 11), -1, dtype=np.int64)

    for r in range(n_roots):
        removed = r_removed[r]
        j = _intern(d_table, removed, d_count)
        comps[j] = removed
        root_deal[r] = j
        if not r_expand[r]:
            continue
        for c in range(1, 11):
            if shoe[c] - ((removed >> (5 * c)) & 31) <= 0:
                continue
            t, s = _add(r_total[r], r_soft[r], c)
            if t > 21:
                root_child[r, c] = BUSTED
                continue
            after = removed + (1 << (5 * c))
            before = n_count[0]
            i = _intern(n_table, (after << 6) | (t << 1) | (1 if s else 0), n_count)
            if n_count[0] > before:
                n_removed[i], n_total[i], n_soft[i] = after, t, s
            root_child[r, c] = i
            j = _intern(d_table, after, d_count)
            comps[j] = after
            root_after[r, c] = j
            if n_count[0] >= limit or d_count[0] >= limit:
                return (
                    False,
                    n_removed,
                    n_total,
                    n_soft,
                    child,
                    deal,
                    comps,
                    root_deal,
                    root_child,
                    root_after,
                )

    i = 0
    while i < n_count[0]:
        removed, total, soft = n_removed[i], n_total[i], n_soft[i]
        if total < 21:
            for c in range(1, 11):
                if shoe[c] - ((removed >> (5 * c)) & 31) <= 0:
                    continue
                t, s = _add(total, soft, c)
                if t > 21:
                    child[i, c] = BUSTED
                    continue
                after = removed + (1 << (5 * c))
                before = n_count[0]
                k = _intern(n_table, (after << 6) | (t << 1) | (1 if s else 0), n_count)
                if n_count[0] > before:
                    n_removed[k], n_total[k], n_soft[k] = after, t, s
                child[i, c] = k
        if total == 21 or total > 11 or soft:
            j = _intern(d_table, removed, d_count)
            comps[j] = removed
            deal[i] = j
        if n_count[0] >= limit or d_count[0] >= limit:
            return (
                False,
                n_removed,
                n_total,
                n_soft,
                child,
                deal,
                comps,
                root_deal,
                root_child,
                root_after,
            )
        i += 1

    # A child holds one card more than its parent: numbering the nodes by falling card
    # count (a counting sort) values every child before its parents, in memory order.
    n = n_count[0]
    cards = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for c in range(1, 11):
            cards[i] += (n_removed[i] >> (5 * c)) & 31
    most = cards.max() if n > 0 else 0
    start = np.zeros(most + 2, dtype=np.int64)
    for i in range(n):
        start[most - cards[i] + 1] += 1
    for k in range(1, most + 2):
        start[k] += start[k - 1]
    new = np.empty(n, dtype=np.int64)
    for i in range(n):
        slot = most - cards[i]
        new[i] = start[slot]
        start[slot] += 1
    o_removed = np.empty(n, dtype=np.int64)
    o_total = np.empty(n, dtype=np.int64)
    o_soft = np.empty(n, dtype=np.bool_)
    o_child = np.empty((n, 11), dtype=np.int32)
    o_deal = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = new[i]
        o_removed[k], o_total[k], o_soft[k] = n_removed[i], n_total[i], n_soft[i]
        o_deal[k] = deal[i]
        for c in range(11):
            x = child[i, c]
            o_child[k, c] = new[x] if x >= 0 else x
    for r in range(n_roots):
        for c in range(11):
            x = root_child[r, c]
            if x >= 0:
                root_child[r, c] = new[x]
    return (
        True,
        o_removed,
        o_total,
        o_soft,
        o_child,
        o_deal,
        comps[: d_count[0]],
        root_deal,
        root_child,
        root_after,
    )


# -- the dealer, for many compositions at once ----------------------------------------------

# Compositions per pass: wide enough to pay for the loop overheads of each dealer state,
# narrow enough that a pass stays in the core's cache (128 measured fastest of 32..512).
BATCH = 128


@cache
def dealer_program(up: int, h17: bool) -> tuple[np.ndarray, ...]:
    """_dealer.dealer_states as a program for _dealer_batch.

    A state s (a multiset D_s of the dealer's hole card and draws) is reached from the
    shoe L by paths[s] orders of its cards, each with the same probability
    prod_c ff(L_c, D_sc) / ff(n, |D_s|) (ff the falling factorial), so the pass needs one
    step per state (from one parent: the state less one card) instead of one per draw.
    And the hand ends from states of the same total alike: each run of consecutive cards
    ending it on one outcome adds (cards of the run left in the shoe) / (cards left) times
    the state's chance, which summed over a group of states is W_g * (the run's cards in
    the shoe) less the cards of the run the states already hold (the held terms). The
    dealer busts with what the other outcomes leave (they sum to 1), so the busting runs,
    the longest, are not summed at all.

    Returns (size, parent, card, parent_held, paths, group, runs[r] = (group, outcome,
    first card, last card), held_ptr, held_run, held_coef): state s's held terms are
    held_ptr[s]:held_ptr[s + 1]."""
    counts_array, size, nxt_array = dealer_states(up, h17)
    # Python lists: a few thousand scalar reads, far faster than numpy's one by one.
    counts, nxt = counts_array.tolist(), nxt_array.tolist()
    n_states = len(counts)
    parent, card, parent_held = [-1] * n_states, [0] * n_states, [0.0] * n_states
    paths = [0.0] * n_states
    paths[0] = 1.0
    # States are numbered by their number of cards (a breadth-first walk), so a state's
    # parents all come before it.
    for s in range(n_states):
        for c in range(1, 11):
            t = nxt[s][c]
            if t < 0:
                continue
            paths[t] += paths[s]
            if parent[t] < 0:
                parent[t], card[t], parent_held[t] = s, c, float(counts[s][c])
    groups: dict[tuple[int, ...], int] = {}
    group = [0] * n_states
    runs: list[tuple[int, int, int, int]] = []
    group_runs: list[list[tuple[int, int, int]]] = []  # per group: (run, first, last card)
    held_ptr = [0]
    held_run: list[int] = []
    held_coef: list[float] = []
    for s in range(n_states):
        row = nxt[s]
        ends = tuple(min(x, 0) for x in row[1:])
        g = groups.get(ends)
        if g is None:
            g = groups[ends] = len(groups)
            mine: list[tuple[int, int, int]] = []
            c = 1
            while c <= 10:
                j = row[c]
                if j >= 0:
                    c += 1
                    continue
                last = c
                while last < 10 and row[last + 1] == j:
                    last += 1
                if -1 - j != BUST:
                    mine.append((len(runs), c, last))
                    runs.append((g, -1 - j, c, last))
                c = last + 1
            group_runs.append(mine)
        group[s] = g
        for r, first, last in group_runs[g]:
            held = sum(counts[s][first : last + 1])
            if held:
                held_run.append(r)
                held_coef.append(paths[s] * held)
        held_ptr.append(len(held_run))
    return (
        size.astype(np.int64),
        np.array(parent, dtype=np.int64),
        np.array(card, dtype=np.int64),
        np.array(parent_held, dtype=np.float64),
        np.array(paths, dtype=np.float64),
        np.array(group, dtype=np.int64),
        np.array(runs, dtype=np.int64).reshape(-1, 4),
        np.array(held_ptr, dtype=np.int64),
        np.array(held_run, dtype=np.int64),
        np.array(held_coef, dtype=np.float64),
    )


@njit(cache=True)
def _composition_counts(comps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Each composition's cards by rank (counts[c, j]) and in all (taken[j]), read out of
    # its bits once for every up card's pass.
    counts = np.zeros((11, comps.size))
    taken = np.zeros(comps.size, dtype=np.int64)
    for j in range(comps.size):
        for c in range(1, 11):
            k = (comps[j] >> (5 * c)) & 31
            counts[c, j] = k
            taken[j] += k
    return counts, taken


@njit(cache=True)
def _dealer_batch(
    shoe: np.ndarray,
    counts: np.ndarray,
    taken: np.ndarray,
    program: tuple[np.ndarray, ...],
    peek: bool,
) -> np.ndarray:
    # Row j: [P(17..21), P(bust), P(bj) in the play frame, P(bj) unconditioned] for the
    # shoe less the player's cards of composition j (_composition_counts; with a peek the
    # frame is conditioned on no dealer blackjack): dealer_outcomes_by_states as
    # dealer_program describes it, run on BATCH compositions side by side so that each
    # step is one vector operation.
    size, parent, card, parent_held, paths, group, runs, held_ptr, held_run, held_coef = program
    n_states = size.size
    n_comps = taken.size
    n_groups = group.max() + 1
    n_runs = runs.shape[0]
    most = size.max()
    # h[s] = P(one given order of the state's cards) / (cards left after them)
    h = np.empty((n_states, BATCH))
    left = np.empty((11, BATCH))
    prefix = np.zeros((11, BATCH))
    inv = np.empty((most + 1, BATCH))
    weight = np.empty((n_groups, BATCH))
    held = np.empty((n_runs, BATCH))
    out = np.empty((7, BATCH))
    res = np.empty((n_comps, 8))
    # 1 / (cards left) by the number of cards out of the shoe (a player holds at most 31
    # of a rank), so that a batch divides nothing.
    total = shoe.sum()
    reciprocal = np.empty(min(total, 10 * 31 + most + 1))
    for k in range(reciprocal.size):
        reciprocal[k] = 1.0 / (total - k)
    for first in range(0, n_comps, BATCH):
        # The last batch repeats its last composition in the lanes past the end.
        lanes = min(BATCH, n_comps - first)
        for c in range(1, 11):
            in_shoe = shoe[c]
            lc = left[c]
            for j in range(lanes):
                lc[j] = in_shoe - counts[c, first + j]
            for j in range(lanes, BATCH):
                lc[j] = lc[lanes - 1]
            pc, pb = prefix[c], prefix[c - 1]
            for j in range(BATCH):
                pc[j] = pb[j] + lc[j]
        for j in range(BATCH):
            t = taken[first + min(j, lanes - 1)]
            for z in range(most + 1):
                inv[z, j] = reciprocal[t + z]
        weight[:, :] = 0.0
        held[:, :] = 0.0
        h[0, :] = inv[0, :]
        weight[group[0], :] += h[0, :]
        for s in range(n_states):
            hs = h[s]
            if s > 0:
                hp = h[parent[s]]
                lc = left[card[s]]
                iz = inv[size[s]]
                wg = weight[group[s]]
                ph = parent_held[s]
                ps = paths[s]
                # Two sweeps, not one: a loop storing into two rows was not vectorised
                # (the pass took 1.6 times as long).
                for j in range(BATCH):
                    hs[j] = hp[j] * (lc[j] - ph) * iz[j]
                for j in range(BATCH):
                    wg[j] += ps * hs[j]
            for t in range(held_ptr[s], held_ptr[s + 1]):
                hr = held[held_run[t]]
                coef = held_coef[t]
                for j in range(BATCH):
                    hr[j] += coef * hs[j]
        out[:, :] = 0.0
        for r in range(n_runs):
            wg = weight[runs[r, 0]]
            o = out[runs[r, 1]]
            hi = prefix[runs[r, 3]]
            lo = prefix[runs[r, 2] - 1]
            hr = held[r]
            for j in range(BATCH):
                o[j] += wg[j] * (hi[j] - lo[j]) - hr[j]
        for j in range(lanes):
            row = res[first + j]
            pbj = out[6, j]
            rest = 0.0
            for i in range(7):
                if i != BUST:
                    rest += out[i, j]
            out[BUST, j] = 1.0 - rest
            if peek:
                for i in range(6):
                    row[i] = out[i, j] / (1.0 - pbj)
                row[6] = 0.0
            else:
                for i in range(7):
                    row[i] = out[i, j]
            row[7] = pbj
    return res


# -- valuing the hands ---------------------------------------------------------------------


@njit(cache=True)
def _value_hands(
    shoe: np.ndarray,
    n: int,
    partner: int,
    n_removed: np.ndarray,
    n_total: np.ndarray,
    n_soft: np.ndarray,
    child: np.ndarray,
    deal: np.ndarray,
    dealer: np.ndarray,
    r_total: np.ndarray,
    r_soft: np.ndarray,
    r_removed: np.ndarray,
    r_expand: np.ndarray,
    root_deal: np.ndarray,
    root_child: np.ndarray,
    root_after: np.ndarray,
) -> np.ndarray:
    # Row r: [stand, hit then play on optimally, double, P(dealer bj) unconditioned] for
    # starting hand r. Each hand that may only hit or stand takes the better of the two
    # (hits only below a hard 12, where hitting cannot bust; stands on 21).
    value = np.empty(n_removed.size)
    probs = np.empty(11)
    for i in range(n_removed.size):
        total, soft = n_total[i], n_soft[i]
        if total == 21:
            value[i] = _stand(21, dealer[deal[i]])
            continue
        _draw_probs_into(probs, shoe, n, partner, n_removed[i])
        hit = 0.0
        for c in range(1, 11):
            if probs[c] == 0.0:
                continue
            k = child[i, c]
            if k == BUSTED:
                hit -= probs[c]
            else:
                hit += probs[c] * value[k]
        v = hit
        if total > 11 or soft:
            v = max(hit, _stand(total, dealer[deal[i]]))
        value[i] = v
    res = np.empty((r_total.size, 4))
    for r in range(r_total.size):
        total, soft = r_total[r], r_soft[r]
        d = dealer[root_deal[r]]
        res[r, 0] = _stand(total, d)
        res[r, 3] = d[7]
        if not r_expand[r]:
            res[r, 1] = np.nan
            res[r, 2] = np.nan
            continue
        _draw_probs_into(probs, shoe, n, partner, r_removed[r])
        hit = 0.0
        double = 0.0
        for c in range(1, 11):
            if probs[c] == 0.0:
                continue
            t = _add(total, soft, c)[0]
            if t > 21:
                hit -= probs[c]
                double -= 2.0 * probs[c]
            else:
                hit += probs[c] * value[root_child[r, c]]
                double += 2.0 * probs[c] * _stand(t, dealer[root_after[r, c]])
        res[r, 1] = hit
        res[r, 2] = double
    return res


@njit(cache=True)
def _split_parts(
    shoe: np.ndarray,
    n: int,
    partner: int,
    card: int,
    rows: np.ndarray,
    index: np.ndarray,
    stand_only: bool,
    may_double: np.ndarray,
) -> np.ndarray:
    # parts[m] = (w, r, stuck) of FiniteShoeUpCard.split with m pair cards out, for each
    # m whose hands index[m, other] (rows of `rows`) were valued; NaN elsewhere.
    parts = np.full((TRACKED_PAIR_CARDS + 1, 3), np.nan)
    probs = np.empty(11)
    for m in range(2, TRACKED_PAIR_CARDS + 1):
        if index[m, card] < 0:
            continue
        _draw_probs_into(probs, shoe, n, partner, m * (1 << (5 * card)))
        r = probs[card]
        w = 0.0
        for x in range(1, 11):
            if x != card and probs[x] > 0:
                w += probs[x] * _after_split(rows[index[m, x]], stand_only, may_double[x])
        parts[m, 0] = w
        parts[m, 1] = r
        parts[m, 2] = (
            _after_split(rows[index[m, card]], stand_only, may_double[card]) if r > 0 else 0.0
        )
    return parts


@njit(cache=True)
def _after_split(row: np.ndarray, stand_only: bool, may_double: bool) -> float:
    # The best play of a split hand that may not be resplit: stand, hit or double.
    if stand_only:
        return row[0]
    best = max(row[0], row[1])
    if may_double:
        best = max(best, row[2])
    return best


# -- the Python side -----------------------------------------------------------------------

# A starting hand as the solvers ask for it: (total, soft, the player's cards out of the
# shoe as an int, see ONE).
Hand = tuple[int, bool, int]


def _graph(
    shoe: np.ndarray, hands: list[Hand], expand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    r_total = np.array([h[0] for h in hands], dtype=np.int64)
    r_soft = np.array([h[1] for h in hands], dtype=np.bool_)
    r_removed = np.array([h[2] for h in hands], dtype=np.int64)
    capacity = 1 << 17
    while True:
        fits, *graph = _build_graph(shoe, r_total, r_soft, r_removed, expand, capacity)
        if fits:
            return r_total, r_soft, r_removed, tuple(graph)
        capacity *= 4


def solve_hands(
    rules: Rules,
    graph_shoe: np.ndarray,
    shoes: dict[int, np.ndarray],
    hands: list[Hand],
    stand_only: frozenset[Hand] = frozenset(),
) -> dict[int, np.ndarray]:
    """Row r: [stand, hit, double, P(dealer bj)] of hands[r], for every up card of `shoes`
    (up card -> the shoe less it); hit and double are NaN for the hands of `stand_only`
    (split aces that take one card: nothing but their stand is ever asked). The hands'
    graph is built once, from `graph_shoe` (at least every card of every one of
    `shoes`), and valued per up card."""
    expand = np.array([h not in stand_only for h in hands], dtype=np.bool_)
    r_total, r_soft, r_removed, graph = _graph(graph_shoe, hands, expand)
    n_removed, n_total, n_soft, child, deal, comps, root_deal, root_child, root_after = graph
    peek = rules.blackjack_takes_one_bet
    counts, taken = _composition_counts(comps)
    out: dict[int, np.ndarray] = {}
    for up, shoe in shoes.items():
        program = dealer_program(up, rules.hit_soft_17)
        dealer = _dealer_batch(shoe, counts, taken, program, peek)
        out[up] = _value_hands(
            shoe,
            int(shoe.sum()),
            _partner(rules, up),
            n_removed,
            n_total,
            n_soft,
            child,
            deal,
            dealer,
            r_total,
            r_soft,
            r_removed,
            expand,
            root_deal,
            root_child,
            root_after,
        )
    return out


def _partner(rules: Rules, up: int) -> int:
    # Valued as after a peek whenever a dealer blackjack costs one bet (a peek, or no hole
    # card with "original_bet"): only rounds without one depend on the play, and in those
    # the hole card is known not to complete a blackjack.
    return {1: 10, 10: 1}.get(up, 0) if rules.blackjack_takes_one_bet else 0


def starting_hands(rules: Rules, shoes: list[np.ndarray]) -> tuple[list[Hand], frozenset[Hand]]:
    """Every hand `options` asks about for any of `shoes` (each less its up card): the
    two-card hands but a blackjack, and the split hands (pair card, other card) with
    each number of pair cards out that FiniteShoeUpCard.split reaches; and which of them
    are only ever stood on (split aces that take one card)."""
    hands: set[Hand] = set()
    stand_only: set[Hand] = set()
    for c1 in range(1, 11):
        for c2 in range(c1, 11):
            if (c1, c2) != (1, 10):
                hands.add((*two_cards(c1, c2), ONE[c1] + ONE[c2]))
    if rules.max_split_hands >= 2:
        for card in range(1, 11):
            reached = set().union(
                *(_pair_cards_reached(_resplits(rules, card, shoe)) for shoe in shoes)
            )
            for m in reached:
                for other in range(1, 11):
                    hand = (*two_cards(card, other), m * ONE[card] + ONE[other])
                    hands.add(hand)
                    if card == 1 and not rules.hit_split_aces:
                        stand_only.add(hand)
    return sorted(hands), frozenset(stand_only)


def up_cards(rules: Rules, full: np.ndarray) -> dict[int, FiniteShoeUpCard]:
    """FiniteShoeUpCard of every up card of the full shoe `full`, valued together (one
    hands' graph for all of them)."""
    shoes = {}
    for up in range(1, 11):
        shoe = full.astype(np.int64)
        shoe[up] -= 1
        shoes[up] = shoe
    hands, stand_only = starting_hands(rules, list(shoes.values()))
    index = {hand: r for r, hand in enumerate(hands)}
    rows = solve_hands(rules, full.astype(np.int64), shoes, hands, stand_only)
    return {up: FiniteShoeUpCard(rules, shoes[up], up, (index, rows[up])) for up in shoes}


def _resplits(rules: Rules, card: int, shoe: np.ndarray) -> int:
    # Resplits allowed of this pair; past the pair cards in the shoe none can be drawn.
    resplit = card != 1 or rules.resplit_aces
    resplits = max(rules.max_split_hands - 2, 0) if resplit else 0
    return min(resplits, int(shoe[card]) - 2)


def _split_sum(parts: Callable[[int], tuple[float, float, float]], resplits: int) -> float:
    """Expected sum of the EVs of a split's hands; parts(m) = (w, r, stuck) with m pair
    cards out of the shoe (see FiniteShoeUpCard.split)."""
    memo_f: dict[tuple[int, int, int], float] = {}
    memo_frozen: dict[tuple[int, int], float] = {}

    def f(pending: int, left: int, m: int) -> float:
        # Expected sum of the EVs of `pending` hands still to get their second card,
        # `left` resplits allowed, m pair cards out of the shoe.
        key = (pending, left, m)
        if key in memo_f:
            return memo_f[key]
        if pending == 0:
            value = 0.0
        elif m >= TRACKED_PAIR_CARDS:
            value = frozen(pending, left)
        else:
            w, r, stuck = parts(m)
            if left == 0:
                value = (
                    w + (1.0 - r) * f(pending - 1, 0, m) + r * (stuck + f(pending - 1, 0, m + 1))
                )
            else:
                value = (
                    w + (1.0 - r) * f(pending - 1, left, m) + r * f(pending + 1, left - 1, m + 1)
                )
        memo_f[key] = value
        return value

    def frozen(pending: int, left: int) -> float:
        # The same once TRACKED_PAIR_CARDS are out: later pair cards no longer change
        # the shoe, and a hand limit this far off counts as unlimited.
        key = (pending, left)
        if key in memo_frozen:
            return memo_frozen[key]
        w, r, stuck = parts(TRACKED_PAIR_CARDS)
        if pending == 0:
            value = 0.0
        elif left >= UNLIMITED_RESPLITS:
            value = pending * w / (1.0 - 2.0 * r)
        elif left == 0:
            value = pending * (w + r * stuck)
        else:
            value = w + (1.0 - r) * frozen(pending - 1, left) + r * frozen(pending + 1, left - 1)
        memo_frozen[key] = value
        return value

    return f(2, resplits, 2)


@cache
def _pair_cards_reached(resplits: int) -> frozenset[int]:
    # The m with which _split_sum asks parts(m): which pair cards out it reaches does not
    # depend on the values, so a run on zeros finds them.
    reached: set[int] = set()

    def parts(m: int) -> tuple[float, float, float]:
        reached.add(m)
        return 0.0, 0.0, 0.0

    _split_sum(parts, resplits)
    return frozenset(reached)


class FiniteShoeUpCard:
    """EVs of two-card starting hands for one up card; `shoe` excludes the up card.

    `solved` is (hand -> row, rows) as up_cards gives it (every up card valued at once);
    without it the starting hands are valued here. Any other hand is valued when asked."""

    def __init__(
        self,
        rules: Rules,
        shoe: np.ndarray,
        up: int,
        solved: tuple[dict[Hand, int], np.ndarray] | None = None,
    ) -> None:
        self.rules = rules
        self.shoe = shoe.astype(np.int64)
        self.n = int(shoe.sum())
        self.up = up
        self.partner = _partner(rules, up)
        if solved is None:
            hands, stand_only = starting_hands(rules, [self.shoe])
            rows = solve_hands(rules, self.shoe, {up: self.shoe}, hands, stand_only)[up]
            solved = ({hand: r for r, hand in enumerate(hands)}, rows)
        self._index, self._rows = solved
        self._more: dict[Hand, np.ndarray] = {}

    def hand_evs(self, total: int, soft: bool, removed: int) -> np.ndarray:
        """[stand, hit, double, P(dealer bj)] for a hand of (total, soft) with the
        player's cards `removed` (an int, see ONE) out of the shoe."""
        key = (total, bool(soft), removed)
        r = self._index.get(key)
        if r is not None:
            return self._rows[r]
        if key not in self._more:
            solved = solve_hands(self.rules, self.shoe, {self.up: self.shoe}, [key])
            self._more[key] = solved[self.up][0]
        return self._more[key]

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

        parts(m) = (w, r, stuck) with m pair cards out: w = sum over non-pair cards x of
        P(x) * EV of the hand (card, x) played at its best without resplitting; r =
        P(pair card); stuck = EV of (card, card) so played.
        """
        rules = self.rules
        index = np.full((TRACKED_PAIR_CARDS + 1, 11), -1, dtype=np.int64)
        may_double = np.zeros(11, dtype=np.bool_)
        for other in range(1, 11):
            total, soft = two_cards(card, other)
            may_double[other] = rules.may_double(total, after_split=True)
            for m in range(2, TRACKED_PAIR_CARDS + 1):
                r = self._index.get((total, soft, m * ONE[card] + ONE[other]))
                if r is not None:
                    index[m, other] = r
        stand_only = card == 1 and not rules.hit_split_aces
        table = _split_parts(
            self.shoe, self.n, self.partner, card, self._rows, index, stand_only, may_double
        )

        def parts(m: int) -> tuple[float, float, float]:
            w, r, stuck = table[m]
            return float(w), float(r), float(stuck)

        return _split_sum(parts, _resplits(rules, card, self.shoe))
