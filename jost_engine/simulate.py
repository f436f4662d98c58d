"""Run a config: arrays for the kernel, sessions in chunks, and the results document.

`run_shard(config, seed, rounds) -> Stats` plays one continuous session (every player
starting from the initial bankroll); `merge` adds sessions exactly; `results` turns
merged statistics into the JSON document; `run_simulation_from_config` does all of it
for one job in one process, reporting progress between chunks.

A chunked session is bitwise the same as one call: every piece of state the kernel keeps
between rounds lives in the `Session`'s bundles of arrays (kernel.Shoe, kernel.Seats).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jost_engine import kernel as k
from jost_engine import kernel_spanish as ks
from jost_engine.chart import ACTION_CODE, UP_CARDS, chart_arrays, up_index
from jost_engine.config import Config, PlayingStrategy, Rules, normalize_config
from jost_engine.config.betting import uses_count
from jost_engine.counting import bets_by_count, initial_progress, player_arrays
from jost_engine.deviations import NOT_HERE, SURRENDER_FALLBACK, resolve_code
from jost_engine.stats import (
    HAND_LOG_CAP,
    Stats,
    finite,
    merge,
    player_metrics,
    session_metrics,
    true_count_table,
)
from jost_engine.strategy import resolve_playing_strategy

__all__ = [
    "Session",
    "ShardSpec",
    "merge",
    "new_session",
    "plan_shards",
    "results",
    "run_shard",
    "run_shard_spec",
    "run_simulation_from_config",
    "shard_seed",
]

Seed = int | np.random.SeedSequence
Progress = Callable[[int, int], None]

# Rounds per kernel call in run_simulation_from_config: about a tenth of a second at full
# speed, so progress moves smoothly and the per-call overhead stays negligible. Chunking
# never changes a result (the session's state lives in its arrays).
CHUNK_ROUNDS = 1_000_000
# Rounds per shard of a split run (stop_when_broke false, or sessions) unless the caller
# says otherwise: about a second of one core at the engine's speed. The service's
# JOB_SHARD_ROUNDS defaults to the same, so a job and `python -m jost_engine` agree.
SHARD_ROUNDS = 10_000_000
# Sessions per shard at most: a shard keeps every session's final bankroll (per player) and
# stores them as JSON, about 100 bytes each on the way, so a shard of 10,000 sessions of 7
# players holds about 7 MB whatever `sessions` asks for. A session's restart costs about
# 25 microseconds, so a shard of short sessions still runs for a quarter of a second or
# more, long against a shard's own cost in the service.
MAX_SHARD_SESSIONS = 10_000
# The most [round, bankroll] points a player's bankroll_path holds: enough for a chart as
# wide as a screen, and at most 1,000 extra kernel calls per run (milliseconds).
BANKROLL_PATH_POINTS = 1000
CARD_NAMES = ("", "A", "2", "3", "4", "5", "6", "7", "8", "9", "10")
_OUTCOMES = {1: "win", 0: "push", -1: "loss"}
_FLAG_NAMES = (
    (k.F_DOUBLED, "double"),
    (k.F_SPLIT, "split"),
    (k.F_SURRENDERED, "surrender"),
    (k.F_NATURAL, "blackjack"),
    (k.F_BUST, "bust"),
    (k.F_INSURED, "insurance"),
    (k.F_INSURANCE_WON, "insurance_won"),
    (k.F_DEALER_BJ, "dealer_blackjack"),
)


# ---------------------------------------------------------------------------------------
# Charts -> resolved action tables
# ---------------------------------------------------------------------------------------
def action_tables(
    hard: np.ndarray, soft: np.ndarray, pairs: np.ndarray, rules: Rules
) -> tuple[np.ndarray, np.ndarray]:
    """(act, act_poor) int8[3 ctx, 3 kind, 22, 11] of kernel base actions.

    Each chart code is resolved once here for each context, so the kernel never branches
    on what the rules allow: Dh/Ds become a double where it is allowed (first two cards,
    the total in double_totals, after a split only with DAS) and hit/stand elsewhere;
    Rh/Rs/Rp become a surrender on the original two cards when late or early surrender is
    offered, and hit/stand/split elsewhere. `act_poor` is the same table for a player whose
    bankroll cannot cover a double or a split: the chart's fallback is played (a pair's P
    falls back to the hard/soft cell of the pair's total). Each cell is resolved by
    deviations.resolve_code, the rule index plays are resolved by too.
    """
    code = ACTION_CODE
    act = np.full((3, 3, 22, 11), k.STAND, dtype=np.int8)
    poor = np.full((3, 3, 22, 11), k.STAND, dtype=np.int8)

    def resolve(ctx: int, kind: int, row: int, up: int, is_poor: bool) -> int:
        chart = pairs if kind == k.KIND_PAIR else hard if kind == k.KIND_HARD else soft
        cell = int(chart[row, up])
        action = resolve_code(cell, ctx, kind, row, up, rules, is_poor, poor)
        if action == NOT_HERE:  # surrender not offered here: the code's fallback
            cell = SURRENDER_FALLBACK[cell]
            action = resolve_code(cell, ctx, kind, row, up, rules, is_poor, poor)
        if cell == code["P"] and kind != k.KIND_PAIR:
            return k.HIT  # a P in a hard/soft row cannot be played; hitting is the safe reading
        return action

    for ctx in range(3):
        for up in range(1, 11):
            for kind, rows in (
                (k.KIND_HARD, range(4, 22)),
                (k.KIND_SOFT, range(12, 22)),
                (k.KIND_PAIR, range(1, 11)),
            ):
                for row in rows:
                    act[ctx, kind, row, up] = resolve(ctx, kind, row, up, False)
                    poor[ctx, kind, row, up] = resolve(ctx, kind, row, up, True)
    return act, poor


def seed_state(seed: Seed) -> np.ndarray:
    """xoshiro256** state from a SeedSequence (never all zero)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    state = ss.generate_state(4, np.uint64)
    if not state.any():
        state[0] = 1
    return state


