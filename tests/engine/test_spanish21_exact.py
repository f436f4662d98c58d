"""Spanish 21's `auto` in a finite shoe (jost_engine._spanish_shoe), and the reason for
each cell where it differs from the published charts.

The shoe's exact hand values are held first to the engine's two other solvers: to the
common game's finite-shoe solver on a standard shoe (itself held to Wizard of Odds'
appendix 9 in test_exact.py), and, in a shoe of 5,000 decks, to the infinite-deck Spanish
solver, with and without redoubling. Then each difference that
test_spanish21_published.py lists between "auto" and Wizard of Odds' charts gets its
reason from the values, as that file's EXPECTED_DIFFERENCES names it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from jost_engine import default_profile
from jost_engine._dealer import full_shoe
from jost_engine._finite_shoe import FiniteShoeUpCard
from jost_engine._infinite_deck import two_cards
from jost_engine._spanish import REWEIGH, UpCard, composition
from jost_engine._spanish_shoe import ShoeUpCard, hand, rows
from jost_engine.config import Rules, normalize_config
from jost_engine.strategy import resolve_playing_strategy
from tests.engine.test_spanish21_published import (
    CHARTS,
    EXPECTED_DIFFERENCES,
    auto_chart,
    casino,
    differences,
    grid,
    house_edge,
    published_play,
)

UP_KEYS = {1: "A", **{up: str(up) for up in range(2, 11)}}


def pair_key(card: int) -> str:
    return "A,A" if card == 1 else f"{card},{card}"


UPS = {key: up for up, key in UP_KEYS.items()}
HANDS = [(10, 3), (7, 6), (9, 2), (8, 2), (10, 6), (5, 4), (1, 7), (1, 2)]
# A shoe this large draws as an infinite deck does to within its removal effects, which
# are at most 0.03 a hand in six decks (docs/CONFIG.md) and so about 6 / 5,000 of that.
LARGE_SHOE = 5_000


def rules_of(casino: str, **changes: Any) -> Rules:
    rules = default_profile("casino", casino)
    rules.update(changes)
    config = {"casino": rules, "num_rounds": 1, "players": [{"bankroll": 1}]}
    return normalize_config(config).rules


@cache
def chart_rules(name: str) -> Rules:
    fields = CHARTS[name]["casino"]
    return rules_of(
        "spanish21_6d_h17",
        deck_count=fields["decks"],
        hit_on_soft_17=fields["hit_on_soft_17"],
        max_redoubles=fields["max_redoubles"],
        super_bonus=0,
        envy_bonus=0,
    )


@cache
def infinite(name: str, up: int) -> UpCard:
    return UpCard(chart_rules(name), up)


@cache
def shoe(name: str, up: int) -> ShoeUpCard:
    return ShoeUpCard(chart_rules(name), up, infinite(name, up).after_code)


def test_it_values_a_common_game_hand_as_the_finite_shoe_solver_does():
    rules = rules_of("vegas_6d_h17_das_ls")
    for up in range(1, 11):
        full = full_shoe(6)
        full[up] -= 1
        solver = FiniteShoeUpCard(rules, full, up)
        exact = ShoeUpCard(rules, up, lambda total, soft: "S")
        for c1, c2 in HANDS:
            theirs, _ = solver.options(c1, c2)
            ours = exact.options(hand(c1, c2))
            for action in ("S", "H", "D"):
                assert ours[action] == pytest.approx(theirs[action], abs=1e-12), (up, c1, c2)


@pytest.mark.parametrize("name", ["h17", "h17_redouble"])
def test_a_very_large_spanish_shoe_values_hands_as_the_infinite_deck_solver_does(name):
    for up in range(1, 11):
        solver = infinite(name, up)
        exact = ShoeUpCard(chart_rules(name), up, solver.after_code, decks=LARGE_SHOE)
        for c1, c2 in HANDS:
            theirs = solver.two_card_options(c1, c2, split=False)
            ours = exact.options(hand(c1, c2))
            for action in ("S", "H", "D"):
                assert ours[action] == pytest.approx(theirs[action], abs=1e-4), (up, c1, c2)


def test_a_six_deck_chart_stands_where_the_shoe_says_and_an_infinite_deck_hits():
    # A four-card 14 against a 5: the published chart stands; in an infinite deck
    # hitting wins by 0.0004 a hand, in six decks standing by 0.011.
    def four_card_14_vs_5(decks: int) -> str:
        rules = default_profile("casino", "spanish21_6d_h17") | {"deck_count": decks}
        config = normalize_config(
            {"casino": rules, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
        )
        chart = resolve_playing_strategy(config.players[0].playing, config.rules)
        (tables,) = [t for lo, hi, t in chart.more_cards if lo <= 4 <= hi]
        return tables["hard"]["14"]["5"]

    assert four_card_14_vs_5(6) == "S"
    assert four_card_14_vs_5(0) == "H"


DIFFERENCE = re.compile(r"(\d) cards (hard|soft) (\d+) vs (\w+): (\S+) -> (\w+)")
PAIR = re.compile(r"pair (\w+),\w+ vs (\w+): (\S+) -> (\w+)")
COMPOSITION = re.compile(r"(\w+),(\w+) vs (\w+): (\S+) -> (\w+)")


def gains(name: str, difference: str) -> tuple[float, list[float]]:
    """For a fresh hand's cell: what auto's play gains over the published one in the
    six-deck shoe, over the row and for each of its hands."""
    match = DIFFERENCE.fullmatch(difference)
    assert match, difference
    cards, kind, total, up_key, code, cell = match.groups()
    n, up = int(cards), UPS[up_key]
    theirs, mine = published_play(code, n), cell[0]
    hands = rows()[(n, int(total), kind == "soft")]
    exact = shoe(name, up)
    each = [exact.options(h)[mine] - exact.options(h)[theirs] for h in hands]
    row = exact.row(hands)
    assert row is not None
    return row[mine] - row[theirs], each


@cache
def with_half_rescue(name: str) -> frozenset[str]:
    """The differences from the published chart of "auto" solved with a rescue that
    forfeits half the wager."""
    return frozenset(differences(name, rescue_forfeits="half"))


def reason(name: str, difference: str) -> str:
    """The reason the values give for a difference (EXPECTED_DIFFERENCES' words)."""
    if difference not in with_half_rescue(name):
        return "rescue rule"
    if difference.startswith("pair "):
        match = PAIR.fullmatch(difference)
        assert match, difference
        rank, up_key, _, _ = match.groups()
        card = 1 if rank == "A" else int(rank)
        options = infinite(name, UPS[up_key]).options(card, card)
        return "split" if abs(options["P"] - options["H"]) < 1e-3 else "?"
    if difference.startswith("after double hard 6 vs "):
        up = difference.split()[5].rstrip(":")
        chart, published = auto_chart(name), CHARTS[name]
        doubled_4 = [chart.hard["4"][up], chart.pairs["2,2"][up]]
        published_4 = [grid(published["hard"])["4"][up], grid(published["pairs"])["2-2"][up]]
        return "unreached" if not any(c.startswith("D") for c in doubled_4 + published_4) else "?"
    two = COMPOSITION.fullmatch(difference)
    if two:
        first, second, up_key, code, cell = two.groups()
        ranks = [1 if r == "A" else int(r) for r in (first, second)]
        options = shoe(name, UPS[up_key]).options(hand(*ranks))
        return "shoe" if options[cell[0]] > options[published_play(code, 2)] else "?"
    if difference.startswith("2 cards hard 4 vs "):
        up = UPS[difference.split()[5].rstrip(":")]
        options = infinite(name, up).two_card_options(2, 2, split=False)
        return "pair row" if options["D"] > options["H"] else "?"
    row, _ = gains(name, difference)
    return "shoe" if row > 0 else "?"


@pytest.mark.parametrize("name", list(CHARTS))
def test_each_difference_from_the_published_chart_has_its_reason(name):
    found = {d: reason(name, d) for d in EXPECTED_DIFFERENCES[name]}
    # "debated" squares are "shoe" ones: auto's play is the better in the shoe.
    expected = {
        d: "shoe" if why == "debated" else why for d, why in EXPECTED_DIFFERENCES[name].items()
    }
    assert found == expected


def chart_value(rules: Rules) -> float:
    """The exact house edge in percent of "auto"'s chart for an infinite deck: each
    two-card hand's round value (jost_engine._spanish.UpCard, which values the later cards
    by the chart's own cells) for the action its chart cell (its composition's where it
    has one) takes, weighted by its probability."""
    config = normalize_config(
        {"casino": rules, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
    )
    chart = resolve_playing_strategy(config.players[0].playing, config.rules)
    deck = composition(config.rules)
    q = deck / deck.sum()
    edge = 0.0
    for up in range(1, 11):
        solver = UpCard(config.rules, up)
        for _ in range(REWEIGH if config.rules.max_redoubles else 0):
            solver = UpCard(config.rules, up, solver.reach())
        for c1 in range(1, 11):
            for c2 in range(c1, 11):
                weight = q[up] * q[c1] * q[c2] * (1 if c1 == c2 else 2)
                if (c1, c2) == (1, 10):
                    edge += weight * config.rules.blackjack_payout  # it beats a dealer's
                    continue
                options = solver.options(c1, c2)
                total, soft = two_cards(c1, c2)
                cell = (chart.soft if soft else chart.hard)[str(total)][UP_KEYS[up]]
                key = ",".join("A" if c == 1 else str(c) for c in (c1, c2))
                cell = chart.compositions.get(key, {}).get(UP_KEYS[up], cell)
                if c1 == c2:
                    pair = chart.pairs[pair_key(c1)][UP_KEYS[up]]
                    cell = pair if pair in ("P", "Rp") else cell
                action = {"Dh": "D", "Ds": "D", "Rh": "R", "Rs": "R", "Rp": "R"}.get(cell, cell)
                edge += weight * options[action]
    return -100.0 * edge


# The engine plays what the solver values: at an infinite deck the simulated house edge
# of the chart is its exact value. Seed 2026, 42 M rounds: H17 0.8756% simulated against
# 0.8635% exact (0.7 SE), S17 0.4489% against 0.4435% (0.3 SE), H17 with two redoubles
# (a rescue forfeiting the original bet) 0.4858% against 0.4721% (0.7 SE).
@pytest.mark.slow  # three runs of 42 M rounds
@pytest.mark.parametrize(("hit_soft_17", "redoubles"), [(True, 0), (False, 0), (True, 2)])
def test_the_simulated_edge_of_an_infinite_deck_is_the_charts_exact_value_within_4_se(
    hit_soft_17, redoubles
):
    rules = casino(0, hit_soft_17, redoubles)
    edge, se = house_edge(rules, seed=2026)
    assert abs(edge - chart_value(rules)) <= 4 * se, (edge, se, chart_value(rules))


@pytest.mark.parametrize("decks", [6, 0])
def test_auto_plays_a_two_card_hand_by_its_ranks_where_they_change_the_play(decks):
    # 13 against a 6: the 6-7 hits for the 6-7-8 and the row hits over its hands, but a
    # 10-3, 9-4 or 8-5 stands; 14 against a 4: the 6-8 hits where the row stands.
    rules = default_profile("casino", "spanish21_6d_h17") | {"deck_count": decks}
    config = normalize_config(
        {"casino": rules, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
    )
    chart = resolve_playing_strategy(config.players[0].playing, config.rules)
    assert chart.hard["13"]["6"] == "H" and "6,7" not in chart.compositions
    assert all(chart.compositions[hand]["6"] == "S" for hand in ("3,10", "4,9", "5,8"))
    assert chart.hard["14"]["4"] == "S" and chart.compositions["6,8"]["4"] == "H"
