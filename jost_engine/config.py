"""Every config dialect in, one typed, validated config out.

The dataclasses below are the engine's one internal shape of a simulation config: every
other module (strategy, exact, kernel, simulate) reads these and never the raw JSON.
`normalize_config` is the only place that knows JOST's dialects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jost_engine import profiles

# Canonical action codes of a chart cell. Each conditional code names its fallback, so a
# chart says exactly what to do when the first choice is not allowed:
#   Dh double if allowed, else hit;  Ds double if allowed, else stand;
#   Rh surrender if allowed, else hit;  Rs ... else stand;  Rp ... else split.
# JOST's own codes map onto these at the boundary: D -> Dh, R / Sr / u -> Rh.
ACTIONS: tuple[str, ...] = ("H", "S", "P", "Dh", "Ds", "Rh", "Rs", "Rp")

# Dealer up-card keys as charts write them; "10" stands for every ten-value card.
UP_CARDS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "A")
HARD_TOTALS: tuple[int, ...] = tuple(range(4, 22))  # 4 (2,2 that cannot split) .. 21
SOFT_TOTALS: tuple[int, ...] = tuple(range(12, 22))  # 12 (A,A that cannot split) .. 21
PAIR_KEYS: tuple[str, ...] = (
    "2,2",
    "3,3",
    "4,4",
    "5,5",
    "6,6",
    "7,7",
    "8,8",
    "9,9",
    "10,10",
    "A,A",
)

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
    dealer_peeks: bool  # False: European no hole card, doubles and splits lost to a blackjack


@dataclass(frozen=True)
class PlayingStrategy:
    """A chart, or `auto` (basic strategy computed for the rules of the run).

    Cells are canonical ACTIONS, keyed as charts are written:
    hard[str(total)][up], soft[str(total)][up], pairs["8,8"][up], with up in UP_CARDS.
    With `auto` the three grids are empty and strategy.py computes them.
    """

    name: str
    auto: bool
    hard: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    soft: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pairs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Insurance is a count decision, not a chart cell: take it when the true count is at
    # least this. None never insures (basic strategy); -inf always does.
    insurance_true_count: float | None = None


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


@dataclass(frozen=True)
class CountingSystem:
    """Tags for 2..9, 10, A (TAG_RANKS order); the true count divides by decks unseen."""

    name: str
    tags: tuple[int, ...]
    # The count a tag adds is tags[i] * tag_scale. Systems with half-point tags (Wong
    # Halves) store doubled integer tags and tag_scale 0.5, so the kernel sums integers.
    tag_scale: float = 1.0


@dataclass(frozen=True)
class Player:
    name: str
    bankroll: float
    playing: PlayingStrategy
    betting: BettingStrategy
    counting: CountingSystem


@dataclass(frozen=True)
class Config:
    rules: Rules
    players: tuple[Player, ...]  # in seat order
    num_rounds: int
    seed: int | None
    log_hands: bool


# Looks a named profile up: resolve(kind, name) -> the raw profile dict, or None if unknown.
# kind is one of "casino", "player", "playing_strategy", "betting_strategy", "counting_system".
Resolver = Callable[[str, str], "Mapping[str, Any] | None"]


# --------------------------------------------------------------------------------------
# Limits and defaults of the normalised config.
# --------------------------------------------------------------------------------------

# A job asks for at most 10^10 rounds: at the engine's target speed that is about half an
# hour of one core, far beyond what any statistic needs, and it keeps a typo such as a
# pasted 10^15 from queueing a job that would never end.
MAX_ROUNDS = 10**10
MAX_SEATS = 7  # spots at one table, over all its players
MAX_DECKS = 8
MAX_SPLIT_HANDS = 8
MAX_NAME_LENGTH = 100

# Fields that JOST's data and clients carry but that do not change a simulation: they are
# accepted and dropped wherever they appear, rather than rejected as unknown.
IGNORED_FIELDS = frozenset(
    {
        "description",
        "notes",
        "title",
        "id",
        "is_default",
        "is_custom",
        "created_at",
        "updated_at",
        "simulation_name",
        "version",
    }
)

# A missing `counting_strategy` counts Hi-Lo; a missing playing strategy is basic strategy
# computed for the rules ("auto"); a missing betting strategy bets min_bet flat.
DEFAULT_COUNTING = "hilo"
DEFAULT_MIN_BET = 10.0
DEFAULT_BANKROLL = 1000.0  # JOST's own default bankroll

_INF = float("inf")
FLAT_RAMP: tuple[tuple[float, float], ...] = ((-_INF, 1.0),)

# Bet-strategy class names from JOST's code that a profile may carry as its `name`.
_FLAT_CLASS = "FlatBettingStrategy"
_RAMP_CLASSES = frozenset({"RampBettingStrategy", "TrueCountBettingStrategy"})

_MISSING: Any = object()
_BAD: Any = object()  # a value that failed its check; the problem is already recorded


# --------------------------------------------------------------------------------------
# Problem collection and JSON paths.
# --------------------------------------------------------------------------------------


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _entry(path: str, key: object) -> str:
    # Map keys (ramp thresholds, chart rows, up cards, ranks) are data, not field names:
    # quote them so `bet_ramp["x"]` reads as the key the user wrote.
    return f"{path}[{_json_key(key)}]"


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _json_key(key: object) -> str:
    return '"' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append((path or "(config)", reason))


class _Fields:
    """The fields of one object: each value with the JSON path it came from.

    Taking a field marks it known; `finish` reports every field never taken (and not
    in IGNORED_FIELDS) as unknown, so a misspelt rule is never silently dropped.
    """

    def __init__(self, entries: dict[str, tuple[Any, str]], path: str, problems: _Problems):
        self.entries = entries
        self.path = path
        self.problems = problems
        self.known: set[str] = set(IGNORED_FIELDS)

    def has(self, name: str) -> bool:
        return name in self.entries

    def path_of(self, name: str) -> str:
        return self.entries[name][1] if name in self.entries else _field(self.path, name)

    def take(self, name: str) -> Any:
        self.known.add(name)
        return self.entries[name][0] if name in self.entries else _MISSING

    def take_one(
        self, names: tuple[str, ...], check: Callable[[Any, str], Any], default: Any
    ) -> Any:
        """The checked value of whichever alias is given; aliases given twice must agree."""
        chosen: Any = _MISSING
        chosen_name = ""
        for name in names:
            raw = self.take(name)
            if raw is _MISSING:
                continue
            value = check(raw, self.path_of(name))
            if value is _BAD:
                chosen = _BAD
            elif chosen is _MISSING:
                chosen, chosen_name = value, name
            elif chosen is not _BAD and value != chosen:
                self.problems.add(self.path_of(name), f"contradicts {chosen_name}")
        if chosen is _MISSING:
            return default
        return chosen

    def finish(self) -> None:
        for name, (_, path) in self.entries.items():
            if name not in self.known:
                self.problems.add(path, "unknown field")


def _plain_entries(raw: Mapping[str, Any], path: str) -> dict[str, tuple[Any, str]]:
    return {str(k): (v, _field(path, str(k))) for k, v in raw.items()}


# --------------------------------------------------------------------------------------
# Scalar checks. Each returns the clean value, or _BAD after recording why.
# --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    # bool is an int in Python but `true` is never a number in a config.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _checker(problems: _Problems):
    """The scalar checks, bound to one problem list."""

    def boolean(value: Any, path: str) -> Any:
        if isinstance(value, bool):
            return value
        problems.add(path, "not true or false")
        return _BAD

    def integer(low: int, high: int) -> Callable[[Any, str], Any]:
        def check(value: Any, path: str) -> Any:
            if not _is_number(value) or value != int(value):
                problems.add(path, "not a whole number")
                return _BAD
            if not low <= int(value) <= high:
                problems.add(path, f"must be {low}..{high}, got {int(value)}")
                return _BAD
            return int(value)

        return check

    def positive(value: Any, path: str) -> Any:
        if not _is_number(value):
            problems.add(path, "not a number")
            return _BAD
        if value <= 0:
            problems.add(path, f"must be more than 0, got {value}")
            return _BAD
        return float(value)

    def name(value: Any, path: str) -> Any:
        if not isinstance(value, str) or not value.strip():
            problems.add(path, "not a non-empty string")
            return _BAD
        if len(value) > MAX_NAME_LENGTH:
            problems.add(path, f"longer than {MAX_NAME_LENGTH} characters")
            return _BAD
        return value.strip()

    return boolean, integer, positive, name


# --------------------------------------------------------------------------------------
# Profiles by name, inline, and overlaid on a parent.
# --------------------------------------------------------------------------------------


class _Context:
    def __init__(self, resolve: Resolver | None, problems: _Problems) -> None:
        self.resolve = resolve
        self.problems = problems
        self.boolean, self.integer, self.positive, self.name = _checker(problems)

    def lookup(self, kind: str, name: str, path: str) -> Mapping[str, Any] | None:
        # The caller's own profiles (the service's saved ones) shadow the shipped ones.
        found: Any = None
        if self.resolve is not None:
            found = self.resolve(kind, name)
        if found is None:
            found = profiles.default_profile(kind, name)
        if found is None:
            available = ", ".join(profiles.default_names(kind)) or "none"
            saved = " or one of your saved profiles" if self.resolve is not None else ""
            label = kind.replace("_", " ")
            self.problems.add(path, f"unknown {label} {name!r}; available: {available}{saved}")
            return None
        if not isinstance(found, Mapping):
            self.problems.add(path, f"{kind.replace('_', ' ')} {name!r} is not an object")
            return None
        return found

    def flatten(
        self,
        kind: str,
        raw: Any,
        path: str,
        links: tuple[str, ...] = ("parent",),
        seen: tuple[str, ...] = (),
    ) -> tuple[dict[str, tuple[Any, str]], str | None] | None:
        """A profile given by name or inline, with its parent chain overlaid.

        Returns (fields with the path each came from, the name it was looked up by), or
        None when it cannot be found. The child's fields win over its parent's.
        """
        looked_up: str | None = None
        if isinstance(raw, str):
            if raw in seen:
                chain = " -> ".join((*seen, raw))
                self.problems.add(path, f"profile cycle: {chain}")
                return None
            found = self.lookup(kind, raw, path)
            if found is None:
                return None
            looked_up, data, seen = raw, found, (*seen, raw)
        elif isinstance(raw, Mapping):
            data = raw
        else:
            self.problems.add(path, "expected a profile name or an object")
            return None

        entries: dict[str, tuple[Any, str]] = {}
        own = _plain_entries(data, path)
        for link in links:
            if link not in own:
                continue
            parent_raw = own.pop(link)[0]
            parent = self.flatten(kind, parent_raw, _field(path, link), links, seen)
            if parent is not None:
                for key, (value, _) in parent[0].items():
                    # Inherited fields are reported at the child's path: that is where
                    # the user can override them.
                    entries[key] = (value, _field(path, key))
        entries.update(own)
        return entries, looked_up


# --------------------------------------------------------------------------------------
# Casino rules.
# --------------------------------------------------------------------------------------


def _payout(value: Any, path: str, problems: _Problems) -> Any:
    # 1.5, "3:2", "3/2", "6:5", "1:1", "1.2" all name a blackjack payout.
    number: float | None = None
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)", text)
        if match and float(match.group(2)) > 0:
            number = float(match.group(1)) / float(match.group(2))
        else:
            try:
                number = float(text)
            except ValueError:
                number = None
    if number is None or not math.isfinite(number):
        problems.add(path, 'not a payout (use 1.5, "3:2", "6:5" or "1:1")')
        return _BAD
    if not 0 < number <= 3:
        problems.add(path, f"must be more than 0 and at most 3 (3:1), got {number:g}")
        return _BAD
    return number


def _penetration(value: Any, path: str, problems: _Problems) -> Any:
    # JOST wrote 75 and 0.75 for the same cut card: a value above 1 is a percentage.
    if not _is_number(value):
        problems.add(path, "not a number")
        return _BAD
    fraction = value / 100 if value > 1 else float(value)
    if not 0 < fraction < 1:
        problems.add(path, f"must be between 0 and 1 (or 0 and 100 percent), got {value}")
        return _BAD
    return fraction


def _decks(value: Any, path: str, problems: _Problems) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"infinite", "inf", "infinity"}:
        return 0
    if not _is_number(value) or value != int(value):
        problems.add(path, 'not a whole number of decks (or "infinite")')
        return _BAD
    if not 0 <= int(value) <= MAX_DECKS:
        problems.add(path, f"must be 1..{MAX_DECKS}, or 0 for an infinite shoe, got {int(value)}")
        return _BAD
    return int(value)


def _double_totals(value: Any, path: str, problems: _Problems) -> Any:
    # ["any"] -> None (any two cards); [9, 10, 11], ["9-11"], "10-11" -> those totals.
    items = value if isinstance(value, list) else [value]
    if not items:
        problems.add(path, 'empty: give ["any"] or a list of totals such as [9, 10, 11]')
        return _BAD
    totals: set[int] = set()
    bad = False
    for i, item in enumerate(items):
        item_path = _index(path, i) if isinstance(value, list) else path
        if isinstance(item, str) and item.strip().lower() in {"any", "any2", "any_two"}:
            return None
        span = _total_span(item, 4, 21)
        if span is None:
            problems.add(item_path, 'not "any", a total 4..21 or a range such as "9-11"')
            bad = True
        else:
            totals.update(span)
    return _BAD if bad else tuple(sorted(totals))


def _total_span(item: Any, low: int, high: int) -> list[int] | None:
    """[n] for a total n, [a..b] for "a-b"; None if it is neither or out of low..high."""
    if _is_number(item) and item == int(item):
        start = end = int(item)
    elif isinstance(item, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not match:
            return None
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
    else:
        return None
    if not low <= start <= end <= high:
        return None
    return list(range(start, end + 1))


def _rules(raw: Any, path: str, ctx: _Context) -> Rules:
    """A casino, by name or inline, flat or with its rules nested under `rules`.

    Defaults for omitted rules: 6 decks, dealer stands on soft 17, double on any two
    cards, double after split, split to 4 hands, no resplitting aces, split aces get one
    card, no surrender, blackjack pays 3:2, 75% penetration, insurance offered, dealer
    peeks for blackjack. Both spellings of a rule may be given only if they agree.
    """
    flat = ctx.flatten("casino", raw, path)
    entries, looked_up = flat if flat is not None else ({}, None)
    if "rules" in entries:
        nested, nested_path = entries.pop("rules")
        if isinstance(nested, Mapping):
            for key, value in _plain_entries(nested, nested_path).items():
                if key in entries and entries[key][0] != value[0]:
                    ctx.problems.add(value[1], f"contradicts {entries[key][1]}")
                entries[key] = value
        else:
            ctx.problems.add(nested_path, "not an object")
    f = _Fields(entries, path, ctx.problems)
    p = ctx.problems

    name = f.take_one(("name",), ctx.name, looked_up or "custom casino")
    decks = f.take_one(("deck_count", "decks", "num_decks"), lambda v, at: _decks(v, at, p), 6)
    hits = f.take_one(("hit_on_soft_17", "dealer_hits_soft_17"), ctx.boolean, _MISSING)
    stands = f.take_one(("dealer_stands_on_soft_17",), ctx.boolean, _MISSING)
    if (
        hits is not _MISSING
        and stands is not _MISSING
        and _BAD not in (hits, stands)
        and hits == stands
    ):
        p.add(
            f.path_of("dealer_stands_on_soft_17"),
            "contradicts hit_on_soft_17 (the dealer cannot both hit and stand on soft 17)",
        )
    if hits is _MISSING:
        hits = (not stands) if stands not in (_MISSING, _BAD) else False
    das = f.take_one(("DAS", "allow_double_after_split", "double_after_split"), ctx.boolean, True)

    restricted = f.take_one(
        ("double_down_restrictions",), lambda v, at: _double_totals(v, at, p), _MISSING
    )
    any_two = f.take_one(("allow_double_on_any_two",), ctx.boolean, _MISSING)
    if restricted is _MISSING:
        # JOST's boolean says only "any two or not"; not-any is taken as the common
        # restricted rule, doubling on 9, 10 and 11 only.
        double_totals = (9, 10, 11) if any_two is False else None
    else:
        double_totals = restricted
        if (
            any_two is not _MISSING
            and any_two is not _BAD
            and restricted is not _BAD
            and any_two != (restricted is None)
        ):
            p.add(f.path_of("allow_double_on_any_two"), "contradicts double_down_restrictions")

    split_hands = f.take_one(
        ("allow_resplit_to_hands", "max_split_hands"), ctx.integer(1, MAX_SPLIT_HANDS), 4
    )
    resplit_aces = f.take_one(("allow_resplit_aces", "resplit_aces"), ctx.boolean, False)
    hit_split_aces = f.take_one(("hit_split_aces",), ctx.boolean, False)
    late = f.take_one(("allow_late_surrender", "late_surrender"), ctx.boolean, False)
    early = f.take_one(("allow_early_surrender", "early_surrender"), ctx.boolean, False)
    payout = f.take_one(("blackjack_payout",), lambda v, at: _payout(v, at, p), 1.5)
    penetration = f.take_one(
        ("reshuffle_penetration", "penetration"), lambda v, at: _penetration(v, at, p), 0.75
    )
    insurance = f.take_one(("offer_insurance",), ctx.boolean, True)
    peeks = f.take_one(("dealer_checks_for_blackjack", "dealer_peeks"), ctx.boolean, True)
    f.finish()
    return Rules(
        name=name,
        decks=decks,
        hit_soft_17=hits,
        double_totals=double_totals,
        double_after_split=das,
        max_split_hands=split_hands,
        resplit_aces=resplit_aces,
        hit_split_aces=hit_split_aces,
        late_surrender=late,
        early_surrender=early,
        blackjack_payout=payout,
        penetration=penetration,
        offer_insurance=insurance,
        dealer_peeks=peeks,
    )


# --------------------------------------------------------------------------------------
# Playing strategies: "auto", or a chart as a full grid or with range keys.
# --------------------------------------------------------------------------------------

_ACTION_SPELLINGS: dict[str, str] = {
    "h": "H",
    "hit": "H",
    "s": "S",
    "stand": "S",
    "p": "P",
    "sp": "P",
    "split": "P",
    "d": "Dh",
    "dh": "Dh",
    "double": "Dh",
    "ds": "Ds",
    # JOST spelt surrender R, Sr or u; each means "surrender if allowed, else hit".
    "r": "Rh",
    "sr": "Rh",
    "u": "Rh",
    "rh": "Rh",
    "surrender": "Rh",
    "rs": "Rs",
    "rp": "Rp",
}
_SPLIT_ACTIONS = frozenset({"P", "Rp"})

_UP_SPELLINGS: dict[str, str] = {
    **{str(n): str(n) for n in range(2, 11)},
    "t": "10",
    "j": "10",
    "q": "10",
    "k": "10",
    # Charts write the dealer's ace as A, 11 (range keys such as "2-11") or 1.
    "a": "A",
    "11": "A",
    "1": "A",
    "ace": "A",
}
_RANKS: dict[str, str] = {**_UP_SPELLINGS}


# Rows a chart may leave out, and what they are filled with: the documented fallback of
# a partial chart. Hard 17+ and soft 19+ stand, everything else hits (soft 12 is a pair
# of aces that cannot be split); a pair row missing is played as its total, so 8,8 and
# A,A are not assumed to split.
def _default_hard(total: int) -> str:
    return "S" if total >= 17 else "H"


def _default_soft(total: int) -> str:
    return "S" if total >= 19 else "H"


_PAIR_AS_TOTAL: dict[str, tuple[str, str]] = {
    **{f"{n},{n}": ("hard", str(2 * n)) for n in range(2, 11)},
    "A,A": ("soft", "12"),
}


def _up_span(key: str) -> list[str] | None:
    """Up cards named by a key: "7", "T", "A", "11", or a range "2-6", "7-A", "2-11"."""
    parts = [part.strip().lower() for part in str(key).split("-")]
    if len(parts) == 1:
        up = _UP_SPELLINGS.get(parts[0])
        return [up] if up else None
    if len(parts) != 2 or parts[0] not in _UP_SPELLINGS or parts[1] not in _UP_SPELLINGS:
        return None
    start = UP_CARDS.index(_UP_SPELLINGS[parts[0]])
    end = UP_CARDS.index(_UP_SPELLINGS[parts[1]])
    return list(UP_CARDS[start : end + 1]) if start <= end else None


def _rank(text: str) -> str | None:
    return _RANKS.get(text.strip().lower())


def _row_span(table: str, key: str) -> list[str] | None:
    """Canonical row keys named by a chart's row key, or None if it names none."""
    text = str(key).strip()
    if table == "hard":
        span = _total_span(text, HARD_TOTALS[0], HARD_TOTALS[-1])
        return [str(t) for t in span] if span else None
    if table == "soft":
        span = _total_span(text, SOFT_TOTALS[0], SOFT_TOTALS[-1])
        if span:
            return [str(t) for t in span]
        # "A,7" / "A7": an ace and a 7 is soft 18.
        match = re.fullmatch(r"[Aa]\s*,?\s*(\w+)", text)
        other = _rank(match.group(1)) if match else None
        if other is None:
            return None
        return ["12" if other == "A" else str(11 + int(other))]
    if table == "soft_totals":
        # JOST_ENGINE's soft_totals rows are keyed by the card beside the ace.
        other = _rank(text)
        if other is None or other == "10":
            return _row_span("soft", text)
        return ["12" if other == "A" else str(11 + int(other))]
    # Pairs: "8,8", "88", "8", "T,T", "TT", "10,10", "A,A", "AA".
    if "," in text:
        halves = [_rank(part) for part in text.split(",")]
        same = len(halves) == 2 and halves[0] is not None and halves[0] == halves[1]
        return [f"{halves[0]},{halves[0]}"] if same else None
    rank = _rank(text)
    if rank is None and len(text) == 2 and text[0] == text[1]:
        rank = _rank(text[0])
    return [f"{rank},{rank}"] if rank else None


