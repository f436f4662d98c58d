"""The engine's one internal shape of a simulation config, and the error for a bad one.

Every other module (strategy, exact, kernel, simulate) reads these dataclasses and never
the raw JSON; jost_engine.config's `normalize_config` is the only way in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Card tags of a counting system, in rank order 2..9, 10 (every ten-value card), A.
TAG_RANKS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")


class ConfigError(ValueError):
    """A config that cannot be run. `problems` holds (JSON path, reason) for every fault."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))


@dataclass(frozen=True)
class Rules:
    """A casino's table rules, in one spelling."""

    name: str
    decks: int  # 1..8; 0 means an infinite shoe (every card drawn with replacement)
    hit_soft_17: bool
    # Two-card totals a player may double on; None means any two cards.
    double_totals: tuple[int, ...] | None
    double_after_split: bool
    max_split_hands: int  # 1 = no splitting, 2 = one split, 4 = resplit to four hands
    resplit_aces: bool
    hit_split_aces: bool  # False: each split ace gets exactly one card
    late_surrender: bool
    early_surrender: bool  # surrender before the dealer checks for blackjack
    blackjack_payout: float  # 1.5 for 3:2, 1.2 for 6:5, 1.0 for 1:1
    penetration: float  # fraction of the shoe dealt before the cut card, 0 < p < 1
    offer_insurance: bool
    dealer_peeks: bool  # False: European no hole card (see no_hole_card_loses)
    # What a dealer blackjack takes in a no-hole-card game: "all" (every bet, doubles and
    # splits included) or "original_bet" (one original bet per spot; the rest is returned).
    # With a peek the blackjack ends the round before any double or split, so "all".
    no_hole_card_loses: Literal["all", "original_bet"] = "all"
    # Spanish 21 (docs/CONFIG.md, "Spanish 21"). Each default is the common game's rule,
    # so a casino that names none of these plays exactly as before. "spanish": 48-card
    # decks, the four ten-spots of each deck removed (J, Q, K kept).
    deck: Literal["standard", "spanish"] = "standard"
    player_21_wins: bool = False  # a player's 21 (not a natural) beats a dealer's 21
    blackjack_beats_blackjack: bool = False  # a player natural wins against a dealer one
    double_any_cards: bool = False  # Dh/Ds on three or more cards double (any total)
    double_rescue: bool = False  # surrender a doubled hand (what it forfeits: below)
    max_redoubles: int = 0  # doubles after a double on the same hand
    # What a rescue forfeits: "original_bet" (the hand's first bet, however often it was
    # redoubled: the rule as Wizard of Odds and most venues write it) or "half" (half of
    # all it has wagered: the last double taken back). The same after a single double.
    rescue_forfeits: Literal["original_bet", "half"] = "original_bet"
    bonus_after_double: bool = False  # a doubled hand earns the 21 bonuses too
    bonus_after_split: bool = True  # a split hand earns them (some venues pay none)
    # What a winning 21 pays per unit of its bet; 1.0 (even money) is no bonus.
    bonus_five_card_21: float = 1.0
    bonus_six_card_21: float = 1.0
    bonus_seven_card_21: float = 1.0  # seven or more cards
    bonus_678_mixed: float = 1.0
    bonus_678_suited: float = 1.0
    bonus_678_spades: float = 1.0
    bonus_777_mixed: float = 1.0
    bonus_777_suited: float = 1.0
    bonus_777_spades: float = 1.0
    # Money, paid on a suited 7-7-7 (three cards, unsplit, undoubled) against a dealer 7,
    # besides the hand's win and 777 bonus; the envy bonus is paid then to every other
    # player who has a bet on the table. 0: not paid.
    super_bonus: float = 0.0
    envy_bonus: float = 0.0

    # The rule predicates every part of the engine asks (solvers, exact, simulator), here
    # once so that they cannot drift apart.

    @property
    def surrender_offered(self) -> bool:
        """Surrender, late or early, on the first two cards of an unsplit hand."""
        return self.late_surrender or self.early_surrender

    @property
    def blackjack_takes_one_bet(self) -> bool:
        """Does a dealer blackjack cost each spot exactly its original bet, whatever the
        player did (a peek, or no hole card with "original_bet")? Then a round is worth
        P(bj) x (-1) + (1 - P(bj)) x the hand's EV against a dealer without blackjack,
        which is how the solvers value such a game, surrender apart (surrender_value)."""
        return self.dealer_peeks or self.no_hole_card_loses == "original_bet"

    @property
    def cards_per_deck(self) -> int:
        return 48 if self.deck == "spanish" else 52

    @property
    def spanish_game(self) -> bool:
        """Does this game need the Spanish 21 round loop (jost_engine.kernel_spanish)? A
        Spanish deck, or any Spanish 21 rule that differs from the common game's."""
        return self != self.common_game()

    def common_game(self) -> Rules:
        """These rules with every Spanish 21 field at the common game's default."""
        common: dict[str, Any] = {
            f.name: f.default for f in dataclasses.fields(Rules) if f.name in SPANISH_FIELDS
        }
        return dataclasses.replace(self, **common)

    def may_double(self, total: int, after_split: bool = False) -> bool:
        """May a two-card hand of this total double? After a split only with DAS."""
        if after_split and not self.double_after_split:
            return False
        return self.double_totals is None or total in self.double_totals