# ---------------------------------------------------------------------------------------
# A session: the kernel's arrays for one continuous run
# ---------------------------------------------------------------------------------------
@dataclass
class Session:
    """The kernel's bundles for one continuous run. `play` may be called any number of
    times; the kernel mutates the shoe, the seats and the tallies in place."""

    config: Config
    table: k.Table
    players: k.Players
    shoe: k.Shoe
    seats: k.Seats
    tallies: k.Tallies
    # The Spanish 21 loop's own bundle (spanish_bundle: Spanish 21 rules, or a chart that
    # plays by the number of cards); None where the common game's loops play.
    spanish: ks.Spanish | None = None
    rounds_asked: int = 0
    # Copies of what a session starts from (the shoe's order and state, every seat):
    # what `restart` puts back, in the order of `_restarted`.
    initial: list[np.ndarray] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.initial:
            self.initial = [a.copy() for a in self._restarted()]

    def _restarted(self) -> list[np.ndarray]:
        # Every seat's array, so an array added to kernel.Seats is restarted with no more
        # said; sessions would leak into each other through one left out. The generator is
        # seeded afresh; the tallies run on.
        return [self.shoe.cards, self.shoe.st_i, *self.seats]

    def play(self, rounds: int) -> int:
        """Play up to `rounds` more rounds; the number played (fewer once all are broke)."""
        self.rounds_asked += rounds
        if rounds <= 0 or self.all_broke:
            return 0
        if self.spanish is not None:
            return int(ks.play_rounds_spanish(rounds, *self.kernel_arrays, self.spanish))
        # The specialised loop plays the same game bitwise; it serves most tables.
        solo = k.solo_applies(self.table, self.players)
        loop = k.play_rounds_solo if solo else k.play_rounds
        return int(loop(rounds, *self.kernel_arrays))

    def restart(self, seed: Seed) -> None:
        """Begin another session from the initial bankrolls, with the shoe as new and the
        generator seeded from `seed`, exactly as a new_session(config, seed) would play it.
        The tallies (counters, sums, the true-count table, the hand log) run on, so a
        shard's sessions add up as merge would add them."""
        st_i = self.shoe.st_i
        log_n, log_total = int(st_i[k.S_LOG_N]), int(st_i[k.S_LOG_TOTAL])
        for live, start in zip(self._restarted(), self.initial, strict=True):
            live[...] = start
        st_i[k.S_LOG_N], st_i[k.S_LOG_TOTAL] = log_n, log_total
        self.shoe.rng[...] = seed_state(seed)

    @property
    def kernel_arrays(self) -> tuple[k.Table, k.Players, k.Shoe, k.Seats, k.Tallies]:
        """The bundles both round loops take after `rounds`, in their order."""
        return self.table, self.players, self.shoe, self.seats, self.tallies

    @property
    def rounds_played(self) -> int:
        return int(self.shoe.st_i[k.S_ROUNDS])

    @property
    def all_broke(self) -> bool:
        return bool(self.shoe.st_i[k.S_BROKE])

    def stats(self) -> Stats:
        """The session so far as mergeable statistics (copies; the session may go on)."""
        t = self.tallies
        n_log = int(self.shoe.st_i[k.S_LOG_N])
        names = [p.name for p in self.config.players]
        return Stats(
            counters=t.counters.copy(),
            sums=t.sums.copy(),
            tc_table=t.tc_table.copy(),
            rounds_played=self.rounds_played,
            rounds_asked=self.rounds_asked,
            sessions=1,
            sessions_all_broke=int(self.all_broke),
            players_broke=(self.seats.active == 0).astype(np.int64),
            hand_log=[
                _log_row(t.log_i[r], t.log_f[r], int(t.log_round[r]), names) for r in range(n_log)
            ],
            hands_logged=int(self.shoe.st_i[k.S_LOG_TOTAL]),
        )