def _action(value: Any, table: str, path: str, problems: _Problems) -> str | None:
    code = _ACTION_SPELLINGS.get(value.strip().lower()) if isinstance(value, str) else None
    if code is None:
        problems.add(
            path, f"not an action: use H, S, D, P or R (Sr, u), or one of {', '.join(ACTIONS)}"
        )
        return None
    if code in _SPLIT_ACTIONS and table != "pairs":
        problems.add(path, f"{code} (split) is only for pairs")
        return None
    return code


def _chart_table(raw: Any, table: str, path: str, problems: _Problems) -> dict[str, dict[str, str]]:
    """The rows a chart gives for one table, each complete, keyed canonically."""
    canonical = "soft" if table == "soft_totals" else table
    if not isinstance(raw, Mapping):
        problems.add(path, "not an object of rows")
        return {}
    rows: dict[str, dict[str, str]] = {}
    first_path: dict[str, str] = {}
    for row_key, cells in raw.items():
        row_path = _entry(path, row_key)
        span = _row_span(table, row_key)
        if span is None:
            what = {
                "hard": 'a hard total 4..21 or a range such as "5-8"',
                "soft": 'a soft total 12..21, a range or "A,7"',
                "soft_totals": "the card beside the ace, 2..9 or A",
                "pairs": 'a pair such as "8,8", "T,T" or "A,A"',
            }[table]
            problems.add(row_path, f"not {what}")
            continue
        # A row given as one action plays it against every up card ("17-21": "S").
        if isinstance(cells, str):
            cells = {"2-A": cells}
        if not isinstance(cells, Mapping):
            problems.add(row_path, "not an object of up cards")
            continue
        for up_key, value in cells.items():
            cell_path = _entry(row_path, up_key)
            ups = _up_span(up_key)
            if ups is None:
                problems.add(
                    cell_path, 'not a dealer up card 2..10, A (11) or a range such as "2-6"'
                )
                continue
            code = _action(value, canonical, cell_path, problems)
            if code is None:
                continue
            for row in span:
                first_path.setdefault(row, row_path)
                row_cells = rows.setdefault(row, {})
                for up in ups:
                    if row_cells.get(up, code) != code:
                        problems.add(
                            cell_path,
                            f"{canonical} {row} against {up} is given twice "
                            f"({row_cells[up]} and {code})",
                        )
                    row_cells[up] = code
    for row, row_cells in rows.items():
        missing = [up for up in UP_CARDS if up not in row_cells]
        if missing:
            problems.add(first_path[row], f"{canonical} {row} misses up cards {', '.join(missing)}")
    return {row: {up: row_cells.get(up, "H") for up in UP_CARDS} for row, row_cells in rows.items()}


