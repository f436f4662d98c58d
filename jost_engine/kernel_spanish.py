"""The Spanish 21 round loop: the common game's bundles, a Spanish bundle, counters out.

A separate compiled loop, so that the common game's loops (jost_engine.kernel) keep their
machine code: a game plays here when its rules differ from the common game's in any
Spanish 21 field (Rules.spanish_game), whatever the deck, or when a player's chart plays
by the number of cards (more_cards; simulate.spanish_bundle). It is the general loop of
kernel.py (any players, spots, ramps, insurance, index plays on two cards, wonging, the
hand log) with these differences, and with a standard deck and no Spanish rule that
fires it plays the common game card for card (tests/engine/test_spanish21.py):

- Cards carry suits: a card is rank | suit << 4 (rank 1..10, suit 0..3, 0 = spades), so
  the shoe is the suited composition of its decks (48 cards a Spanish deck: ranks A..9
  four times, ten-value J, Q, K, i.e. 12 tens; 52 a standard one) and the infinite shoe
  draws from one such deck with replacement. Everything but the bonuses reads the rank
  (card & 15); the count reads its tag by rank.
- The true count divides by decks of the game's own size (Spanish.sp_i[SP_DECK]: 48 or
  52 cards), so a Spanish "deck left" is 48 unseen cards (docs/CONFIG.md).
- A hand of three or more cards plays Spanish.act_n (by number of cards, from the chart's
  more_cards), where a double is allowed on any number of cards with double_any_cards.
- After a double the hand's card comes and then it may redouble (while the chart still
  says double, in its after_double table where it has one, and redoubles are left), be
  rescued (surrendered, forfeiting the original bet, or with rescue_forfeits "half" half
  of what it has wagered: the same after one double), or stand.
- Settlement: a player's 21 wins against a dealer's 21 (player_21_wins); a natural beats
  a dealer natural (blackjack_beats_blackjack, paid as any natural); a winning 21 of five,
  six, seven or more cards, or of 6-7-8 or 7-7-7 (mixed, suited, spades) is paid its
  bonus (not on a doubled hand unless bonus_after_double, nor on a split one without
  bonus_after_split); a suited 7-7-7 of an unsplit,
  undoubled hand against a dealer 7 is paid the super bonus (money) as well, and every
  other player with a bet that round the envy bonus. Of two bonuses a hand qualifies for
  (a 6-7-8 is a three-card 21), the larger is paid.

Deal order, shuffling, money and counting are kernel.py's (see its docstring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from jost_engine.kernel import (
    C_678_MIXED,
    C_777_MIXED,
    C_BLACKJACK,
    C_BUST,
    C_DEALER_BJ,
    C_DEALER_BUST,
    C_DOUBLE,
    C_ENVY_BONUS,
    C_FIVE_CARD_21,
    C_HANDS,
    C_INSURANCE,
    C_INSURANCE_WON,
    C_LOSS,
    C_PUSH,
    C_REDOUBLE,
    C_RESCUE,
    C_SEVEN_CARD_21,
    C_SIX_CARD_21,
    C_SPLIT,
    C_SPOTS,
    C_SUPER_BONUS,
    C_SURRENDER,
    C_WATCHED,
    C_WIN,
    CF_IRC,
    CF_WONG_IN,
    CF_WONG_OUT,
    CI_EST,
    CI_RAMP_RUNNING,
    CI_ROUND,
    CI_WONG,
    CTX_FIRST,
    CTX_SPLIT,
    DOUBLE,
    F_BUST,
    F_DEALER_BJ,
    F_DOUBLED,
    F_INSURANCE_WON,
    F_INSURED,
    F_NATURAL,
    F_SPLIT,
    F_SURRENDERED,
    H_BUST,
    H_LIVE,
    H_NATURAL,
    H_STOOD,
    H_SURRENDERED,
    HIT,
    KIND_HARD,
    KIND_SOFT,
    PG_BJ,
    PG_SURRENDER,
    R_COUNT_ON,
    R_CUT,
    R_DEV_ON,
    R_ES,
    R_H17,
    R_HSA,
    R_INFINITE,
    R_INS_ON,
    R_INSURANCE,
    R_LOG_ON,
    R_MAX_SPLIT,
    R_ONE_BET,
    R_PEEK,
    R_PLAY_ON,
    R_RSA,
    R_WONG_ON,
    RF_BJ_PAYOUT,
    S_BROKE,
    S_COUNT_FROM,
    S_LIMIT,
    S_NEED_SHUFFLE,
    S_POS,
    S_ROUNDS,
    S_SHUFFLES,
    SHUFFLE_STEP,
    SPLIT,
    STAND,
    SURRENDER,
    Players,
    Seats,
    Shoe,
    Table,
    Tallies,
    _counts,
    _decide,
    _Each,
    _Hands,
    _log_hand,
    _round_totals,
    _rule_bet,
    _scratch,
    _Spots,
    _take_insurance,
    _tc_bin,
    _value,
    bounded,
    shuffle,
    shuffle_forward,
)

if TYPE_CHECKING:
    from jost_engine.kernel import BoolLike, IntLike

SUIT_SHIFT = 4
RANK_MASK = 15
SPADES = 0

# ---- Spanish.sp_i fields -----------------------------------------------------------------
SP_DECK, SP_P21, SP_BJ_BEATS_BJ, SP_RESCUE, SP_REDOUBLES, SP_BONUS_DOUBLED = range(6)
SP_BONUS_SPLIT = 6
SP_RESCUE_HALF = 7  # a rescue forfeits half the wager (else the original bet)
N_SP_I = 8
# ---- Spanish.sp_f fields: what a winning 21 pays per unit bet (1.0: no bonus), and money -
(
    SF_FIVE,
    SF_SIX,
    SF_SEVEN,
    SF_678_MIXED,
    SF_678_SUITED,
    SF_678_SPADES,
    SF_777_MIXED,
    SF_777_SUITED,
    SF_777_SPADES,
    SF_SUPER,
    SF_ENVY,
) = range(11)
N_SP_F = 11

# A hand rescued after a double: settled as a late surrender (H_SURRENDERED) and counted
# as a rescue, not a surrender.
H_RESCUED = 5


class Spanish(NamedTuple):
    """What only the Spanish 21 loop reads (built by simulate.new_session).

    sp_i int64[N_SP_I], sp_f float64[N_SP_F] (fields above); deck int8[48 or 52] one
    deck's suited cards (the infinite shoe draws from it); act_n/act_n_poor int8[P, 2
    (unsplit, split hand), MAX_CARDS, 2 (hard, soft), 22, 11] the resolved action of a hand
    of n >= 3 cards (poor: a double it cannot cover); redouble uint8[P, MAX_CARDS, 2, 22,
    11] 1 where a doubled hand of n cards redoubles (its chart cell says Dh or Ds, or
    its after_double cell D); rescue uint8[P, 2 (hard, soft), 22, 11] 1 where a doubled
    hand of that total is rescued against that up card.
    """

    sp_i: np.ndarray
    sp_f: np.ndarray
    deck: np.ndarray
    act_n: np.ndarray
    act_n_poor: np.ndarray
    redouble: np.ndarray
    rescue: np.ndarray
    # int8[P, 2 (first two cards, after a split), 11, 11, 11]: the resolved action of a
    # two-card hand of ranks (c0, c1) against up where the chart's `compositions` gives
    # one, else -1 (its row plays); two_poor: the same where a double is not covered.
    two_act: np.ndarray
    two_poor: np.ndarray


def suited_deck(spanish: bool) -> np.ndarray:
    """One deck's suited cards: four suits of A..9 and the ten-value cards (10, J, Q, K;
    a Spanish deck has no ten-spots: J, Q, K)."""
    tens = 3 if spanish else 4
    ranks = list(range(1, 10)) + [10] * tens
    return np.array(
        [rank | (suit << SUIT_SHIFT) for suit in range(4) for rank in ranks], dtype=np.int8
    )


# ---------------------------------------------------------------------------------------
# The shoe, with suits: kernel.py's helpers, with the infinite shoe drawn from `deck`.
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def fill_suited(cards: np.ndarray, start: int, deck: np.ndarray, s: np.ndarray) -> None:
    """Cards drawn with replacement from one deck's composition."""
    n = deck.shape[0]
    for i in range(start, cards.shape[0]):
        cards[i] = deck[bounded(s, n)]