def _log_row(
    row: np.ndarray, frow: np.ndarray, round_index: int, names: list[str]
) -> dict[str, Any]:
    n, dn, flags = int(row[k.L_NCARDS]), int(row[k.L_DNCARDS]), int(row[k.L_FLAGS])
    return {
        "round": round_index,
        "seat": int(row[k.L_PLAYER]),
        "player": names[int(row[k.L_PLAYER])],
        "spot": int(row[k.L_SPOT]),
        "hand": int(row[k.L_HAND]),
        "cards": [CARD_NAMES[c] for c in row[k.L_CARDS : k.L_CARDS + n]],
        "total": int(row[k.L_TOTAL]),
        "dealer_cards": [CARD_NAMES[c] for c in row[k.L_DCARDS : k.L_DCARDS + dn]],
        "dealer_total": int(row[k.L_DTOTAL]),
        "bet": float(frow[k.LF_BET]),
        "actions": [name for bit, name in _FLAG_NAMES if flags & bit],
        "outcome": _OUTCOMES[int(row[k.L_OUTCOME])],
        "net": float(frow[k.LF_NET]),
        "insurance_net": float(frow[k.LF_INSURANCE_NET]),
    }


def new_session(
    config: Config,
    seed: Seed,
    *,
    arranged: Sequence[int] | None = None,
    insurance_threshold: float | Sequence[float] | None = None,
    log_cap: int = HAND_LOG_CAP,
) -> Session:
    """The kernel's arrays for `config`, shuffled from `seed`.

    arranged: ranks 1..10 (1 = ace) dealt first, in the kernel's deal order (see
    kernel.py), for tests. With a finite shoe they are the top of the shoe and the rest of
    that shoe follows in random order (they must be cards the shoe holds); the cut card
    stays where penetration puts it. With an infinite shoe random cards follow them. A
    Spanish 21 game's shoe carries suits: its cards are rank | suit << 4 (suit 0..3, 0 =
    spades; kernel_spanish), so a plain rank is a spade.
    insurance_threshold: overrides every player's playing.insurance_true_count (a player
    takes insurance when the true count is at least this; None in the config never
    insures).
    """
    rules = config.rules
    players = config.players
    n_players = len(players)
    act = np.empty((n_players, 3, 3, 22, 11), dtype=np.int8)
    act_poor = np.empty_like(act)
    codes = []
    charts = []
    for i, player in enumerate(players):
        chart = resolve_playing_strategy(player.playing, rules)
        charts.append(chart)
        codes.append(chart_arrays(chart))
        a, b = action_tables(*codes[-1], rules)
        act[i], act_poor[i] = a, b
    if insurance_threshold is None:
        ins_thr = np.array(
            [
                np.inf if p.playing.insurance_true_count is None else p.playing.insurance_true_count
                for p in players
            ]
        )
    elif isinstance(insurance_threshold, (int, float)):
        ins_thr = np.full(n_players, float(insurance_threshold))
    else:
        ins_thr = np.array(insurance_threshold, dtype=np.float64)
    # Ramps (bet and spots), how each player counts and wongs, and index plays.
    pl = player_arrays(config, act, act_poor, codes, ins_thr)
    dev_on = bool(pl.dev_n.any())
    wong_on = bool(pl.cnt_i[:, k.CI_WONG].any())
    # An insurance index matters only where insurance is offered.
    ins_on = rules.offer_insurance and bool((ins_thr < np.inf).any())
    # Counting costs time on every card: do it only when a bet or a decision depends on it.
    # A per-count analysis bets flat but counts, for the true-count table.
    per_count = any(p.analysis == "per_count" for p in players)
    rules_count = any(uses_count(p.betting) for p in players)
    count_on = bool((pl.ramp_n > 1).any()) or ins_on or dev_on or wong_on or per_count
    count_on = count_on or rules_count

    rng = seed_state(seed)
    infinite = rules.decks == 0
    spanish = spanish_bundle(rules, charts)
    if infinite:
        shoe = np.zeros(k.INFINITE_BUFFER, dtype=np.int8)
        cut = k.INFINITE_BUFFER + 1  # never: the buffer refills itself as it runs out
    elif spanish is not None:
        shoe = np.tile(spanish.deck, rules.decks)  # suited cards (kernel_spanish)
        cut = min(max(round(rules.penetration * shoe.size), 1), shoe.size)
    else:
        shoe = np.array(([1, 2, 3, 4, 5, 6, 7, 8, 9] + [10] * 4) * 4 * rules.decks, dtype=np.int8)
        cut = min(max(round(rules.penetration * shoe.size), 1), shoe.size)
    st_i = np.zeros(k.N_STATE_I, dtype=np.int64)
    st_i[k.S_NEED_SHUFFLE] = 1
    if arranged is not None:
        cards = np.asarray(arranged, dtype=np.int8)
        if spanish is not None:
            _arrange_suited(shoe, cards, infinite, spanish.deck, rng)
        else:
            _arrange(shoe, cards, infinite, rng)
        st_i[k.S_NEED_SHUFFLE] = 0
        st_i[k.S_LIMIT] = shoe.size  # every card is in its place already

    rules_i = np.zeros(k.N_RULES_I, dtype=np.int64)
    rules_i[k.R_INFINITE] = infinite
    rules_i[k.R_H17] = rules.hit_soft_17
    rules_i[k.R_MAX_SPLIT] = max(rules.max_split_hands, 1)
    rules_i[k.R_RSA] = rules.resplit_aces
    rules_i[k.R_HSA] = rules.hit_split_aces
    rules_i[k.R_ES] = rules.early_surrender
    rules_i[k.R_PEEK] = rules.dealer_peeks
    rules_i[k.R_ONE_BET] = not rules.dealer_peeks and rules.no_hole_card_loses == "original_bet"
    rules_i[k.R_INSURANCE] = rules.offer_insurance
    rules_i[k.R_CUT] = cut
    rules_i[k.R_COUNT_ON] = count_on
    rules_i[k.R_LOG_ON] = config.log_hands
    rules_i[k.R_INS_ON] = ins_on
    rules_i[k.R_DEV_ON] = dev_on
    rules_i[k.R_WONG_ON] = wong_on
    rules_i[k.R_PLAY_ON] = not config.stop_when_broke
    rules_f = np.zeros(k.N_RULES_F, dtype=np.float64)
    rules_f[k.RF_BJ_PAYOUT] = rules.blackjack_payout
    log_rows = log_cap if config.log_hands else 0
    _check_finite(rules_f, pl, [p.bankroll for p in players])
    return Session(
        config=config,
        spanish=spanish,
        table=k.Table(rules_i=rules_i, rules_f=rules_f),
        players=pl,
        shoe=k.Shoe(cards=shoe, rng=rng, st_i=st_i),
        seats=k.Seats(
            bankroll=np.array([p.bankroll for p in players], dtype=np.float64),
            active=np.ones(n_players, dtype=np.uint8),
            run_count=pl.cnt_f[:, k.CF_IRC].copy(),  # balanced systems start at 0
            # Every shoe starts watched by a wonging player; the first round's count decides.
            watching=pl.cnt_i[:, k.CI_WONG].astype(np.uint8),
            progress=initial_progress([p.betting for p in players]),
        ),
        tallies=k.Tallies(
            counters=np.zeros((n_players, k.N_COUNTERS), dtype=np.int64),
            sums=np.zeros((n_players, k.N_SUMS), dtype=np.float64),
            tc_table=np.zeros((n_players, k.N_TC, k.N_TC_FIELDS), dtype=np.float64),
            log_i=np.zeros((log_rows, k.LOG_WIDTH), dtype=np.int16),
            log_f=np.zeros((log_rows, k.LOG_F_WIDTH), dtype=np.float64),
            log_round=np.zeros(log_rows, dtype=np.int64),
        ),
    )


