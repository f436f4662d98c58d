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
from jost_engine.chart import chart_arrays
from jost_engine.config import ConfigError, CountingSystem, PlayingStrategy, Rules

# One spelling of a hand for index plays and a config's deviations, so a generated
# `deviations` list reads back as the plays it came from.
from jost_engine.config.canonical import casino_to_dict, counting_to_dict
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

BUCKET_WIDTH = 0.5  # the coarsest bucket; centred on whole and half counts
TC_SPAN = 20.0  # true-count buckets from -20 to +20; the two ends hold everything beyond
RC_SPAN_PER_DECK = 12.0  # running-count buckets: the initial count +/- this per deck
DEFAULT_STEP = 5  # cards between sampled states: about one heads-up round
DEFAULT_SHOES = 20_000
MAX_SHOES = 10**8
MIN_BUCKET_N = 100  # a bucket with fewer states is too thin to weigh by its own variance
FIT_HALF_WIDTH = 2.5  # counts either side of the crossing the line is fitted on
Z95 = 1.959963984540054


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
    dealt, 1 .. 10^8, default 20,000) and `step` (cards between sampled states, 1 .. 52).
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
                    problems.add(at, '"all" is not offered yet; name the plays or a preset')
                    continue
                if key not in PRESETS:
                    problems.add(at, f"unknown preset {item!r}; available: {', '.join(PRESETS)}")
                    continue
                for preset_play in PRESETS[key]:
                    play = _play(preset_play, at, rules, problems, preset=key)
                    if play is not None and play not in plays:
                        plays.append(play)
                continue
            play = _play(item, at, rules, problems)
            if play is not None and play not in plays:
                plays.append(play)
        if not plays and not problems.items:
            problems.add("plays", "no play to index")
    if problems.items:
        raise ConfigError(problems.items)
    if estimation is not None or rounding is not None:
        counting = dataclasses.replace(
            counting,
            deck_estimation=estimation or counting.deck_estimation,
            true_count_rounding=rounding or counting.true_count_rounding,
        )
    return IndexRequest(
        rules=rules, counting=counting, plays=tuple(plays), seed=seed, shoes=shoes, step=step
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
    return {
        "casino": casino_to_dict(request.rules),
        "counting_strategy": counting_to_dict(request.counting),
        "plays": plays,
        "seed": request.seed,
        "shoes": request.shoes,
        "step": request.step,
    }


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


# ---------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """The buckets a fit may use: mean count x, EV difference y and its SE, states n."""

    x: np.ndarray
    y: np.ndarray
    se: np.ndarray
    n: np.ndarray
    centre: np.ndarray


def curve(sums: np.ndarray, centres: np.ndarray, min_n: int = MIN_BUCKET_N) -> Curve:
    """Per-bucket means and SEs from one play's sums [B, N_FIELDS]; the two end buckets
    (which hold every count beyond them) and thin buckets left out."""
    n = sums[:, ik.F_N]
    keep = n >= max(min_n, 2)
    keep[0] = keep[-1] = False
    n_k = n[keep]
    mean = sums[keep, ik.F_DIFF] / n_k
    var = np.maximum(sums[keep, ik.F_DIFF_SQ] / n_k - mean**2, 0.0) * n_k / (n_k - 1)
    # A bucket whose states all gave the same difference still has sampling error; a
    # floor keeps its weight finite.
    se = np.sqrt(np.maximum(var, 1e-12) / n_k)
    return Curve(x=sums[keep, ik.F_COUNT] / n_k, y=mean, se=se, n=n_k, centre=centres[keep])


@dataclass(frozen=True)
class Fit:
    """A weighted line y = a + slope (x - xc): its root and the root's SE, and what the
    line's value at any x needs (var_a, var_b, cov, already scaled by the misfit)."""

    root: float
    se: float
    slope: float
    slope_se: float
    a: float
    xc: float
    var_a: float
    var_b: float
    cov: float

    def value(self, x: float) -> tuple[float, float]:
        """The line at x and its SE."""
        d = x - self.xc
        var = self.var_a + d * d * self.var_b + 2 * d * self.cov
        return self.a + self.slope * d, math.sqrt(max(var, 0.0))


def _wls(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> Fit | None:
    """y = a + b (x - xc) weighted by 1 / se^2; the root and its delta-method SE, the
    covariance scaled up by the reduced chi-square when the line fits worse than the SEs
    say (curvature inside the window), never down."""
    if x.shape[0] < 3:
        return None
    w = 1.0 / se**2
    xc = float(np.sum(w * x) / np.sum(w))
    d = x - xc
    s0, s1, s2 = np.sum(w), np.sum(w * d), np.sum(w * d * d)
    det = s0 * s2 - s1 * s1
    if det <= 0:
        return None
    t0, t1 = np.sum(w * y), np.sum(w * d * y)
    a = (s2 * t0 - s1 * t1) / det
    b = (s0 * t1 - s1 * t0) / det
    if b == 0:
        return None
    var_a, var_b, cov = s2 / det, s0 / det, -s1 / det
    dof = x.shape[0] - 2
    chi2 = float(np.sum(w * (y - a - b * d) ** 2))
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    r = -a / b
    var_root = scale * (var_a + r * r * var_b + 2 * r * cov) / (b * b)
    return Fit(
        root=float(xc + r),
        se=math.sqrt(max(float(var_root), 0.0)),
        slope=float(b),
        slope_se=math.sqrt(float(scale * var_b)),
        a=float(a),
        xc=xc,
        var_a=float(scale * var_a),
        var_b=float(scale * var_b),
        cov=float(scale * cov),
    )


def fit_crossing(c: Curve) -> Fit | None:
    """Where the curve crosses zero: a line fitted on the buckets within FIT_HALF_WIDTH
    of the crossing. Candidates are the windows centred on each bucket whose own root
    falls inside the window; the one with the smallest root SE wins (a noisy wiggle far
    out, where buckets are thin, crosses zero too but with a wide interval), and its
    window is recentred on its root twice. None when no window crosses."""
    best: Fit | None = None
    for centre in c.x:
        fit = _window_fit(c, float(centre))
        if fit is None or abs(fit.root - centre) > FIT_HALF_WIDTH:
            continue
        if best is None or fit.se < best.se:
            best = fit
    for _ in range(2):
        if best is None:
            break
        best = _window_fit(c, best.root) or best
    return best


def _window_fit(c: Curve, centre: float) -> Fit | None:
    near = np.abs(c.x - centre) <= FIT_HALF_WIDTH
    return _wls(c.x[near], c.y[near], c.se[near])


def rounded_index(x: float, rounding: str) -> float:
    """The threshold a player who rounds the count this way compares with: the count at
    which the bucket the player reads is, on a line through the crossing, on b's side.
    Rounding to the nearest reads [n - 1/2, n + 1/2) as n (its middle n is past x when
    n >= x); floor reads [n, n + 1) as n (middle n + 1/2); truncation reads like floor
    above 0 and like a ceiling below, its 0 covering (-1, 1)."""
    if rounding == "none":
        return round(x, 1)
    if rounding == "round":
        return float(math.ceil(x))
    if rounding == "floor":
        return float(math.ceil(x - 0.5))
    if x > 0:
        return float(max(1, math.ceil(x - 0.5)))
    return float(min(0, math.ceil(x + 0.5)))


def _deviation_code(play: IndexPlay) -> str:
    """b as a config's deviation writes it: a double or surrender names its fallback."""
    a, b = play.actions
    if b == "D":
        return "Ds" if a == "S" else "Dh"
    if b == "R":
        return {"S": "Rs", "P": "Rp"}.get(a, "Rh")
    return b


def index_results(request: IndexRequest, total: IndexSums) -> dict[str, Any]:
    """The result document: `indices` (one object per play) and `deviations` (the plays
    that change within the counts reached, in a config's own format)."""
    indices: list[dict[str, Any]] = []
    deviations: list[dict[str, Any]] = []
    rounding = request.counting.true_count_rounding
    for p, play in enumerate(request.plays):
        c = curve(total.sums[p], total.centres)
        entry: dict[str, Any] = {
            "hand": play.hand,
            "vs": play.up,
            "actions": list(play.actions),
            "count": "running" if request.running else "true",
            "states": int(total.counters[p, ik.K_VALUED]),
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
        fit = fit_crossing(c) if c.x.shape[0] >= 3 else None
        lo = float(c.x.min()) if c.x.shape[0] else 0.0
        hi = float(c.x.max()) if c.x.shape[0] else 0.0
        if fit is None or not lo <= fit.root <= hi:
            # No window crosses zero inside the counts reached. That the play never changes
            # is claimed only when a line through all of them is on one side of zero at
            # both ends, each by 1.96 of its SE (so everywhere between); otherwise the run
            # was too short to tell.
            never = False
            whole = _wls(c.x, c.y, c.se)
            if whole is not None:
                (y_lo, se_lo), (y_hi, se_hi) = whole.value(lo), whole.value(hi)
                never = (y_lo > Z95 * se_lo and y_hi > Z95 * se_hi) or (
                    y_lo < -Z95 * se_lo and y_hi < -Z95 * se_hi
                )
            better = None
            if never:
                mean = float(np.sum(c.y / c.se**2) / np.sum(1 / c.se**2))
                better = play.actions[1] if mean > 0 else play.actions[0]
            entry.update(
                index=None,
                index_rounded=None,
                interval=None,
                when=None,
                never_changes=never,
                better=better,
                note=(
                    f"never changes within the counts reached ({lo:+.1f} .. {hi:+.1f})"
                    if never
                    else "no crossing resolved: deal more shoes"
                ),
            )
        else:
            half = Z95 * fit.se
            when = "at_or_above" if fit.slope > 0 else "below"
            entry.update(
                index=round(float(fit.root), 1),
                index_rounded=rounded_index(fit.root, rounding),
                interval=[round(float(fit.root - half), 2), round(float(fit.root + half), 2)],
                when=when,
                never_changes=False,
                better=None,
                note=None,
            )
            if play.kind == "insurance":
                deviations.append({"hand": "insurance", "index": entry["index_rounded"]})
            else:
                deviations.append(
                    {
                        "hand": play.hand,
                        "vs": play.up,
                        "index": entry["index_rounded"],
                        "action": _deviation_code(play),
                        "when": when,
                    }
                )
        indices.append(entry)
    return {"indices": indices, "deviations": deviations}


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
