"""The numba inner loop: arrays in, counters out, nothing else.

Everything the kernel touches is a numpy array or a scalar, the arrays in five named
bundles (Table, Players, Shoe, Seats, Tallies; below the constants). The Python layer
(simulate.py) turns a typed Config into these bundles once per shard (`new_session`),
calls a round loop one or more times on the same bundles, and reads the counters back.
There are two loops over the same bundles: `play_rounds`, the general one, and
`play_rounds_solo`, the same game specialised for one player on one spot without the hand
log (`solo_applies`), about 1.4 times faster and bitwise equal (tested). Each loop is
compiled twice from one source, with a compile-time flag (`full`, numba's `literally`):
the plain game (flat or an exact true-count ramp; `plain_game`) runs a loop with no code
for index plays, wonging, spots ramps, betting by rules or the player's own true-count
estimation, which cost the plain game time even switched off; anything else runs the
full loop. The two
are bitwise equal on the plain game (tests/engine/test_plain_loop.py).
What both loops do alike (a card drawn, the reshuffle, the dealer's turn, a hand settled)
is written once, in small helpers inlined into both; the rest is written out in each.
All state that survives a round (shoe, position, RNG, bankrolls, running counts,
counters, the hand log) lives in the Shoe, Seats and Tallies bundles and is mutated in
place, so a long job run in chunks gives bitwise the same result as one call.

Cards are ranks 1..10: 1 is an ace, 10 any ten-value card. (Spanish 21, whose cards carry
suits, has a loop of its own over these bundles: jost_engine.kernel_spanish.)

Deal order (what an arranged shoe must follow): one card to every spot in seat order,
the dealer's up card, a second card to every spot, then the hole card (peek games only;
with European no hole card the dealer's second card is drawn after the players act, and
its blackjack takes every bet, or with R_ONE_BET one original bet per spot).
Players then act spot by spot. A split leaves the first card in the hand being played,
which draws its second card at once; the other card starts a new hand appended after the
spot's last hand, played in turn. A hand that reaches 21 stands. The dealer draws only
when some hand is still standing (a European dealer also draws its second card to settle
a natural, insurance or a late surrender against an ace or ten up).

Shuffling: at the cut card (checked between rounds, so the round in progress finishes)
the shoe is shuffled as far as the cut card with a forward Fisher-Yates; a round that
crosses the cut card extends the shuffle as it goes. xoshiro256** draws, each 64-bit
output serving two 32-bit Lemire bounded draws; the state is seeded from a SeedSequence.

Money is float64 throughout. A player can double or split only when the bankroll less
everything already wagered this round covers the extra bet; otherwise the chart's
fallback is played (Dh -> hit, Ds -> stand, P -> the hard/soft cell of the same total).
Insurance is taken on all of a player's spots or none, when the true count at that moment
(cards seen so far, hole card excluded) reaches the player's threshold and it is covered.

Counting: a round's cards, the hole card included, are added to each player's running
count when the next round starts (no decision in a round depends on its own cards except
insurance, which adds them itself). True count = running count / (unseen cards / 52),
unseen meaning behind the dealing position; with an infinite shoe it is always 0, since
no card dealt changes what is left. Counting is switched off (R_COUNT_ON = 0) when no bet
or decision depends on it, which keeps the flat-bet loop free of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import numpy as np
from numba import literally, njit

if TYPE_CHECKING:
    # Annotations are for mypy only (numba types each function from its arguments, and
    # with the __future__ import they are never evaluated). A scalar reaches the kernel's
    # functions as a Python int or bool, or as a numpy scalar (a card drawn is np.int64,
    # a comparison of one np.bool_): the same int64 or boolean to numba.
    IntLike: TypeAlias = int | np.integer[Any]
    BoolLike: TypeAlias = bool | np.bool_

# ---- base actions after a chart cell is resolved for the rules and the situation --------
HIT, STAND, SPLIT, DOUBLE, SURRENDER = 0, 1, 2, 3, 4

# ---- table kinds and decision contexts (second and third axes of the action table) ------
KIND_HARD, KIND_SOFT, KIND_PAIR = 0, 1, 2
CTX_FIRST, CTX_SPLIT, CTX_LATER = 0, 1, 2  # original two cards / two cards after a split / 3+

# ---- rules_i fields ------------------------------------------------------------------------
# (Late surrender has no field: the action tables already hold where it is offered.)
R_INFINITE, R_H17, R_MAX_SPLIT, R_RSA, R_HSA, R_ES, R_PEEK, R_INSURANCE = range(8)
R_CUT, R_COUNT_ON, R_LOG_ON, R_INS_ON = 8, 9, 10, 11
# No hole card, and a dealer blackjack takes only one original bet per spot ("original_bet").
R_ONE_BET = 12
# Play on when broke (the config's stop_when_broke false): a player whose bankroll cannot
# cover the bet, a double, a split or insurance plays on as if it could, so every round
# is the same game whatever the bankroll (which may go below zero).
R_PLAY_ON = 13
# Some player has index plays (deviations); some player wongs (watches below a count).
R_DEV_ON, R_WONG_ON = 14, 15
# Play the full loop even where the plain one would do (a plain game: see plain_game); the
# two are held to the same bits by tests/engine/test_plain_loop.py, which sets it.
R_FULL_LOOP = 16
N_RULES_I = 17
# rules_f fields
RF_BJ_PAYOUT = 0
N_RULES_F = 1

# ---- per-player counting (cnt_i int64[P, N_CNT_I], cnt_f float64[P, N_CNT_F]) ----------
# CI_EST: how decks left are read; CI_ROUND: how the true count is rounded;
# CI_RAMP_RUNNING: the ramp and wonging read the running count (else the true count);
# CI_WONG: the player wongs (starts every shoe watching).
CI_EST, CI_ROUND, CI_RAMP_RUNNING, CI_WONG = range(4)
N_CNT_I = 4
EST_EXACT, EST_HALF, EST_WHOLE = 0, 1, 2
RND_NONE, RND_FLOOR, RND_TRUNC, RND_ROUND = 0, 1, 2, 3
# CF_IRC: the running count at each shuffle; sit in at >= CF_WONG_IN, leave < CF_WONG_OUT.
CF_IRC, CF_WONG_IN, CF_WONG_OUT = range(3)
N_CNT_F = 3
# A standard deck's cards: what the common game's true count divides by (Rules.
# cards_per_deck; kernel_spanish passes a Spanish deck's 48).
DECK_CARDS = 52

# ---- st_i fields (state that outlives a call) ------------------------------------------
(
    S_POS,
    S_COUNT_FROM,
    S_ROUNDS,
    S_SHUFFLES,
    S_NEED_SHUFFLE,
    S_LOG_N,
    S_LOG_TOTAL,
    S_BROKE,
    S_LIMIT,
) = range(9)
N_STATE_I = 9  # S_LIMIT: the end of the cards shuffled so far

# ---- per-player integer counters -------------------------------------------------------
(
    C_ROUNDS,
    C_SPOTS,
    C_HANDS,
    C_WIN,
    C_LOSS,
    C_PUSH,
    C_BLACKJACK,
    C_BUST,
    C_DOUBLE,
    C_SPLIT,
    C_SURRENDER,
    C_INSURANCE,
    C_INSURANCE_WON,
    C_DEALER_BJ,
    C_DEALER_BUST,
    C_WATCHED,
    C_BETS_CAPPED,
) = range(17)
# Spanish 21 (jost_engine.kernel_spanish; the common game's loops leave them at 0): hands
# paid a 21 bonus, by kind; super bonuses won and envy bonuses received (per player);
# doubled hands rescued; redoubles.
(
    C_FIVE_CARD_21,
    C_SIX_CARD_21,
    C_SEVEN_CARD_21,
    C_678_MIXED,
    C_678_SUITED,
    C_678_SPADES,
    C_777_MIXED,
    C_777_SUITED,
    C_777_SPADES,
    C_SUPER_BONUS,
    C_ENVY_BONUS,
    C_RESCUE,
    C_REDOUBLE,
) = range(17, 30)
N_COUNTERS = 30
# The common game's counters, the first columns (the Spanish 21 ones follow): what every
# result reports (stats.player_metrics).
N_COUNTERS_COMMON = 17
COUNTER_NAMES = (
    "rounds",
    "spots",
    "hands",
    "win",
    "loss",
    "push",
    "blackjack",
    "bust",
    "double",
    "split",
    "surrender",
    "insurance",
    "insurance_won",
    "dealer_blackjack",
    "dealer_bust",
    "rounds_watched",
    # Rounds whose bet a betting rule wanted above the table maximum (max_bet) or the
    # bankroll, and so was capped: the progression's failure (a Martingale at the limit).
    "bets_capped",
    "five_card_21",
    "six_card_21",
    "seven_card_21",
    "678_mixed",
    "678_suited",
    "678_spades",
    "777_mixed",
    "777_suited",
    "777_spades",
    "super_bonus",
    "envy_bonus",
    "rescue",
    "redouble",
)

# ---- per-player float sums -------------------------------------------------------------
S_WAGERED, S_NET, S_NET_SQ, S_UNIT_NET, S_UNIT_SQ, S_INITIAL_BET, S_INSURANCE_WAGERED = range(7)
# The round's net per unit of its own initial bet (every spot), and its square: the mean is
# flat_edge, the game's edge whatever the ramp bet (stats.player_metrics).
S_FLAT, S_FLAT_SQ = 7, 8
N_SUMS = 9
SUM_NAMES = (
    "wagered",
    "net",
    "net_sq",
    "unit_net",
    "unit_net_sq",
    "initial_bet",
    "insurance_wagered",
    "flat",
    "flat_sq",
)

# ---- betting by rules (Players.bet_rule_i int64[P, R, N_BR_I], bet_rule_f float64[P, R,
# N_BR_F], bet_rule_n int64[P] rules used, bet_steps float64[P, K] units by step, bet_cap
# float64[P] the most units a rule may bet) -------------------------------------------------
# The last round's result (codes in config.BET_RESULTS order) and a rule's action (in
# config.BET_ACTIONS order). BRI_RESULTS: a bit (1 << result) for each result the rule takes.
RES_NONE, RES_WIN, RES_BLACKJACK, RES_LOSS, RES_SURRENDER, RES_PUSH = range(6)
A_BET, A_MULTIPLY, A_ADD, A_STEP, A_RESET = range(5)
# BRI_CONDITIONS: a bit (COND_*) for each pair of bounds the rule sets, so the loop reads
# only those (most rules set one or two).
BRI_ACTION, BRI_RESULTS, BRI_CONDITIONS = 0, 1, 2
N_BR_I = 3
COND_TC, COND_WINS, COND_LOSSES, COND_NET, COND_CYCLE, COND_STEP = 1, 2, 4, 8, 16, 32
# BRF_VALUE: the action's units, factor or step; BRF_TARGET: the cycle_target (inf: none);
# then the conditions' bounds, inclusive (-inf/inf where a rule sets none).
(
    BRF_VALUE,
    BRF_TARGET,
    BRF_TC_MIN,
    BRF_TC_MAX,
    BRF_WINS_MIN,
    BRF_WINS_MAX,
    BRF_LOSSES_MIN,
    BRF_LOSSES_MAX,
    BRF_NET_MIN,
    BRF_NET_MAX,
    BRF_CYCLE_MIN,
    BRF_CYCLE_MAX,
    BRF_STEP_MIN,
    BRF_STEP_MAX,
) = range(14)
N_BR_F = 14
# A progression's state (Seats.progress float64[P, N_PG], fresh each session): the last
# bet in units, the step, the last result, the win and loss streaks, the session's net and
# the cycle's (since the last reset) in units, and the blackjack and surrender counters
# when the round's bet was made (a round's result reads whether they moved).
PG_LAST, PG_STEP, PG_RESULT, PG_WINS, PG_LOSSES, PG_NET, PG_CYCLE, PG_BJ, PG_SURRENDER = range(9)
N_PG = 9

# ---- table by true count ---------------------------------------------------------------
TC_MIN, TC_MAX = -10, 10
N_TC = TC_MAX - TC_MIN + 1
T_ROUNDS, T_NET, T_NET_SQ, T_WAGERED = range(4)
# A row's initial bets (its average bet) and the flat result and its square (as S_FLAT).
T_INITIAL_BET, T_FLAT, T_FLAT_SQ = 4, 5, 6
N_TC_FIELDS = 7

# ---- hand log --------------------------------------------------------------------------
MAX_CARDS = 24  # a hand holds at most 22 cards (21 aces and a bust card), so no check is needed
L_PLAYER, L_SPOT, L_HAND, L_NCARDS = 0, 1, 2, 3
L_CARDS = 4
L_DNCARDS = L_CARDS + MAX_CARDS
L_DCARDS = L_DNCARDS + 1
L_FLAGS = L_DCARDS + MAX_CARDS
L_OUTCOME, L_TOTAL, L_DTOTAL = L_FLAGS + 1, L_FLAGS + 2, L_FLAGS + 3
LOG_WIDTH = L_FLAGS + 4
LF_BET, LF_NET, LF_INSURANCE_NET = 0, 1, 2
LOG_F_WIDTH = 3
# hand flags in the log
F_DOUBLED, F_SPLIT, F_SURRENDERED, F_NATURAL, F_BUST, F_INSURED, F_INSURANCE_WON, F_DEALER_BJ = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
)

# hand states within a round
H_LIVE, H_STOOD, H_BUST, H_SURRENDERED, H_NATURAL = 0, 1, 2, 3, 4

INFINITE_BUFFER = 4096  # cards generated at a time for an infinite shoe
_RANK13 = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10], dtype=np.int8)


# ---------------------------------------------------------------------------------------
# The bundles: every array the round loops take, in five named tuples (numba passes a
# named tuple of arrays as its arrays: no runtime, no cost in the loop, one cached type).
# Each is built in one place in the Python layer (simulate.new_session, counting.players),
# so a new array is one field here, one where its bundle is built and one where it is used.
# P players, T tiers of a ramp, S index plays a chart cell holds at most.
# ---------------------------------------------------------------------------------------
class Table(NamedTuple):
    """The rules, as fields of rules_i int64[N_RULES_I] and rules_f float64[N_RULES_F]."""

    rules_i: np.ndarray
    rules_f: np.ndarray


class Players(NamedTuple):
    """How each player plays, bets and counts (read only).

    act/act_poor int8[P, 3 ctx, 3 kind, 22, 11] resolved actions (simulate.action_tables);
    min_bet float64[P]; n_spots int64[P] each player's most spots; ramp_thr/ramp_mult
    float64[P, T] with ramp_n int64[P] tiers used (thresholds sorted, the first -inf) and
    ramp_spots int64[P, T] spots by tier; ins_thr float64[P] (inf = never insure);
    bet_rule_n, bet_rule_i, bet_rule_f, bet_steps, bet_cap: betting by rules (BRI_*, BRF_*
    above; bet_rule_n 0: none); tags
    float64[P, 11] by rank (tag x tag_scale); cnt_i int64[P, N_CNT_I] and cnt_f
    float64[P, N_CNT_F] how each player counts and wongs; the index plays of
    jost_engine.deviations with a player axis first: dev_n int8[P, 3, 22, 11], dev_thr
    float64[P, 3, 22, 11, S], dev_above uint8[P, 3, 22, 11, S], dev_act/dev_act_poor
    int8[P, 3, 3, 22, 11, S + 1].
    """

    act: np.ndarray
    act_poor: np.ndarray
    min_bet: np.ndarray
    n_spots: np.ndarray
    ramp_thr: np.ndarray
    ramp_mult: np.ndarray
    ramp_n: np.ndarray
    ramp_spots: np.ndarray
    ins_thr: np.ndarray
    bet_rule_n: np.ndarray
    bet_rule_i: np.ndarray
    bet_rule_f: np.ndarray
    bet_steps: np.ndarray
    bet_cap: np.ndarray
    tags: np.ndarray
    cnt_i: np.ndarray
    cnt_f: np.ndarray
    dev_n: np.ndarray
    dev_thr: np.ndarray
    dev_above: np.ndarray
    dev_act: np.ndarray
    dev_act_poor: np.ndarray


class Shoe(NamedTuple):
    """The cards int8[N] (ranks 1..10), the generator's state uint64[4] and st_i
    int64[N_STATE_I], the state that outlives a call (the position, the rounds played...)."""

    cards: np.ndarray
    rng: np.ndarray
    st_i: np.ndarray


class Seats(NamedTuple):
    """Each player's state from round to round: bankroll float64[P], active uint8[P]
    (0: broke for good), run_count float64[P], watching uint8[P] (a wonging player sitting
    out), progress float64[P, N_PG] (betting by rules). A new session starts from their
    initial values (simulate.Session.restart)."""

    bankroll: np.ndarray
    active: np.ndarray
    run_count: np.ndarray
    watching: np.ndarray
    progress: np.ndarray


class Tallies(NamedTuple):
    """What the rounds add up: counters int64[P, N_COUNTERS], sums float64[P, N_SUMS],
    tc_table float64[P, N_TC, N_TC_FIELDS]; the hand log log_i int16[cap, LOG_WIDTH],
    log_f float64[cap, LOG_F_WIDTH], log_round int64[cap] (cap 0 without a log)."""

    counters: np.ndarray
    sums: np.ndarray
    tc_table: np.ndarray
    log_i: np.ndarray
    log_f: np.ndarray
    log_round: np.ndarray


class _Hands(NamedTuple):
    """Scratch: the round's hands, spot s's hand i in slot s * max_split + i, and the
    dealer's cards."""

    hard: np.ndarray
    ace: np.ndarray
    n: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    bet: np.ndarray
    state: np.ndarray
    doubled: np.ndarray
    cards: np.ndarray
    dealer_cards: np.ndarray