def _complete_chart(
    given: dict[str, dict[str, dict[str, str]]],
) -> dict[str, dict[str, dict[str, str]]]:
    hard = {
        str(t): given["hard"].get(str(t)) or {up: _default_hard(t) for up in UP_CARDS}
        for t in HARD_TOTALS
    }
    soft = {
        str(t): given["soft"].get(str(t)) or {up: _default_soft(t) for up in UP_CARDS}
        for t in SOFT_TOTALS
    }
    totals = {"hard": hard, "soft": soft}
    pairs = {}
    for key in PAIR_KEYS:
        if key in given["pairs"]:
            pairs[key] = given["pairs"][key]
        else:
            table, total = _PAIR_AS_TOTAL[key]
            pairs[key] = dict(totals[table][total])
    return {"hard": hard, "soft": soft, "pairs": pairs}


# What an unusable playing strategy becomes while its problems are collected; never run.
_INVALID_CHART = PlayingStrategy(name="invalid", auto=True)


def _playing(raw: Any, path: str, ctx: _Context, seen: tuple[str, ...] = ()) -> PlayingStrategy:
    """ "auto", a name, or an object with a chart (`strategy: {hard, soft, pairs}`, the
    same three tables at top level, or JOST_ENGINE's `hard_totals`/`soft_totals`), or
    `{"strategy": "auto"}` / `{"auto": true}`.

    A `parent` chart is overlaid row by row: the child's rows replace the parent's rows of
    the same hand and every other row stays the parent's, so a child that changes 16 vs 10
    still splits its eights. (A whole-field overlay would drop the parent's chart.)
    """
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return PlayingStrategy(name="auto", auto=True)
    placeholder = _INVALID_CHART
    if isinstance(raw, str) and raw in seen:
        ctx.problems.add(path, f"profile cycle: {' -> '.join((*seen, raw))}")
        return placeholder
    flat = ctx.flatten("playing_strategy", raw, path, links=(), seen=seen)
    if flat is None:
        return placeholder
    entries, looked_up = flat
    parent: PlayingStrategy | None = None
    if "parent" in entries:
        parent_raw, parent_path = entries.pop("parent")
        parent = _playing(parent_raw, parent_path, ctx, (*seen, looked_up) if looked_up else seen)
        if parent is _INVALID_CHART:
            parent = None
    if "strategy" in entries and isinstance(entries["strategy"][0], Mapping):
        # JOST nests the chart under `strategy`; lift its tables beside the others.
        nested, nested_path = entries.pop("strategy")
        for key, value in _plain_entries(nested, nested_path).items():
            if key in entries:
                ctx.problems.add(value[1], f"also given at {entries[key][1]}")
            entries[key] = value
    f = _Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), ctx.name, looked_up)
    auto = f.take_one(("auto",), ctx.boolean, None)
    insurance = f.take_one(("insurance", "take_insurance"), _insurance(ctx.problems), _MISSING)
    strategy = f.take("strategy")
    if strategy is not _MISSING:
        if isinstance(strategy, str) and strategy.strip().lower() == "auto":
            auto = True
        else:
            ctx.problems.add(f.path_of("strategy"), 'not "auto" or a chart object')
    tables: dict[str, dict[str, dict[str, str]]] = {"hard": {}, "soft": {}, "pairs": {}}
    given = False
    for table in ("hard", "hard_totals", "soft", "soft_totals", "pairs"):
        value = f.take(table)
        if value is _MISSING:
            continue
        given = True
        parsed = _chart_table(
            value, "hard" if table == "hard_totals" else table, f.path_of(table), ctx.problems
        )
        target = tables[table.removesuffix("_totals")]
        for row, cells in parsed.items():
            if row in target and target[row] != cells:
                ctx.problems.add(f.path_of(table), f"row {row} is also given in another table")
            target[row] = cells
    f.finish()

    if name in (None, _BAD):
        name = parent.name if parent is not None else None
    if insurance is _MISSING:
        insurance = parent.insurance_true_count if parent is not None else None
    insurance = None if insurance is _BAD else insurance
    if auto is None:
        auto = parent.auto if parent is not None and not given else False
    if auto is True:
        if given:
            ctx.problems.add(path, "an auto strategy takes no chart")
        return PlayingStrategy(name=name or "auto", auto=True, insurance_true_count=insurance)
    if parent is not None and not parent.auto:
        for table in ("hard", "soft", "pairs"):
            tables[table] = {**getattr(parent, table), **tables[table]}
        given = True
    elif parent is not None and given:
        ctx.problems.add(path, "rows cannot overlay an auto parent: give a whole chart")
        return placeholder
    if not given:
        ctx.problems.add(path, 'no chart: give strategy.hard/soft/pairs, or "auto"')
        return placeholder
    chart = _complete_chart(tables)
    return PlayingStrategy(
        name=name or "custom chart",
        auto=False,
        hard=chart["hard"],
        soft=chart["soft"],
        pairs=chart["pairs"],
        insurance_true_count=insurance,
    )