# The Rules fields of Spanish 21, in the order casino_to_dict writes them.
SPANISH_FIELDS: tuple[str, ...] = (
    "deck",
    "player_21_wins",
    "blackjack_beats_blackjack",
    "double_any_cards",
    "double_rescue",
    "max_redoubles",
    "rescue_forfeits",
    "bonus_after_double",
    "bonus_after_split",
    "bonus_five_card_21",
    "bonus_six_card_21",
    "bonus_seven_card_21",
    "bonus_678_mixed",
    "bonus_678_suited",
    "bonus_678_spades",
    "bonus_777_mixed",
    "bonus_777_suited",
    "bonus_777_spades",
    "super_bonus",
    "envy_bonus",
)


@dataclass(frozen=True)
class PlayingStrategy:
    """A chart, or `auto` (basic strategy computed for the rules of the run).

    Cells are canonical ACTIONS, keyed as charts are written:
    hard[str(total)][up], soft[str(total)][up], pairs["8,8"][up], with up in UP_CARDS.
    With `auto` the three grids are empty and jost_engine.strategy resolves them.
    """

    name: str
    auto: bool
    hard: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    soft: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pairs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Insurance is a count decision, not a chart cell: take it when the true count is at
    # least this. None never insures (basic strategy); -inf always does.
    insurance_true_count: float | None = None
    # Index plays on top of the chart (or "auto"), in priority order: each a Deviation,
    # or the name of a shipped preset ("illustrious18", "fab4") that
    # jost_engine.deviations expands for the rules (its S17 or H17 variant). A preset's
    # insurance entry is already folded into insurance_true_count.
    deviations: tuple[Deviation | str, ...] = ()
    # Hands of three or more cards (jost_engine.kernel_spanish reads them; the common
    # game's loops play every 3+ card hand by the grids above): (fewest cards, most cards,
    # {"hard": rows, "soft": rows}), each rows a partial grid keyed as `hard`/`soft`; a
    # hand of n cards plays the row of the entry whose span holds n, else the grid above.
    more_cards: tuple[tuple[int, int, Mapping[str, Mapping[str, Mapping[str, str]]]], ...] = ()
    # Double-down rescue: rescue[str(hard total)][up] is "R" where a doubled hand of that
    # hard total is surrendered (where the rules offer it); a missing cell stands.
    rescue: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # A doubled hand's own table (Spanish 21): {"hard": rows, "soft": rows} by total, each
    # cell "D" (redouble where a redouble is left, else stand), "S" (stand) or "R" (rescue
    # where offered, else stand); a missing row or cell stands. Empty: no table, and a
    # doubled hand redoubles where its chart cell says double and is rescued by `rescue`.
    # A chart has at most one of `rescue` and `after_double`.
    after_double: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # Two-card hands that play otherwise than their row (Spanish 21's 6-7 that hits for
    # the 6-7-8): compositions["6,7"][up] is the code of a hand of those two ranks (any
    # order; "A,7", "10,3"), an up card left out playing the row; pairs are not here (the
    # pairs table is theirs). jost_engine.kernel_spanish reads it.
    compositions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Deviation:
    """One index play: play `action` on `hand` against `up` when the true count is at or
    above `index` (above=True) or below it (above=False).

    kind is "hard", "soft" or "pair"; row the chart's row key ("16", "18", "10,10"); up
    one of UP_CARDS; action a canonical chart code (ACTIONS). A surrender code (Rh, Rs,
    Rp) decides whether to surrender; any other code decides the play when not
    surrendering (see jost_engine.deviations).
    """

    kind: Literal["hard", "soft", "pair"]
    row: str
    up: str
    index: float
    action: str
    above: bool = True


# The results a rule's `last_result` names, in the kernel's codes' order (kernel.BR_*):
# "none" before the session's first round; "win" also matches a blackjack and "loss" a
# surrender, as the net of the round says (see docs/CONFIG.md, "Betting by rules").
BET_RESULTS: tuple[str, ...] = ("none", "win", "blackjack", "loss", "surrender", "push")
BET_ACTIONS: tuple[str, ...] = ("bet", "multiply", "add", "step", "reset")


@dataclass(frozen=True)
class BetRule:
    """One rule of a rules-betting strategy: when every condition holds (None: no
    condition), `action` sets the next bet in units of min_bet.

    bet: `value` units; multiply: the last bet x `value`; add: the last bet + `value`
    units; step: go to step `value` and bet its units (BettingStrategy.steps); reset: step
    0, the cycle's net back to 0, bet step 0's units. cycle_target: the bet is at most the
    units a win needs to bring the cycle's net to it (Oscar's grind). Counts and nets are
    inclusive bounds; results are the last round's (BET_RESULTS).
    """

    action: Literal["bet", "multiply", "add", "step", "reset"]
    value: float = 0.0
    cycle_target: float | None = None
    true_count_min: float | None = None
    true_count_max: float | None = None
    last_result: tuple[str, ...] | None = None
    win_streak_min: int | None = None
    win_streak_max: int | None = None
    loss_streak_min: int | None = None
    loss_streak_max: int | None = None
    net_min: float | None = None
    net_max: float | None = None
    cycle_net_min: float | None = None
    cycle_net_max: float | None = None
    step_min: int | None = None
    step_max: int | None = None