def _check_finite(rules_f: np.ndarray, players: k.Players, bankrolls: list[float]) -> None:
    """Refuse, before the kernel runs, an array of numbers it cannot compute with. A
    normalised config never gives one (its bounds keep every number finite); a Config
    built by hand can, and the kernel does not check what it indexes with."""
    finite_only = {
        "blackjack_payout": rules_f,
        "min_bet": players.min_bet,
        "bet_multiplier": players.ramp_mult,
        "tags x tag_scale": players.tags,
        "bankroll": np.array(bankrolls, dtype=np.float64),
        "initial running count": players.cnt_f[:, k.CF_IRC],
    }
    # Thresholds may be infinite (-inf starts a ramp, +inf never insures), never NaN.
    no_nan = {
        "ramp threshold": players.ramp_thr,
        "insurance index": players.ins_thr,
        "wong_in or wong_out": players.cnt_f,
        "deviation index": players.dev_thr,
    }
    for what, values in finite_only.items():
        if not np.isfinite(values).all():
            raise ValueError(f"the engine cannot run this config: a {what} is not finite")
    for what, values in no_nan.items():
        if np.isnan(values).any():
            raise ValueError(f"the engine cannot run this config: a {what} is not a number")


def _arrange_suited(
    shoe: np.ndarray, arranged: np.ndarray, infinite: bool, deck: np.ndarray, rng: np.ndarray
) -> None:
    """_arrange for a suited shoe (kernel_spanish): each arranged card is rank | suit << 4
    (suit 0..3, 0 = spades, so a plain rank 1..10 is that rank's spade)."""
    ranks = arranged & ks.RANK_MASK
    if arranged.size and (ranks.min() < 1 or ranks.max() > 10 or arranged.min() < 1):
        raise ValueError("arranged cards are rank | suit << 4: rank 1..10, suit 0..3")
    if arranged.size > shoe.size:
        raise ValueError(f"{arranged.size} arranged cards do not fit a shoe of {shoe.size}")
    if infinite:
        ks.fill_suited(shoe, 0, deck, rng)
    else:
        rest = list(shoe)
        for c in arranged:
            try:
                rest.remove(c)
            except ValueError:
                raise ValueError(f"the shoe holds no more cards {int(c)} to arrange") from None
        tail = np.array(rest, dtype=np.int8)
        k.shuffle(tail, tail.size, rng)
        shoe[arranged.size :] = tail
    shoe[: arranged.size] = arranged