def _insurance(problems: _Problems) -> Callable[[Any, str], Any]:
    """`insurance`: "never" (the default, basic strategy), "always", or the true count at
    or above which the player insures (Hi-Lo's index is +3)."""

    def check(value: Any, path: str) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"never", "always"}:
            return None if value.strip().lower() == "never" else -_INF
        if _is_number(value) and math.isfinite(value):
            return float(value)
        problems.add(path, 'not "never", "always" or a true count')
        return _BAD

    return check


# --------------------------------------------------------------------------------------
# Betting strategies.
# --------------------------------------------------------------------------------------


def _threshold(key: Any, path: str, problems: _Problems) -> Any:
    # Thresholds are true counts: 2, 2.5, "2", "-Infinity" (JSON has no -inf literal).
    number: float | None = None
    if _is_number(key):
        number = float(key)
    elif isinstance(key, str):
        text = key.strip()
        if text.lower() in {"-infinity", "-inf"}:
            return -_INF
        try:
            number = float(text)
        except ValueError:
            number = None
    if number is None or math.isnan(number):
        problems.add(path, "not a number")
        return _BAD
    if not math.isfinite(number):
        problems.add(path, 'only "-Infinity" may be infinite')
        return _BAD
    return number


def _ramp(raw: Any, path: str, ctx: _Context) -> Any:
    """(threshold, multiplier) tiers, sorted, starting at -inf.

    Below the lowest threshold given the bet is min_bet itself (multiplier 1.0), so a
    ramp that starts at +1 bets one unit at every count under +1.
    """
    p = ctx.problems
    pairs: list[tuple[Any, Any, str]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            at = _entry(path, key)
            pairs.append((_threshold(key, at, p), ctx.positive(value, at), at))
    elif isinstance(raw, list):
        for i, tier in enumerate(raw):
            at = _index(path, i)
            if not isinstance(tier, Mapping):
                p.add(at, 'not a {"count_threshold", "bet_multiplier"} object')
                continue
            f = _Fields(_plain_entries(tier, at), at, p)
            threshold = f.take("count_threshold")
            multiplier = f.take("bet_multiplier")
            for field_name, value in (
                ("count_threshold", threshold),
                ("bet_multiplier", multiplier),
            ):
                if value is _MISSING:
                    p.add(_field(at, field_name), "required")
            f.finish()
            if threshold is _MISSING or multiplier is _MISSING:
                continue
            pairs.append(
                (
                    _threshold(threshold, f.path_of("count_threshold"), p),
                    ctx.positive(multiplier, f.path_of("bet_multiplier")),
                    at,
                )
            )
    else:
        p.add(
            path, 'not an object of thresholds or a list of {"count_threshold", "bet_multiplier"}'
        )
        return _BAD
    tiers: dict[float, float] = {}
    bad = False
    for threshold, multiplier, at in pairs:
        if threshold is _BAD or multiplier is _BAD:
            bad = True
            continue
        if threshold in tiers:
            p.add(at, f"threshold {threshold:g} is given twice")
            bad = True
        tiers[threshold] = multiplier
    if bad:
        return _BAD
    if -_INF not in tiers:
        tiers[-_INF] = 1.0
    return tuple(sorted(tiers.items()))


def _betting(raw: Any, path: str, ctx: _Context) -> BettingStrategy:
    """A betting strategy by name or inline, optionally overlaying a `parent`.

    Fields: `min_bet` (> 0, default 10; JOST's older `base_bet` too), `num_hands` (spots,
    1..7, default 1), `bet_ramp` (absent: flat). JOST's class form
    `{"name": "FlatBettingStrategy", "params": {"bet_amount": 100}}` is a flat bet.
    """
    placeholder = BettingStrategy(
        name="invalid", min_bet=DEFAULT_MIN_BET, num_hands=1, ramp=FLAT_RAMP
    )
    flat = ctx.flatten("betting_strategy", raw, path)
    if flat is None:
        return placeholder
    entries, looked_up = flat
    if "params" in entries:
        params, params_path = entries.pop("params")
        if isinstance(params, Mapping):
            renamed = {"bet_amount": "min_bet", "ramp": "bet_ramp"}
            for key, value in _plain_entries(params, params_path).items():
                target = renamed.get(key, key)
                if target in entries:
                    ctx.problems.add(value[1], f"also given at {entries[target][1]}")
                entries[target] = value
        else:
            ctx.problems.add(params_path, "not an object")
    f = _Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), ctx.name, looked_up or "custom betting")
    is_flat = name == _FLAT_CLASS
    if name == _FLAT_CLASS or name in _RAMP_CLASSES:
        # A class name says how to bet, not what the profile is called.
        name = looked_up or ("flat" if is_flat else "ramp")
    min_bet = f.take_one(("min_bet", "base_bet"), ctx.positive, DEFAULT_MIN_BET)
    num_hands = f.take_one(("num_hands", "spots"), ctx.integer(1, MAX_SEATS), 1)
    ramp: Any = FLAT_RAMP
    ramp_raw = f.take("bet_ramp")
    if ramp_raw is not _MISSING:
        if is_flat:
            ctx.problems.add(f.path_of("bet_ramp"), f"a {_FLAT_CLASS} has no ramp")
        else:
            ramp = _ramp(ramp_raw, f.path_of("bet_ramp"), ctx)
    f.finish()
    if _BAD in (name, min_bet, num_hands, ramp):
        return placeholder
    return BettingStrategy(name=name, min_bet=min_bet, num_hands=num_hands, ramp=ramp)