class _Spots(NamedTuple):
    """Scratch: the round's spots in seat order, whose player, which of its spots, how
    many hands, insured, live (False: a watching player's spot)."""

    player: np.ndarray
    number: np.ndarray
    hands: np.ndarray
    insured: np.ndarray
    live: np.ndarray


class _Each(NamedTuple):
    """Scratch: each player's round, the bet per spot, the money committed, the net, the
    true-count table's row, the spots taken and the true count for decisions."""

    bet: np.ndarray
    committed: np.ndarray
    net: np.ndarray
    tc_bin: np.ndarray
    n_spots: np.ndarray
    tc: np.ndarray


class _Scratch(NamedTuple):
    hands: _Hands
    spots: _Spots
    each: _Each


# ---------------------------------------------------------------------------------------
# RNG: xoshiro256** (Blackman & Vigna), state in a uint64[4] array.
# ---------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def next_u64(s: np.ndarray) -> np.uint64:
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return result


@njit(cache=True, inline="always")
def _lemire(x: np.uint64, bound: int, s: np.ndarray) -> np.int64:
    """Uniform integer in [0, bound) from 32 random bits x, bound < 2**32: Lemire's
    multiply-shift with rejection, so unbiased; the rejection branch runs with probability
    below bound / 2**32 and then draws fresh bits."""
    b = np.uint64(bound)
    m = x * b
    low = m & np.uint64(0xFFFFFFFF)
    if low < b:
        threshold = (np.uint64(0x100000000) - b) % b
        while low < threshold:
            m = (next_u64(s) >> np.uint64(32)) * b
            low = m & np.uint64(0xFFFFFFFF)
    return np.int64(m >> np.uint64(32))