@njit(cache=True, inline="always")
def _decide_two(
    players: Players,
    spanish: Spanish,
    p: int,
    ctx: int,
    hard: IntLike,
    ace: BoolLike,
    c0: IntLike,
    c1: IntLike,
    can_split: BoolLike,
    up: IntLike,
    avail: float,
    bet: float,
    dev_on: bool,
    tc: float,
) -> np.int8:
    """kernel._decide for a two-card hand, whose composition's cell (the chart's
    `compositions`) plays first where it has one, unless an index play has the row."""
    a = spanish.two_act[p, ctx, c0, c1, up]
    if a >= 0:
        kind = KIND_HARD
        row = hard
        if ace and hard + 10 <= 21:
            kind = KIND_SOFT
            row = hard + 10
        if not (dev_on and players.dev_n[p, kind, row, up] > 0):
            if a >= SPLIT and a <= DOUBLE and avail < bet:
                a = spanish.two_poor[p, ctx, c0, c1, up]
            return a
    return _decide(players, p, ctx, hard, ace, c0, c1, 2, can_split, up, avail, bet, dev_on, tc)


@njit(cache=True)
def _more_cards(
    shoe: Shoe, deck: np.ndarray, pos: int, limit: int, round_start: int, infinite: bool
) -> tuple[int, int]:
    """kernel._more_cards, with a suited infinite shoe."""
    cards, rng, st_i = shoe
    n = cards.shape[0]
    if infinite:
        fill_suited(cards, 0, deck, rng)
        return 0, n
    if limit < n:
        stop = min(n, limit + SHUFFLE_STEP)
        shuffle_forward(cards, limit, stop, n, rng)
        return pos, stop
    st_i[S_NEED_SHUFFLE] = 1
    st_i[S_SHUFFLES] += 1
    if round_start >= 20:
        shuffle(cards, round_start, rng)
        return 0, round_start
    shuffle(cards, n, rng)
    return 0, n