# --------------------------------------------------------------------------------------
# Counting systems.
# --------------------------------------------------------------------------------------


def _tags(raw: Any, path: str, problems: _Problems) -> Any:
    """Tags in TAG_RANKS order from a dict by rank (T/J/Q/K must agree with 10) or a list."""
    values: dict[str, tuple[Any, str]] = {}
    if isinstance(raw, list):
        if len(raw) != len(TAG_RANKS):
            problems.add(
                path, f"a list of tags has {len(TAG_RANKS)} entries (2..9, 10, A), got {len(raw)}"
            )
            return _BAD
        values = {rank: (raw[i], _index(path, i)) for i, rank in enumerate(TAG_RANKS)}
    elif isinstance(raw, Mapping):
        for key, value in raw.items():
            at = _entry(path, key)
            rank = _rank(str(key))
            if rank is None:
                problems.add(at, "not a rank 2..9, 10 (T, J, Q, K) or A")
                continue
            if rank in values and values[rank][0] != value:
                problems.add(at, f"disagrees with {values[rank][1]}")
                continue
            values[rank] = (value, at)
        missing = [rank for rank in TAG_RANKS if rank not in values]
        if missing:
            problems.add(path, f"misses ranks {', '.join(missing)}")
            return _BAD
    else:
        problems.add(path, "not an object by rank or a list of 10 tags")
        return _BAD
    tags: list[float] = []
    for rank in TAG_RANKS:
        value, at = values[rank]
        if not _is_number(value) or abs(value) > 10:
            problems.add(at, "not a number between -10 and 10")
            return _BAD
        tags.append(float(value))
    return tuple(tags)


