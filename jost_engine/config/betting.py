"""Betting strategies: a flat bet, or a ramp by count as a dict or a list of tiers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jost_engine.config.context import Context
from jost_engine.config.fields import (
    BAD,
    DEFAULT_MIN_BET,
    FLAT_RAMP,
    INF,
    MAX_BET_MULTIPLIER,
    MAX_COUNT,
    MAX_MONEY,
    MAX_RAMP_TIERS,
    MAX_SEATS,
    MIN_BET_MULTIPLIER,
    MISSING,
    Check,
    Fields,
    Problems,
    bound,
    check_entries,
    check_int,
    check_money,
    check_name,
    check_number,
    entry_path,
    index_path,
    is_number,
    join_path,
    plain_entries,
    shown,
)
from jost_engine.config.types import BettingStrategy

# Bet-strategy class names from JOST's code that a profile may carry as its `name`.
_FLAT_CLASS = "FlatBettingStrategy"
_RAMP_CLASSES = frozenset({"RampBettingStrategy", "TrueCountBettingStrategy"})


def check_threshold(key: Any, path: str, problems: Problems) -> Any:
    # Thresholds are true counts: 2, 2.5, "2", "-Infinity" (JSON has no -inf literal).
    number: float | None = None
    if is_number(key):
        number = float(key)
    elif isinstance(key, str):
        text = key.strip()
        if text.lower() in {"-infinity", "-inf"}:
            return -INF
        try:
            number = float(text)
        except ValueError:
            number = None
    if number is None or math.isnan(number):
        problems.add(path, "not a number")
        return BAD
    if not math.isfinite(number):
        problems.add(path, 'only "-Infinity" may be infinite')
        return BAD
    if abs(number) > MAX_COUNT:
        problems.add(path, f'must be -{MAX_COUNT}..{MAX_COUNT} (or "-Infinity"), got {number:g}')
        return BAD
    return number


check_multiplier = check_number(MIN_BET_MULTIPLIER, MAX_BET_MULTIPLIER)


def _ramp(
    raw: Any,
    path: str,
    ctx: Context,
    value_field: str = "bet_multiplier",
    check_value: Check = check_multiplier,
    below: float = 1.0,
) -> Any:
    """(threshold, value) tiers, sorted, starting at -inf.

    Below the lowest threshold given the value is `below`: for a bet ramp the bet is
    min_bet itself (multiplier 1.0), so a ramp that starts at +1 bets one unit at every
    count under +1; for a spots ramp it is num_hands.
    """
    p = ctx.problems
    if not check_entries(raw, path, p, MAX_RAMP_TIERS):
        return BAD
    pairs: list[tuple[Any, Any, str]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            at = entry_path(path, key)
            pairs.append((check_threshold(key, at, p), check_value(value, at, p), at))
    elif isinstance(raw, list):
        for i, tier in enumerate(raw):
            at = index_path(path, i)
            if not isinstance(tier, Mapping):
                p.add(at, f'not a {{"count_threshold", "{value_field}"}} object')
                continue
            f = Fields(plain_entries(tier, at), at, p)
            threshold = f.take("count_threshold")
            multiplier = f.take(value_field)
            for field_name, value in (
                ("count_threshold", threshold),
                (value_field, multiplier),
            ):
                if value is MISSING:
                    p.add(join_path(at, field_name), "required")
            f.finish()
            if threshold is MISSING or multiplier is MISSING:
                continue
            pairs.append(
                (
                    check_threshold(threshold, f.path_of("count_threshold"), p),
                    check_value(multiplier, f.path_of(value_field), p),
                    at,
                )
            )
    else:
        p.add(
            path, f'not an object of thresholds or a list of {{"count_threshold", "{value_field}"}}'
        )
        return BAD
    tiers: dict[float, float] = {}
    bad = False
    for threshold, multiplier, at in pairs:
        if threshold is BAD or multiplier is BAD:
            bad = True
            continue
        if threshold in tiers:
            p.add(at, f"threshold {threshold:g} is given twice")
            bad = True
        tiers[threshold] = multiplier
    if bad:
        return BAD
    if -INF not in tiers:
        tiers[-INF] = below
    return tuple(sorted(tiers.items()))


def betting_from(raw: Any, path: str, ctx: Context) -> BettingStrategy:
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
            for key, value in plain_entries(params, params_path).items():
                target = renamed.get(key, key)
                if target in entries:
                    ctx.problems.add(value[1], f"also given at {entries[target][1]}")
                entries[target] = value
        else:
            ctx.problems.add(params_path, "not an object")
    f = Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), check_name, looked_up or "custom betting")
    is_flat = name == _FLAT_CLASS
    if name == _FLAT_CLASS or name in _RAMP_CLASSES:
        # A class name says how to bet, not what the profile is called.
        name = looked_up or ("flat" if is_flat else "ramp")
    min_bet = f.take_one(("min_bet", "base_bet"), check_money, DEFAULT_MIN_BET)
    num_hands = f.take_one(("num_hands", "spots"), check_int(1, MAX_SEATS), 1)
    ramp: Any = FLAT_RAMP
    ramp_raw = f.take("bet_ramp")
    if ramp_raw is not MISSING:
        if is_flat:
            ctx.problems.add(f.path_of("bet_ramp"), f"a {_FLAT_CLASS} has no ramp")
        else:
            ramp = _ramp(ramp_raw, f.path_of("bet_ramp"), ctx)
    ramp_count = f.take_one(("ramp_count",), check_ramp_count, None)
    max_bet = f.take_one(("max_bet",), check_money, None)
    wong_in = f.take_one(("wong_in",), check_count, None)
    wong_out = f.take_one(("wong_out",), check_count, None)
    spots_ramp: Any = None
    spots_raw = f.take("spots_ramp")
    if spots_raw is not MISSING and num_hands is not BAD:
        spots_ramp = _ramp(
            spots_raw, f.path_of("spots_ramp"), ctx, "spots", check_int(1, MAX_SEATS), num_hands
        )
    f.finish()
    if isinstance(max_bet, float) and isinstance(min_bet, float) and max_bet < min_bet:
        ctx.problems.add(
            f.path_of("max_bet"), f"must be at least min_bet ({min_bet:g}), got {max_bet:g}"
        )
        max_bet = BAD
    if isinstance(wong_in, float) and isinstance(wong_out, float) and wong_out > wong_in:
        ctx.problems.add(
            f.path_of("wong_out"),
            f"must be at most wong_in ({wong_in:g}): a player would leave at a count "
            "that makes them sit in",
        )
        wong_out = BAD
    if BAD in (name, min_bet, num_hands, ramp, ramp_count, max_bet, wong_in, wong_out):
        return placeholder
    largest = min_bet * max(m for _, m in ramp)
    if largest > MAX_MONEY and (max_bet is None or max_bet > MAX_MONEY):
        # Each bound alone keeps a bet finite; together they could reach 1e16, past what
        # the sums over 10^10 rounds keep exact to the cent.
        ctx.problems.add(
            f.path_of("bet_ramp") if f.has("bet_ramp") else f.path_of("min_bet"),
            f"the largest bet, min_bet x the largest multiplier ({bound(largest)}), must be at "
            f"most {bound(MAX_MONEY)}: lower the multipliers or min_bet, or set max_bet",
        )
        return placeholder
    if spots_ramp is BAD:
        return placeholder
    return BettingStrategy(
        name=name,
        min_bet=min_bet,
        num_hands=num_hands,
        ramp=ramp,
        ramp_count=ramp_count,
        spots_ramp=spots_ramp,
        max_bet=max_bet,
        wong_in=wong_in,
        wong_out=wong_out,
    )


def check_ramp_count(value: Any, path: str, problems: Problems) -> Any:
    """`ramp_count`: "true" or "running"."""
    if isinstance(value, str) and value.strip().lower() in ("true", "running"):
        return value.strip().lower()
    problems.add(path, 'not "true" or "running"')
    return BAD


def check_count(value: Any, path: str, problems: Problems) -> Any:
    """A count to wong at: a number (true or running, as ramp_count says)."""
    if not is_number(value):
        problems.add(path, "not a number")
        return BAD
    if abs(value) > MAX_COUNT:
        problems.add(path, f"must be -{MAX_COUNT}..{MAX_COUNT}, got {shown(value)}")
        return BAD
    return float(value)
