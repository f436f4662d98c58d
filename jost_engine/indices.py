"""Index numbers for any game the engine plays: the index generator's engine side.

A request (`normalize_index_request`: a casino, a counting system and how the player reads
the true count, the plays to index, a seed and a number of shoes) is dealt by the numba
core (jost_engine._index_kernel) into mergeable per-play, per-bucket sums (`IndexSums`:
n, sum and sum of squares of the EV difference, per half-count bucket), which a shard
computes from a seed and a number of shoes (`run_index_shard`) and `merge` adds up. From
the sums, `index_results` fits each play's index: where the EV difference b - a crosses
zero, by weighted least squares on the buckets near the crossing, with a 95% interval,
and writes the `deviations` list a config takes unchanged. The method, its choices and
the measured figures are in docs/INDICES.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from jost_engine import _index_kernel as ik
from jost_engine import kernel as k
from jost_engine._index_fit import Curve, curve, fit_crossing, rounded_index, weighted_line
from jost_engine.chart import chart_arrays
from jost_engine.config import (
    BettingStrategy,
    ConfigError,
    CountingSystem,
    PlayingStrategy,
    Rules,
)
from jost_engine.config.betting import FLAT_RAMP, betting_from

# One spelling of a hand for index plays and a config's deviations, so a generated
# `deviations` list reads back as the plays it came from.
from jost_engine.config.canonical import betting_to_dict, casino_to_dict, counting_to_dict
from jost_engine.config.charts import deviation_hand
from jost_engine.config.context import Context
from jost_engine.config.counting import (
    DECK_ESTIMATIONS,
    TC_ROUNDINGS,
    check_choice,
    counting_from,
)
from jost_engine.config.fields import (
    MISSING,
    Fields,
    Problems,
    check_entries,
    check_int,
    check_money,
    check_number,
    index_path,
    join_path,
    plain_entries,
    rank_of,
)
from jost_engine.config.players import check_seed
from jost_engine.config.rules import rules_from
from jost_engine.config.types import Resolver
from jost_engine.counting import tag_row
from jost_engine.simulate import action_tables, seed_state, shard_seed
from jost_engine.strategy import resolve_playing_strategy

# The first actions a play compares, as a request writes them, and the kernel's action.
# A chart's conditional codes are accepted too: the play forces the action itself.
_ACTIONS: dict[str, int] = {
    "H": k.HIT,
    "S": k.STAND,
    "D": k.DOUBLE,
    "DH": k.DOUBLE,
    "DS": k.DOUBLE,
    "P": k.SPLIT,
    "R": k.SURRENDER,
    "RH": k.SURRENDER,
    "RS": k.SURRENDER,
    "RP": k.SURRENDER,
}
INSURANCE_ACTIONS = ("decline", "insure")

# The presets, as the plays a request would write (a: the basic-strategy play at a count
# of 0 in the games they were published for, b: the index play). Sources and published
# values: tests/data/published_indices.json.
PRESETS: dict[str, tuple[dict[str, Any], ...]] = {
    "insurance": ({"hand": "insurance"},),
    "illustrious18": (
        {"hand": "insurance"},
        {"hand": "16", "vs": "10", "actions": ["H", "S"]},
        {"hand": "15", "vs": "10", "actions": ["H", "S"]},
        {"hand": "10,10", "vs": "5", "actions": ["S", "P"]},
        {"hand": "10,10", "vs": "6", "actions": ["S", "P"]},
        {"hand": "10", "vs": "10", "actions": ["H", "D"]},
        {"hand": "12", "vs": "3", "actions": ["H", "S"]},
        {"hand": "12", "vs": "2", "actions": ["H", "S"]},
        {"hand": "11", "vs": "A", "actions": ["H", "D"]},
        {"hand": "9", "vs": "2", "actions": ["H", "D"]},
        {"hand": "10", "vs": "A", "actions": ["H", "D"]},
        {"hand": "9", "vs": "7", "actions": ["H", "D"]},
        {"hand": "16", "vs": "9", "actions": ["H", "S"]},
        {"hand": "13", "vs": "2", "actions": ["S", "H"]},
        {"hand": "12", "vs": "4", "actions": ["S", "H"]},
        {"hand": "12", "vs": "5", "actions": ["S", "H"]},
        {"hand": "12", "vs": "6", "actions": ["S", "H"]},
        {"hand": "13", "vs": "3", "actions": ["S", "H"]},
    ),
    "fab4": (
        {"hand": "14", "vs": "10", "actions": ["H", "R"]},
        {"hand": "15", "vs": "10", "actions": ["H", "R"]},
        {"hand": "15", "vs": "9", "actions": ["H", "R"]},
        {"hand": "15", "vs": "A", "actions": ["H", "R"]},
    ),
}

ALL_WITHIN = 0.05  # "all": cells where another action is within this EV of the best at TC 0
MAX_ALL_WITHIN = 1.0
BUCKET_WIDTH = 0.5  # the coarsest bucket; centred on whole and half counts
TC_SPAN = 20.0  # true-count buckets from -20 to +20; the two ends hold everything beyond
RC_SPAN_PER_DECK = 12.0  # running-count buckets: the initial count +/- this per deck
DEFAULT_STEP = 5  # cards between sampled states: about one heads-up round
DEFAULT_SHOES = 20_000
MAX_SHOES = 10**8
Z95 = 1.959963984540054


def default_ramp(unbalanced: bool) -> BettingStrategy:
    """The ramp a gain is stated for when the request names none: 1 unit up to a true
    count of +1, then the true count in units up to 8 (a 1-8 spread, a common shoe
    game's); an unbalanced system's running-count ramp depends on its pivot, so there a
    flat unit."""
    if unbalanced:
        return BettingStrategy(name="flat 1 unit", min_bet=1.0, num_hands=1, ramp=FLAT_RAMP)
    steps = tuple((float(t), float(t)) for t in range(2, 9))
    return BettingStrategy(
        name="1-8 by true count", min_bet=1.0, num_hands=1, ramp=((-math.inf, 1.0), *steps)
    )


@dataclass(frozen=True)
class IndexPlay:
    """One play to index: `kind` hard, soft, pair or insurance; `row` the chart's row key
    ("16", "18" for soft 18, "10,10"); `up` the dealer's card ("2".."10", "A");
    `actions` (a, b) as written (H, S, D, P, R), b being the play the index is for."""

    kind: Literal["hard", "soft", "pair", "insurance"]
    row: str
    up: str
    actions: tuple[str, str]

    @property
    def hand(self) -> str:
        if self.kind == "soft":
            return f"soft {self.row}"
        return self.row


@dataclass(frozen=True)
class IndexRequest:
    rules: Rules
    counting: CountingSystem  # deck_estimation and true_count_rounding as the player reads
    plays: tuple[IndexPlay, ...]
    seed: int
    shoes: int
    step: int = DEFAULT_STEP
    # The ramp a play's gain is stated for, and with a bankroll (money, as min_bet) the
    # fraction bet at each count that risk-averse indices weigh the variance by.
    betting: BettingStrategy = dataclasses.field(default_factory=lambda: default_ramp(False))
    bankroll: float | None = None

    @property
    def running(self) -> bool:
        """An unbalanced system's index is a running count."""
        return self.counting.unbalanced


# ---------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------
def normalize_index_request(raw: Any, resolve: Resolver | None = None) -> IndexRequest:
    """A validated IndexRequest, or ConfigError naming every fault with its path.

    Fields: `casino` (a name or an object, as in a config), `counting_strategy` (as on a
    player; default "hilo"), `deck_estimation` and `true_count_rounding` (override the
    system's), `plays` (a list of presets "illustrious18", "fab4", "insurance" and plays
    `{"hand", "vs", "actions": [a, b]}`), `seed` (default 0), `shoes` (the budget: shoes
    dealt, 1 .. 10^8, default 20,000), `step` (cards between sampled states, 1 .. 52),
    `betting_strategy` (as on a player: the ramp each play's gain is stated for; default
    `default_ramp`), `bankroll` (money, as the ramp's min_bet: risk-averse indices too)
    and `all_within` (the EV that makes a cell one of "all"'s plays, default 0.05).
    """
    problems = Problems()
    if not isinstance(raw, Mapping):
        raise ConfigError([("(config)", "expected a JSON object")])
    ctx = Context(resolve, problems)
    f = Fields(plain_entries(raw, ""), "", problems)
    f.take("name")
    casino_raw = f.take("casino")
    if casino_raw is MISSING:
        problems.add("casino", "required")
        casino_raw = {}
    before = len(problems.items)
    rules = rules_from(casino_raw, "casino", ctx)
    casino_ok = len(problems.items) == before
    counting_raw = f.take("counting_strategy")
    counting = counting_from(
        "hilo" if counting_raw is MISSING else counting_raw, "counting_strategy", ctx
    )
    estimation = f.take_one(("deck_estimation",), check_choice(DECK_ESTIMATIONS), None)
    rounding = f.take_one(("true_count_rounding",), check_choice(TC_ROUNDINGS), None)
    seed = f.take_one(("seed",), check_seed, 0)
    shoes = f.take_one(("shoes",), check_int(1, MAX_SHOES), DEFAULT_SHOES)
    step = f.take_one(("step",), check_int(1, 52), DEFAULT_STEP)
    betting_raw = f.take("betting_strategy")
    betting = None if betting_raw is MISSING else betting_from(betting_raw, "betting_strategy", ctx)
    bankroll = f.take_one(("bankroll",), check_money, None)
    within = f.take_one(("all_within",), check_number(0.0, MAX_ALL_WITHIN), ALL_WITHIN)
    plays_raw = f.take("plays")
    f.finish()

    if casino_ok:
        # Only a game with a shoe to count and a peek is indexed (docs/INDICES.md).
        if rules.decks == 0:
            problems.add("casino", "an infinite shoe has no count to index")
        if not rules.dealer_peeks:
            problems.add(
                "casino", "no hole card: only games where the dealer peeks are indexed yet"
            )
        if rules.spanish_game:
            # The index kernel plays the common game only (issue 20's Spanish 21 is the
            # round loop's, jost_engine.kernel_spanish).
            problems.add("casino", "Spanish 21 rules: only the common game is indexed yet")
    plays: list[IndexPlay] = []
    if plays_raw is MISSING:
        problems.add("plays", "required")
    elif check_entries(plays_raw, "plays", problems):
        items = plays_raw if isinstance(plays_raw, list) else [plays_raw]
        for i, item in enumerate(items):
            at = index_path("plays", i) if isinstance(plays_raw, list) else "plays"
            if isinstance(item, str):
                key = item.strip().lower()
                if key == "all":
                    if casino_ok and isinstance(within, float):  # else its problem is named
                        for cell in all_plays(rules, within):
                            if cell not in plays:
                                plays.append(cell)
                    continue
                if key not in PRESETS:
                    problems.add(at, f"unknown preset {item!r}; available: {', '.join(PRESETS)}")
                    continue
                for preset_play in PRESETS[key]:
                    found = _play(preset_play, at, rules, problems, preset=key)
                    if found is not None and found not in plays:
                        plays.append(found)
                continue
            play = _play(item, at, rules, problems)
            if play is not None and play not in plays:
                plays.append(play)
        if not plays and not problems.items:
            problems.add("plays", "no play to index")
    if betting is not None:
        if betting.num_hands != 1:
            problems.add("betting_strategy.num_hands", "an index's gain is stated for one spot")
        if betting.ramp_count is not None and (betting.ramp_count == "running") != (
            counting.unbalanced
        ):
            problems.add(
                "betting_strategy.ramp_count",
                f"the indices are {'running' if counting.unbalanced else 'true'} counts: "
                "the ramp reads the same count",
            )
        for key in ("spots_ramp", "wong_in", "wong_out"):
            if getattr(betting, key) is not None:
                problems.add(
                    f"betting_strategy.{key}",
                    "not used by an index request (one spot, every round)",
                )
    if problems.items:
        # A preset's plays share one path: a casino without surrender is one problem of
        # fab4, not four.
        raise ConfigError(list(dict.fromkeys(problems.items)))
    if estimation is not None or rounding is not None:
        counting = dataclasses.replace(
            counting,
            deck_estimation=estimation or counting.deck_estimation,
            true_count_rounding=rounding or counting.true_count_rounding,
        )
    return IndexRequest(
        rules=rules,
        counting=counting,
        plays=tuple(plays),
        seed=seed,
        shoes=shoes,
        step=step,
        betting=betting or default_ramp(counting.unbalanced),
        bankroll=bankroll,
    )


def index_request_to_dict(request: IndexRequest) -> dict[str, Any]:
    """The normalised request as plain JSON, itself a valid request that normalises to the
    same IndexRequest: the casino and counting system written out (a name a worker might
    resolve differently is not left in), every play listed. A job stores this."""
    plays: list[Any] = [
        {"hand": "insurance"}
        if play.kind == "insurance"
        else {"hand": play.hand, "vs": play.up, "actions": list(play.actions)}
        for play in request.plays
    ]
    out: dict[str, Any] = {
        "casino": casino_to_dict(request.rules),
        "counting_strategy": counting_to_dict(request.counting),
        "plays": plays,
        "seed": request.seed,
        "shoes": request.shoes,
        "step": request.step,
        "betting_strategy": betting_to_dict(request.betting),
    }
    if request.bankroll is not None:
        out["bankroll"] = request.bankroll
    return out


def _play(
    raw: Any, path: str, rules: Rules, problems: Problems, preset: str | None = None
) -> IndexPlay | None:
    """One play, checked against the rules; None after a problem. A preset's plays are
    reported at the preset's path, naming the preset."""
    where = f" (preset {preset})" if preset else ""
    if not isinstance(raw, Mapping):
        problems.add(path, 'not a preset name or a {"hand", "vs", "actions"} object')
        return None
    f = Fields(plain_entries(raw, path), path, problems)
    hand, vs, actions = f.take("hand"), f.take("vs"), f.take("actions")
    f.finish()
    if hand is MISSING:
        problems.add(join_path(path, "hand"), "required")
        return None
    if isinstance(hand, str) and hand.strip().lower() == "insurance":
        if vs is not MISSING and rank_of(str(vs)) != "A":
            problems.add(f.path_of("vs"), "insurance is only offered against an ace")
            return None
        if not rules.offer_insurance:
            problems.add(path, f"this casino offers no insurance{where}")
            return None
        return IndexPlay("insurance", "insurance", "A", INSURANCE_ACTIONS)
    found = deviation_hand(str(hand)) if isinstance(hand, (str, int)) else None
    if found is None:
        problems.add(
            f.path_of("hand"), 'not a hand such as "16", "soft 18", "A,7", "10,10" or "insurance"'
        )
        return None
    kind, row = found
    if kind == "hard" and not 5 <= int(row) <= 19:
        problems.add(f.path_of("hand"), f"no two different cards make hard {row}")
        return None
    if kind == "soft" and not 13 <= int(row) <= 20:
        problems.add(
            f.path_of("hand"),
            f"soft {row} is {'A,A' if row == '12' else 'a blackjack'}: not indexed as a soft total",
        )
        return None
    up = rank_of(str(vs)) if vs is not MISSING else None
    if vs is MISSING:
        problems.add(join_path(path, "vs"), "required")
    elif up is None:
        problems.add(f.path_of("vs"), "not a dealer up card 2..10 or A")
    if actions is MISSING:
        problems.add(join_path(path, "actions"), "required")
        return None
    at = f.path_of("actions")
    if not isinstance(actions, list) or len(actions) != 2:
        problems.add(at, "not a list of two actions [a, b] (H, S, D, P, R)")
        return None
    names: list[str] = []
    for j, action in enumerate(actions):
        name = action.strip().upper() if isinstance(action, str) else None
        if name is None or name not in _ACTIONS:
            problems.add(index_path(at, j), "not one of H, S, D, P, R")
            continue
        problem = _not_allowed(_ACTIONS[name], kind, row, rules)
        if problem:
            problems.add(index_path(at, j), problem + where)
            continue
        names.append(name[0])
    if len(names) != 2 or up is None:
        return None
    if names[0] == names[1]:
        problems.add(at, "the two actions are the same")
        return None
    pk: Literal["hard", "soft", "pair"] = (
        "pair" if kind == "pair" else ("soft" if kind == "soft" else "hard")
    )
    return IndexPlay(pk, row, up, (names[0], names[1]))


def _two_card_total(kind: str, row: str) -> int:
    if kind != "pair":
        return int(row)
    rank = row.split(",")[0]
    return 12 if rank == "A" else 2 * int(rank)


def _not_allowed(action: int, kind: str, row: str, rules: Rules) -> str | None:
    """Why the rules do not let this hand start with this action, or None."""
    if action == k.SPLIT:
        if kind != "pair":
            return "only a pair splits"
        if rules.max_split_hands < 2:
            return "this casino does not allow splitting"
    if action == k.DOUBLE and not rules.may_double(_two_card_total(kind, row)):
        return f"this casino does not allow doubling on {_two_card_total(kind, row)}"
    if action == k.SURRENDER:
        if rules.early_surrender:
            # Early surrender is decided before the peek, and the plays are valued
            # against a dealer known to have no blackjack.
            return "early surrender is not indexed yet (decided before the peek)"
        if not rules.late_surrender:
            return "this casino does not offer surrender"
    return None


def _compositions(play: IndexPlay) -> list[tuple[int, int]]:
    """The two-card hands (ranks, ace = 1) a play is dealt: every pair of different
    ranks making a hard total, the ace and its partner, or the pair."""
    if play.kind == "pair":
        r = 1 if play.row.startswith("A") else int(play.row.split(",")[0])
        return [(r, r)]
    total = int(play.row)
    if play.kind == "soft":
        return [(1, total - 11)]
    return [(a, total - a) for a in range(2, 11) if a < total - a <= 10]


def all_plays(rules: Rules, within: float) -> list[IndexPlay]:
    """ "all": every two-card cell (hard, soft, pair) where the second-best action comes
    within `within` (per unit bet) of the best at a true count of 0, the best as a and
    the runner-up as b, as the "auto" solver values them for these rules (each action's
    value over the cell's hands, weighted by their chances given the up card); insurance
    too when offered. Late surrender only, as the plays are."""
    from jost_engine._basic_strategy import starting_hands  # the solver: loaded only here

    rows: dict[tuple[str, str, str], dict[str, float]] = {}
    weights: dict[tuple[str, str, str], float] = {}
    for up, _, c1, c2, weight, values in starting_hands(rules):
        up_key = "A" if up == 1 else str(up)
        if c1 == c2:
            key = ("pair", "A,A" if c1 == 1 else f"{c1},{c1}", up_key)
        elif c1 == 1:
            key = ("soft", str(11 + c2), up_key)
        else:
            key = ("hard", str(c1 + c2), up_key)
        row = rows.setdefault(key, {})
        for action, value in values.items():
            if action == "R" and not rules.late_surrender:
                continue
            row[action] = row.get(action, 0.0) + weight * value
        weights[key] = weights.get(key, 0.0) + weight
    plays: list[IndexPlay] = []
    if rules.offer_insurance:
        plays.append(IndexPlay("insurance", "insurance", "A", INSURANCE_ACTIONS))
    for (kind, row_key, up_key), row in sorted(rows.items(), key=_cell_order):
        if len(row) < 2:
            continue
        ranked = sorted(row, key=lambda a: -row[a])
        best, second = ranked[0], ranked[1]
        if (row[best] - row[second]) / weights[(kind, row_key, up_key)] > within:
            continue
        pk: Literal["hard", "soft", "pair"] = (
            "pair" if kind == "pair" else ("soft" if kind == "soft" else "hard")
        )
        plays.append(IndexPlay(pk, row_key, up_key, (best, second)))
    return plays


def _cell_order(item: tuple[tuple[str, str, str], Any]) -> tuple[int, int, int]:
    (kind, row, up), _ = item
    first = row.split(",")[0]
    total = 11 if first == "A" else int(first)
    return ({"hard": 0, "soft": 1, "pair": 2}[kind], -total, 11 if up == "A" else int(up))


# ---------------------------------------------------------------------------------------
# Arrays, shards, merge
# ---------------------------------------------------------------------------------------
@dataclass
class IndexSums:
    """What shards add up: sums float64[P, B, ik.N_FIELDS] and counters int64[P,
    ik.N_COUNTERS] (see _index_kernel), and the bucket centres float64[B]."""

    sums: np.ndarray
    counters: np.ndarray
    centres: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, exactly: floats as JSON writes them (repr, which round-trips)."""
        return {
            "format": SUMS_FORMAT,
            "sums": self.sums.tolist(),
            "counters": self.counters.tolist(),
            "centres": self.centres.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSums:
        """The sums to_dict wrote; ValueError for another format version or shape."""
        if data.get("format") != SUMS_FORMAT:
            raise ValueError(
                f"index sums of format {data.get('format')!r}; this engine reads {SUMS_FORMAT}"
            )
        sums = np.asarray(data["sums"], dtype=np.float64)
        counters = np.asarray(data["counters"], dtype=np.int64)
        centres = np.asarray(data["centres"], dtype=np.float64)
        if (
            sums.ndim != 3
            or sums.shape[2] != ik.N_FIELDS
            or counters.shape != (sums.shape[0], ik.N_COUNTERS)
            or centres.shape != (sums.shape[1],)
        ):
            raise ValueError("index sums of the wrong shape")
        return cls(sums, counters, centres)

    def merge(self, other: IndexSums) -> IndexSums:
        if self.sums.shape != other.sums.shape or not np.array_equal(self.centres, other.centres):
            raise ValueError("index sums of different requests cannot be merged")
        return IndexSums(self.sums + other.sums, self.counters + other.counters, self.centres)


def bucket_centres(request: IndexRequest) -> np.ndarray:
    """Centres of the half-count buckets: true counts -20..+20, or for an unbalanced
    system running counts about the initial one."""
    if request.running:
        irc = request.counting.initial_count(request.rules.decks)
        span = RC_SPAN_PER_DECK * request.rules.decks
        lo, hi = float(math.floor(irc - span)), float(math.ceil(irc + span))
    else:
        lo, hi = -TC_SPAN, TC_SPAN
    n = round((hi - lo) / BUCKET_WIDTH) + 1
    return lo + BUCKET_WIDTH * np.arange(n)


_EST = {"exact": k.EST_EXACT, "half": k.EST_HALF, "whole": k.EST_WHOLE}
_ROUND = {"none": k.RND_NONE, "floor": k.RND_FLOOR, "truncate": k.RND_TRUNC, "round": k.RND_ROUND}


def _units(betting: BettingStrategy, multiplier: float) -> float:
    """A tier's bet in units of the minimum, after the table maximum."""
    bet = betting.min_bet * multiplier
    if betting.max_bet is not None:
        bet = min(bet, betting.max_bet)
    return bet / betting.min_bet


def ramp_units(request: IndexRequest, count: float) -> float:
    """The ramp's bet in units at a count, read as the player rounds it (the count the
    ramp reads: true, or running for an unbalanced system or ramp_count running)."""
    rounding = "none" if request.running else request.counting.true_count_rounding
    if rounding == "floor":
        count = math.floor(count)
    elif rounding == "truncate":
        count = float(math.trunc(count))
    elif rounding == "round":
        count = math.copysign(math.floor(abs(count) + 0.5), count)
    units = 1.0
    for threshold, multiplier in request.betting.ramp:
        if count >= threshold:
            units = _units(request.betting, multiplier)
    return units


_FIRST = {"H": k.HIT, "S": k.STAND, "D": k.DOUBLE, "P": k.SPLIT, "R": k.SURRENDER}


def index_arrays(
    request: IndexRequest, independent: bool = False
) -> tuple[ik.IndexGame, ik.IndexPlays]:
    """The kernel's bundles for a request. independent: play b on its own later cards
    (no common random numbers; only for measuring what they save)."""
    rules = request.rules
    chart = resolve_playing_strategy(PlayingStrategy(name="auto", auto=True), rules)
    act, _ = action_tables(*chart_arrays(chart), rules)
    n_cards = 52 * rules.decks
    deck = np.array(
        [r for r in range(1, 11) for _ in range(4 * (4 if r == 10 else 1))] * rules.decks,
        dtype=np.int8,
    )
    assert deck.shape[0] == n_cards
    rules_i = np.zeros(ik.N_GAME_I, dtype=np.int64)
    rules_i[ik.G_H17] = rules.hit_soft_17
    rules_i[ik.G_MAX_SPLIT] = rules.max_split_hands
    rules_i[ik.G_RSA] = rules.resplit_aces
    rules_i[ik.G_HSA] = rules.hit_split_aces
    # The cut card as the simulator places it (simulate.new_session).
    rules_i[ik.G_CUT] = max(1, min(n_cards - 1, round(rules.penetration * n_cards)))
    rules_i[ik.G_EST] = _EST[request.counting.deck_estimation]
    rules_i[ik.G_RUNNING] = request.running
    rules_i[ik.G_STEP] = request.step
    rules_i[ik.G_INDEPENDENT] = independent
    rules_i[ik.G_RND] = _ROUND[request.counting.true_count_rounding]
    rules_i[ik.G_RAMP_RUNNING] = request.running
    betting = request.betting
    centres = bucket_centres(request)
    count_f = np.array(
        [request.counting.initial_count(rules.decks), centres[0], BUCKET_WIDTH], dtype=np.float64
    )
    game = ik.IndexGame(
        rules_i=rules_i,
        count_f=count_f,
        act=act,
        deck=deck,
        tags=tag_row(request.counting.tags, request.counting.tag_scale),
        ramp_thr=np.array([t for t, _ in betting.ramp], dtype=np.float64),
        ramp_mult=np.array([_units(betting, m) for _, m in betting.ramp], dtype=np.float64),
    )
    n = len(request.plays)
    comps = [_compositions(p) if p.kind != "insurance" else [] for p in request.plays]
    width = max(1, max(len(c) for c in comps))
    comp = np.zeros((n, width, 2), dtype=np.int64)
    n_comp = np.zeros(n, dtype=np.int64)
    first = np.zeros((n, 2), dtype=np.int64)
    kind = np.zeros(n, dtype=np.int64)
    up = np.zeros(n, dtype=np.int64)
    for i, play in enumerate(request.plays):
        up[i] = 1 if play.up == "A" else int(play.up)
        if play.kind == "insurance":
            kind[i] = ik.PK_INSURANCE
            continue
        kind[i] = ik.PK_HAND
        first[i] = [_FIRST[play.actions[0]], _FIRST[play.actions[1]]]
        n_comp[i] = len(comps[i])
        comp[i, : len(comps[i])] = comps[i]
    return game, ik.IndexPlays(kind=kind, up=up, first=first, comp=comp, n_comp=n_comp)


def run_index_shard(
    request: IndexRequest,
    seed: int | np.random.SeedSequence,
    shoes: int,
    independent: bool = False,
) -> IndexSums:
    """Deal `shoes` shoes from `seed`: the sums a shard returns (merge with +)."""
    game, plays = index_arrays(request, independent)
    centres = bucket_centres(request)
    tally = ik.IndexTally(
        sums=np.zeros((len(request.plays), centres.shape[0], ik.N_FIELDS)),
        counters=np.zeros((len(request.plays), ik.N_COUNTERS), dtype=np.int64),
    )
    ik.index_shoes(shoes, game, plays, tally, seed_state(seed))
    return IndexSums(tally.sums, tally.counters, centres)


SHARD_SHOES = 5_000  # shoes per shard of a job: a few seconds of one core for 22 plays
CHUNK_SHOES = 250  # shoes between progress reports inside a shard
# The version of IndexSums.to_dict's layout: a shard stored by another version is dealt
# again from its seed rather than merged (its fields may mean something else).
SUMS_FORMAT = 1


@dataclass(frozen=True)
class IndexShard:
    """One shard of an index job: `shoes` shoes dealt from shard_seed(job seed, index)."""

    index: int
    shoes: int

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexShard:
        return cls(index=int(data["index"]), shoes=int(data["shoes"]))


def plan_index_shards(request: IndexRequest, shard_shoes: int = SHARD_SHOES) -> list[IndexShard]:
    """The shards of an index job in order: a function of the request and shard_shoes
    alone, so a job is cut the same way on every machine."""
    if shard_shoes < 1:
        raise ValueError(f"shard_shoes must be at least 1, got {shard_shoes}")
    return [
        IndexShard(index=i, shoes=min(shard_shoes, request.shoes - start))
        for i, start in enumerate(range(0, request.shoes, shard_shoes))
    ]


def run_index_shard_spec(
    request: IndexRequest,
    job_seed: int,
    spec: IndexShard,
    progress: Callable[[int], None] | None = None,
    *,
    chunk: int = CHUNK_SHOES,
) -> IndexSums:
    """Deal one shard from shard_seed(job_seed, spec.index), in chunks of `chunk` shoes
    with progress(shoes done in this shard) after each (an exception it raises stops the
    shard). The generator's state runs on from chunk to chunk into one tally, so the sums
    are the bits of one call whatever the chunk."""
    game, plays = index_arrays(request)
    centres = bucket_centres(request)
    tally = ik.IndexTally(
        sums=np.zeros((len(request.plays), centres.shape[0], ik.N_FIELDS)),
        counters=np.zeros((len(request.plays), ik.N_COUNTERS), dtype=np.int64),
    )
    state = seed_state(shard_seed(job_seed, spec.index))
    done = 0
    while done < spec.shoes:
        n = min(chunk, spec.shoes - done)
        ik.index_shoes(n, game, plays, tally, state)
        done += n
        if progress is not None:
            progress(done)
    return IndexSums(tally.sums, tally.counters, centres)


def _deviation_code(play: IndexPlay) -> str:
    """b as a config's deviation writes it: a double or surrender names its fallback."""
    a, b = play.actions
    if b == "D":
        return "Ds" if a == "S" else "Dh"
    if b == "R":
        return {"S": "Rs", "P": "Rp"}.get(a, "Rh")
    return b


def _crossing(c: Curve, play: IndexPlay, rounding: str, scale: float) -> dict[str, Any]:
    """A curve's index: where it crosses zero, its interval, which way; or why none."""
    fit = fit_crossing(c, scale) if c.x.shape[0] >= 3 else None
    lo = float(c.x.min()) if c.x.shape[0] else 0.0
    hi = float(c.x.max()) if c.x.shape[0] else 0.0
    half = Z95 * fit.se if fit is not None else math.inf
    if fit is not None and lo <= fit.root - half and fit.root + half <= hi:
        # Given to 0.1, the interval rounded outwards so it always holds the index.
        return {
            "index": round(float(fit.root), 1),
            "index_rounded": rounded_index(fit.root, rounding),
            "interval": [
                math.floor(float(fit.root - half) * 10) / 10,
                math.ceil(float(fit.root + half) * 10) / 10,
            ],
            "when": "at_or_above" if fit.slope > 0 else "below",
            "never_changes": False,
            "better": None,
            "note": None,
            "_root": fit.root,
        }
    # No window crosses zero inside the counts reached. That the play never changes is
    # claimed only when a line through all of them is on one side of zero at both ends,
    # each by 1.96 of its SE (so everywhere between); otherwise the run was too short.
    never = False
    whole = weighted_line(c.x, c.y, c.se)
    if whole is not None:
        (y_lo, se_lo), (y_hi, se_hi) = whole.value(lo), whole.value(hi)
        never = (y_lo > Z95 * se_lo and y_hi > Z95 * se_hi) or (
            y_lo < -Z95 * se_lo and y_hi < -Z95 * se_hi
        )
    better = None
    if never:
        mean = float(np.sum(c.y / c.se**2) / np.sum(1 / c.se**2))
        better = play.actions[1] if mean > 0 else play.actions[0]
    if never:
        note = f"never changes within the counts reached ({lo:+.1f} .. {hi:+.1f})"
    elif fit is not None and lo <= fit.root <= hi:
        # A crossing whose interval runs past the counts dealt is no index yet: a
        # deviation at it would be a guess (a 3,000-shoe run put 10 v 10 at -5.5 +/- 90).
        note = (
            f"no crossing resolved: about {fit.root:+.1f} but +/- {half:.1f}, past the "
            f"counts reached ({lo:+.1f} .. {hi:+.1f}); deal more shoes"
        )
    else:
        note = "no crossing resolved: deal more shoes"
    return {
        "index": None,
        "index_rounded": None,
        "interval": None,
        "when": None,
        "never_changes": never,
        "better": better,
        "note": note,
        "_root": None,
    }


def gain_per_100(
    sums: np.ndarray, counters: np.ndarray, root: float, when: str
) -> tuple[float, float]:
    """Units won per 100 rounds by playing b on its side of the index instead of a
    always, at the request's ramp, and its SE: the mean over sampled states of w d bet
    on b's side (a state is a round's start, sampled evenly through the shoe to the cut
    card as rounds start; a state that cannot deal the play adds 0). The buckets split at
    the unrounded index by their mean count; near the index d is about 0, so the split
    costs almost nothing."""
    states = int(counters[ik.K_VALUED] + counters[ik.K_MISSING] + counters[ik.K_OVERFLOW])
    w = sums[:, ik.F_W]
    if states < 2:
        return 0.0, math.inf
    x = np.divide(sums[:, ik.F_WX], w, out=np.zeros_like(w), where=w > 0)
    side = ((x >= root) if when == "at_or_above" else (x < root)) & (w > 0)
    mean = float(np.sum(sums[side, ik.F_WDB])) / states
    second = float(np.sum(sums[side, ik.F_WDB_SQ])) / states
    se = math.sqrt(max(second - mean * mean, 0.0) / (states - 1))
    return 100.0 * mean, 100.0 * se


def _public(found: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in found.items() if not key.startswith("_")}


def _deviation(play: IndexPlay, found: dict[str, Any]) -> dict[str, Any]:
    if play.kind == "insurance":
        return {"hand": "insurance", "index": found["index_rounded"]}
    return {
        "hand": play.hand,
        "vs": play.up,
        "index": found["index_rounded"],
        "action": _deviation_code(play),
        "when": found["when"],
    }


def index_results(request: IndexRequest, total: IndexSums) -> dict[str, Any]:
    """The result document: `indices` (one object per play), `deviations` (the plays
    that change within the counts reached, in a config's own format) and, with a
    bankroll, `risk_averse_deviations`; `gain_ramp` names the ramp gains are stated for."""
    indices: list[dict[str, Any]] = []
    deviations: list[dict[str, Any]] = []
    averse_deviations: list[dict[str, Any]] = []
    rounding = request.counting.true_count_rounding
    # A running count moves by about (decks left) per true count: half the shoe's decks.
    scale = max(1.0, request.rules.decks / 2) if request.running else 1.0
    aversion = None
    if request.bankroll is not None:
        fraction = np.array(
            [
                ramp_units(request, float(x)) * request.betting.min_bet / request.bankroll
                for x in total.centres
            ]
        )
        aversion = fraction / 2
    for p, play in enumerate(request.plays):
        c = curve(total.sums[p], total.centres)
        found = _crossing(c, play, rounding, scale)
        entry: dict[str, Any] = {
            "hand": play.hand,
            "vs": play.up,
            "actions": list(play.actions),
            "count": "running" if request.running else "true",
            "states": int(total.counters[p, ik.K_VALUED]),
            **_public(found),
            "gain_per_100": None,
            "gain_per_100_se": None,
            "risk_averse": None,
            "curve": [
                {
                    "count": float(centre),
                    "mean_count": round(float(x), 4),
                    "n": int(n),
                    "ev_diff": float(y),
                    "se": float(se),
                }
                for centre, x, n, y, se in zip(c.centre, c.x, c.n, c.y, c.se, strict=True)
            ],
        }
        if found["_root"] is not None:
            gain, gain_se = gain_per_100(
                total.sums[p], total.counters[p], found["_root"], found["when"]
            )
            entry["gain_per_100"] = round(gain, 4)
            entry["gain_per_100_se"] = round(gain_se, 4)
            deviations.append(_deviation(play, found))
        if aversion is not None:
            if play.kind == "insurance":
                entry["risk_averse"] = {
                    "index": None,
                    "index_rounded": None,
                    "interval": None,
                    "when": None,
                    "note": "not computed for insurance (its covariance with the hand is "
                    "not played out); the index above stands",
                }
            else:
                averse = _crossing(
                    curve(total.sums[p], total.centres, aversion=aversion), play, rounding, scale
                )
                entry["risk_averse"] = {
                    key: averse[key]
                    for key in ("index", "index_rounded", "interval", "when", "note")
                }
                if averse["_root"] is not None:
                    averse_deviations.append(_deviation(play, averse))
        indices.append(entry)
    out: dict[str, Any] = {
        "indices": indices,
        "deviations": deviations,
        "gain_ramp": {
            "name": request.betting.name,
            "units": [
                {"count": t if math.isfinite(t) else None, "units": _units(request.betting, m)}
                for t, m in request.betting.ramp
            ],
        },
    }
    if aversion is not None:
        out["risk_averse_deviations"] = averse_deviations
        out["bankroll"] = request.bankroll
    return out


def generate_indices(raw: Any, resolve: Resolver | None = None) -> dict[str, Any]:
    """A request in, the result document out: one shard of `shoes` shoes from `seed`."""
    request = normalize_index_request(raw, resolve)
    return index_results(request, run_index_shard(request, request.seed, request.shoes))


def merge(parts: Sequence[IndexSums]) -> IndexSums:
    """Shards' sums added in the order given (the order a job fixes, so the float sums
    are the same whatever worker ran which shard)."""
    if not parts:
        raise ValueError("nothing to merge")
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total