def _counting(raw: Any, path: str, ctx: _Context) -> CountingSystem:
    """A counting system by name ("hilo", "Hi-Lo", "ko", ...) or `{"name", "tags"}`.

    Half-point tags (Wong Halves) are stored doubled with `tag_scale` 0.5; tags in other
    fractions are refused, since the kernel keeps the running count as an integer.
    """
    placeholder = CountingSystem(name="invalid", tags=(0,) * len(TAG_RANKS))
    flat = ctx.flatten("counting_system", raw, path)
    if flat is None:
        return placeholder
    entries, looked_up = flat
    f = _Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), ctx.name, looked_up or "custom count")
    scale = f.take_one(("tag_scale",), ctx.positive, 1.0)
    tags_raw = f.take("tags")
    f.finish()
    if tags_raw is _MISSING:
        ctx.problems.add(_field(path, "tags"), "required")
        return placeholder
    tags = _tags(tags_raw, f.path_of("tags"), ctx.problems)
    if _BAD in (name, scale, tags):
        return placeholder
    if any(t != int(t) for t in tags):
        if any(2 * t != int(2 * t) for t in tags):
            ctx.problems.add(f.path_of("tags"), "tags must be whole or half numbers")
            return placeholder
        tags = tuple(2 * t for t in tags)
        scale = scale / 2
    return CountingSystem(name=name, tags=tuple(int(t) for t in tags), tag_scale=scale)