@njit(cache=True)
def bounded(s: np.ndarray, bound: int) -> np.int64:
    """Uniform integer in [0, bound), bound < 2**32."""
    return _lemire(next_u64(s) >> np.uint64(32), bound, s)


@njit(cache=True)
def shuffle_forward(cards: np.ndarray, start: int, stop: int, n: int, s: np.ndarray) -> None:
    """Fisher-Yates, forward and partial: positions start..stop-1 of cards[0:n] receive
    uniformly random cards from those not yet placed (positions before `start` are already
    placed). Shuffling only as far as the cards actually dealt saves the work on the cards
    behind the cut card; each 64-bit draw serves two positions."""
    i = start
    mask = np.uint64(0xFFFFFFFF)
    while i < stop:
        r = next_u64(s)
        j = i + _lemire(r >> np.uint64(32), n - i, s)
        tmp = cards[i]
        cards[i] = cards[j]
        cards[j] = tmp
        i += 1
        if i < stop:
            j = i + _lemire(r & mask, n - i, s)
            tmp = cards[i]
            cards[i] = cards[j]
            cards[j] = tmp
            i += 1


@njit(cache=True)
def shuffle(cards: np.ndarray, n: int, s: np.ndarray) -> None:
    """A full Fisher-Yates shuffle of cards[0:n]."""
    shuffle_forward(cards, 0, n, n, s)


@njit(cache=True)
def fill_infinite(cards: np.ndarray, start: int, s: np.ndarray) -> None:
    """Cards drawn with replacement: each of 13 ranks equally likely, 10/J/Q/K as 10."""
    for i in range(start, cards.shape[0]):
        cards[i] = _RANK13[bounded(s, 13)]


SHUFFLE_STEP = 16  # cards shuffled at a time past the cut card (a round rarely needs more)


@njit(cache=True)
def _more_cards(
    shoe: Shoe, pos: int, limit: int, round_start: int, infinite: bool
) -> tuple[int, int]:
    """The dealer reached `limit`, the end of the cards shuffled so far: (pos, new limit).

    Infinite: a fresh buffer of random cards. Finite: the round in progress went past
    the cut card, so the shuffle goes on a few cards further. Only when the whole shoe is
    dealt within a round (a pathological table: several players, few decks, deep
    penetration) are the discards of earlier rounds shuffled and dealt, and the shoe is
    reshuffled in full before the next round; with fewer than 20 discards the whole shoe
    is reshuffled, which reuses cards of the round in progress.
    """
    cards, rng, st_i = shoe
    n = cards.shape[0]
    if infinite:
        fill_infinite(cards, 0, rng)
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


# ---------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _decide(
    players: Players,
    p: int,
    ctx: int,
    hard: IntLike,
    has_ace: BoolLike,
    c0: IntLike,
    c1: IntLike,
    ncards: IntLike,
    can_split: BoolLike,
    up: IntLike,
    avail: float,
    bet: float,
    dev_on: bool,
    tc: float,
) -> np.int8:
    """Resolved action for a hand: pair table while splitting is legal, else hard/soft.

    With index plays (dev_on), a cell that has some takes the first whose condition holds
    at the true count tc (at or above its threshold, or below it), else the cell's base
    action; jost_engine.deviations resolves them for the rules and the context."""
    if ncards == 2 and c0 == c1 and can_split:
        kind = KIND_PAIR
        row = c0
    elif has_ace and hard + 10 <= 21:
        kind = KIND_SOFT
        row = hard + 10
    else:
        kind = KIND_HARD
        row = hard
    if dev_on:
        dev_act = players.dev_act
        n = players.dev_n[p, kind, row, up]
        if n > 0:
            slot = dev_act.shape[5] - 1
            for j in range(n):
                # A play that does not apply in this context (-1) is passed over.
                holds = (tc >= players.dev_thr[p, kind, row, up, j]) == (
                    players.dev_above[p, kind, row, up, j] != 0
                )
                if holds and dev_act[p, ctx, kind, row, up, j] >= 0:
                    slot = j
                    break
            a = dev_act[p, ctx, kind, row, up, slot]
            if a >= SPLIT and a <= DOUBLE and avail < bet:
                a = players.dev_act_poor[p, ctx, kind, row, up, slot]
            return a
    a = players.act[p, ctx, kind, row, up]
    if a >= SPLIT and a <= DOUBLE and avail < bet:
        # The extra wager is not covered: play the chart's fallback.
        a = players.act_poor[p, ctx, kind, row, up]
    return a


@njit(cache=True, inline="always")
def _value(hard: IntLike, has_ace: BoolLike) -> IntLike:
    if has_ace and hard + 10 <= 21:
        return hard + 10
    return hard


@njit(cache=True)
def _log_hand(
    tallies: Tallies,
    st_i: np.ndarray,
    p: int,
    spot: int,
    hand: int,
    cards: np.ndarray,
    n_cards: int,
    d_cards: np.ndarray,
    d_n: int,
    flags: int,
    outcome: int,
    total: IntLike,
    dealer_total: IntLike,
    bet: float,
    net: float,
    insurance_net: float,
) -> None:
    """One row of the hand log (kept out of the round loop: its code there cost registers
    and about 5% of the speed even with logging off)."""
    log_i, log_f = tallies.log_i, tallies.log_f
    if st_i[S_LOG_N] < log_i.shape[0]:
        row = st_i[S_LOG_N]
        tallies.log_round[row] = st_i[S_ROUNDS]
        log_i[row, L_PLAYER] = p
        log_i[row, L_SPOT] = spot
        log_i[row, L_HAND] = hand
        log_i[row, L_NCARDS] = n_cards
        for k in range(n_cards):
            log_i[row, L_CARDS + k] = cards[k]
        log_i[row, L_DNCARDS] = d_n
        for k in range(d_n):
            log_i[row, L_DCARDS + k] = d_cards[k]
        log_i[row, L_FLAGS] = flags
        log_i[row, L_OUTCOME] = outcome
        log_i[row, L_TOTAL] = total
        log_i[row, L_DTOTAL] = dealer_total
        log_f[row, LF_BET] = bet
        log_f[row, LF_NET] = net
        log_f[row, LF_INSURANCE_NET] = insurance_net
        st_i[S_LOG_N] = row + 1
    st_i[S_LOG_TOTAL] += 1


# ---------------------------------------------------------------------------------------
# Pieces of a round shared by both loops, written once so that the loops cannot drift
# apart. Each is inlined into the loop at numba's IR level (inline="always") and takes and
# returns scalars, mutating arrays in place. The loops that inline them are compiled with
# _nrt=False: with reference counting on, every array handed to an inlined piece is
# counted up and down on every round (numba does not prune those counts across branches),
# which made both loops two to three times slower; as plain calls they were slower still.
# ---------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _draw(
    shoe: Shoe, pos: int, limit: int, round_start: int, infinite: bool
) -> tuple[np.int64, int, int]:
    """The next card of the shoe: (card, pos, limit), shuffling or refilling on the way
    when the dealer reaches the end of the cards shuffled so far."""
    if pos >= limit:
        pos, limit = _more_cards(shoe, pos, limit, round_start, infinite)
    return np.int64(shoe.cards[pos]), pos + 1, limit


@njit(cache=True, inline="always")
def _true_count(rc: float, unseen: int, deck_size: int, est: int, rnd: int) -> float:
    """The true count a player computes from running count rc with `unseen` cards left, in
    decks of deck_size cards (DECK_CARDS; a Spanish deck's 48). The common loops pass the
    constant DECK_CARDS, which the compiler folds as it did the literal 52.

    Decks left: EST_EXACT unseen / deck_size; EST_HALF to the nearest half deck, halves up
    (a discard tray read in half decks), at least half a deck; EST_WHOLE to the nearest
    whole deck, halves up, at least one. Then RND_FLOOR the floor, RND_TRUNC towards 0,
    RND_ROUND to the nearest whole count with halves away from 0 (+2.5 -> +3, -2.5 -> -3).
    """
    if est == EST_EXACT:
        tc = rc * deck_size / unseen
    elif est == EST_HALF:
        decks = np.floor(unseen / (deck_size / 2.0) + 0.5) * 0.5
        if decks < 0.5:
            decks = 0.5
        tc = rc / decks
    else:
        decks = np.floor(unseen / float(deck_size) + 0.5)
        if decks < 1.0:
            decks = 1.0
        tc = rc / decks
    if rnd == RND_FLOOR:
        tc = np.floor(tc)
    elif rnd == RND_TRUNC:
        tc = np.floor(tc) if tc >= 0.0 else -np.floor(-tc)
    elif rnd == RND_ROUND:
        tc = np.floor(tc + 0.5) if tc >= 0.0 else -np.floor(-tc + 0.5)
    return tc