def spanish_bundle(rules: Rules, charts: Sequence[PlayingStrategy]) -> ks.Spanish | None:
    """The Spanish 21 loop's bundle for these rules and each player's chart (resolved),
    or None where the common game's loops play: no Spanish 21 rule (Rules.spanish_game)
    and no chart that plays by the number of cards (`more_cards`), which the common loops
    cannot read (they have one table for every hand of three or more cards), nor by the
    two cards' ranks (`compositions`)."""
    if not rules.spanish_game and not any(c.more_cards or c.compositions for c in charts):
        return None
    sp_i = np.zeros(ks.N_SP_I, dtype=np.int64)
    sp_i[ks.SP_DECK] = rules.cards_per_deck
    sp_i[ks.SP_P21] = rules.player_21_wins
    sp_i[ks.SP_BJ_BEATS_BJ] = rules.blackjack_beats_blackjack
    sp_i[ks.SP_RESCUE] = rules.double_rescue
    sp_i[ks.SP_REDOUBLES] = rules.max_redoubles
    sp_i[ks.SP_RESCUE_HALF] = rules.rescue_forfeits == "half"
    sp_i[ks.SP_BONUS_DOUBLED] = rules.bonus_after_double
    sp_i[ks.SP_BONUS_SPLIT] = rules.bonus_after_split
    sp_f = np.array(
        [
            rules.bonus_five_card_21,
            rules.bonus_six_card_21,
            rules.bonus_seven_card_21,
            rules.bonus_678_mixed,
            rules.bonus_678_suited,
            rules.bonus_678_spades,
            rules.bonus_777_mixed,
            rules.bonus_777_suited,
            rules.bonus_777_spades,
            rules.super_bonus,
            rules.envy_bonus,
        ],
        dtype=np.float64,
    )
    n = len(charts)
    shape = (n, 2, k.MAX_CARDS, 2, 22, 11)
    act_n = np.full(shape, k.STAND, dtype=np.int8)
    act_n_poor = np.full(shape, k.STAND, dtype=np.int8)
    redouble = np.zeros((n, k.MAX_CARDS, 2, 22, 11), dtype=np.uint8)
    rescue = np.zeros((n, 2, 22, 11), dtype=np.uint8)
    for p, chart in enumerate(charts):
        after = chart.after_double
        for kind, table, rows in (
            (k.KIND_HARD, "hard", range(4, 22)),
            (k.KIND_SOFT, "soft", range(12, 22)),
        ):
            for row in rows:
                for up in UP_CARDS:
                    u = up_index(up)
                    base = getattr(chart, table)[str(row)][up]
                    for n_cards in range(3, k.MAX_CARDS):
                        code = base
                        for lo, hi, tables in chart.more_cards:
                            if lo <= n_cards <= hi and str(row) in tables.get(table, {}):
                                code = tables[table][str(row)][up]
                                break
                        doubles = code in ("Dh", "Ds")
                        # A doubled hand redoubles by its own table where the chart
                        # has one, else where this cell says double.
                        if after:
                            cell = after.get(table, {}).get(str(row), {}).get(up, "S")
                            redouble[p, n_cards, kind, row, u] = cell == "D"
                        else:
                            redouble[p, n_cards, kind, row, u] = doubles
                        fallback = k.STAND if code in ("S", "Ds", "Rs") else k.HIT
                        for split in (0, 1):
                            may = rules.double_any_cards and (not split or rules.double_after_split)
                            act_n[p, split, n_cards, kind, row, u] = (
                                k.DOUBLE if doubles and may else fallback
                            )
                            act_n_poor[p, split, n_cards, kind, row, u] = fallback
        # `rescue` is by total, hard or soft alike; after_double by hard and soft rows.
        for kind, table in ((k.KIND_HARD, "hard"), (k.KIND_SOFT, "soft")):
            doubled_rows = after.get(table, {}) if after else chart.rescue
            for row_key, cells in doubled_rows.items():
                for up, code in cells.items():
                    rescue[p, kind, int(row_key), up_index(up)] = code == "R"
    two_act, two_poor = composition_tables(rules, charts)
    return ks.Spanish(
        sp_i=sp_i,
        sp_f=sp_f,
        deck=ks.suited_deck(rules.deck == "spanish"),
        act_n=act_n,
        act_n_poor=act_n_poor,
        redouble=redouble,
        rescue=rescue,
        two_act=two_act,
        two_poor=two_poor,
    )


def composition_tables(
    rules: Rules, charts: Sequence[PlayingStrategy]
) -> tuple[np.ndarray, np.ndarray]:
    """(two_act, two_poor) int8[P, 2 ctx (first two cards, after a split), 11, 11, 11]:
    each chart's `compositions` cells resolved as action_tables resolves a cell (a double
    where the rules allow it, a surrender on the original two cards where offered, else
    the code's fallback), under both orders of the two ranks; -1 where the row plays."""
    shape = (len(charts), 2, 11, 11, 11)
    two_act = np.full(shape, -1, dtype=np.int8)
    two_poor = np.full(shape, -1, dtype=np.int8)
    for p, chart in enumerate(charts):
        for hand, cells in chart.compositions.items():
            c0, c1 = (up_index(rank) for rank in hand.split(","))
            hard = c0 + c1
            soft = 1 in (c0, c1) and hard + 10 <= 21
            kind, row = (k.KIND_SOFT, hard + 10) if soft else (k.KIND_HARD, hard)
            for up, cell in cells.items():
                u = up_index(up)
                for ctx in (k.CTX_FIRST, k.CTX_SPLIT):
                    for table, poor in ((two_act, False), (two_poor, True)):
                        action = _resolve_two(ACTION_CODE[cell], ctx, kind, row, u, rules, poor)
                        table[p, ctx, c0, c1, u] = table[p, ctx, c1, c0, u] = action
    return two_act, two_poor