@njit(cache=True, inline="always")
def _draw(
    shoe: Shoe, deck: np.ndarray, pos: int, limit: int, round_start: int, infinite: bool
) -> tuple[np.int64, int, int]:
    """The next card (rank | suit << 4), pos and limit, as kernel._draw."""
    if pos >= limit:
        pos, limit = _more_cards(shoe, deck, pos, limit, round_start, infinite)
    return np.int64(shoe.cards[pos]), pos + 1, limit


@njit(cache=True, inline="always")
def _shuffle_if_due(
    shoe: Shoe,
    deck: np.ndarray,
    pos: int,
    limit: int,
    cut: int,
    infinite: bool,
    players: Players,
    seats: Seats,
) -> tuple[int, int]:
    """kernel._shuffle_if_due, with a suited infinite shoe."""
    cards, rng, st_i = shoe
    if pos >= cut or st_i[S_NEED_SHUFFLE] != 0:
        if infinite:
            fill_suited(cards, 0, deck, rng)
            limit = cards.shape[0]
        else:
            shuffle_forward(cards, 0, cut, cards.shape[0], rng)
            limit = cut
        pos = 0
        st_i[S_NEED_SHUFFLE] = 0
        st_i[S_SHUFFLES] += 1
        for p in range(seats.run_count.shape[0]):
            seats.run_count[p] = players.cnt_f[p, CF_IRC]
            if players.cnt_i[p, CI_WONG] != 0:
                seats.watching[p] = 1
    return pos, limit


@njit(cache=True, inline="always")
def _dealer_plays(
    shoe: Shoe,
    deck: np.ndarray,
    pos: int,
    limit: int,
    round_start: int,
    infinite: bool,
    peek: bool,
    h17: bool,
    up: IntLike,
    any_standing: bool,
    any_pending: bool,
    one_bet: bool,
    dealer_bj: BoolLike,
    d_hard: IntLike,
    d_ace: BoolLike,
    d_cards: np.ndarray,
    d_n: int,
) -> tuple[int, int, BoolLike, IntLike, int]:
    """kernel._dealer_plays on suited cards (d_cards keeps the ranks, for the log)."""
    if not peek and (any_standing or ((any_pending or one_bet) and (up == 1 or up == 10))):
        c, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
        c = c & RANK_MASK
        d_cards[1] = c
        d_hard += c
        d_ace = d_ace or c == 1
        d_n = 2
        dealer_bj = d_hard == 11 and d_ace
    if any_standing and not dealer_bj:
        while True:
            dv = d_hard
            soft = False
            if d_ace and d_hard + 10 <= 21:
                dv = d_hard + 10
                soft = True
            if dv > 17 or (dv == 17 and not (h17 and soft)):
                break
            c, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
            c = c & RANK_MASK
            d_cards[d_n] = c
            d_n += 1
            d_hard += c
            d_ace = d_ace or c == 1
    return pos, limit, dealer_bj, _value(d_hard, d_ace), d_n


@njit(cache=True, inline="always")
def _bonus(cards: np.ndarray, n: IntLike, sp_f: np.ndarray) -> tuple[float, int]:
    """What a 21 of these n suited cards pays per unit bet, and the counter it adds to
    (-1: none): the larger of a card-count bonus and a 6-7-8 / 7-7-7 bonus."""
    pay = 1.0
    counter = -1
    if n >= 5:
        if n == 5:
            pay, counter = sp_f[SF_FIVE], C_FIVE_CARD_21
        elif n == 6:
            pay, counter = sp_f[SF_SIX], C_SIX_CARD_21
        else:
            pay, counter = sp_f[SF_SEVEN], C_SEVEN_CARD_21
    elif n == 3:
        r0 = cards[0] & RANK_MASK
        r1 = cards[1] & RANK_MASK
        r2 = cards[2] & RANK_MASK
        s0 = cards[0] >> SUIT_SHIFT
        suited = s0 == cards[1] >> SUIT_SHIFT and s0 == cards[2] >> SUIT_SHIFT
        seven = r0 == 7 and r1 == 7 and r2 == 7
        # 6-7-8 in any order: three different ranks 6..8 (their sum is then 21).
        six78 = (
            r0 != r1 and r1 != r2 and r0 != r2 and 6 <= r0 <= 8 and 6 <= r1 <= 8 and 6 <= r2 <= 8
        )
        if seven or six78:
            base = SF_777_MIXED if seven else SF_678_MIXED
            c_base = C_777_MIXED if seven else C_678_MIXED
            k = 0
            if suited:
                k = 2 if s0 == SPADES else 1
            pay, counter = sp_f[base + k], c_base + k
    if pay <= 1.0:
        return 1.0, -1
    return pay, counter