@njit(cache=True, inline="always")
def _counts(
    rc: float,
    unseen: int,
    deck_size: int,
    infinite: bool,
    est: int,
    rnd: int,
    running: bool,
    irc: float,
) -> tuple[float, float]:
    """(true count, the count the ramp and wonging read) at running count rc, in decks of
    deck_size cards. With an infinite shoe no card changes what is left: the true count is
    0 and the running count stays at its initial value."""
    if infinite:
        tc = 0.0
        rc = irc
    else:
        tc = _true_count(rc, unseen, deck_size, est, rnd)
    if running:
        return tc, rc
    return tc, tc


@njit(cache=True, inline="always")
def _shuffle_if_due(
    shoe: Shoe, pos: int, limit: int, cut: int, infinite: bool, players: Players, seats: Seats
) -> tuple[int, int]:
    """At the cut card (or after a round that dealt the whole shoe), a new shoe, the
    running counts back to their initial values (0, or an unbalanced system's initial
    running count) and every wonging player watching again: (pos, limit)."""
    cards, rng, st_i = shoe
    if pos >= cut or st_i[S_NEED_SHUFFLE] != 0:
        if infinite:
            fill_infinite(cards, 0, rng)
            limit = cards.shape[0]
        else:
            # Shuffle as far as the cut card; a round that crosses it extends the shuffle.
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
    track: bool,
) -> tuple[int, int, BoolLike, IntLike, int]:
    """The dealer's turn: with no hole card, the second card when a hand stands or a
    natural, insurance or a late surrender waits for it against an ace or ten up; then
    the draw to 17 when a hand stands and the dealer has no blackjack. track: keep the
    cards in d_cards[:d_n] (for the hand log). one_bet (a blackjack takes one original bet
    per spot): the second card always comes against an ace or ten, since even a spot
    whose hands all busted gets its doubles and splits back from a blackjack.

    Returns (pos, limit, dealer_bj, dealer_value, d_n).
    """
    if not peek and (any_standing or ((any_pending or one_bet) and (up == 1 or up == 10))):
        # European no hole card: the second card comes now.
        c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
        if track:
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
            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
            if track:
                d_cards[d_n] = c
            d_n += 1
            d_hard += c
            d_ace = d_ace or c == 1
    return pos, limit, dealer_bj, _value(d_hard, d_ace), d_n


@njit(cache=True, inline="always")
def _hand_net(
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
) -> tuple[float, int]:
    """A finished hand's net and outcome (1 win, -1 loss, 0 push). first: the spot's
    first hand (the one a split leaves its first card in); base: the spot's original bet."""
    if st == H_SURRENDERED and (early_surrender or not dealer_bj):
        # Early surrender gives up half before the dealer looks, so it escapes a dealer
        # blackjack. Late surrender is settled after the dealer's hand: with a peek it is
        # never offered against a blackjack, and with no hole card the blackjack, found
        # later, takes the whole bet (the branch below).
        return -0.5 * bet, -1
    if st == H_NATURAL:
        if dealer_bj:
            return 0.0, 0
        return bj_payout * bet, 1
    if dealer_bj and one_bet:
        # No hole card, "original_bet": the spot loses its original bet once, whatever
        # was played (busted hands included, as with a peek); the money of doubles and
        # of the other split hands is returned (a push).
        if first:
            return -base, -1
        return 0.0, 0
    if st == H_BUST or dealer_bj:
        # dealer_bj: with a peek the hand was never played; with no hole card ("all"),
        # doubles and splits are lost too.
        return -bet, -1
    pv = _value(hard, ace)
    if dealer_value > 21 or pv > dealer_value:
        return bet, 1
    if pv < dealer_value:
        return -bet, -1
    return 0.0, 0


@njit(cache=True, inline="always")
def _tc_bin(tc: float) -> np.int64:
    """The true-count table's row of a true count: its floor, clipped to TC_MIN..TC_MAX.

    The floor because that is how the ramp reads the count (a tier applies from its
    threshold up): with whole-number thresholds every true count in [k, k + 1) bets at one
    tier, so row k holds one tier. Rounding half up would put 2.5..2.99, bet at tier 2,
    in the row of 3.

    A count that is not finite (NaN or infinite: the running count overflowed) is refused
    here, where a float first becomes an index: numba does not check bounds, and the
    integer of a NaN is no row at all (it wrote out of bounds and crashed the process).
    The config's bounds (docs/CONFIG.md) keep every count finite; this is the last guard,
    and costs nothing on the path a finite count takes (the same two comparisons).
    """
    b = np.floor(tc)
    if not b >= TC_MIN:  # below the table, or NaN
        if not b > -np.inf:
            raise FloatingPointError("the true count is not finite (the running count overflowed)")
        b = float(TC_MIN)
    elif b > TC_MAX:
        if b == np.inf:
            raise FloatingPointError("the true count is not finite (the running count overflowed)")
        b = float(TC_MAX)
    return np.int64(b) - TC_MIN


@njit(cache=True, inline="always")
def _tally_tc(
    tc_table: np.ndarray,
    p: int,
    tb: IntLike,
    net: float,
    stake: float,
    initial: float,
    flat: float,
) -> None:
    """A round in the table by true count."""
    tc_table[p, tb, T_ROUNDS] += 1.0
    tc_table[p, tb, T_NET] += net
    tc_table[p, tb, T_NET_SQ] += net * net
    tc_table[p, tb, T_WAGERED] += stake
    tc_table[p, tb, T_INITIAL_BET] += initial
    tc_table[p, tb, T_FLAT] += flat
    tc_table[p, tb, T_FLAT_SQ] += flat * flat


# ---------------------------------------------------------------------------------------
# Betting by rules: the bet before a round, the progression's state after it (both loops,
# full variant only: plain_game is False for a player with rules)
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def rule_units(players: Players, p: int, progress: np.ndarray, cv: float) -> float:
    """The units player p's first rule whose conditions hold wants (the last bet again when
    none holds), before the floor and the caps; a step or a reset moves the progression.
    cv: the count the ramp would read (0 when nothing counts)."""
    f = players.bet_rule_f
    result_bit = np.int64(1) << np.int64(progress[p, PG_RESULT])
    step = progress[p, PG_STEP]
    wins = progress[p, PG_WINS]
    losses = progress[p, PG_LOSSES]
    net = progress[p, PG_NET]
    cycle = progress[p, PG_CYCLE]
    for r in range(players.bet_rule_n[p]):
        if (players.bet_rule_i[p, r, BRI_RESULTS] & result_bit) == 0:
            continue
        conditions = players.bet_rule_i[p, r, BRI_CONDITIONS]
        if conditions != 0:
            if conditions & COND_TC and not (f[p, r, BRF_TC_MIN] <= cv <= f[p, r, BRF_TC_MAX]):
                continue
            if conditions & COND_WINS and not (
                f[p, r, BRF_WINS_MIN] <= wins <= f[p, r, BRF_WINS_MAX]
            ):
                continue
            if conditions & COND_LOSSES and not (
                f[p, r, BRF_LOSSES_MIN] <= losses <= f[p, r, BRF_LOSSES_MAX]
            ):
                continue
            if conditions & COND_NET and not (f[p, r, BRF_NET_MIN] <= net <= f[p, r, BRF_NET_MAX]):
                continue
            if conditions & COND_CYCLE and not (
                f[p, r, BRF_CYCLE_MIN] <= cycle <= f[p, r, BRF_CYCLE_MAX]
            ):
                continue
            if conditions & COND_STEP and not (
                f[p, r, BRF_STEP_MIN] <= step <= f[p, r, BRF_STEP_MAX]
            ):
                continue
        action = players.bet_rule_i[p, r, BRI_ACTION]
        value = f[p, r, BRF_VALUE]
        if action == A_BET:
            units = value
        elif action == A_MULTIPLY:
            units = progress[p, PG_LAST] * value
        elif action == A_ADD:
            units = progress[p, PG_LAST] + value
        elif action == A_STEP:
            progress[p, PG_STEP] = value
            units = players.bet_steps[p, np.int64(value)]
        else:  # A_RESET
            progress[p, PG_STEP] = 0.0
            progress[p, PG_CYCLE] = 0.0
            cycle = 0.0
            units = players.bet_steps[p, 0]
        # Oscar's grind: no more than a win needs to bring the cycle to its target.
        return min(units, f[p, r, BRF_TARGET] - cycle)
    return progress[p, PG_LAST]


@njit(cache=True, inline="always")
def _rule_bet(
    players: Players, p: int, progress: np.ndarray, counters: np.ndarray, cv: float, room: float
) -> float:
    """The bet in units of min_bet a rules-betting player makes: what the rules want,
    floored at one unit, capped at bet_cap (max_bet) and at `room`, the units the bankroll
    covers on every spot (a bet the cap cut is counted: C_BETS_CAPPED). Below one unit of
    room it is one unit, which the loop then finds the player cannot cover."""
    want = max(rule_units(players, p, progress, cv), 1.0)
    units = min(want, players.bet_cap[p], room)
    if units < 1.0:
        units = 1.0
    elif units < want:
        counters[p, C_BETS_CAPPED] += 1
    progress[p, PG_LAST] = units
    return units


@njit(cache=True)
def rule_settle(
    progress: np.ndarray, p: int, net_units: float, blackjack: BoolLike, surrender: BoolLike
) -> None:
    """A round's result in player p's progression: the result (by the round's net over all
    its spots; a won round with a natural is a blackjack, a lost one with a surrender a
    surrender), the streaks (a push leaves them), the session's and the cycle's nets."""
    if net_units > 0.0:
        progress[p, PG_RESULT] = RES_BLACKJACK if blackjack else RES_WIN
        progress[p, PG_WINS] += 1.0
        progress[p, PG_LOSSES] = 0.0
    elif net_units < 0.0:
        progress[p, PG_RESULT] = RES_SURRENDER if surrender else RES_LOSS
        progress[p, PG_LOSSES] += 1.0
        progress[p, PG_WINS] = 0.0
    else:
        progress[p, PG_RESULT] = RES_PUSH
    progress[p, PG_NET] += net_units
    progress[p, PG_CYCLE] += net_units