# --------------------------------------------------------------------------------------
# Players and the whole config.
# --------------------------------------------------------------------------------------


def _player(
    raw: Any, path: str, ctx: _Context, extra: dict[str, tuple[Any, str]] | None = None
) -> tuple[Player, str | None, bool]:
    """A player by name, inline, or `{"profile": <player>, ...overrides}`.

    `extra` adds fields found elsewhere (the single-player form keeps the strategies
    beside the player). Returns the player, its name if one was given or inherited
    (None: to be numbered), and whether the name was written on this player itself.
    """
    flat = ctx.flatten("player", raw, path, links=("profile", "parent"))
    entries, looked_up = flat if flat is not None else ({}, None)
    entries.update(extra or {})
    f = _Fields(entries, path, ctx.problems)
    own_name = isinstance(raw, Mapping) and "name" in raw
    name = f.take_one(("name",), ctx.name, looked_up)
    bankroll = f.take_one(("bankroll",), ctx.positive, DEFAULT_BANKROLL)
    # A strategy slot left null (as form-built clients send it) takes its default.
    playing_raw = f.take("playing_strategy")
    betting_raw = f.take("betting_strategy")
    counting_raw = f.take_one(("counting_strategy", "counting_system"), lambda v, at: v, _MISSING)
    f.finish()
    playing = _playing(
        "auto" if playing_raw in (_MISSING, None) else playing_raw,
        f.path_of("playing_strategy"),
        ctx,
    )
    betting = _betting(
        {} if betting_raw in (_MISSING, None) else betting_raw, f.path_of("betting_strategy"), ctx
    )
    counting_path = f.path_of(
        "counting_system"
        if f.has("counting_system") and not f.has("counting_strategy")
        else "counting_strategy"
    )
    counting = _counting(
        DEFAULT_COUNTING if counting_raw in (_MISSING, None) else counting_raw, counting_path, ctx
    )
    player = Player(
        name=name if isinstance(name, str) else "",
        bankroll=bankroll if bankroll is not _BAD else DEFAULT_BANKROLL,
        playing=playing,
        betting=betting,
        counting=counting,
    )
    return player, (name if isinstance(name, str) else None), own_name


def _name_players(
    found: list[tuple[Player, str | None, bool]], problems: _Problems
) -> list[Player]:
    """Seat names: a name written twice is an error; one inherited twice from the same
    profile is numbered ("master_player", "master_player #2"); none is "Player <seat>"."""
    players: list[Player] = []
    taken: dict[str, int] = {}
    explicit = {name for _, name, own in found if own and name}
    for seat, (player, name, own) in enumerate(found):
        if name is None:
            name = f"Player {seat + 1}"
        if name in taken and own:
            problems.add(
                _field(_index("players", seat), "name"),
                f"duplicate name {name!r}, already players[{taken[name]}]",
            )
        elif name in taken or (not own and name in explicit):
            base, n = name, 2
            while f"{base} #{n}" in taken or f"{base} #{n}" in explicit:
                n += 1
            name = f"{base} #{n}"
        taken.setdefault(name, seat)
        players.append(
            Player(
                name=name,
                bankroll=player.bankroll,
                playing=player.playing,
                betting=player.betting,
                counting=player.counting,
            )
        )
    return players