@njit(cache=True, inline="always")
def _suited_777(cards: np.ndarray, n: IntLike) -> bool:
    """Three sevens of one suit."""
    if n != 3:
        return False
    # Written out: numba compiles no generator (all(...)) in a jitted function.
    s0 = cards[0] >> SUIT_SHIFT
    sevens = cards[0] & RANK_MASK == 7 and cards[1] & RANK_MASK == 7 and cards[2] & RANK_MASK == 7
    return sevens and cards[1] >> SUIT_SHIFT == s0 and cards[2] >> SUIT_SHIFT == s0


@njit(cache=True, inline="always")
def _spanish_net(
    st: int,
    bet: float,
    hard: IntLike,
    ace: BoolLike,
    dealer_value: IntLike,
    dealer_bj: BoolLike,
    bj_payout: float,
    early_surrender: bool,
    one_bet: bool,
    first: bool,
    base: float,
    p21: bool,
    bj_beats_bj: bool,
    pay21: float,
) -> tuple[float, int]:
    """kernel._hand_net with Spanish 21's settlement: a natural against a dealer natural
    wins with bj_beats_bj; a 21 beats a dealer's 21 with p21 (never a dealer blackjack)
    and a winning 21 is paid pay21 per unit bet."""
    if st == H_SURRENDERED and (early_surrender or not dealer_bj):
        return -0.5 * bet, -1
    if st == H_NATURAL:
        if dealer_bj and not bj_beats_bj:
            return 0.0, 0
        return bj_payout * bet, 1
    if dealer_bj and one_bet:
        if first:
            return -base, -1
        return 0.0, 0
    if st == H_BUST or dealer_bj:
        return -bet, -1
    pv = _value(hard, ace)
    if pv == 21 and (p21 or dealer_value != 21):
        return pay21 * bet, 1
    if dealer_value > 21 or pv > dealer_value:
        return bet, 1
    if pv < dealer_value:
        return -bet, -1
    return 0.0, 0


class _Extra(NamedTuple):
    """Scratch beyond kernel._scratch: per hand, whether it was rescued (settled as a
    surrender, counted as a rescue) and the share of its wager a rescue forfeits; per
    player, the super bonuses won this round (for the envy bonus the others receive)."""

    rescued: np.ndarray
    rescue_loss: np.ndarray
    super_won: np.ndarray


# ---------------------------------------------------------------------------------------
# The round loop
# ---------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def play_rounds_spanish(
    rounds: int,
    table: Table,
    players: Players,
    shoe: Shoe,
    seats: Seats,
    tallies: Tallies,
    spanish: Spanish,
) -> int:
    """kernel.play_rounds for a Spanish 21 game (see the module's docstring)."""
    n_players = players.min_bet.shape[0]
    max_spots = 0
    for p in range(n_players):
        max_spots += players.n_spots[p]
    max_split = table.rules_i[R_MAX_SPLIT]
    scratch = _scratch(n_players, max_spots, max_split)
    extra = _Extra(
        rescued=np.zeros(max_spots * max_split, dtype=np.bool_),
        rescue_loss=np.zeros(max_spots * max_split, dtype=np.float64),
        super_won=np.zeros(n_players, dtype=np.int64),
    )
    return _spanish_rounds(
        rounds,
        table,
        players,
        shoe,
        seats,
        tallies,
        spanish,
        scratch.hands,
        scratch.spots,
        scratch.each,
        extra,
    )


