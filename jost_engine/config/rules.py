"""Casino rules: every spelling of a rule in, one `Rules` out."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from jost_engine.config.context import Context
from jost_engine.config.fields import (
    BAD,
    MAX_DECKS,
    MAX_MONEY,
    MAX_SPLIT_HANDS,
    MISSING,
    Fields,
    Problems,
    check_bool,
    check_entries,
    check_int,
    check_name,
    check_number,
    index_path,
    is_number,
    plain_entries,
    total_span,
)
from jost_engine.config.types import Rules


def check_payout(value: Any, path: str, problems: Problems) -> Any:
    # 1.5, "3:2", "3/2", "6:5", "1:1", "1.2" all name a blackjack payout.
    number: float | None = None
    if is_number(value):
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
        return BAD
    if not 0 < number <= 3:
        problems.add(path, f"must be more than 0 and at most 3 (3:1), got {number:g}")
        return BAD
    return number


def check_penetration(value: Any, path: str, problems: Problems) -> Any:
    # JOST wrote 75 and 0.75 for the same cut card: a value above 1 is a percentage.
    if not is_number(value):
        problems.add(path, "not a number")
        return BAD
    fraction = value / 100 if value > 1 else float(value)
    if not 0 < fraction < 1:
        problems.add(
            path,
            "must be above 0 and below 1, or as a percent below 100 (the cut card falls "
            f"inside the shoe), got {value}",
        )
        return BAD
    return fraction


def check_decks(value: Any, path: str, problems: Problems) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"infinite", "inf", "infinity"}:
        return 0
    if not is_number(value) or value != int(value):
        problems.add(path, 'not a whole number of decks (or "infinite")')
        return BAD
    if not 0 <= int(value) <= MAX_DECKS:
        problems.add(path, f"must be 1..{MAX_DECKS}, or 0 for an infinite shoe, got {int(value)}")
        return BAD
    return int(value)


def check_double_totals(value: Any, path: str, problems: Problems) -> Any:
    # ["any"] -> None (any two cards); [9, 10, 11], ["9-11"], "10-11" -> those totals.
    if not check_entries(value, path, problems):
        return BAD
    items = value if isinstance(value, list) else [value]
    if not items:
        problems.add(path, 'empty: give ["any"] or a list of totals such as [9, 10, 11]')
        return BAD
    totals: set[int] = set()
    bad = False
    for i, item in enumerate(items):
        item_path = index_path(path, i) if isinstance(value, list) else path
        if isinstance(item, str) and item.strip().lower() in {"any", "any2", "any_two"}:
            return None
        span = total_span(item, 4, 21)
        if span is None:
            problems.add(item_path, 'not "any", a total 4..21 or a range such as "9-11"')
            bad = True
        else:
            totals.update(span)
    return BAD if bad else tuple(sorted(totals))


def check_bonus(value: Any, path: str, problems: Problems) -> Any:
    # A 21 bonus as a payout ("3:2", 2, "3:1"); "1:1" (even money) pays no bonus.
    number = check_payout(value, path, problems)
    if number is BAD:
        return BAD
    if number < 1:
        problems.add(path, f"must be at least 1 (1:1, no bonus), got {number:g}")
        return BAD
    return number


DECKS = ("standard", "spanish")


def check_deck(value: Any, path: str, problems: Problems) -> Any:
    # "spanish": 48-card decks without the four ten-spots (Spanish 21).
    if isinstance(value, str) and value.strip().lower() in DECKS:
        return value.strip().lower()
    problems.add(path, 'not "standard" or "spanish" (48 cards: the ten-spots removed)')
    return BAD


RESCUE_FORFEITS = ("original_bet", "half")


def check_rescue_forfeits(value: Any, path: str, problems: Problems) -> Any:
    """What a double-down rescue forfeits: the original bet, or half the hand's wager."""
    if isinstance(value, str) and value.strip().lower() in RESCUE_FORFEITS:
        return value.strip().lower()
    problems.add(
        path,
        'not "original_bet" (a rescue forfeits the first bet, however often redoubled) or '
        '"half" (half of all the hand has wagered)',
    )
    return BAD


# Redoubling: a doubled hand may double again this many times (venues allow up to three).
MAX_REDOUBLES = 3

# The Spanish 21 fields: (Rules field, the names a casino may give it, check). Each
# default is the common game's (types.Rules); docs/CONFIG.md, "Spanish 21".
_SPANISH_RULES: tuple[tuple[str, tuple[str, ...], Any], ...] = (
    ("deck", ("deck",), check_deck),
    ("player_21_wins", ("player_21_always_wins", "player_21_wins"), check_bool),
    (
        "blackjack_beats_blackjack",
        ("player_blackjack_beats_dealer_blackjack", "blackjack_beats_blackjack"),
        check_bool,
    ),
    ("double_any_cards", ("double_on_any_number_of_cards", "double_any_cards"), check_bool),
    ("double_rescue", ("double_down_rescue", "double_rescue"), check_bool),
    ("max_redoubles", ("max_redoubles", "redoubles"), check_int(0, MAX_REDOUBLES)),
    ("rescue_forfeits", ("rescue_forfeits",), check_rescue_forfeits),
    ("bonus_after_double", ("bonus_after_double",), check_bool),
    ("bonus_after_split", ("bonus_after_split",), check_bool),
    ("bonus_five_card_21", ("bonus_five_card_21",), check_bonus),
    ("bonus_six_card_21", ("bonus_six_card_21",), check_bonus),
    ("bonus_seven_card_21", ("bonus_seven_card_21",), check_bonus),
    ("bonus_678_mixed", ("bonus_678_mixed",), check_bonus),
    ("bonus_678_suited", ("bonus_678_suited",), check_bonus),
    ("bonus_678_spades", ("bonus_678_spades",), check_bonus),
    ("bonus_777_mixed", ("bonus_777_mixed",), check_bonus),
    ("bonus_777_suited", ("bonus_777_suited",), check_bonus),
    ("bonus_777_spades", ("bonus_777_spades",), check_bonus),
    ("super_bonus", ("super_bonus",), check_number(0, MAX_MONEY)),
    ("envy_bonus", ("envy_bonus",), check_number(0, MAX_MONEY)),
)


