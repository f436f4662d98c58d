"""Betting strategies: a flat bet, a ramp by count as a dict or a list of tiers, or a
prioritised list of rules (progressions such as the Martingale, count and progression
hybrids)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, cast

from jost_engine.config.context import Context
from jost_engine.config.fields import (
    BAD,
    DEFAULT_MIN_BET,
    FLAT_RAMP,
    INF,
    MAX_BET_MULTIPLIER,
    MAX_BET_RULES,
    MAX_BET_STEPS,
    MAX_COUNT,
    MAX_MONEY,
    MAX_RAMP_TIERS,
    MAX_SEATS,
    MAX_STREAK,
    MIN_BET_MULTIPLIER,
    MISSING,
    Check,
    Fields,
    Problems,
    bound,
    check_bool,
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
from jost_engine.config.types import BET_ACTIONS, BET_RESULTS, BetRule, BettingStrategy

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
    1..7, default 1), `bet_ramp` (absent: flat) or `bet_rules` with `bet_steps` (betting
    by rules, docs/CONFIG.md). JOST's class form
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
    steps: Any = (1.0,)
    if f.has("bet_steps"):
        steps = _steps(f.take("bet_steps"), f.path_of("bet_steps"), ctx.problems)
    rules: Any = ()
    rules_raw = f.take("bet_rules")
    if rules_raw is not MISSING and steps is not BAD:
        rules = _bet_rules(rules_raw, f.path_of("bet_rules"), ctx.problems, len(steps))
        if is_flat:
            ctx.problems.add(f.path_of("bet_rules"), f"a {_FLAT_CLASS} has no rules")
            rules = BAD
        elif ramp is not BAD and ramp != FLAT_RAMP:
            # The rules set every bet: a ramp beside them would never be read.
            ctx.problems.add(
                f.path_of("bet_ramp"), "bet_rules set the bet: give bet_ramp or bet_rules"
            )
            rules = BAD
    elif f.has("bet_steps") and steps is not BAD:
        ctx.problems.add(f.path_of("bet_steps"), "steps are bet only by bet_rules")
        steps = BAD
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
    if rules is BAD or steps is BAD:
        return placeholder
    # Rules may bet up to MAX_BET_MULTIPLIER units (the kernel's cap without max_bet).
    largest = min_bet * (MAX_BET_MULTIPLIER if rules else max(m for _, m in ramp))
    if largest > MAX_MONEY and (max_bet is None or max_bet > MAX_MONEY):
        # Each bound alone keeps a bet finite; together they could reach 1e16, past what
        # the sums over 10^10 rounds keep exact to the cent.
        ctx.problems.add(
            f.path_of("bet_ramp") if f.has("bet_ramp") and not rules else f.path_of("min_bet"),
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
        rules=rules,
        steps=steps,
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


BetAction = Literal["bet", "multiply", "add", "step", "reset"]

# ---- betting by rules ----------------------------------------------------------------
# Bet sizes in units of min_bet: a bet or a step of at least one unit (less would be
# floored to min_bet anyway), an addition of either sign, a factor as a ramp's.
_check_units = check_number(1.0, MAX_BET_MULTIPLIER)
_check_add = check_number(-MAX_BET_MULTIPLIER, MAX_BET_MULTIPLIER)
_check_target = check_number(MIN_BET_MULTIPLIER, MAX_BET_MULTIPLIER)
_check_net = check_number(-MAX_MONEY, MAX_MONEY)  # units: past any session's net
_check_streak = check_int(0, MAX_STREAK)
_check_step = check_int(0, MAX_BET_STEPS - 1)

# A rule's conditions: (field, check), in the order the canonical form writes them. `step`
# is a shorthand for step_min and step_max alike.
_CONDITIONS: tuple[tuple[str, Check], ...] = (
    ("true_count_min", check_count),
    ("true_count_max", check_count),
    ("win_streak_min", _check_streak),
    ("win_streak_max", _check_streak),
    ("loss_streak_min", _check_streak),
    ("loss_streak_max", _check_streak),
    ("net_min", _check_net),
    ("net_max", _check_net),
    ("cycle_net_min", _check_net),
    ("cycle_net_max", _check_net),
    ("step_min", _check_step),
    ("step_max", _check_step),
)
# Pairs whose minimum may not exceed their maximum (such a rule could never apply).
_RANGES = (
    ("true_count_min", "true_count_max"),
    ("win_streak_min", "win_streak_max"),
    ("loss_streak_min", "loss_streak_max"),
    ("net_min", "net_max"),
    ("cycle_net_min", "cycle_net_max"),
    ("step_min", "step_max"),
)


def _check_results(value: Any, path: str, problems: Problems) -> Any:
    """`last_result`: one of BET_RESULTS or a list of them, as a tuple in BET_RESULTS order."""
    items = value if isinstance(value, list) else [value]
    if not check_entries(items, path, problems, len(BET_RESULTS)) or not items:
        if not items:
            problems.add(path, "an empty list: the rule could never apply")
        return BAD
    chosen = set()
    for i, item in enumerate(items):
        at = index_path(path, i) if isinstance(value, list) else path
        name = item.strip().lower() if isinstance(item, str) else None
        if name not in BET_RESULTS:
            problems.add(at, f"not one of {', '.join(BET_RESULTS)}")
            return BAD
        chosen.add(name)
    return tuple(r for r in BET_RESULTS if r in chosen)


def _steps(raw: Any, path: str, problems: Problems) -> Any:
    """`bet_steps`: the units of each progression step, from step 0."""
    if not isinstance(raw, list) or not raw:
        problems.add(path, "not a non-empty list of units")
        return BAD
    if not check_entries(raw, path, problems, MAX_BET_STEPS):
        return BAD
    steps = [_check_units(v, index_path(path, i), problems) for i, v in enumerate(raw)]
    return BAD if BAD in steps else tuple(steps)


def _rule(raw: Any, path: str, problems: Problems, n_steps: int) -> Any:
    """One {"when": {...}, "then": {...}} rule (`when` optional: always)."""
    if not isinstance(raw, Mapping):
        problems.add(path, 'not a {"when", "then"} object')
        return BAD
    f = Fields(plain_entries(raw, path), path, problems)
    when = f.take("when")
    then = f.take("then")
    f.finish()
    bad = False
    conditions: dict[str, Any] = {}
    if when is not MISSING:
        at = f.path_of("when")
        if not isinstance(when, Mapping):
            problems.add(at, "not an object of conditions")
            bad = True
        else:
            w = Fields(plain_entries(when, at), at, problems)
            for name, check in _CONDITIONS:
                conditions[name] = w.take_one((name,), check, None)
            step = w.take_one(("step",), _check_step, None)
            conditions["last_result"] = w.take_one(("last_result",), _check_results, None)
            w.finish()
            if step is not None:
                for name in ("step_min", "step_max"):
                    if conditions[name] is not None:
                        problems.add(w.path_of(name), "also given as step")
                        bad = True
                    conditions[name] = step
            if BAD in conditions.values() or step is BAD:
                return BAD
            for low, high in _RANGES:
                lo, hi = conditions[low], conditions[high]
                if lo is not None and hi is not None and lo > hi:
                    problems.add(
                        w.path_of(high) if w.has(high) else w.path_of("step"),
                        f"must be at least {low} ({lo:g}): the rule could never apply",
                    )
                    bad = True
    if then is MISSING:
        problems.add(join_path(path, "then"), "required")
        return BAD
    at = f.path_of("then")
    if not isinstance(then, Mapping):
        problems.add(at, f"not an object with one of {', '.join(BET_ACTIONS)}")
        return BAD
    t = Fields(plain_entries(then, at), at, problems)
    given = [name for name in BET_ACTIONS if t.has(name)]
    checks: dict[str, Check] = {
        "bet": _check_units,
        "multiply": check_multiplier,
        "add": _check_add,
        "step": check_int(0, n_steps - 1),
        "reset": check_bool,
    }
    values = {name: t.take_one((name,), checks[name], None) for name in BET_ACTIONS}
    cycle_target = t.take_one(("cycle_target",), _check_target, None)
    t.finish()
    if len(given) != 1:
        problems.add(
            at,
            f"give exactly one of {', '.join(BET_ACTIONS)}"
            + (f" (got {', '.join(given)})" if given else ""),
        )
        return BAD
    action = given[0]
    value = values[action]
    if value is BAD or cycle_target is BAD or bad:
        return BAD
    if action == "reset":
        if value is not True:
            problems.add(t.path_of("reset"), "only true: a reset is an action, not a switch")
            return BAD
        value = 0.0
    return BetRule(
        action=cast(BetAction, action), value=float(value), cycle_target=cycle_target, **conditions
    )


def _bet_rules(raw: Any, path: str, problems: Problems, n_steps: int) -> Any:
    """`bet_rules`: a prioritised list; the first rule whose conditions all hold applies."""
    if not isinstance(raw, list) or not raw:
        problems.add(path, 'not a non-empty list of {"when", "then"} rules')
        return BAD
    if not check_entries(raw, path, problems, MAX_BET_RULES):
        return BAD
    rules = [_rule(r, index_path(path, i), problems, n_steps) for i, r in enumerate(raw)]
    return BAD if BAD in rules else tuple(rules)


def bet_rule_conditions() -> list[str]:
    """The conditions a rule's `when` may hold (with `step`, a shorthand), in order."""
    return (
        [name for name, _ in _CONDITIONS[:6]]
        + ["last_result"]
        + [name for name, _ in _CONDITIONS[6:]]
    )


def uses_count(betting: BettingStrategy) -> bool:
    """Does some rule read the count (so the kernel must count for it)?"""
    return any(r.true_count_min is not None or r.true_count_max is not None for r in betting.rules)