def _seed(value: Any, path: str, problems: _Problems) -> Any:
    if value is None:
        return None
    if not _is_number(value) or value != int(value) or not 0 <= int(value) < 2**63:
        problems.add(path, "not a whole number 0 .. 2^63-1, or null")
        return _BAD
    return int(value)


def normalize_config(raw: Any, resolve: Resolver | None = None) -> Config:
    """Turn any JOST dialect into a validated Config, or raise ConfigError naming every fault.

    Top level: `casino` and `players` (profiles by name or inline; at most 7 spots in
    all; or JOST's single-player task form, `player` with `strategy`, `betting_strategy`
    and `iterations` beside it), `num_rounds` (1 .. 10^10; JOST's `iterations` too),
    `seed` (0 .. 2^63-1 or null, default null), the
    hand-history flag as `log_each_hand`, `include_hand_history` or `log_hands` (default
    false). A name resolves through `resolve(kind, name)` first (the service's saved
    profiles), then the shipped defaults. Every problem is collected before raising.
    """
    problems = _Problems()
    if not isinstance(raw, Mapping):
        raise ConfigError([("(config)", "expected a JSON object")])
    ctx = _Context(resolve, problems)
    f = _Fields(_plain_entries(raw, ""), "", problems)
    # A name and the top-level title of a saved simulation describe it; they change nothing.
    f.take("name")

    casino_raw = f.take("casino")
    if casino_raw is _MISSING:
        problems.add("casino", "required")
        casino_raw = {}
    rules = _rules(casino_raw, "casino", ctx)

    num_rounds = f.take_one(("num_rounds", "iterations"), ctx.integer(1, MAX_ROUNDS), _MISSING)
    if num_rounds is _MISSING:
        problems.add("num_rounds", "required")
    seed = f.take_one(("seed",), lambda v, at: _seed(v, at, problems), None)
    log_hands = f.take_one(
        ("log_each_hand", "include_hand_history", "log_hands"), ctx.boolean, False
    )

    players_raw = f.take("players")
    found: list[tuple[Player, str | None, bool]] = []
    if players_raw is _MISSING and f.has("player"):
        # JOST's task payload: one `player` with `strategy` (its chart) and
        # `betting_strategy` beside it rather than inside.
        extra = {
            target: (f.take(key), f.path_of(key))
            for key, target in (
                ("strategy", "playing_strategy"),
                ("betting_strategy", "betting_strategy"),
                ("counting_strategy", "counting_strategy"),
            )
            if f.has(key)
        }
        found = [_player(f.take("player"), "player", ctx, extra)]
    elif players_raw is _MISSING:
        problems.add("players", "required")
    elif not isinstance(players_raw, list) or not players_raw:
        problems.add("players", "not a non-empty list")
    elif len(players_raw) > MAX_SEATS:
        problems.add("players", f"{len(players_raw)} players; a table seats at most {MAX_SEATS}")
    else:
        found = [_player(p, _index("players", i), ctx) for i, p in enumerate(players_raw)]
    f.finish()
    players = _name_players(found, problems)
    spots = sum(p.betting.num_hands for p in players)
    if spots > MAX_SEATS:
        problems.add("players", f"{spots} spots in all; a table has at most {MAX_SEATS}")

    if problems.items:
        raise ConfigError(problems.items)
    return Config(
        rules=rules, players=tuple(players), num_rounds=num_rounds, seed=seed, log_hands=log_hands
    )


# --------------------------------------------------------------------------------------
# Back out: the canonical, JSON-safe form of a normalised config.
# --------------------------------------------------------------------------------------


def _number(value: float) -> float | int | str:
    if value == -_INF:
        return "-Infinity"
    return int(value) if float(value).is_integer() else value


def config_to_dict(config: Config) -> dict[str, Any]:
    """The normalised config as plain JSON (one spelling of everything).

    It is itself a valid config: normalize_config(config_to_dict(c)) == c. Results carry
    it so a reader sees exactly what ran. -inf thresholds are written "-Infinity".
    """
    r = config.rules
    casino = {
        "name": r.name,
        "deck_count": r.decks,
        "hit_on_soft_17": r.hit_soft_17,
        "double_down_restrictions": ["any"] if r.double_totals is None else list(r.double_totals),
        "allow_double_after_split": r.double_after_split,
        "allow_resplit_to_hands": r.max_split_hands,
        "allow_resplit_aces": r.resplit_aces,
        "hit_split_aces": r.hit_split_aces,
        "allow_late_surrender": r.late_surrender,
        "allow_early_surrender": r.early_surrender,
        "blackjack_payout": r.blackjack_payout,
        "reshuffle_penetration": r.penetration,
        "offer_insurance": r.offer_insurance,
        "dealer_checks_for_blackjack": r.dealer_peeks,
    }
    players = []
    for p in config.players:
        playing: dict[str, Any] = {"name": p.playing.name}
        insurance = p.playing.insurance_true_count
        if insurance is not None:
            playing["insurance"] = "always" if insurance == -_INF else _number(insurance)
        if p.playing.auto:
            playing["strategy"] = "auto"
        else:
            playing["strategy"] = {
                table: {row: dict(cells) for row, cells in getattr(p.playing, table).items()}
                for table in ("hard", "soft", "pairs")
            }
        players.append(
            {
                "name": p.name,
                "bankroll": _number(p.bankroll),
                "playing_strategy": playing,
                "betting_strategy": {
                    "name": p.betting.name,
                    "min_bet": _number(p.betting.min_bet),
                    "num_hands": p.betting.num_hands,
                    "bet_ramp": [
                        {"count_threshold": _number(t), "bet_multiplier": _number(m)}
                        for t, m in p.betting.ramp
                    ],
                },
                "counting_strategy": {
                    "name": p.counting.name,
                    "tags": dict(zip(TAG_RANKS, p.counting.tags, strict=False)),
                    "tag_scale": p.counting.tag_scale,
                },
            }
        )
    return {
        "casino": casino,
        "num_rounds": config.num_rounds,
        "seed": config.seed,
        "log_hands": config.log_hands,
        "players": players,
    }