@dataclass(frozen=True)
class BettingStrategy:
    """Bets in money; the ramp multiplies `min_bet` by true-count tier.

    `ramp` is sorted by threshold, starts at -inf, and gives (threshold, multiplier):
    the multiplier of the highest threshold <= the true count applies. A flat bet is
    ((-inf, 1.0),).
    """

    name: str
    min_bet: float
    num_hands: int  # spots this player plays each round
    ramp: tuple[tuple[float, float], ...]
    # What the ramp, wong_in and wong_out read: "true" or "running"; None takes the
    # counting system's default ("running" for an unbalanced system, else "true").
    ramp_count: Literal["true", "running"] | None = None
    # Spots by count, as `ramp` (sorted, from -inf); None plays num_hands spots always.
    spots_ramp: tuple[tuple[float, int], ...] | None = None
    max_bet: float | None = None  # a cap on min_bet x multiplier, in money
    # Wonging: sit in at or above wong_in, leave below wong_out (None: not set).
    wong_in: float | None = None
    wong_out: float | None = None
    # Betting by rules (docs/CONFIG.md): the first rule whose conditions hold sets the bet,
    # in units of min_bet; none holding, the last bet is bet again. `steps` are the
    # units of each progression step (step 0 is where a session and a reset start).
    rules: tuple[BetRule, ...] = ()
    steps: tuple[float, ...] = (1.0,)

    @property
    def max_spots(self) -> int:
        """The most spots this player can take in one round."""
        if self.spots_ramp is None:
            return self.num_hands
        return max(spots for _, spots in self.spots_ramp)


@dataclass(frozen=True)
class CountingSystem:
    """Tags for 2..9, 10, A (TAG_RANKS order); the true count divides by decks unseen."""

    name: str
    tags: tuple[int, ...]
    # The count a tag adds is tags[i] * tag_scale: the kernel sums these products as
    # floats. Systems with half-point tags (Wong Halves) are stored as doubled whole tags
    # with tag_scale 0.5, so a config written back (config_to_dict) reads the same.
    tag_scale: float = 1.0
    # An unbalanced system (KO, Red 7) starts each shoe at an initial running count:
    # initial_running_count + initial_running_count_per_deck x decks.
    unbalanced: bool = False
    initial_running_count: float = 0.0
    initial_running_count_per_deck: float = 0.0
    # How the player turns the running count into a true count (jost_engine.kernel
    # _true_count): decks left "exact" (unseen cards / 52), or read to the nearest "half"
    # or "whole" deck; then "none", "floor", "truncate" or "round" (halves away from 0).
    deck_estimation: Literal["exact", "half", "whole"] = "exact"
    true_count_rounding: Literal["none", "floor", "truncate", "round"] = "none"

    def initial_count(self, decks: int) -> float:
        """The running count at each shuffle, for a shoe of `decks` decks."""
        return self.initial_running_count + self.initial_running_count_per_deck * decks


@dataclass(frozen=True)
class Player:
    name: str
    bankroll: float
    playing: PlayingStrategy
    betting: BettingStrategy
    counting: CountingSystem
    # "per_count": the player bets one unit flat while counting, so the true-count table
    # measures every count's edge and variance on the same bet (optimal bets read it).
    analysis: Literal["per_count"] | None = None


@dataclass(frozen=True)
class Config:
    rules: Rules
    players: tuple[Player, ...]  # in seat order
    num_rounds: int  # per session when `sessions` is set
    seed: int | None
    log_hands: bool
    # JOST's rule (True): a player who cannot cover the bet stops for good, so the rounds
    # are one sequence. False: bankrolls may go below zero and nobody stops, so every round
    # is an independent draw of the same game and a run may be split into shards.
    stop_when_broke: bool = True
    # K independent sessions of num_rounds each, every one from the initial bankrolls with
    # the broke rule; None is JOST's one session.
    sessions: int | None = None
    # The pace the per-hour figures assume (win_per_hour, sd_per_hour; docs/RESULTS.md).
    rounds_per_hour: float = 100.0

    @property
    def total_rounds(self) -> int:
        """Rounds asked over every session."""
        return self.num_rounds * (self.sessions or 1)

    @property
    def splittable(self) -> bool:
        """May the run be split into shards without changing what it means?"""
        return not self.stop_when_broke or self.sessions is not None


# Looks a named profile up: resolve(kind, name) -> the raw profile dict, or None if unknown.
# kind is one of "casino", "player", "playing_strategy", "betting_strategy", "counting_system".
Resolver = Callable[[str, str], "Mapping[str, Any] | None"]