# ---- pieces of a round the general loop and the Spanish 21 loop share -------------------
# Inlined (as _draw and _counts): each loop's machine code is what it was when the piece
# was written out in it, `full` folded as a constant (the Spanish loop is always full);
# `bench/machine_code.py --against COMMIT` checks it. _solo_rounds keeps its own copies on
# scalars. The bets were shared too and taken back: the Spanish loop's machine code changed
# with them, and no A/B on the shared machine settled what that cost (docs/BENCHMARKS.md).
@njit(cache=True, inline="always")
def _take_insurance(
    full: bool,
    players: Players,
    seats: Seats,
    tallies: Tallies,
    each: _Each,
    spots: _Spots,
    n_sp: int,
    credit: float,
) -> None:
    """Against an ace up: each betting player whose true count (before the hole card)
    reaches the threshold insures all their spots, at half the bet a spot, if the bankroll
    covers it beside what is already committed."""
    for p in range(players.min_bet.shape[0]):
        if each.committed[p] == 0.0:
            continue  # broke, or watching
        if each.tc[p] >= players.ins_thr[p]:
            cost = 0.5 * each.bet[p] * (each.n_spots[p] if full else players.n_spots[p])
            if seats.bankroll[p] + credit - each.committed[p] >= cost:
                each.committed[p] += cost
                tallies.sums[p, S_INSURANCE_WAGERED] += cost
                for s in range(n_sp):
                    if spots.player[s] == p:
                        spots.insured[s] = True


@njit(cache=True, inline="always")
def _round_totals(
    full: bool, count_on: bool, players: Players, seats: Seats, tallies: Tallies, each: _Each
) -> None:
    """The round's net into each betting player's bankroll, sums, table by true count and
    progression (the same operations in the same order as _solo_rounds: test_determinism)."""
    for p in range(players.min_bet.shape[0]):
        stake = each.committed[p]
        if stake == 0.0:
            continue
        net = each.net[p]
        seats.bankroll[p] += net
        tallies.counters[p, C_ROUNDS] += 1
        tallies.sums[p, S_WAGERED] += stake
        tallies.sums[p, S_NET] += net
        tallies.sums[p, S_NET_SQ] += net * net
        unit = net / players.min_bet[p]
        tallies.sums[p, S_UNIT_NET] += unit
        tallies.sums[p, S_UNIT_SQ] += unit * unit
        initial = each.bet[p] * (each.n_spots[p] if full else players.n_spots[p])
        tallies.sums[p, S_INITIAL_BET] += initial
        flat = net / initial
        tallies.sums[p, S_FLAT] += flat
        tallies.sums[p, S_FLAT_SQ] += flat * flat
        if count_on:
            _tally_tc(tallies.tc_table, p, each.tc_bin[p], net, stake, initial, flat)
        if full and players.bet_rule_n[p] > 0:
            rule_settle(
                seats.progress,
                p,
                unit,
                tallies.counters[p, C_BLACKJACK] > seats.progress[p, PG_BJ],
                tallies.counters[p, C_SURRENDER] > seats.progress[p, PG_SURRENDER],
            )


# ---------------------------------------------------------------------------------------
# The round loop
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def plain_game(table: Table, players: Players, solo: bool) -> bool:
    """True when the plain loop (full=False) plays this game, in the solo loop (solo) or
    the general one: no index plays, nobody wongs, every player's count (when counting is
    on) is the exact, unrounded true count and the ramp reads it, and every player takes
    the same number of spots at every tier; in the solo loop, no insurance either (the
    general loop's plain variant keeps its insurance code)."""
    rules_i = table.rules_i
    if rules_i[R_DEV_ON] != 0 or rules_i[R_WONG_ON] != 0 or rules_i[R_FULL_LOOP] != 0:
        return False
    if solo and rules_i[R_INS_ON] != 0 and rules_i[R_INSURANCE] != 0:
        return False
    count_on = rules_i[R_COUNT_ON] != 0  # else nobody reads the count's settings
    cnt_i = players.cnt_i
    for p in range(cnt_i.shape[0]):
        if count_on and (
            cnt_i[p, CI_EST] != EST_EXACT
            or cnt_i[p, CI_ROUND] != RND_NONE
            or cnt_i[p, CI_RAMP_RUNNING] != 0
        ):
            return False
        for t in range(players.ramp_n[p]):
            if players.ramp_spots[p, t] != players.n_spots[p]:
                return False
        if players.bet_rule_n[p] > 0:
            return False
    return True


@njit(cache=True)
def _scratch(n_players: int, max_spots: int, max_split: int) -> _Scratch:
    """Scratch for one round, allocated once per call of a round loop (which, compiled
    without the NRT, cannot allocate): a hand slot for every hand a spot can split into."""
    n = max_spots * max_split
    hands = _Hands(
        hard=np.zeros(n, dtype=np.int64),
        ace=np.zeros(n, dtype=np.bool_),
        n=np.zeros(n, dtype=np.int64),
        c0=np.zeros(n, dtype=np.int64),
        c1=np.zeros(n, dtype=np.int64),
        bet=np.zeros(n, dtype=np.float64),
        state=np.zeros(n, dtype=np.int64),
        doubled=np.zeros(n, dtype=np.bool_),
        cards=np.zeros((n, MAX_CARDS), dtype=np.int8),
        dealer_cards=np.zeros(MAX_CARDS, dtype=np.int8),
    )
    spots = _Spots(
        player=np.zeros(max_spots, dtype=np.int64),
        number=np.zeros(max_spots, dtype=np.int64),
        hands=np.zeros(max_spots, dtype=np.int64),
        insured=np.zeros(max_spots, dtype=np.bool_),
        live=np.zeros(max_spots, dtype=np.bool_),
    )
    each = _Each(
        bet=np.zeros(n_players, dtype=np.float64),
        committed=np.zeros(n_players, dtype=np.float64),
        net=np.zeros(n_players, dtype=np.float64),
        tc_bin=np.zeros(n_players, dtype=np.int64),
        n_spots=np.zeros(n_players, dtype=np.int64),
        tc=np.zeros(n_players, dtype=np.float64),
    )
    return _Scratch(hands, spots, each)


# error_model="numpy": no zero-division checks in the loop (no divisor there can be zero);
# nogil: a worker's other threads (heartbeats, progress) run while a chunk plays.
@njit(cache=True, error_model="numpy", nogil=True)
def play_rounds(
    rounds: int, table: Table, players: Players, shoe: Shoe, seats: Seats, tallies: Tallies
) -> int:
    """Play up to `rounds` rounds; returns the number played (fewer when all are broke).
    The bundles (shapes in their classes) are mutated in place: shoe, seats and tallies."""
    n_players = players.min_bet.shape[0]
    max_spots = 0
    for p in range(n_players):
        max_spots += players.n_spots[p]  # each player's most spots (spots_ramp at its widest)
    scratch = _scratch(n_players, max_spots, table.rules_i[R_MAX_SPLIT])
    # The plain loop (full=False) unless some player plays index plays, wongs, ramps the
    # spots or counts otherwise than the exact true count (see plain_game). `full` must be
    # a constant at the call for numba to compile each loop (literally), hence two calls:
    # neither a call from Python with the flag (about 6 ms a call, never cached) nor a
    # helper taking the loop as an argument (not cached) does it once.
    if plain_game(table, players, False):
        return _general_rounds(False, rounds, table, players, shoe, seats, tallies, scratch)
    return _general_rounds(True, rounds, table, players, shoe, seats, tallies, scratch)


