"""The machinery every section of the config shares: limits and defaults, JSON paths,
the problem list, an object's fields with their paths, and the scalar checks."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

# --------------------------------------------------------------------------------------
# Limits and defaults of the normalised config.
# --------------------------------------------------------------------------------------

# A job asks for at most 10^10 rounds: at the engine's target speed that is about half an
# hour of one core, far beyond what any statistic needs, and it keeps a typo such as a
# pasted 10^15 from queueing a job that would never end.
MAX_ROUNDS = 10**10
MAX_SEATS = 7  # spots at one table, over all its players
# Independent sessions one config may ask for: each one's final bankroll is kept (per
# player) for the percentiles, so this bounds a result's memory, not its speed.
MAX_SESSIONS = 1_000_000
MAX_DECKS = 8
MAX_SPLIT_HANDS = 8
MAX_NAME_LENGTH = 100

# Bounds that keep every number the kernel computes finite and exact enough (docs/CONFIG.md,
# "Bounds"). Money (a bankroll, min_bet, max_bet, and every bet a ramp makes): a cent to
# a trillion. A round moves at most 7 spots x 8 hands x a doubled bet x a 3:1 payout, about
# 3.4e14 at the largest bet (Spanish 21's three redoubles and its bonuses: about 2.7e15),
# so over 10^10 rounds the sums stay below 1e26 and their squares below 1e42: finite, with
# float64's 16 digits on every total a result reports.
MIN_MONEY = 0.01
MAX_MONEY = 1e12
# A ramp multiplies min_bet by 1/100 .. 10,000 (real spreads are 1-8 to 1-50).
MIN_BET_MULTIPLIER = 0.01
MAX_BET_MULTIPLIER = 10_000
# Counts a config compares the count with (ramp thresholds, wong_in/wong_out, index plays,
# insurance): past a million no running or true count ever reaches, so a larger one can
# only be a typo; bounded, it can never be infinite or round-trip as anything else.
MAX_COUNT = 1_000_000
# tags (at most 10 each) x tag_scale is what a card adds to the running count. At 100 a
# card adds at most 1,000, so an 8-deck shoe (416 cards) or the infinite shoe's buffer
# (4,096 cards) keeps the running count under 5e6 and every true count finite; below 1/1000
# the sums would reach float64's subnormals, which are slow and mean nothing.
MIN_TAG_SCALE = 0.001
MAX_TAG_SCALE = 100
# Entries of one bet_ramp or spots_ramp (real ramps have 5 to 20 tiers; the kernel reads
# the tiers in order every round) and of one strategy's deviations (the fullest published
# index sets have about 100 plays over many cells; the kernel counts one cell's plays in an
# int8, and 100 plays, however they fall, leave room there for every shipped preset).
MAX_RAMP_TIERS = 100
# Rules and progression steps of one rules-betting strategy (the kernel tries the rules
# in order every round; the shipped presets have 2 to 5), and the longest win or loss
# streak a rule may name (a streak is counted in a float64, exact far past this).
MAX_BET_RULES = 100
MAX_BET_STEPS = 100
MAX_STREAK = 10**9
MAX_DEVIATIONS = 100
# Entries of any other list or map a user writes (a chart's rows and cells, tags by rank,
# double_down_restrictions): far above what any of them needs.
MAX_ENTRIES = 100
# A chart's more_cards spans count cards up to this (a hand holds at most 22 cards); a
# span written "5+" is stored as 5..MORE_CARDS_MAX.
MORE_CARDS_MAX = 23

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

INF = float("inf")
FLAT_RAMP: tuple[tuple[float, float], ...] = ((-INF, 1.0),)


MISSING: Any = object()
BAD: Any = object()  # a value that failed its check; the problem is already recorded


# --------------------------------------------------------------------------------------
# Problem collection and JSON paths.
# --------------------------------------------------------------------------------------


def join_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def entry_path(path: str, key: object) -> str:
    # Map keys (ramp thresholds, chart rows, up cards, ranks) are data, not field names:
    # quote them so `bet_ramp["x"]` reads as the key the user wrote.
    return f"{path}[{json_key(key)}]"


def index_path(path: str, i: int) -> str:
    return f"{path}[{i}]"


def json_key(key: object) -> str:
    return '"' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append((path or "(config)", reason))


class Fields:
    """The fields of one object: each value with the JSON path it came from.

    Taking a field marks it known; `finish` reports every field never taken (and not
    in IGNORED_FIELDS) as unknown, so a misspelt rule is never silently dropped.
    """

    def __init__(self, entries: dict[str, tuple[Any, str]], path: str, problems: Problems):
        self.entries = entries
        self.path = path
        self.problems = problems
        self.known: set[str] = set(IGNORED_FIELDS)

    def has(self, name: str) -> bool:
        return name in self.entries

    def path_of(self, name: str) -> str:
        return self.entries[name][1] if name in self.entries else join_path(self.path, name)

    def take(self, name: str) -> Any:
        self.known.add(name)
        return self.entries[name][0] if name in self.entries else MISSING

    def take_one(self, names: tuple[str, ...], check: Check, default: Any) -> Any:
        """The checked value of whichever alias is given; aliases given twice must agree."""
        chosen: Any = MISSING
        chosen_name = ""
        for name in names:
            raw = self.take(name)
            if raw is MISSING:
                continue
            value = check(raw, self.path_of(name), self.problems)
            if value is BAD:
                chosen = BAD
            elif chosen is MISSING:
                chosen, chosen_name = value, name
            elif chosen is not BAD and value != chosen:
                self.problems.add(self.path_of(name), f"contradicts {chosen_name}")
        if chosen is MISSING:
            return default
        return chosen

    def finish(self) -> None:
        for name, (_, path) in self.entries.items():
            if name not in self.known:
                self.problems.add(path, "unknown field")


def plain_entries(raw: Mapping[str, Any], path: str) -> dict[str, tuple[Any, str]]:
    return {str(k): (v, join_path(path, str(k))) for k, v in raw.items()}


# --------------------------------------------------------------------------------------
# Scalar checks, one style: check(value, path, problems) returns the clean value, or BAD
# after recording why. Fields.take_one calls them, so a check is named, never a lambda.
# --------------------------------------------------------------------------------------

Check = Callable[[Any, str, "Problems"], Any]

# float() of an int past this overflows; such a number is never a sensible config value.
_FLOAT_SAFE_INT = 2**1000


def is_number(value: Any) -> bool:
    """A finite JSON number. bool is an int in Python, but `true` is never a number in a
    config; an integer too large for a float (hundreds of digits) is not one either, so
    no check downstream meets an OverflowError."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_FLOAT_SAFE_INT < value < _FLOAT_SAFE_INT
    return isinstance(value, float) and math.isfinite(value)


