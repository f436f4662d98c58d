"""The index generator's numba core: shoes in, per-play per-count sums out.

jost_engine.indices builds the bundles below once per shard and turns the sums into
indices; the method and why it is built this way are in docs/INDICES.md. In short:

- A shoe is shuffled with the simulation kernel's generator and shuffle, then dealt card
  by card to the cut card; every `step` cards (a state) each play is valued. The count a
  play is bucketed by is the one the player decides by: the cards dealt before the round
  plus the up card and the player's two, read as the player reads it (deck estimation;
  no rounding: the buckets do the rounding).
- A play at a state: the up card and then the player's two cards are taken from the cards
  that remain (a hard total's two cards drawn in proportion to how many ways the remaining
  cards make each pair of ranks), so the composition is the one the count saw. With a
  peek the hole card is drawn from the remaining cards that do not make a blackjack: the
  player only decides when the dealer has none (the casino's peek), and drawing it from
  those cards is exactly the conditional draw, with no sample thrown away.
- The later cards are drawn one at a time from the remaining composition (a draw without
  replacement is a uniform shuffle of what is left, dealt lazily) into a buffer, and
  both candidate actions read the same buffer from its start (common random numbers).
  A fresh buffer per state makes states of one shoe independent given their
  compositions, so the per-bucket variance is honest.
- Insurance needs no play: its value at a state is known exactly from the composition
  (P(ten in the hole) = tens left / cards left once the ace is out), which is the
  conditional expectation of the win indicator and so has less variance than it.

Only the first action is forced; the rest of the hand follows the chart's resolved
action tables (simulate.action_tables: DAS, doubles and surrender already resolved for
the rules), splits and resplits as kernel._solo_rounds plays them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from jost_engine.kernel import (
    CTX_FIRST,
    CTX_LATER,
    CTX_SPLIT,
    DECK_CARDS,
    DOUBLE,
    HIT,
    KIND_HARD,
    KIND_PAIR,
    KIND_SOFT,
    RND_NONE,
    SPLIT,
    STAND,
    _true_count,
    bounded,
    shuffle_forward,
)

# ---- game fields (IndexGame.rules_i) ---------------------------------------------------
(
    G_H17,
    G_MAX_SPLIT,
    G_RSA,
    G_HSA,
    G_CUT,
    G_EST,
    G_RUNNING,
    G_STEP,
    G_INDEPENDENT,
    G_RND,
    G_RAMP_RUNNING,
) = range(11)
N_GAME_I = 11
# IndexGame.count_f: the initial running count, the centre of bucket 0, the bucket width.
GF_IRC, GF_LO, GF_WIDTH = range(3)
N_GAME_F = 3

# ---- play kinds -------------------------------------------------------------------------
PK_INSURANCE, PK_HAND = 0, 1

# ---- per-play per-bucket sums (IndexTally.sums float64[P, B, N_FIELDS]) -----------------
# Each state is weighted by w, the probability that a round dealt from its composition
# gives this play (the up card, the player's two cards, and with a peek a hole card that
# makes no blackjack): states are sampled uniformly, the hand is then drawn given the
# composition, so without the weight a composition rich in the play's cards would count
# as much as one that rarely deals it (docs/INDICES.md, "Weights"). With d = EV(b) - EV(a)
# per unit, q = EV(b)^2 - EV(a)^2 (the second moments' difference a risk-averse index
# needs), x the count the player decides by and bet the ramp's bet at the round's start:
# n; sum w; w x; w d; w q; w^2; w^2 d; w^2 q; w^2 d^2; w^2 q^2; w^2 d q; w d bet and
# (w d bet)^2. The w^2 sums give each bucket's ratio-estimator variance; w d bet, the
# gain of a play, and its square the gain's SE.
(
    F_N,
    F_W,
    F_WX,
    F_WD,
    F_WQ,
    F_W2,
    F_W2D,
    F_W2Q,
    F_W2DD,
    F_W2QQ,
    F_W2DQ,
    F_WDB,
    F_WDB_SQ,
) = range(13)
N_FIELDS = 13
# ---- per-play counters (IndexTally.counters int64[P, N_COUNTERS]) ------------------------
# states valued; states where the shoe no longer held the play's cards; states thrown
# away because a hand needed more cards than the buffer or the shoe holds.
K_VALUED, K_MISSING, K_OVERFLOW = range(3)
N_COUNTERS = 3

BUFFER = 64  # later cards one state may use (a hand and the dealer's: far fewer in practice)
MAX_HANDS = 8  # config MAX_SPLIT_HANDS

H_LIVE, H_STOOD, H_BUST, H_SURRENDERED = 0, 1, 2, 3


class IndexGame(NamedTuple):
    """rules_i int64[N_GAME_I]; count_f float64[N_GAME_F]; act int8[3 ctx, 3 kind, 22, 11]
    the chart's resolved actions; deck int8[N] a whole shoe by rank (1 = ace, 10 = ten);
    tags float64[11] the count's tag by rank; ramp_thr, ramp_mult float64[T] the ramp a
    gain is stated for (sorted thresholds from -inf; the bet in units of the minimum)."""

    rules_i: np.ndarray
    count_f: np.ndarray
    act: np.ndarray
    deck: np.ndarray
    tags: np.ndarray
    ramp_thr: np.ndarray
    ramp_mult: np.ndarray


class IndexPlays(NamedTuple):
    """P plays: kind int64[P] (PK_*), up int64[P], first int64[P, 2] the two forced first
    actions (kernel HIT..SURRENDER), comp int64[P, C, 2] the two-card hands the play may
    be dealt (a hard total: every pair of different ranks making it), n_comp int64[P]."""

    kind: np.ndarray
    up: np.ndarray
    first: np.ndarray
    comp: np.ndarray
    n_comp: np.ndarray


class IndexTally(NamedTuple):
    """sums float64[P, B, N_FIELDS], counters int64[P, N_COUNTERS] (mergeable by +)."""

    sums: np.ndarray
    counters: np.ndarray


@njit(cache=True)
def _later_card(
    i: int, stop: int, buf: np.ndarray, gst: np.ndarray, comp: np.ndarray, rng: np.ndarray
) -> int:
    """The card at position i of the state's later cards (the player's from 0, the
    dealer's from BUFFER / 2; `stop` ends each part): from the buffer (0: not dealt
    yet), or drawn now from the composition comp[1..10]. Positions of a shuffled deck are
    exchangeable, so filling them in any order, each from what the filled ones left, is
    the same as dealing a shuffled deck. gst: [unused, cards left, overflow flag]; on
    overflow a ten is returned and the state is thrown away."""
    c = buf[i] if i < stop else 0
    if c != 0:
        return int(c)
    left = gst[1]
    if left <= 0 or i >= stop:
        gst[2] = 1
        return 10
    r = bounded(rng, left)
    rank = 1
    acc = comp[1]
    while r >= acc:
        rank += 1
        acc += comp[rank]
    comp[rank] -= 1
    gst[1] = left - 1
    buf[i] = rank
    return rank


@njit(cache=True)
def _decide(
    act: np.ndarray,
    ctx: int,
    hard: int,
    ace: bool,
    p0: int,
    p1: int,
    hn: int,
    can_split: bool,
    up: int,
) -> int:
    # As kernel._decide without index plays or a bankroll: the pair table while a split
    # is legal, else the soft or hard row.
    if hn == 2 and p0 == p1 and can_split:
        return int(act[ctx, KIND_PAIR, p0, up])
    if ace and hard + 10 <= 21:
        return int(act[ctx, KIND_SOFT, hard + 10, up])
    return int(act[ctx, KIND_HARD, hard, up])


@njit(cache=True)
def _play_hand(
    first: int,
    c0: int,
    c1: int,
    up: int,
    hole: int,
    game: IndexGame,
    buf: np.ndarray,
    gst: np.ndarray,
    comp: np.ndarray,
    rng: np.ndarray,
    hands: np.ndarray,
) -> float:
    """The net of one round, per unit of the original bet, with `first` forced on the
    original two cards and the chart after it; later cards from the buffer's start.
    The player's cards come from the buffer's first half and the dealer's from its
    second, so both actions give the dealer the same cards however many the player
    takes (a stand and a hit would otherwise hand the dealer different cards, and the
    difference would have more variance than independent plays).
    hands int64[MAX_HANDS, 7] scratch: hard, ace, n, first card, bet (in units), state,
    second card."""
    h17 = game.rules_i[G_H17] != 0
    max_split = game.rules_i[G_MAX_SPLIT]
    rsa = game.rules_i[G_RSA] != 0
    hsa = game.rules_i[G_HSA] != 0
    act = game.act
    half = buf.shape[0] // 2
    cur = 0
    nh = 1
    hands[0, 0] = c0 + c1
    hands[0, 1] = 1 if (c0 == 1 or c1 == 1) else 0
    hands[0, 2] = 2
    hands[0, 3] = c0
    hands[0, 4] = 1
    hands[0, 5] = H_LIVE
    hands[0, 6] = c1
    forced = first
    any_standing = False
    i = 0
    while i < nh:
        if hands[i, 5] != H_LIVE:
            i += 1
            continue
        split_spot = nh > 1
        if hands[i, 2] == 1:
            c = _later_card(cur, half, buf, gst, comp, rng)
            cur += 1
            hands[i, 0] += c
            if c == 1:
                hands[i, 1] = 1
            hands[i, 2] = 2
            hands[i, 6] = c
            if hands[i, 3] == 1 and not hsa:
                if c == 1 and rsa and nh < max_split and act[CTX_SPLIT, KIND_PAIR, 1, up] == SPLIT:
                    hands[nh, 0] = 1
                    hands[nh, 1] = 1
                    hands[nh, 2] = 1
                    hands[nh, 3] = 1
                    hands[nh, 4] = hands[i, 4]
                    hands[nh, 5] = H_LIVE
                    nh += 1
                    hands[i, 0] = 1
                    hands[i, 2] = 1
                    continue
                hands[i, 5] = H_STOOD
                any_standing = True
                i += 1
                continue
        hard = int(hands[i, 0])
        ace = hands[i, 1] != 0
        hn = int(hands[i, 2])
        hbet = int(hands[i, 4])
        p0 = int(hands[i, 3])
        p1 = int(hands[i, 6])
        state = H_LIVE
        while True:
            if forced >= 0:
                a = forced
                forced = -1
            else:
                if hn == 2:
                    ctx = CTX_SPLIT if split_spot else CTX_FIRST
                    can_split = nh < max_split and (p0 != 1 or rsa or not split_spot)
                else:
                    ctx = CTX_LATER
                    can_split = False
                a = _decide(act, ctx, hard, ace, p0, p1, hn, can_split, up)
            if a in (HIT, DOUBLE):
                if a == DOUBLE:
                    hbet *= 2
                c = _later_card(cur, half, buf, gst, comp, rng)
                cur += 1
                hn += 1
                hard += c
                ace = ace or c == 1
                if hard > 21:
                    state = H_BUST
                    break
                if a == DOUBLE or hard == 21 or (ace and hard == 11):
                    state = H_STOOD
                    any_standing = True
                    break
            elif a == STAND:
                state = H_STOOD
                any_standing = True
                break
            elif a == SPLIT:
                hands[nh, 0] = p0
                hands[nh, 1] = 1 if p0 == 1 else 0
                hands[nh, 2] = 1
                hands[nh, 3] = p0
                hands[nh, 4] = hbet
                hands[nh, 5] = H_LIVE
                nh += 1
                split_spot = True
                hard = p0
                ace = p0 == 1
                hn = 1
                break
            else:
                state = H_SURRENDERED
                break
        hands[i, 0] = hard
        hands[i, 1] = 1 if ace else 0
        hands[i, 2] = hn
        hands[i, 4] = hbet
        hands[i, 5] = state
        if state == H_LIVE:
            continue
        i += 1

    d_hard = up + hole
    d_ace = up == 1 or hole == 1
    dcur = half
    if any_standing:
        while True:
            dv = d_hard
            soft = False
            if d_ace and d_hard + 10 <= 21:
                dv = d_hard + 10
                soft = True
            if dv > 17 or (dv == 17 and not (h17 and soft)):
                break
            c = _later_card(dcur, buf.shape[0], buf, gst, comp, rng)
            dcur += 1
            d_hard += c
            d_ace = d_ace or c == 1
    dealer = d_hard + 10 if (d_ace and d_hard + 10 <= 21) else d_hard
    net = 0.0
    for j in range(nh):
        st = hands[j, 5]
        bet = float(hands[j, 4])
        if st == H_SURRENDERED:
            net -= 0.5 * bet
        elif st == H_BUST:
            net -= bet
        else:
            pv = hands[j, 0] + 10 if (hands[j, 1] != 0 and hands[j, 0] + 10 <= 21) else hands[j, 0]
            if dealer > 21 or pv > dealer:
                net += bet
            elif pv < dealer:
                net -= bet
    return net


@njit(cache=True)
def _weighted_rank(comp: np.ndarray, exclude: int, rng: np.ndarray) -> int:
    """A rank drawn in proportion to comp[1..10], never `exclude` (0: none); 0 if none."""
    total = 0
    for r in range(1, 11):
        if r != exclude:
            total += comp[r]
    if total <= 0:
        return 0
    x = bounded(rng, total)
    for r in range(1, 11):
        if r == exclude:
            continue
        if x < comp[r]:
            return r
        x -= comp[r]
    return 0


@njit(cache=True)
def _count_bucket(rc: float, unseen: int, game: IndexGame, n_buckets: int) -> tuple[float, int]:
    """The count the player decides by (true, or running for an unbalanced system) and
    its bucket: the one whose centre is nearest (rounded, never truncated), the two
    ends holding everything beyond them."""
    if game.rules_i[G_RUNNING] != 0:
        x = rc
    else:
        x = _true_count(rc, unseen, DECK_CARDS, game.rules_i[G_EST], RND_NONE)
    b = np.floor((x - game.count_f[GF_LO]) / game.count_f[GF_WIDTH] + 0.5)
    if b < 0.0:
        b = 0.0
    elif b > n_buckets - 1:
        b = float(n_buckets - 1)
    return x, int(b)


@njit(cache=True)
def _ramp_bet(rc: float, unseen: int, game: IndexGame) -> float:
    """The ramp's bet at the round's start, read as the player reads the count."""
    if game.rules_i[G_RAMP_RUNNING] != 0:
        cv = rc
    else:
        cv = _true_count(rc, unseen, DECK_CARDS, game.rules_i[G_EST], game.rules_i[G_RND])
    tier = 0
    for t in range(1, game.ramp_thr.shape[0]):
        if cv >= game.ramp_thr[t]:
            tier = t
    return game.ramp_mult[tier]


@njit(cache=True)
def _tally(
    sums: np.ndarray, p: int, bucket: int, w: float, x: float, d: float, q: float, bet: float
) -> None:
    row = sums[p, bucket]
    w2 = w * w
    row[F_N] += 1.0
    row[F_W] += w
    row[F_WX] += w * x
    row[F_WD] += w * d
    row[F_WQ] += w * q
    row[F_W2] += w2
    row[F_W2D] += w2 * d
    row[F_W2Q] += w2 * q
    row[F_W2DD] += w2 * d * d
    row[F_W2QQ] += w2 * q * q
    row[F_W2DQ] += w2 * d * q
    row[F_WDB] += w * d * bet
    row[F_WDB_SQ] += (w * d * bet) ** 2


@njit(cache=True)
def _value_state(
    p: int,
    rc: float,
    cnt: np.ndarray,
    left: int,
    game: IndexGame,
    plays: IndexPlays,
    tally: IndexTally,
    rng: np.ndarray,
    scratch: np.ndarray,
    bufs: np.ndarray,
    hands: np.ndarray,
) -> None:
    """Play p at one state (running count rc, composition cnt[1..10], `left` cards): both
    actions, the difference tallied in the bucket of the count the player decides by,
    which has seen the up card and the player's two cards (as kernel._solo_rounds reads
    it for an index play or insurance, so the indices mean what a config's do). Scratch:
    int64[4, 11] two compositions and two generator states, bufs int8[2, BUFFER], hands
    (see _play_hand)."""
    work = scratch[0]
    for r in range(11):
        work[r] = cnt[r]
    up = plays.up[p]
    if work[up] == 0:
        tally.counters[p, K_MISSING] += 1
        return
    bet = _ramp_bet(rc, left, game)
    p_up = work[up] / left
    work[up] -= 1
    left -= 1
    sums = tally.sums
    tags = game.tags
    n_buckets = sums.shape[1]
    if plays.kind[p] == PK_INSURANCE:
        # The player's two cards, any two of what remains: they move the count seen.
        c0 = _weighted_rank(work, 0, rng)
        work[c0] -= 1  # c0 is 0 only with no card left: work[0] is never read
        c1 = _weighted_rank(work, 0, rng)
        if c0 == 0 or c1 == 0:
            tally.counters[p, K_MISSING] += 1
            return
        work[c1] -= 1
        left -= 2
        x, bucket = _count_bucket(rc + tags[up] + tags[c0] + tags[c1], left, game, n_buckets)
        # Per unit of the original bet: half a unit at 2:1 on a ten in the hole.
        prob = work[10] / left
        d = 1.5 * prob - 0.5
        # Any two cards: the weight is the chance of the ace up. q is not modelled for
        # insurance (its covariance with the hand is not played out here).
        _tally(sums, p, bucket, p_up, x, d, 0.0, bet)
        tally.counters[p, K_VALUED] += 1
        return
    # The two cards: each of the play's rank pairs weighted by the ways the remaining
    # cards make it.
    n_comp = plays.n_comp[p]
    total_w = 0
    pair = False
    for j in range(n_comp):
        a = plays.comp[p, j, 0]
        b = plays.comp[p, j, 1]
        pair = a == b
        total_w += work[a] * (work[b] - 1) if a == b else work[a] * work[b]
    if total_w <= 0:
        tally.counters[p, K_MISSING] += 1
        return
    pick = bounded(rng, total_w)
    c0 = 0
    c1 = 0
    for j in range(n_comp):
        a = plays.comp[p, j, 0]
        b = plays.comp[p, j, 1]
        w = work[a] * (work[b] - 1) if a == b else work[a] * work[b]
        if pick < w:
            c0 = a
            c1 = b
            break
        pick -= w
    # The chance of these two ranks (either order unless a pair) after the up card.
    p_cards = (1.0 if pair else 2.0) * total_w / (left * (left - 1.0))
    work[c0] -= 1
    work[c1] -= 1
    left -= 2
    x, bucket = _count_bucket(rc + tags[up] + tags[c0] + tags[c1], left, game, n_buckets)
    # The hole card: with a peek the player only plays against a dealer without
    # blackjack, so it is drawn from the cards that do not make one.
    exclude = 10 if up == 1 else (1 if up == 10 else 0)
    p_hole = 1.0 if exclude == 0 else (left - work[exclude]) / left
    hole = _weighted_rank(work, exclude, rng)
    if hole == 0:
        tally.counters[p, K_MISSING] += 1
        return
    work[hole] -= 1
    left -= 1
    indep = game.rules_i[G_INDEPENDENT] != 0
    comp_b = scratch[1]
    for r in range(11):
        comp_b[r] = work[r]
    gst = scratch[2]
    gst[0] = 0
    gst[1] = left
    gst[2] = 0
    buf = bufs[0]
    buf[:] = 0
    ev_a = _play_hand(plays.first[p, 0], c0, c1, up, hole, game, buf, gst, work, rng, hands)
    if indep:
        # Independent plays (the comparison the CRN test makes): b on its own later cards.
        gst2 = scratch[3]
        gst2[0] = 0
        gst2[1] = left
        gst2[2] = 0
        bufs[1, :] = 0
        ev_b = _play_hand(
            plays.first[p, 1], c0, c1, up, hole, game, bufs[1], gst2, comp_b, rng, hands
        )
        over = gst[2] != 0 or gst2[2] != 0
    else:
        ev_b = _play_hand(plays.first[p, 1], c0, c1, up, hole, game, buf, gst, work, rng, hands)
        over = gst[2] != 0
    if over:
        tally.counters[p, K_OVERFLOW] += 1
        return
    w = p_up * p_cards * p_hole
    _tally(sums, p, bucket, w, x, ev_b - ev_a, ev_b * ev_b - ev_a * ev_a, bet)
    tally.counters[p, K_VALUED] += 1


# nogil: a shard's heartbeat thread beats while the shoes are dealt, not only between
# chunks (the simulation loops release the GIL the same way).
@njit(cache=True, nogil=True)
def index_shoes(
    n_shoes: int, game: IndexGame, plays: IndexPlays, tally: IndexTally, rng: np.ndarray
) -> None:
    """Deal n_shoes shoes, valuing every play at every state, into tally (added to)."""
    deck = game.deck
    n = deck.shape[0]
    cards = deck.copy()
    cut = game.rules_i[G_CUT]
    step = game.rules_i[G_STEP]
    irc = game.count_f[GF_IRC]
    n_plays = plays.kind.shape[0]
    full = np.zeros(11, dtype=np.int64)
    for i in range(n):
        full[deck[i]] += 1
    cnt = np.zeros(11, dtype=np.int64)
    scratch = np.zeros((4, 11), dtype=np.int64)
    bufs = np.zeros((2, BUFFER), dtype=np.int8)
    hands = np.zeros((MAX_HANDS, 7), dtype=np.int64)
    for _shoe in range(n_shoes):
        # Each shoe is shuffled from the deck in order, so a shoe depends on the
        # generator's state alone and a shard dealt in chunks is the bits of one call.
        cards[:] = deck
        shuffle_forward(cards, 0, cut, n, rng)
        for r in range(11):
            cnt[r] = full[r]
        rc = irc
        pos = 0
        while pos < cut:
            for p in range(n_plays):
                _value_state(p, rc, cnt, n - pos, game, plays, tally, rng, scratch, bufs, hands)
            for _ in range(step):
                if pos >= cut:
                    break
                c = cards[pos]
                rc += game.tags[c]
                cnt[c] -= 1
                pos += 1