NO_HOLE_CARD_LOSSES = ("all", "original_bet")


def check_no_hole_card_loses(value: Any, path: str, problems: Problems) -> Any:
    # "all": the blackjack takes doubles and splits too; "original_bet": one bet a spot.
    if isinstance(value, str) and value.strip().lower() in NO_HOLE_CARD_LOSSES:
        return value.strip().lower()
    problems.add(path, 'not "all" or "original_bet"')
    return BAD


def rules_from(raw: Any, path: str, ctx: Context) -> Rules:
    """A casino, by name or inline, flat or with its rules nested under `rules`.

    Defaults for omitted rules: 6 decks, dealer stands on soft 17, double on any two
    cards, double after split, split to 4 hands, no resplitting aces, split aces get one
    card, no surrender, blackjack pays 3:2, 75% penetration, insurance offered, dealer
    peeks for blackjack (with no hole card, a dealer blackjack takes every bet: "all").
    Both spellings of a rule may be given only if they agree.
    """
    flat = ctx.flatten("casino", raw, path)
    entries, looked_up = flat if flat is not None else ({}, None)
    if "rules" in entries:
        nested, nested_path = entries.pop("rules")
        if isinstance(nested, Mapping):
            for key, value in plain_entries(nested, nested_path).items():
                if key in entries and entries[key][0] != value[0]:
                    ctx.problems.add(value[1], f"contradicts {entries[key][1]}")
                entries[key] = value
        else:
            ctx.problems.add(nested_path, "not an object")
    f = Fields(entries, path, ctx.problems)
    p = ctx.problems

    name = f.take_one(("name",), check_name, looked_up or "custom casino")
    decks = f.take_one(("deck_count", "decks", "num_decks"), check_decks, 6)
    hits = f.take_one(("hit_on_soft_17", "dealer_hits_soft_17"), check_bool, MISSING)
    stands = f.take_one(("dealer_stands_on_soft_17",), check_bool, MISSING)
    if (
        hits is not MISSING
        and stands is not MISSING
        and BAD not in (hits, stands)
        and hits == stands
    ):
        p.add(
            f.path_of("dealer_stands_on_soft_17"),
            "contradicts hit_on_soft_17 (the dealer cannot both hit and stand on soft 17)",
        )
    if hits is MISSING:
        hits = (not stands) if stands not in (MISSING, BAD) else False
    das = f.take_one(("DAS", "allow_double_after_split", "double_after_split"), check_bool, True)

    restricted = f.take_one(("double_down_restrictions",), check_double_totals, MISSING)
    any_two = f.take_one(("allow_double_on_any_two",), check_bool, MISSING)
    if restricted is MISSING:
        # JOST's boolean says only "any two or not"; not-any is taken as the common
        # restricted rule, doubling on 9, 10 and 11 only.
        double_totals = (9, 10, 11) if any_two is False else None
    else:
        double_totals = restricted
        if (
            any_two is not MISSING
            and any_two is not BAD
            and restricted is not BAD
            and any_two != (restricted is None)
        ):
            p.add(f.path_of("allow_double_on_any_two"), "contradicts double_down_restrictions")

    split_hands = f.take_one(
        ("allow_resplit_to_hands", "max_split_hands"), check_int(1, MAX_SPLIT_HANDS), 4
    )
    resplit_aces = f.take_one(("allow_resplit_aces", "resplit_aces"), check_bool, False)
    hit_split_aces = f.take_one(("hit_split_aces",), check_bool, False)
    late = f.take_one(("allow_late_surrender", "late_surrender"), check_bool, False)
    early = f.take_one(("allow_early_surrender", "early_surrender"), check_bool, False)
    payout = f.take_one(("blackjack_payout",), check_payout, 1.5)
    penetration = f.take_one(("reshuffle_penetration", "penetration"), check_penetration, 0.75)
    insurance = f.take_one(("offer_insurance",), check_bool, True)
    peeks = f.take_one(("dealer_checks_for_blackjack", "dealer_peeks"), check_bool, True)
    loses = f.take_one(("no_hole_card_loses",), check_no_hole_card_loses, "all")
    if peeks is True and loses == "original_bet":
        # With a peek the blackjack ends the round before any double or split, so the rule
        # could only be a mistake (a no-hole-card casino missing its peek: false). "all"
        # is the default and what a peek game does, so it is accepted (config_to_dict
        # writes it for every casino).
        p.add(
            f.path_of("no_hole_card_loses"),
            '"original_bet" needs dealer_checks_for_blackjack false: with a peek a dealer '
            "blackjack ends the round before anyone doubles or splits",
        )
        loses = BAD
    defaults = {f.name: f.default for f in dataclasses.fields(Rules)}
    spanish = {
        field: f.take_one(names, check, defaults[field]) for field, names, check in _SPANISH_RULES
    }
    if spanish["envy_bonus"] not in (0.0, BAD) and spanish["super_bonus"] == 0.0:
        p.add(f.path_of("envy_bonus"), "is paid only with a super_bonus (the 7-7-7 it envies)")
    f.finish()
    return Rules(
        **{field: value for field, value in spanish.items() if value is not BAD},
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
        no_hole_card_loses=loses,
    )