# resolve_code reads a pairs table only for a split, which a compositions cell never is.
_NO_PAIRS = np.zeros((3, 3, 22, 11), dtype=np.int8)


def _resolve_two(
    code: int, ctx: int, kind: int, row: int, up: int, rules: Rules, poor: bool
) -> int:
    """A compositions cell's action in one context (its fallback where a surrender is
    not offered there)."""
    action = resolve_code(code, ctx, kind, row, up, rules, poor, _NO_PAIRS)
    if action == NOT_HERE:
        action = resolve_code(SURRENDER_FALLBACK[code], ctx, kind, row, up, rules, poor, _NO_PAIRS)
    return action


def _arrange(shoe: np.ndarray, arranged: np.ndarray, infinite: bool, rng: np.ndarray) -> None:
    if arranged.size and (arranged.min() < 1 or arranged.max() > 10):
        raise ValueError("arranged cards are ranks 1..10 (1 = ace, 10 = any ten-value card)")
    if arranged.size > shoe.size:
        raise ValueError(f"{arranged.size} arranged cards do not fit a shoe of {shoe.size}")
    if infinite:
        k.fill_infinite(shoe, 0, rng)
        shoe[: arranged.size] = arranged
        return
    rest = list(shoe)
    for card in arranged:
        try:
            rest.remove(card)
        except ValueError:
            raise ValueError(f"the shoe holds no more cards of rank {card} to arrange") from None
    tail = np.array(rest, dtype=np.int8)
    k.shuffle(tail, tail.size, rng)
    shoe[: arranged.size] = arranged
    shoe[arranged.size :] = tail


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------
def run_shard(
    config: Config,
    seed: Seed,
    rounds: int,
    *,
    insurance_threshold: float | Sequence[float] | None = None,
) -> Stats:
    """One continuous session of `rounds` rounds from the initial bankrolls.

    insurance_threshold: see new_session (default: each player's own insurance choice).
    """
    session = new_session(config, seed, insurance_threshold=insurance_threshold)
    session.play(rounds)
    return session.stats()


@dataclass(frozen=True)
class ShardSpec:
    """One shard of a run: `rounds` rounds in all, as `sessions` sessions numbered from
    `first_session` (sessions: K), or as one stretch of play seeded by shard `index`
    (stop_when_broke false, sessions 1), or the whole unsplit run (index 0)."""

    index: int
    rounds: int
    first_session: int = 0
    sessions: int = 1

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShardSpec:
        return cls(**{f.name: int(data[f.name]) for f in dataclasses.fields(cls)})