@njit(cache=True, error_model="numpy", nogil=True, _nrt=False)  # type: ignore[call-overload]
def _general_rounds(
    full: bool,
    rounds: int,
    table: Table,
    players: Players,
    shoe: Shoe,
    seats: Seats,
    tallies: Tallies,
    scratch: _Scratch,
) -> int:
    """The loop of play_rounds, on the scratch play_rounds allocates once per call.
    Compiled with _nrt=False (nothing here allocates; see "Pieces of a round" above for why).

    full is a compile-time constant (literally), as in _solo_rounds: full=False compiles
    the loop without index plays, wonging, spots ramps or a true count other than the exact
    one (see plain_game); play_rounds picks one per call."""
    literally(full)
    hands, spots, each = scratch
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
    # Added to the bankroll wherever the rules ask whether a player can pay; written out
    # again in _solo_rounds (test_determinism holds the two loops equal).
    credit = np.inf if table.rules_i[R_PLAY_ON] != 0 else 0.0
    if full:
        dev_on = table.rules_i[R_DEV_ON] != 0
        wong_on = table.rules_i[R_WONG_ON] != 0
    else:
        # Constants: the compiler drops the index plays' and wonging's code (see the
        # docstring); the count's settings and the spots are fixed below the same way.
        dev_on = False
        wong_on = False
    bj_payout = table.rules_f[RF_BJ_PAYOUT]
    n_cards = shoe.cards.shape[0]

    pos = shoe.st_i[S_POS]
    limit = shoe.st_i[S_LIMIT]
    count_from = shoe.st_i[S_COUNT_FROM]
    played = 0

    for _r in range(rounds):
        # ---- 1. count the previous round's cards, reshuffle at the cut card -----------
        if count_on:
            for i in range(count_from, pos):
                c = shoe.cards[i]
                for p in range(n_players):
                    seats.run_count[p] += players.tags[p, c]
        pos, limit = _shuffle_if_due(shoe, pos, limit, cut, infinite, players, seats)
        count_from = pos
        round_start = pos

        # ---- 2. bets ------------------------------------------------------------------
        n_sp = 0
        for p in range(n_players):
            each.net[p] = 0.0
            each.committed[p] = 0.0
            if seats.active[p] == 0:
                continue
            mult = 1.0
            tier = 0
            cv = 0.0
            if count_on:
                # The bet ramp is written out here and again in _solo_rounds: as a shared
                # inlined piece (with the bin) it cost the Hi-Lo solo loop about 4%.
                # test_determinism holds the two copies to the same results. The true
                # count (_counts) and the bin (_tc_bin) are shared, so they cannot drift.
                if full:
                    est = players.cnt_i[p, CI_EST]
                    rnd = players.cnt_i[p, CI_ROUND]
                    running = players.cnt_i[p, CI_RAMP_RUNNING] != 0
                else:
                    est = EST_EXACT
                    rnd = RND_NONE
                    running = False
                tc, cv = _counts(
                    seats.run_count[p],
                    n_cards - pos,
                    DECK_CARDS,
                    infinite,
                    est,
                    rnd,
                    running,
                    players.cnt_f[p, CF_IRC],
                )
                for t in range(1, players.ramp_n[p]):
                    if cv >= players.ramp_thr[p, t]:
                        tier = t
                mult = players.ramp_mult[p, tier]
                each.tc_bin[p] = _tc_bin(tc)
                if wong_on and players.cnt_i[p, CI_WONG] != 0:
                    # Watching: sit in at wong_in. Playing: leave below wong_out.
                    if seats.watching[p] != 0:
                        if cv >= players.cnt_f[p, CF_WONG_IN]:
                            seats.watching[p] = 0
                    elif cv < players.cnt_f[p, CF_WONG_OUT]:
                        seats.watching[p] = 1
            # Plain: the same spots at every tier (plain_game).
            nsp = players.ramp_spots[p, tier] if full else players.n_spots[p]
            if full:
                each.n_spots[p] = nsp  # else n_spots[p], read where needed
            live = True
            if wong_on:
                live = seats.watching[p] == 0
            if full and live and players.bet_rule_n[p] > 0:
                # A watched round bets nothing: the progression waits for the next bet.
                room = (seats.bankroll[p] + credit) / (players.min_bet[p] * nsp)
                progress = seats.progress
                mult = _rule_bet(players, p, progress, tallies.counters, cv, room)
                progress[p, PG_BJ] = tallies.counters[p, C_BLACKJACK]
                progress[p, PG_SURRENDER] = tallies.counters[p, C_SURRENDER]
            if live:
                bet = players.min_bet[p] * mult
                stake = bet * nsp
                if seats.bankroll[p] + credit < stake:
                    # JOST's rule: a player who cannot cover the bet stops for good.
                    seats.active[p] = 0
                    continue
            else:
                # A watched round: the player's spots are dealt and played as if the
                # player sat in (standing for the other players whose hands keep the
                # cards coming), with nothing bet and nothing counted for them.
                bet = 0.0
                stake = 0.0
                tallies.counters[p, C_WATCHED] += 1
            each.bet[p] = bet
            each.committed[p] = stake
            for j in range(nsp):
                spots.player[n_sp] = p
                spots.number[n_sp] = j
                if wong_on:
                    spots.live[n_sp] = live  # read only when someone wongs
                n_sp += 1
        if n_sp == 0:
            shoe.st_i[S_BROKE] = 1
            break

        # ---- 3. deal ------------------------------------------------------------------
        for s in range(n_sp):
            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
            h = s * max_split
            hands.hard[h] = c
            hands.ace[h] = c == 1
            hands.n[h] = 1
            hands.c0[h] = c
            hands.cards[h, 0] = c
            hands.bet[h] = each.bet[spots.player[s]]
            hands.state[h] = H_LIVE
            hands.doubled[h] = False
            spots.hands[s] = 1
            spots.insured[s] = False
        up, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
        hands.dealer_cards[0] = up
        for s in range(n_sp):
            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
            h = s * max_split
            hands.hard[h] += c
            hands.ace[h] = hands.ace[h] or c == 1
            hands.n[h] = 2
            hands.c1[h] = c
            hands.cards[h, 1] = c
            if hands.ace[h] and hands.hard[h] == 11:
                hands.state[h] = H_NATURAL
        seen_before_hole = pos
        if count_on and (dev_on or (ins_on and up == 1)):
            # Insurance and index plays read the true count of the cards seen before the
            # hole card: every earlier round's and this round's deal (cards drawn later
            # in the round are not added: one count per round, kept out of each decision).
            for p in range(n_players):
                rc = seats.run_count[p]
                for i in range(count_from, seen_before_hole):
                    rc += players.tags[p, shoe.cards[i]]
                if full:
                    est = players.cnt_i[p, CI_EST]
                    rnd = players.cnt_i[p, CI_ROUND]
                else:
                    est = EST_EXACT
                    rnd = RND_NONE
                each.tc[p] = _counts(
                    rc,
                    n_cards - seen_before_hole,
                    DECK_CARDS,
                    infinite,
                    est,
                    rnd,
                    False,
                    players.cnt_f[p, CF_IRC],
                )[0]
        d_hard = up
        d_ace = up == 1
        d_n = 1
        if peek:
            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
            hands.dealer_cards[1] = c
            d_hard += c
            d_ace = d_ace or c == 1
            d_n = 2

        # ---- 4. insurance, early surrender, the peek ----------------------------------
        if ins_on and up == 1:
            _take_insurance(full, players, seats, tallies, each, spots, n_sp, credit)
        if early_surrender:
            for s in range(n_sp):
                h = s * max_split
                if hands.state[h] != H_LIVE:
                    continue
                p = spots.player[s]
                a = _decide(
                    players,
                    p,
                    CTX_FIRST,
                    hands.hard[h],
                    hands.ace[h],
                    hands.c0[h],
                    hands.c1[h],
                    2,
                    max_split > 1,
                    up,
                    seats.bankroll[p] + credit - each.committed[p],
                    hands.bet[h],
                    dev_on,
                    each.tc[p],
                )
                if a == SURRENDER:
                    hands.state[h] = H_SURRENDERED
        dealer_bj: BoolLike = False  # _dealer_plays may return an np.bool_
        if peek and (up == 1 or up == 10):
            dealer_bj = d_hard == 11 and d_ace

        # ---- 5. players act -----------------------------------------------------------
        # Written out here and again in _solo_rounds: as a shared inlined piece (a hand
        # played out, splits and doubles included) it cost the solo loop about 15%.
        # test_determinism holds the two copies to bitwise the same results.
        any_standing = False
        any_pending = False  # a natural, insurance or late surrender awaiting the 2nd card
        if not dealer_bj:
            for s in range(n_sp):
                p = spots.player[s]
                base = s * max_split
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
                        # A split hand draws its second card when its turn comes.
                        c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
                        hands.hard[h] += c
                        hands.ace[h] = hands.ace[h] or c == 1
                        hands.c1[h] = c
                        hands.cards[h, 1] = c
                        hands.n[h] = 2
                        if hands.c0[h] == 1 and not hsa:
                            # Split aces get one card each; a second ace may be resplit.
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
                                    tallies.counters[p, C_SPLIT] += spots.live[s] if wong_on else 1
                                    nh = base + spots.hands[s]
                                    spots.hands[s] += 1
                                    hands.hard[nh] = 1
                                    hands.ace[nh] = True
                                    hands.n[nh] = 1
                                    hands.c0[nh] = 1
                                    hands.cards[nh, 0] = 1
                                    hands.bet[nh] = hands.bet[h]
                                    hands.state[nh] = H_LIVE
                                    hands.doubled[nh] = False
                                    hands.hard[h] = 1
                                    hands.n[h] = 1
                                    continue
                            hands.state[h] = H_STOOD
                            any_standing = True
                            i += 1
                            continue
                    # Play the hand out, in locals (written back once) so the compiler
                    # keeps them in registers rather than reloading the arrays.
                    hard = hands.hard[h]
                    ace = hands.ace[h]
                    hn = hands.n[h]
                    hbet = hands.bet[h]
                    c0 = hands.c0[h]
                    c1 = hands.c1[h]
                    state = H_LIVE
                    while True:
                        if hn == 2:
                            ctx = CTX_SPLIT if split_spot else CTX_FIRST
                            can_split = spots.hands[s] < max_split and (
                                c0 != 1 or rsa or not split_spot
                            )
                        else:
                            ctx = CTX_LATER
                            can_split = False
                        a = _decide(
                            players,
                            p,
                            ctx,
                            hard,
                            ace,
                            c0,
                            c1,
                            hn,
                            can_split,
                            up,
                            seats.bankroll[p] + credit - each.committed[p],
                            hbet,
                            dev_on,
                            each.tc[p],
                        )
                        if a in (HIT, DOUBLE):
                            if a == DOUBLE:
                                each.committed[p] += hbet
                                hbet *= 2.0
                                hands.doubled[h] = True
                                tallies.counters[p, C_DOUBLE] += spots.live[s] if wong_on else 1
                            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
                            hands.cards[h, hn] = c
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
                            each.committed[p] += hbet
                            tallies.counters[p, C_SPLIT] += spots.live[s] if wong_on else 1
                            nh = base + spots.hands[s]
                            spots.hands[s] += 1
                            hands.hard[nh] = c0
                            hands.ace[nh] = c0 == 1
                            hands.n[nh] = 1
                            hands.c0[nh] = c0
                            hands.cards[nh, 0] = c0
                            hands.bet[nh] = hbet
                            hands.state[nh] = H_LIVE
                            hands.doubled[nh] = False
                            hard = c0
                            ace = c0 == 1
                            hn = 1
                            break
                        else:  # SURRENDER (late; only offered on the original two cards)
                            state = H_SURRENDERED
                            # With no hole card, a late surrender waits for the dealer's
                            # second card: a blackjack would take the whole bet.
                            any_pending = True
                            break
                    hands.hard[h] = hard
                    hands.ace[h] = ace
                    hands.n[h] = hn
                    hands.bet[h] = hbet
                    hands.state[h] = state
                    if hands.state[h] == H_LIVE:
                        continue  # split: this hand now draws its second card
                    i += 1

        # ---- 6. the dealer ------------------------------------------------------------
        pos, limit, dealer_bj, dealer_value, d_n = _dealer_plays(
            shoe,
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
            True,
        )

        # ---- 7. settle ----------------------------------------------------------------
        for s in range(n_sp):
            if wong_on and not spots.live[s]:
                continue  # a watched spot: no money, no counts
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
                    ins_net = each.bet[p]  # half the bet at 2:1
                else:
                    ins_net = -0.5 * each.bet[p]
                each.net[p] += ins_net
            for i in range(spots.hands[s]):
                h = base + i
                st = hands.state[h]
                bet = hands.bet[h]
                tallies.counters[p, C_HANDS] += 1
                net, outcome = _hand_net(
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
                )
                flags = 0
                if st == H_SURRENDERED:
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
                    _log_hand(
                        tallies,
                        shoe.st_i,
                        p,
                        spots.number[s],
                        i,
                        hands.cards[h],
                        hands.n[h],
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

        # ---- 8. round totals ----------------------------------------------------------
        _round_totals(full, count_on, players, seats, tallies, each)
        shoe.st_i[S_ROUNDS] += 1
        played += 1

    shoe.st_i[S_POS] = pos
    shoe.st_i[S_LIMIT] = limit
    shoe.st_i[S_COUNT_FROM] = count_from
    return played


# ---------------------------------------------------------------------------------------
# The same loop for the common table, specialised
# ---------------------------------------------------------------------------------------
def solo_applies(table: Table, players: Players) -> bool:
    """True when play_rounds_solo may stand in for play_rounds: one player who never takes
    more than one spot, and no hand log (flat or by the count, with insurance, index
    plays and wonging alike)."""
    n_spots = players.n_spots
    return n_spots.shape[0] == 1 and n_spots[0] == 1 and table.rules_i[R_LOG_ON] == 0


@njit(cache=True, error_model="numpy", nogil=True)
def play_rounds_solo(
    rounds: int, table: Table, players: Players, shoe: Shoe, seats: Seats, tallies: Tallies
) -> int:
    """play_rounds for one player on one spot and no hand log (see solo_applies): the
    same game, card for card, and bitwise the same counters, sums and state (tests hold
    it to that), with the spot, the counters and the sums in locals
    instead of arrays indexed by player and spot. This is most configs and the benchmark;
    the general loop spends about half its time on that indexing and bookkeeping.
    """
    # Of the scratch only the hands' (and of those not the cards: no log here).
    hands = _scratch(1, 1, table.rules_i[R_MAX_SPLIT]).hands
    # The plain loop (full=False) for a flat bet or a ramp on the exact true count, with
    # no insurance, index plays or wonging: their code, even switched off, cost this loop
    # 9% flat and 15% with a Hi-Lo ramp (docs/BENCHMARKS.md, "One source, two loops").
    # Two calls with a constant flag each, as in play_rounds.
    if plain_game(table, players, True):
        return _solo_rounds(False, rounds, table, players, shoe, seats, tallies, hands)
    return _solo_rounds(True, rounds, table, players, shoe, seats, tallies, hands)


@njit(cache=True, error_model="numpy", nogil=True, _nrt=False)  # type: ignore[call-overload]
def _solo_rounds(
    full: bool,
    rounds: int,
    table: Table,
    players: Players,
    shoe: Shoe,
    seats: Seats,
    tallies: Tallies,
    hands: _Hands,
) -> int:
    """The loop of play_rounds_solo, on the scratch play_rounds_solo allocates once per
    call. Compiled with _nrt=False (nothing here allocates; see "Pieces of a round").

    full is a compile-time constant (literally): numba compiles one loop with insurance,
    index plays, wonging and the player's own true count, and one without (full=False),
    whose machine code is the plain loop's; play_rounds_solo picks one per call."""
    literally(full)
    infinite = table.rules_i[R_INFINITE] != 0
    h17 = table.rules_i[R_H17] != 0
    max_split = table.rules_i[R_MAX_SPLIT]
    rsa = table.rules_i[R_RSA] != 0
    hsa = table.rules_i[R_HSA] != 0
    early_surrender = table.rules_i[R_ES] != 0
    peek = table.rules_i[R_PEEK] != 0
    one_bet = table.rules_i[R_ONE_BET] != 0
    cut = table.rules_i[R_CUT]
    credit = np.inf if table.rules_i[R_PLAY_ON] != 0 else 0.0  # as in _general_rounds
    bj_payout = table.rules_f[RF_BJ_PAYOUT]
    n_cards = shoe.cards.shape[0]
    unit_bet = players.min_bet[0]
    count_on = table.rules_i[R_COUNT_ON] != 0
    n_tiers = players.ramp_n[0]
    if full:
        ins_on = table.rules_i[R_INS_ON] != 0 and table.rules_i[R_INSURANCE] != 0
        dev_on = table.rules_i[R_DEV_ON] != 0
        wong_on = table.rules_i[R_WONG_ON] != 0 and players.cnt_i[0, CI_WONG] != 0
        est = players.cnt_i[0, CI_EST]
        rnd = players.cnt_i[0, CI_ROUND]
        ramp_running = players.cnt_i[0, CI_RAMP_RUNNING] != 0
        rules_on = players.bet_rule_n[0] > 0
    else:
        # The plain game (see play_rounds_solo): constants, so the compiler drops the code
        # of insurance, index plays and wonging (live stays True, insured False) and the
        # true count is the exact one, as in the loop before those features.
        ins_on = False
        dev_on = False
        wong_on = False
        est = EST_EXACT
        rnd = RND_NONE
        ramp_running = False
        rules_on = False
    irc = players.cnt_f[0, CF_IRC]
    wong_in = players.cnt_f[0, CF_WONG_IN]
    wong_out = players.cnt_f[0, CF_WONG_OUT]
    ins_threshold = players.ins_thr[0]

    bank = seats.bankroll[0]
    n_rounds = tallies.counters[0, C_ROUNDS]
    n_spots_played = tallies.counters[0, C_SPOTS]
    n_hands = tallies.counters[0, C_HANDS]
    n_win = tallies.counters[0, C_WIN]
    n_loss = tallies.counters[0, C_LOSS]
    n_push = tallies.counters[0, C_PUSH]
    n_bj = tallies.counters[0, C_BLACKJACK]
    n_bust = tallies.counters[0, C_BUST]
    n_double = tallies.counters[0, C_DOUBLE]
    n_split = tallies.counters[0, C_SPLIT]
    n_surrender = tallies.counters[0, C_SURRENDER]
    n_dealer_bj = tallies.counters[0, C_DEALER_BJ]
    n_dealer_bust = tallies.counters[0, C_DEALER_BUST]
    s_wagered = tallies.sums[0, S_WAGERED]
    s_net = tallies.sums[0, S_NET]
    s_net_sq = tallies.sums[0, S_NET_SQ]
    s_unit = tallies.sums[0, S_UNIT_NET]
    s_unit_sq = tallies.sums[0, S_UNIT_SQ]
    s_initial = tallies.sums[0, S_INITIAL_BET]
    s_flat = tallies.sums[0, S_FLAT]
    s_flat_sq = tallies.sums[0, S_FLAT_SQ]

    pos = shoe.st_i[S_POS]
    limit = shoe.st_i[S_LIMIT]
    count_from = shoe.st_i[S_COUNT_FROM]
    played = 0

    for _r in range(rounds):
        if count_on:
            rc = seats.run_count[0]
            for i in range(count_from, pos):
                rc += players.tags[0, shoe.cards[i]]
            seats.run_count[0] = rc
        pos, limit = _shuffle_if_due(shoe, pos, limit, cut, infinite, players, seats)
        count_from = pos
        round_start = pos

        mult = 1.0
        tb: IntLike = 0  # _tc_bin returns an np.int64
        live = True
        cv = 0.0
        if count_on:
            # Written out as in _general_rounds (see there why); test_determinism holds the
            # copies equal.
            tc, cv = _counts(
                seats.run_count[0], n_cards - pos, DECK_CARDS, infinite, est, rnd, ramp_running, irc
            )
            t_k = 0
            for t in range(1, n_tiers):
                if cv >= players.ramp_thr[0, t]:
                    t_k = t
            mult = players.ramp_mult[0, t_k]
            tb = _tc_bin(tc)
            if wong_on:
                if seats.watching[0] != 0:
                    if cv >= wong_in:
                        seats.watching[0] = 0
                elif cv < wong_out:
                    seats.watching[0] = 1
                live = seats.watching[0] == 0
        bj_before = n_bj
        surrender_before = n_surrender
        if rules_on and live:  # a watched round bets nothing (as _general_rounds)
            room = (bank + credit) / (unit_bet * players.n_spots[0])
            mult = _rule_bet(players, 0, seats.progress, tallies.counters, cv, room)
        bet = unit_bet * mult
        stake = bet * players.n_spots[0]
        if seats.active[0] == 0 or (live and bank + credit < stake):
            seats.active[0] = 0
            shoe.st_i[S_BROKE] = 1
            break
        if not live:
            # Watched: played as if sat in, with nothing bet (see _general_rounds).
            bet = 0.0
            stake = 0.0
            tallies.counters[0, C_WATCHED] += 1
        n_live = 1 if live else 0
        committed = stake

        # Deal: the spot, the up card, the spot, the hole card (peek only).
        c0, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
        up, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
        c1, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
        hands.hard[0] = c0 + c1
        hands.ace[0] = c0 == 1 or c1 == 1
        hands.n[0] = 2
        hands.c0[0] = c0
        hands.c1[0] = c1
        hands.bet[0] = bet
        hands.state[0] = H_LIVE
        if hands.ace[0] and hands.hard[0] == 11:
            hands.state[0] = H_NATURAL
        nh = 1
        dtc = 0.0
        insured = False
        if count_on and (dev_on or (ins_on and up == 1)):
            # The true count of the cards seen before the hole card (as _general_rounds).
            rc = seats.run_count[0]
            for i in range(count_from, pos):
                rc += players.tags[0, shoe.cards[i]]
            dtc = _counts(rc, n_cards - pos, DECK_CARDS, infinite, est, rnd, False, irc)[0]
            if ins_on and up == 1 and live and dtc >= ins_threshold:
                cost = 0.5 * bet * players.n_spots[0]
                if bank + credit - committed >= cost:
                    committed += cost
                    tallies.sums[0, S_INSURANCE_WAGERED] += cost
                    insured = True
        d_hard = up
        d_ace = up == 1
        d_n = 1
        if peek:
            c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
            d_hard += c
            d_ace = d_ace or c == 1
            d_n = 2

        if early_surrender and hands.state[0] == H_LIVE:
            a = _decide(
                players,
                0,
                CTX_FIRST,
                hands.hard[0],
                hands.ace[0],
                c0,
                c1,
                2,
                max_split > 1,
                up,
                bank + credit - committed,
                bet,
                dev_on,
                dtc,
            )
            if a == SURRENDER:
                hands.state[0] = H_SURRENDERED
        dealer_bj: BoolLike = False  # _dealer_plays may return an np.bool_
        if peek and (up == 1 or up == 10):
            dealer_bj = d_hard == 11 and d_ace

        # The player acts (see _general_rounds for the rules of each branch, and for why
        # this is written out twice).
        any_standing = False
        any_pending = False
        if not dealer_bj:
            if insured:
                any_pending = True
            i = 0
            while i < nh:
                st = hands.state[i]
                if st == H_NATURAL:
                    any_pending = True
                    i += 1
                    continue
                if st != H_LIVE:
                    i += 1
                    continue
                split_spot = nh > 1
                if hands.n[i] == 1:
                    c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
                    hands.hard[i] += c
                    hands.ace[i] = hands.ace[i] or c == 1
                    hands.c1[i] = c
                    hands.n[i] = 2
                    if hands.c0[i] == 1 and not hsa:
                        if c == 1 and rsa and nh < max_split:
                            a = _decide(
                                players,
                                0,
                                CTX_SPLIT,
                                hands.hard[i],
                                hands.ace[i],
                                1,
                                1,
                                2,
                                True,
                                up,
                                bank + credit - committed,
                                hands.bet[i],
                                dev_on,
                                dtc,
                            )
                            if a == SPLIT:
                                committed += hands.bet[i]
                                n_split += n_live
                                hands.hard[nh] = 1
                                hands.ace[nh] = True
                                hands.n[nh] = 1
                                hands.c0[nh] = 1
                                hands.bet[nh] = hands.bet[i]
                                hands.state[nh] = H_LIVE
                                nh += 1
                                hands.hard[i] = 1
                                hands.n[i] = 1
                                continue
                        hands.state[i] = H_STOOD
                        any_standing = True
                        i += 1
                        continue
                hard = hands.hard[i]
                ace = hands.ace[i]
                hn = hands.n[i]
                hbet = hands.bet[i]
                p0 = hands.c0[i]
                p1 = hands.c1[i]
                state = H_LIVE
                while True:
                    if hn == 2:
                        ctx = CTX_SPLIT if split_spot else CTX_FIRST
                        can_split = nh < max_split and (p0 != 1 or rsa or not split_spot)
                    else:
                        ctx = CTX_LATER
                        can_split = False
                    a = _decide(
                        players,
                        0,
                        ctx,
                        hard,
                        ace,
                        p0,
                        p1,
                        hn,
                        can_split,
                        up,
                        bank + credit - committed,
                        hbet,
                        dev_on,
                        dtc,
                    )
                    if a in (HIT, DOUBLE):
                        if a == DOUBLE:
                            committed += hbet
                            hbet *= 2.0
                            n_double += n_live
                        c, pos, limit = _draw(shoe, pos, limit, round_start, infinite)
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
                        committed += hbet
                        n_split += n_live
                        hands.hard[nh] = p0
                        hands.ace[nh] = p0 == 1
                        hands.n[nh] = 1
                        hands.c0[nh] = p0
                        hands.bet[nh] = hbet
                        hands.state[nh] = H_LIVE
                        nh += 1
                        split_spot = True
                        hard = p0
                        ace = p0 == 1
                        hn = 1
                        break
                    else:
                        state = H_SURRENDERED
                        any_pending = True
                        break
                hands.hard[i] = hard
                hands.ace[i] = ace
                hands.n[i] = hn
                hands.bet[i] = hbet
                hands.state[i] = state
                if state == H_LIVE:
                    continue
                i += 1

        # The dealer (track=False: its cards are not kept).
        pos, limit, dealer_bj, dealer_value, d_n = _dealer_plays(
            shoe,
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
            False,
        )

        if not live:
            # A watched round ends with the dealer's hand: nothing to settle or count.
            shoe.st_i[S_ROUNDS] += 1
            played += 1
            continue

        # Settle, in the general loop's order of float operations.
        round_net = 0.0
        n_spots_played += 1
        if dealer_bj:
            n_dealer_bj += 1
        if dealer_value > 21:
            n_dealer_bust += 1
        if insured:
            tallies.counters[0, C_INSURANCE] += 1
            if dealer_bj:
                tallies.counters[0, C_INSURANCE_WON] += 1
                round_net += bet  # half the bet at 2:1
            else:
                round_net += -0.5 * bet
        for i in range(nh):
            st = hands.state[i]
            net, outcome = _hand_net(
                st,
                hands.bet[i],
                hands.hard[i],
                hands.ace[i],
                dealer_value,
                dealer_bj,
                bj_payout,
                early_surrender,
                one_bet,
                i == 0,
                bet,
            )
            n_hands += 1
            if st == H_SURRENDERED:
                n_surrender += 1
            elif st == H_NATURAL:
                n_bj += 1
            elif st == H_BUST:
                n_bust += 1
            if outcome > 0:
                n_win += 1
            elif outcome < 0:
                n_loss += 1
            else:
                n_push += 1
            round_net += net

        bank += round_net
        n_rounds += 1
        s_wagered += committed
        s_net += round_net
        s_net_sq += round_net * round_net
        unit = round_net / unit_bet
        s_unit += unit
        s_unit_sq += unit * unit
        initial = bet * players.n_spots[0]
        s_initial += initial
        flat = round_net / initial
        s_flat += flat
        s_flat_sq += flat * flat
        if count_on:
            _tally_tc(tallies.tc_table, 0, tb, round_net, committed, initial, flat)
        if rules_on:
            rule_settle(seats.progress, 0, unit, n_bj > bj_before, n_surrender > surrender_before)
        shoe.st_i[S_ROUNDS] += 1
        played += 1

    seats.bankroll[0] = bank
    tallies.counters[0, C_ROUNDS] = n_rounds
    tallies.counters[0, C_SPOTS] = n_spots_played
    tallies.counters[0, C_HANDS] = n_hands
    tallies.counters[0, C_WIN] = n_win
    tallies.counters[0, C_LOSS] = n_loss
    tallies.counters[0, C_PUSH] = n_push
    tallies.counters[0, C_BLACKJACK] = n_bj
    tallies.counters[0, C_BUST] = n_bust
    tallies.counters[0, C_DOUBLE] = n_double
    tallies.counters[0, C_SPLIT] = n_split
    tallies.counters[0, C_SURRENDER] = n_surrender
    tallies.counters[0, C_DEALER_BJ] = n_dealer_bj
    tallies.counters[0, C_DEALER_BUST] = n_dealer_bust
    tallies.sums[0, S_WAGERED] = s_wagered
    tallies.sums[0, S_NET] = s_net
    tallies.sums[0, S_NET_SQ] = s_net_sq
    tallies.sums[0, S_UNIT_NET] = s_unit
    tallies.sums[0, S_UNIT_SQ] = s_unit_sq
    tallies.sums[0, S_INITIAL_BET] = s_initial
    tallies.sums[0, S_FLAT] = s_flat
    tallies.sums[0, S_FLAT_SQ] = s_flat_sq
    shoe.st_i[S_POS] = pos
    shoe.st_i[S_LIMIT] = limit
    shoe.st_i[S_COUNT_FROM] = count_from
    return played