@njit(cache=True, error_model="numpy", nogil=True, _nrt=False)  # type: ignore[call-overload]
def _spanish_rounds(
    rounds: int,
    table: Table,
    players: Players,
    shoe: Shoe,
    seats: Seats,
    tallies: Tallies,
    spanish: Spanish,
    hands: _Hands,
    spots: _Spots,
    each: _Each,
    extra: _Extra,
) -> int:
    """The loop of play_rounds_spanish, on the scratch it allocates once per call (compiled
    with _nrt=False as kernel._general_rounds, for the same reason)."""
    n_players = players.min_bet.shape[0]
    infinite = table.rules_i[R_INFINITE] != 0
    h17 = table.rules_i[R_H17] != 0
    max_split = table.rules_i[R_MAX_SPLIT]
    rsa = table.rules_i[R_RSA] != 0
    hsa = table.rules_i[R_HSA] != 0
    early_surrender = table.rules_i[R_ES] != 0
    peek = table.rules_i[R_PEEK] != 0
    one_bet = table.rules_i[R_ONE_BET] != 0
    offer_insurance = table.rules_i[R_INSURANCE] != 0
    cut = table.rules_i[R_CUT]
    count_on = table.rules_i[R_COUNT_ON] != 0
    log_on = table.rules_i[R_LOG_ON] != 0
    ins_on = table.rules_i[R_INS_ON] != 0 and offer_insurance
    credit = np.inf if table.rules_i[R_PLAY_ON] != 0 else 0.0
    dev_on = table.rules_i[R_DEV_ON] != 0
    wong_on = table.rules_i[R_WONG_ON] != 0
    bj_payout = table.rules_f[RF_BJ_PAYOUT]
    n_cards = shoe.cards.shape[0]

    deck = spanish.deck
    deck_size = spanish.sp_i[SP_DECK]
    p21 = spanish.sp_i[SP_P21] != 0
    bj_beats_bj = spanish.sp_i[SP_BJ_BEATS_BJ] != 0
    rescue_on = spanish.sp_i[SP_RESCUE] != 0
    rescue_half = spanish.sp_i[SP_RESCUE_HALF] != 0
    max_redoubles = spanish.sp_i[SP_REDOUBLES]
    bonus_doubled = spanish.sp_i[SP_BONUS_DOUBLED] != 0
    bonus_split = spanish.sp_i[SP_BONUS_SPLIT] != 0
    super_bonus = spanish.sp_f[SF_SUPER]
    envy_bonus = spanish.sp_f[SF_ENVY]

    pos = shoe.st_i[S_POS]
    limit = shoe.st_i[S_LIMIT]
    count_from = shoe.st_i[S_COUNT_FROM]
    played = 0

    for _r in range(rounds):
        # ---- 1. count the previous round's cards, reshuffle at the cut card -----------
        if count_on:
            for i in range(count_from, pos):
                c = shoe.cards[i] & RANK_MASK
                for p in range(n_players):
                    seats.run_count[p] += players.tags[p, c]
        pos, limit = _shuffle_if_due(shoe, deck, pos, limit, cut, infinite, players, seats)
        count_from = pos
        round_start = pos

        # ---- 2. bets (as kernel._general_rounds) --------------------------------------
        n_sp = 0
        for p in range(n_players):
            each.net[p] = 0.0
            each.committed[p] = 0.0
            extra.super_won[p] = 0
            if seats.active[p] == 0:
                continue
            mult = 1.0
            tier = 0
            cv = 0.0
            if count_on:
                tc, cv = _counts(
                    seats.run_count[p],
                    n_cards - pos,
                    deck_size,
                    infinite,
                    players.cnt_i[p, CI_EST],
                    players.cnt_i[p, CI_ROUND],
                    players.cnt_i[p, CI_RAMP_RUNNING] != 0,
                    players.cnt_f[p, CF_IRC],
                )
                for t in range(1, players.ramp_n[p]):
                    if cv >= players.ramp_thr[p, t]:
                        tier = t
                mult = players.ramp_mult[p, tier]
                each.tc_bin[p] = _tc_bin(tc)
                if wong_on and players.cnt_i[p, CI_WONG] != 0:
                    if seats.watching[p] != 0:
                        if cv >= players.cnt_f[p, CF_WONG_IN]:
                            seats.watching[p] = 0
                    elif cv < players.cnt_f[p, CF_WONG_OUT]:
                        seats.watching[p] = 1
            nsp = players.ramp_spots[p, tier]
            each.n_spots[p] = nsp
            live = True
            if wong_on:
                live = seats.watching[p] == 0
            if live and players.bet_rule_n[p] > 0:
                # Betting by rules, as in kernel._general_rounds: a watched round bets
                # nothing, and the progression waits for the next bet.
                room = (seats.bankroll[p] + credit) / (players.min_bet[p] * nsp)
                mult = _rule_bet(players, p, seats.progress, tallies.counters, cv, room)
                seats.progress[p, PG_BJ] = tallies.counters[p, C_BLACKJACK]
                seats.progress[p, PG_SURRENDER] = tallies.counters[p, C_SURRENDER]
            if live:
                bet = players.min_bet[p] * mult
                stake = bet * nsp
                if seats.bankroll[p] + credit < stake:
                    seats.active[p] = 0
                    continue
            else:
                bet = 0.0
                stake = 0.0
                tallies.counters[p, C_WATCHED] += 1
            each.bet[p] = bet
            each.committed[p] = stake
            for j in range(nsp):
                spots.player[n_sp] = p
                spots.number[n_sp] = j
                spots.live[n_sp] = live
                n_sp += 1
        if n_sp == 0:
            shoe.st_i[S_BROKE] = 1
            break

        # ---- 3. deal ------------------------------------------------------------------
        for s in range(n_sp):
            code, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
            c = code & RANK_MASK
            h = s * max_split
            hands.hard[h] = c
            hands.ace[h] = c == 1
            hands.n[h] = 1
            hands.c0[h] = c
            hands.cards[h, 0] = code
            hands.bet[h] = each.bet[spots.player[s]]
            hands.state[h] = H_LIVE
            hands.doubled[h] = False
            extra.rescued[h] = False
            spots.hands[s] = 1
            spots.insured[s] = False
        up, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
        up = up & RANK_MASK
        hands.dealer_cards[0] = up
        for s in range(n_sp):
            code, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
            c = code & RANK_MASK
            h = s * max_split
            hands.hard[h] += c
            hands.ace[h] = hands.ace[h] or c == 1
            hands.n[h] = 2
            hands.c1[h] = c
            hands.cards[h, 1] = code
            if hands.ace[h] and hands.hard[h] == 11:
                hands.state[h] = H_NATURAL
        seen_before_hole = pos
        if count_on and (dev_on or (ins_on and up == 1)):
            for p in range(n_players):
                rc = seats.run_count[p]
                for i in range(count_from, seen_before_hole):
                    rc += players.tags[p, shoe.cards[i] & RANK_MASK]
                each.tc[p] = _counts(
                    rc,
                    n_cards - seen_before_hole,
                    deck_size,
                    infinite,
                    players.cnt_i[p, CI_EST],
                    players.cnt_i[p, CI_ROUND],
                    False,
                    players.cnt_f[p, CF_IRC],
                )[0]
        d_hard = up
        d_ace = up == 1
        d_n = 1
        if peek:
            c, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
            c = c & RANK_MASK
            hands.dealer_cards[1] = c
            d_hard += c
            d_ace = d_ace or c == 1
            d_n = 2

        # ---- 4. insurance, early surrender, the peek ----------------------------------
        if ins_on and up == 1:
            _take_insurance(True, players, seats, tallies, each, spots, n_sp, credit)
        if early_surrender:
            for s in range(n_sp):
                h = s * max_split
                if hands.state[h] != H_LIVE:
                    continue
                p = spots.player[s]
                a = _decide_two(
                    players,
                    spanish,
                    p,
                    CTX_FIRST,
                    hands.hard[h],
                    hands.ace[h],
                    hands.c0[h],
                    hands.c1[h],
                    max_split > 1,
                    up,
                    seats.bankroll[p] + credit - each.committed[p],
                    hands.bet[h],
                    dev_on,
                    each.tc[p],
                )
                if a == SURRENDER:
                    hands.state[h] = H_SURRENDERED
        dealer_bj: BoolLike = False
        if peek and (up == 1 or up == 10):
            dealer_bj = d_hard == 11 and d_ace

        # ---- 5. players act -----------------------------------------------------------
        any_standing = False
        any_pending = False
        if not dealer_bj:
            for s in range(n_sp):
                p = spots.player[s]
                base = s * max_split
                live_count = 1 if spots.live[s] else 0
                if spots.insured[s]:
                    any_pending = True
                i = 0
                while i < spots.hands[s]:
                    h = base + i
                    st = hands.state[h]
                    if st == H_NATURAL:
                        any_pending = True
                        i += 1
                        continue
                    if st != H_LIVE:
                        i += 1
                        continue
                    split_spot = spots.hands[s] > 1
                    if hands.n[h] == 1:
                        code, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
                        c = code & RANK_MASK
                        hands.hard[h] += c
                        hands.ace[h] = hands.ace[h] or c == 1
                        hands.c1[h] = c
                        hands.cards[h, 1] = code
                        hands.n[h] = 2
                        if hands.c0[h] == 1 and not hsa:
                            if c == 1 and rsa and spots.hands[s] < max_split:
                                a = _decide(
                                    players,
                                    p,
                                    CTX_SPLIT,
                                    hands.hard[h],
                                    hands.ace[h],
                                    1,
                                    1,
                                    2,
                                    True,
                                    up,
                                    seats.bankroll[p] + credit - each.committed[p],
                                    hands.bet[h],
                                    dev_on,
                                    each.tc[p],
                                )
                                if a == SPLIT:
                                    each.committed[p] += hands.bet[h]
                                    tallies.counters[p, C_SPLIT] += live_count
                                    nh = base + spots.hands[s]
                                    spots.hands[s] += 1
                                    hands.hard[nh] = 1
                                    hands.ace[nh] = True
                                    hands.n[nh] = 1
                                    hands.c0[nh] = 1
                                    hands.cards[nh, 0] = hands.cards[h, 1]
                                    hands.bet[nh] = hands.bet[h]
                                    hands.state[nh] = H_LIVE
                                    hands.doubled[nh] = False
                                    extra.rescued[nh] = False
                                    hands.hard[h] = 1
                                    hands.n[h] = 1
                                    continue
                            hands.state[h] = H_STOOD
                            any_standing = True
                            i += 1
                            continue
                    hard = hands.hard[h]
                    ace = hands.ace[h]
                    hn = hands.n[h]
                    hbet = hands.bet[h]
                    c0 = hands.c0[h]
                    c1 = hands.c1[h]
                    state = H_LIVE
                    split_axis = 1 if split_spot else 0
                    while True:
                        avail = seats.bankroll[p] + credit - each.committed[p]
                        if hn == 2:
                            ctx = CTX_SPLIT if split_spot else CTX_FIRST
                            can_split = spots.hands[s] < max_split and (
                                c0 != 1 or rsa or not split_spot
                            )
                            a = _decide_two(
                                players,
                                spanish,
                                p,
                                ctx,
                                hard,
                                ace,
                                c0,
                                c1,
                                can_split,
                                up,
                                avail,
                                hbet,
                                dev_on,
                                each.tc[p],
                            )
                        else:
                            # Three or more cards: the chart's more_cards, where a double
                            # is allowed on any number of cards with double_any_cards.
                            kind = KIND_HARD
                            row = hard
                            if ace and hard + 10 <= 21:
                                kind = KIND_SOFT
                                row = hard + 10
                            a = spanish.act_n[p, split_axis, hn, kind, row, up]
                            if a == DOUBLE and avail < hbet:
                                a = spanish.act_n_poor[p, split_axis, hn, kind, row, up]
                        if a in (HIT, DOUBLE):
                            if a == DOUBLE:
                                each.committed[p] += hbet
                                hbet *= 2.0
                                hands.doubled[h] = True
                                tallies.counters[p, C_DOUBLE] += live_count
                            code, pos, limit = _draw(shoe, deck, pos, limit, round_start, infinite)
                            c = code & RANK_MASK
                            hands.cards[h, hn] = code
                            hn += 1
                            hard += c
                            ace = ace or c == 1
                            if hard > 21:
                                state = H_BUST
                                break
                            if a == DOUBLE:
                                # Redouble while the chart says double and redoubles are
                                # left; else rescue where the chart says so; else stand.
                                redoubles = 0
                                while True:
                                    if hard > 21:
                                        state = H_BUST
                                        break
                                    value = _value(hard, ace)
                                    if value == 21:
                                        state = H_STOOD
                                        any_standing = True
                                        break
                                    kind = KIND_SOFT if ace and hard + 10 <= 21 else KIND_HARD
                                    if (
                                        redoubles < max_redoubles
                                        and spanish.redouble[p, hn, kind, value, up] != 0
                                        and seats.bankroll[p] + credit - each.committed[p] >= hbet
                                    ):
                                        redoubles += 1
                                        each.committed[p] += hbet
                                        hbet *= 2.0
                                        tallies.counters[p, C_REDOUBLE] += live_count
                                        code, pos, limit = _draw(
                                            shoe, deck, pos, limit, round_start, infinite
                                        )
                                        c = code & RANK_MASK
                                        hands.cards[h, hn] = code
                                        hn += 1
                                        hard += c
                                        ace = ace or c == 1
                                        continue
                                    if rescue_on and spanish.rescue[p, kind, value, up] != 0:
                                        state = H_SURRENDERED
                                        extra.rescued[h] = True
                                        # The wager is the first bet doubled 1 + redoubles
                                        # times: the first bet is this share of it.
                                        extra.rescue_loss[h] = (
                                            0.5 if rescue_half else 0.5 / (2.0**redoubles)
                                        )
                                        # No hole card: the blackjack takes it all, as a
                                        # late surrender (kernel._hand_net).
                                        any_pending = True
                                        break
                                    state = H_STOOD
                                    any_standing = True
                                    break
                                break
                            if hard == 21 or (ace and hard == 11):
                                state = H_STOOD
                                any_standing = True
                                break
                        elif a == STAND:
                            state = H_STOOD
                            any_standing = True
                            break
                        elif a == SPLIT:
                            each.committed[p] += hbet
                            tallies.counters[p, C_SPLIT] += live_count
                            nh = base + spots.hands[s]
                            spots.hands[s] += 1
                            hands.hard[nh] = c0
                            hands.ace[nh] = c0 == 1
                            hands.n[nh] = 1
                            hands.c0[nh] = c0
                            hands.cards[nh, 0] = hands.cards[h, 1]
                            hands.bet[nh] = hbet
                            hands.state[nh] = H_LIVE
                            hands.doubled[nh] = False
                            extra.rescued[nh] = False
                            hard = c0
                            ace = c0 == 1
                            hn = 1
                            split_spot = True
                            split_axis = 1
                            break
                        else:  # SURRENDER (late; only on the original two cards)
                            state = H_SURRENDERED
                            any_pending = True
                            break
                    hands.hard[h] = hard
                    hands.ace[h] = ace
                    hands.n[h] = hn
                    hands.bet[h] = hbet
                    hands.state[h] = state
                    if state == H_LIVE:
                        continue  # split: this hand now draws its second card
                    i += 1

        # ---- 6. the dealer ------------------------------------------------------------
        pos, limit, dealer_bj, dealer_value, d_n = _dealer_plays(
            shoe,
            deck,
            pos,
            limit,
            round_start,
            infinite,
            peek,
            h17,
            up,
            any_standing,
            any_pending,
            one_bet,
            dealer_bj,
            d_hard,
            d_ace,
            hands.dealer_cards,
            d_n,
        )

        # ---- 7. settle ----------------------------------------------------------------
        n_super = 0
        for s in range(n_sp):
            if not spots.live[s]:
                continue
            p = spots.player[s]
            base = s * max_split
            ins_net = 0.0
            tallies.counters[p, C_SPOTS] += 1
            if dealer_bj:
                tallies.counters[p, C_DEALER_BJ] += 1
            if dealer_value > 21:
                tallies.counters[p, C_DEALER_BUST] += 1
            if spots.insured[s]:
                tallies.counters[p, C_INSURANCE] += 1
                if dealer_bj:
                    tallies.counters[p, C_INSURANCE_WON] += 1
                    ins_net = each.bet[p]
                else:
                    ins_net = -0.5 * each.bet[p]
                each.net[p] += ins_net
            for i in range(spots.hands[s]):
                h = base + i
                st = hands.state[h]
                bet = hands.bet[h]
                tallies.counters[p, C_HANDS] += 1
                pay21 = 1.0
                bonus_counter = -1
                n_h = hands.n[h]
                won_super = False
                if (
                    st == H_STOOD
                    and not dealer_bj
                    and _value(hands.hard[h], hands.ace[h]) == 21
                    and (p21 or dealer_value != 21)
                    and (bonus_doubled or not hands.doubled[h])
                    and (bonus_split or spots.hands[s] == 1)
                ):
                    pay21, bonus_counter = _bonus(hands.cards[h], n_h, spanish.sp_f)
                    won_super = (
                        super_bonus > 0.0
                        and up == 7
                        and spots.hands[s] == 1
                        and not hands.doubled[h]
                        and _suited_777(hands.cards[h], n_h)
                    )
                net, outcome = _spanish_net(
                    st,
                    bet,
                    hands.hard[h],
                    hands.ace[h],
                    dealer_value,
                    dealer_bj,
                    bj_payout,
                    early_surrender,
                    one_bet,
                    i == 0,
                    each.bet[p],
                    p21,
                    bj_beats_bj,
                    pay21,
                )
                if extra.rescued[h] and st == H_SURRENDERED and (early_surrender or not dealer_bj):
                    # A rescue forfeits its share (rescue_forfeits), not a surrender's half.
                    net = -extra.rescue_loss[h] * bet
                if bonus_counter >= 0:
                    tallies.counters[p, bonus_counter] += 1
                if won_super:
                    # Paid besides the hand's own win (its 7-7-7 bonus included).
                    net += super_bonus
                    tallies.counters[p, C_SUPER_BONUS] += 1
                    extra.super_won[p] += 1
                    n_super += 1
                flags = 0
                if st == H_SURRENDERED:
                    if extra.rescued[h]:
                        tallies.counters[p, C_RESCUE] += 1
                    else:
                        tallies.counters[p, C_SURRENDER] += 1
                    flags |= F_SURRENDERED
                elif st == H_NATURAL:
                    tallies.counters[p, C_BLACKJACK] += 1
                    flags |= F_NATURAL
                elif st == H_BUST:
                    tallies.counters[p, C_BUST] += 1
                    flags |= F_BUST
                if outcome > 0:
                    tallies.counters[p, C_WIN] += 1
                elif outcome < 0:
                    tallies.counters[p, C_LOSS] += 1
                else:
                    tallies.counters[p, C_PUSH] += 1
                each.net[p] += net
                if log_on:
                    if hands.doubled[h]:
                        flags |= F_DOUBLED
                    if spots.hands[s] > 1:
                        flags |= F_SPLIT
                    if spots.insured[s]:
                        flags |= F_INSURED
                        if dealer_bj:
                            flags |= F_INSURANCE_WON
                    if dealer_bj:
                        flags |= F_DEALER_BJ
                    for k in range(n_h):
                        hands.cards[h, k] = hands.cards[h, k] & RANK_MASK
                    _log_hand(
                        tallies,
                        shoe.st_i,
                        p,
                        spots.number[s],
                        i,
                        hands.cards[h],
                        n_h,
                        hands.dealer_cards,
                        d_n,
                        flags,
                        outcome,
                        _value(hands.hard[h], hands.ace[h]),
                        dealer_value,
                        bet,
                        net,
                        ins_net if i == 0 else 0.0,
                    )
        if n_super > 0 and envy_bonus > 0.0:
            # The envy bonus: every other player with a bet this round, once for each
            # super bonus another player won.
            for p in range(n_players):
                if each.committed[p] == 0.0:
                    continue
                others = n_super - extra.super_won[p]
                if others > 0:
                    each.net[p] += envy_bonus * others
                    tallies.counters[p, C_ENVY_BONUS] += others

        # ---- 8. round totals ----------------------------------------------------------
        _round_totals(True, count_on, players, seats, tallies, each)
        shoe.st_i[S_ROUNDS] += 1
        played += 1

    shoe.st_i[S_POS] = pos
    shoe.st_i[S_LIMIT] = limit
    shoe.st_i[S_COUNT_FROM] = count_from
    return played