def shown(value: Any) -> str:
    """A value for a message, cut short: a 5,000-digit number is not worth echoing."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def check_bool(value: Any, path: str, problems: Problems) -> Any:
    if isinstance(value, bool):
        return value
    problems.add(path, "not true or false")
    return BAD


def check_int(low: int, high: int) -> Check:
    """A whole number in low..high (1e3 and 1000.0 count as whole numbers)."""

    def check(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value  # exact, however many digits
        elif is_number(value) and value == int(value):
            number = int(value)
        else:
            problems.add(path, "not a whole number")
            return BAD
        if not low <= number <= high:
            problems.add(path, f"must be {low}..{high}, got {shown(number)}")
            return BAD
        return number

    return check


def check_positive(value: Any, path: str, problems: Problems) -> Any:
    if not is_number(value):
        # true is an int to Python but no number in a config; only a real int is too large.
        too_large = isinstance(value, int) and not isinstance(value, bool)
        problems.add(path, "too large" if too_large else "not a number")
        return BAD
    if value <= 0:
        problems.add(path, f"must be more than 0, got {shown(value)}")
        return BAD
    return float(value)


def check_number(low: float, high: float) -> Check:
    """A finite number in low..high, as a float."""

    def check(value: Any, path: str, problems: Problems) -> Any:
        if not is_number(value):
            too_large = isinstance(value, int) and not isinstance(value, bool)
            problems.add(path, "too large" if too_large else "not a number")
            return BAD
        if not low <= value <= high:
            got = f"{value:g}" if isinstance(value, float) else shown(value)
            problems.add(path, f"must be {bound(low)}..{bound(high)}, got {got}")
            return BAD
        return float(value)

    return check


def bound(x: float) -> str:
    """A bound as a message writes it: 0.01, 10000, 1e12 (JSON reads each back)."""
    return f"{x:g}".replace("e+", "e")


def check_entries(value: Any, path: str, problems: Problems, cap: int = MAX_ENTRIES) -> bool:
    """Does a list or object stay within `cap` entries? Checked before any entry is read,
    so a pasted list of 30,000 tiers costs nothing and yields one problem, not 30,000."""
    if isinstance(value, (list, Mapping)) and len(value) > cap:
        problems.add(path, f"{len(value)} entries; at most {cap}")
        return False
    return True


check_money = check_number(MIN_MONEY, MAX_MONEY)


def check_name(value: Any, path: str, problems: Problems) -> Any:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "not a non-empty string")
        return BAD
    if len(value) > MAX_NAME_LENGTH:
        problems.add(path, f"longer than {MAX_NAME_LENGTH} characters")
        return BAD
    return value.strip()


def any_value(value: Any, path: str, problems: Problems) -> Any:
    """No check here: the value is checked where it is used (a nested profile)."""
    return value


def total_span(item: Any, low: int, high: int) -> list[int] | None:
    """[n] for a total n, [a..b] for "a-b"; None if it is neither or out of low..high."""
    if is_number(item) and item == int(item):
        start = end = int(item)
    elif isinstance(item, str):
        # At most three digits: no total is longer, and int() of a 5,000-digit string
        # raises instead of failing the match.
        match = re.fullmatch(r"\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?", item)
        if not match:
            return None
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
    else:
        return None
    if not low <= start <= end <= high:
        return None
    return list(range(start, end + 1))


# --------------------------------------------------------------------------------------
# Card names, as charts and tag tables write them.
# --------------------------------------------------------------------------------------

UP_SPELLINGS: dict[str, str] = {
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


def rank_of(text: str) -> str | None:
    """The canonical rank ("2".."10", "A") a card name stands for, or None."""
    return UP_SPELLINGS.get(text.strip().lower())
