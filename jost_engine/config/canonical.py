"""Back out: the canonical, JSON-safe form of a normalised config."""

from __future__ import annotations

import dataclasses
from typing import Any

from jost_engine.config.fields import INF, MORE_CARDS_MAX
from jost_engine.config.types import (
    SPANISH_FIELDS,
    TAG_RANKS,
    BetRule,
    BettingStrategy,
    Config,
    CountingSystem,
    Rules,
)


def _number(value: float) -> float | int | str:
    if value == -INF:
        return "-Infinity"
    return int(value) if float(value).is_integer() else value


def casino_to_dict(r: Rules) -> dict[str, Any]:
    """A casino's rules as a config's `casino` object writes them (the Spanish 21 fields
    only for a game that has some, so a common game's config reads as it always did)."""
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
        "no_hole_card_loses": r.no_hole_card_loses,
    }
    if r.spanish_game:
        for name in SPANISH_FIELDS:
            value = getattr(r, name)
            casino[name] = _number(value) if isinstance(value, float) else value
    return casino


def counting_to_dict(c: CountingSystem) -> dict[str, Any]:
    """A counting system as a player's `counting_strategy` object writes it."""
    counting: dict[str, Any] = {
        "name": c.name,
        "tags": dict(zip(TAG_RANKS, c.tags, strict=False)),
        "tag_scale": c.tag_scale,
        "deck_estimation": c.deck_estimation,
        "true_count_rounding": c.true_count_rounding,
    }
    if c.unbalanced:
        counting["unbalanced"] = True
        counting["initial_running_count"] = {
            "per_deck": _number(c.initial_running_count_per_deck),
            "base": _number(c.initial_running_count),
        }
    return counting


def betting_to_dict(b: BettingStrategy) -> dict[str, Any]:
    """A betting strategy as a player's `betting_strategy` object writes it."""
    betting: dict[str, Any] = {
        "name": b.name,
        "min_bet": _number(b.min_bet),
        "num_hands": b.num_hands,
        "bet_ramp": [
            {"count_threshold": _number(t), "bet_multiplier": _number(m)} for t, m in b.ramp
        ],
    }
    if b.spots_ramp is not None:
        betting["spots_ramp"] = [
            {"count_threshold": _number(t), "spots": n} for t, n in b.spots_ramp
        ]
    for key, value in (
        ("max_bet", b.max_bet),
        ("wong_in", b.wong_in),
        ("wong_out", b.wong_out),
    ):
        if value is not None:
            betting[key] = _number(value)
    if b.ramp_count is not None:
        betting["ramp_count"] = b.ramp_count
    if b.rules:
        betting["bet_rules"] = [bet_rule_to_dict(r) for r in b.rules]
        betting["bet_steps"] = [_number(u) for u in b.steps]
    return betting


def bet_rule_to_dict(rule: BetRule) -> dict[str, Any]:
    """A rule as `bet_rules` writes it: the conditions given, then the action."""
    when: dict[str, Any] = {}
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if f.name in ("action", "value", "cycle_target") or value is None:
            continue
        when[f.name] = list(value) if isinstance(value, tuple) else _number(value)
    if "step_min" in when and when.get("step_max") == when["step_min"]:
        when["step"] = when.pop("step_min")
        del when["step_max"]
    then: dict[str, Any] = {rule.action: True if rule.action == "reset" else _number(rule.value)}
    if rule.cycle_target is not None:
        then["cycle_target"] = _number(rule.cycle_target)
    return {"when": when, "then": then} if when else {"then": then}


def config_to_dict(config: Config) -> dict[str, Any]:
    """The normalised config as plain JSON (one spelling of everything).

    It is itself a valid config: normalize_config(config_to_dict(c)) == c. Results carry
    it so a reader sees exactly what ran. -inf thresholds are written "-Infinity".
    """
    casino = casino_to_dict(config.rules)
    players = []
    for p in config.players:
        playing: dict[str, Any] = {"name": p.playing.name}
        insurance = p.playing.insurance_true_count
        if insurance is not None:
            playing["insurance"] = "always" if insurance == -INF else _number(insurance)
        if p.playing.deviations:
            playing["deviations"] = [
                d
                if isinstance(d, str)
                else {
                    "hand": f"soft {d.row}" if d.kind == "soft" else d.row,
                    "vs": d.up,
                    "index": _number(d.index),
                    "action": d.action,
                    "when": "at_or_above" if d.above else "below",
                }
                for d in p.playing.deviations
            ]
        if p.playing.auto:
            playing["strategy"] = "auto"
        else:
            playing["strategy"] = {
                table: {row: dict(cells) for row, cells in getattr(p.playing, table).items()}
                for table in ("hard", "soft", "pairs")
            }
            if p.playing.more_cards:
                playing["strategy"]["more_cards"] = {
                    (f"{lo}+" if hi >= MORE_CARDS_MAX else f"{lo}" if lo == hi else f"{lo}-{hi}"): {
                        table: {row: dict(cells) for row, cells in rows.items()}
                        for table, rows in tables.items()
                    }
                    for lo, hi, tables in p.playing.more_cards
                }
            if p.playing.compositions:
                playing["strategy"]["compositions"] = {
                    hand: dict(cells) for hand, cells in p.playing.compositions.items()
                }
            if p.playing.rescue:
                playing["strategy"]["rescue"] = {
                    row: dict(cells) for row, cells in p.playing.rescue.items()
                }
            if p.playing.after_double:
                playing["strategy"]["after_double"] = {
                    table: {row: dict(cells) for row, cells in rows.items()}
                    for table, rows in p.playing.after_double.items()
                }
        player: dict[str, Any] = {
            "name": p.name,
            "bankroll": _number(p.bankroll),
            "playing_strategy": playing,
            "betting_strategy": betting_to_dict(p.betting),
            "counting_strategy": counting_to_dict(p.counting),
        }
        if p.analysis is not None:
            player["analysis"] = p.analysis
        players.append(player)
    return {
        "casino": casino,
        "num_rounds": config.num_rounds,
        "seed": config.seed,
        "log_hands": config.log_hands,
        "stop_when_broke": config.stop_when_broke,
        "sessions": config.sessions,
        "rounds_per_hour": _number(config.rounds_per_hour),
        "players": players,
    }