def plan_shards(config: Config, shard_rounds: int = SHARD_ROUNDS) -> list[ShardSpec]:
    """The shards of a run, in order: a function of the config and shard_rounds alone, so
    the same job is cut the same way on every machine.

    JOST's semantics (one session, the broke rule) are one sequence: one shard. With
    stop_when_broke false the rounds are cut into shards of shard_rounds (the last one
    shorter). With sessions, each shard holds whole sessions, as many as fit in
    shard_rounds (at least one, at most MAX_SHARD_SESSIONS).
    """
    if shard_rounds < 1:
        raise ValueError(f"shard_rounds must be at least 1, got {shard_rounds}")
    if config.sessions is not None:
        per = min(max(1, shard_rounds // config.num_rounds), MAX_SHARD_SESSIONS)
        return [
            ShardSpec(
                index=i,
                rounds=min(per, config.sessions - first) * config.num_rounds,
                first_session=first,
                sessions=min(per, config.sessions - first),
            )
            for i, first in enumerate(range(0, config.sessions, per))
        ]
    if not config.stop_when_broke:
        return [
            ShardSpec(index=i, rounds=min(shard_rounds, config.num_rounds - start))
            for i, start in enumerate(range(0, config.num_rounds, shard_rounds))
        ]
    return [ShardSpec(index=0, rounds=config.num_rounds)]


def shard_seed(job_seed: int, index: int) -> np.random.SeedSequence:
    """Child `index` of the job's seed: SeedSequence(job_seed).spawn(n)[index] for any
    n > index, built directly (spawning a million children to use one would be slow).
    Independent streams per shard (or per session), whatever the number of workers."""
    return np.random.SeedSequence(job_seed, spawn_key=(index,))


def run_shard_spec(
    config: Config,
    job_seed: int,
    spec: ShardSpec,
    progress: Callable[[int], None] | None = None,
    *,
    chunk: int = CHUNK_ROUNDS,
) -> Stats:
    """Play one shard of a run and return its statistics, to be merged in shard order.

    The seed of a stretch of play is shard_seed(job_seed, spec.index); of a session,
    shard_seed(job_seed, session number), so sessions give the same draws however they
    are grouped into shards. The unsplit run (JOST's semantics) plays from job_seed
    itself, as run_simulation_from_config does. progress(rounds done in this shard) is
    called after every chunk; an exception it raises stops the shard.
    """
    seeds: Iterator[Seed]
    if config.sessions is not None:
        first = spec.first_session
        # Each session's seed is made when it starts: a list of them all would hold a
        # SeedSequence object per session, hundreds of bytes each.
        seeds = (shard_seed(job_seed, n) for n in range(first, first + spec.sessions))
        n_sessions, per_session = spec.sessions, config.num_rounds
    elif not config.stop_when_broke:
        seeds, n_sessions, per_session = iter([shard_seed(job_seed, spec.index)]), 1, spec.rounds
    else:
        seeds, n_sessions, per_session = iter([job_seed]), 1, spec.rounds
    session = new_session(config, next(seeds))
    done = played = 0
    all_broke = 0
    broke = np.zeros(len(config.players), dtype=np.int64)
    finals = np.zeros((len(config.players), n_sessions), dtype=np.float64)
    for j in range(n_sessions):
        if j:
            session.restart(next(seeds))
        left = per_session
        while left > 0 and not session.all_broke:
            step = min(chunk, left)
            session.play(step)
            left -= step
            if progress is not None:
                progress(done + per_session - left)
        # Rounds a session did not play (every player broke) still count as done.
        done += per_session
        played += session.rounds_played
        all_broke += int(session.all_broke)
        broke += session.seats.active == 0
        finals[:, j] = session.seats.bankroll
    stats = session.stats()
    # Over every session of the shard (the kernel's count restarts with each).
    stats.rounds_played = played
    stats.rounds_asked = spec.rounds
    if config.sessions is not None:
        stats.sessions = n_sessions
        stats.sessions_all_broke = all_broke
        stats.players_broke = broke
        stats.final_bankrolls = finals
    return stats


def run_shards(
    config: Config,
    job_seed: int,
    shard_rounds: int = SHARD_ROUNDS,
    progress: Progress | None = None,
    *,
    chunk: int = CHUNK_ROUNDS,
) -> Stats:
    """Every shard of the plan in this process, merged in shard order: the very statistics
    a service merges from shards run anywhere, in any order."""
    specs = plan_shards(config, shard_rounds)
    asked = sum(spec.rounds for spec in specs)
    parts: list[Stats] = []
    before = 0
    for spec in specs:

        def report(done: int, before: int = before) -> None:
            if progress is not None:
                progress(before + done, asked)

        parts.append(run_shard_spec(config, job_seed, spec, report, chunk=chunk))
        before += spec.rounds
    return merge(*parts)


def results(
    config: Config,
    stats: Stats,
    *,
    seed: int | None = None,
    duration: float | None = None,
    play_seconds: float | None = None,
    bankroll_paths: Sequence[list[list[float]]] | None = None,
    shards: int | None = None,
    shard_rounds: int | None = None,
) -> dict[str, Any]:
    """The results document: JOST's per-player fields and every derived metric, JSON-safe.

    bankroll_paths: per player, [round, bankroll] pairs of one continuous session
    (run_simulation_from_config records them); null in the document without them, as
    for shards merged, whose bankrolls are no one session's.

    final_bankroll is initial_bankroll + net over every session merged (for one session,
    the bankroll the player ended with), so net_gain_loss == final - initial always.
    stop_reason is "all_players_broke" when a session (a shard) ended with every player
    broke before its rounds were played, and "completed" otherwise.
    """
    from jost_engine import __version__
    from jost_engine.config import config_to_dict

    # The table is tallied whenever a bet depends on the count (new_session's count_on):
    # a ramp of more than one tier, bet or spots, wonging, or a rule reading the count; or
    # a per-count analysis. A
    # spots_ramp of one tier (`{}`) bets the same at every count, and the kernel does not
    # count for it.
    counting = any(bets_by_count(p.betting) or p.analysis == "per_count" for p in config.players)
    truncated = stats.hands_logged > len(stats.hand_log)
    players = []
    for i, player in enumerate(config.players):
        metrics = player_metrics(
            stats, i, player.bankroll, config.rounds_per_hour, config.rules.spanish_game
        )
        net = metrics["net_gain_loss"]
        entry = {
            "name": player.name,
            "initial_bankroll": player.bankroll,
            "final_bankroll": player.bankroll + net,
            **metrics,
            # Rounds dealt while this (wonging) player watched: no bet, no result.
            "rounds_watched": stats.counter(i, "rounds_watched"),
            # Rounds whose bet a betting rule wanted above max_bet or the bankroll (capped).
            "bets_capped": stats.counter(i, "bets_capped"),
            "broke": bool(stats.players_broke[i]) if stats.players_broke.size else False,
            "bankroll_path": None if bankroll_paths is None else bankroll_paths[i],
            "hand_history": [h for h in stats.hand_log if h["seat"] == i]
            if config.log_hands
            else [],
        }
        if counting:
            entry["true_count_table"] = true_count_table(stats, i)
        if config.sessions is not None:
            entry.update(session_metrics(stats, i, player.bankroll))
        players.append(entry)
    # With sessions, a session ending broke is what the study measures, not a stop.
    all_broke = stats.sessions_all_broke > 0 and config.sessions is None
    split = {} if shards is None else {"shards": shards, "shard_rounds": shard_rounds}
    return {
        "engine": "jost_engine",
        "engine_version": __version__,
        "config": config_to_dict(config),
        "seed": seed,
        "rounds_asked": stats.rounds_asked,
        "rounds_played": stats.rounds_played,
        "stop_reason": "all_players_broke" if all_broke else "completed",
        # Shards of a run without the broke rule are stretches of one endless session.
        "sessions": stats.sessions if config.stop_when_broke else 1,
        "sessions_all_broke": stats.sessions_all_broke,
        "stop_when_broke": config.stop_when_broke,
        **split,
        "duration_seconds": finite(duration),
        # Speed of the rounds alone: `duration` also holds set-up (an "auto" chart is
        # computed for the rules first, about a second for a finite shoe when no cache
        # has it). The first run in a process also loads the compiled loop from numba's
        # cache (about 0.3 s), which counts here, so short runs understate the loop's
        # speed. A split run times its shards whole, set-up included: there the two
        # are the same.
        "play_seconds": finite(play_seconds),
        "rounds_per_second": finite(stats.rounds_played / play_seconds) if play_seconds else None,
        "hand_history_cap": HAND_LOG_CAP,
        "hands_logged": stats.hands_logged if config.log_hands else 0,
        "hand_history_truncated": truncated if config.log_hands else False,
        "players": players,
    }


def run_simulation_from_config(
    config: Mapping[str, Any] | Config,
    progress: Progress | None = None,
    *,
    rounds: int | None = None,
    seed: int | None = None,
    chunk: int = CHUNK_ROUNDS,
    shard_rounds: int = SHARD_ROUNDS,
) -> dict[str, Any]:
    """Run a whole job in this process: one continuous session, in chunks for progress;
    a split run (stop_when_broke false, or sessions) plays its shards (plan_shards with
    shard_rounds) in order and merges them, as a service would.

    config: a raw config dict (any dialect) or an already normalised Config. rounds/seed
    override the config's. With no seed anywhere one is drawn and reported, so every
    result can be reproduced. progress(rounds_done, rounds_asked) is called after each chunk.
    """
    cfg = config if isinstance(config, Config) else normalize_config(config)
    asked = int(rounds if rounds is not None else cfg.num_rounds)
    if seed is None:
        seed = cfg.seed if cfg.seed is not None else secrets.randbits(63)
    # The document's config is what ran: running it again reproduces these results.
    cfg = dataclasses.replace(cfg, num_rounds=asked, seed=seed)
    start = time.perf_counter()
    if cfg.splittable:
        # Shards played here one after the other: the result a service gives for the same
        # job, however many workers share it.
        merged = run_shards(cfg, seed, shard_rounds, progress, chunk=chunk)
        play_seconds = time.perf_counter() - start
        return results(
            cfg,
            merged,
            seed=seed,
            duration=play_seconds,
            play_seconds=play_seconds,
            shards=len(plan_shards(cfg, shard_rounds)),
            shard_rounds=shard_rounds,
        )
    session = new_session(cfg, seed)
    marks = bankroll_path_rounds(asked)
    paths: list[list[list[float]]] = [[[0, float(b)]] for b in session.seats.bankroll]
    next_mark = 1
    done = 0
    play_seconds = 0.0
    while done < asked and not session.all_broke:
        end = done + min(chunk, asked - done)
        chunk_start = time.perf_counter()
        # The kernel calls stop exactly on every sample round inside the chunk, so the
        # bankroll read there is the bankroll after that round. Splitting a session into
        # calls never changes it, so neither the path nor anything else depends on `chunk`.
        while done < end and not session.all_broke:
            stop = min(end, marks[next_mark])
            session.play(stop - done)
            done = stop
            if done == marks[next_mark]:
                _extend_paths(paths, session)
                next_mark += 1
        play_seconds += time.perf_counter() - chunk_start
        if progress is not None:
            progress(session.rounds_played, asked)
    # Every player broke before the next sample: the path still ends where play ended.
    _extend_paths(paths, session)
    stats = session.stats()
    stats.rounds_asked = asked
    return results(
        cfg,
        stats,
        seed=seed,
        duration=time.perf_counter() - start,
        play_seconds=play_seconds,
        bankroll_paths=paths,
    )


def bankroll_path_rounds(asked: int, points: int = BANKROLL_PATH_POINTS) -> list[int]:
    """The rounds after which the bankroll path is read: 0, `asked`, and evenly spaced
    whole rounds between, `points` at most (every round when there are fewer)."""
    intervals = min(asked, points - 1)
    if intervals <= 0:
        return [0]
    return [asked * j // intervals for j in range(intervals + 1)]


def _extend_paths(paths: list[list[list[float]]], session: Session) -> None:
    """Append [rounds played, bankroll] for every player, once per round count."""
    played = session.rounds_played
    if paths and paths[0][-1][0] == played:
        return
    for path, bankroll in zip(paths, session.seats.bankroll, strict=True):
        path.append([played, float(bankroll)])
