"""The Spanish 21 solver behind "auto" (jost_engine._spanish), on its own.

With no rule that fires it must give the common game's exact infinite-deck chart; with
Spanish 21's rules, its pieces must be what the rules say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from jost_engine import _basic_strategy, _spanish
from jost_engine.chart import HARD_TOTALS, SOFT_TOTALS, UP_CARDS
from jost_engine.config import Rules, normalize_config
from jost_engine.strategy import resolve_playing_strategy


@pytest.fixture
def spanish_rules() -> Rules:
    config = normalize_config({"casino": "spanish21_6d_h17", "num_rounds": 1, "players": [{}]})
    return _spanish.strategy_key(config.rules)


def test_with_no_rule_that_fires_it_gives_the_common_games_infinite_deck_chart(
    make_rules: Callable[..., Rules],
):
    # No bonus is paid, so whether split hands earn one changes nothing, but the rule
    # sends the game to the Spanish solver; the common infinite-deck solver is exact.
    for changes in ({}, {"hit_soft_17": True, "late_surrender": True}):
        common = _basic_strategy._strategy_key(make_rules(decks=0, **changes))
        spanish = dataclasses.replace(common, bonus_after_split=False)
        assert spanish.spanish_game
        mine, theirs = _spanish.solve(spanish), _basic_strategy.solve(common)
        assert (mine.hard, mine.soft, mine.pairs) == (theirs.hard, theirs.soft, theirs.pairs)
        # Hands of three or more cards only hit or stand there: as the chart's own rows
        # (Dh/Ds/Rh/Rs fall back to H or S; hard 4-8 and soft 12 aside, no three-card hand).
        for _, _, tables in mine.more_cards:
            for t in range(9, 22):
                for up in UP_CARDS:
                    fallback = "S" if theirs.hard[str(t)][up] in ("S", "Ds", "Rs") else "H"
                    assert tables["hard"][str(t)][up] == fallback, (t, up)
        assert mine.rescue == {}


def test_a_doubled_hand_is_rescued_exactly_where_standing_is_worth_less_than_half(
    spanish_rules: Rules,
):
    chart = _spanish.solve(spanish_rules)
    for up in UP_CARDS:
        context = _spanish.UpCard(spanish_rules, 1 if up == "A" else int(up))
        for t, cells in chart.rescue.items():
            assert (cells[up] == "R") == (context.stand(int(t)) < -0.5), (t, up)


@pytest.fixture
def redouble_rules() -> Rules:
    config = normalize_config(
        {"casino": "spanish21_6d_h17_redouble", "num_rounds": 1, "players": [{}]}
    )
    return _spanish.strategy_key(config.rules)


def round_value(context: _spanish.UpCard) -> float:
    """The solver's value of a round against the context's up card, each two-card hand
    played its best way (naturals left out: no cell plays them)."""
    q = context.q
    return sum(
        q[c1] * q[c2] * (1 if c1 == c2 else 2) * max(context.options(c1, c2).values())
        for c1 in range(1, 11)
        for c2 in range(c1, 11)
        if (c1, c2) != (1, 10)
    )


def test_with_redoubles_a_doubled_hand_plays_its_own_table(redouble_rules: Rules):
    chart = _spanish.solve(redouble_rules)
    after = chart.after_double
    assert chart.rescue == {}  # the table holds the rescue cells
    assert set(after["hard"]) == {str(t) for t in HARD_TOTALS}
    assert set(after["soft"]) == {str(t) for t in SOFT_TOTALS}
    hard = after["hard"]
    assert hard["11"]["6"] == "D" and hard["16"]["10"] == "R" and hard["18"]["10"] == "S"
    assert all(cell == "S" for cell in hard["21"].values())
    # Where the two differ: a doubled hand may not hit, so where a fresh hand of three
    # cards hits, a doubled one redoubles (11 against a 10, soft 13 against a 7) or is
    # rescued (16 against a 10).
    three = chart.more_cards[0][2]
    assert three["hard"]["11"]["10"] == "H" and hard["11"]["10"] == "D"
    assert three["soft"]["13"]["7"] == "H" and after["soft"]["13"]["7"] == "D"
    assert three["hard"]["16"]["10"] == "H"


@pytest.mark.parametrize("up", [6, 10])
def test_no_after_double_cell_changed_alone_plays_better(redouble_rules: Rules, up: int):
    # The cells are chosen on average over how hands reach them: the table as a whole
    # must be what the solver values best, cell by cell.
    chart = _spanish.solve(redouble_rules)
    key = str(up)
    table = {
        (int(t), kind == "soft"): cells[key]
        for kind in ("hard", "soft")
        for t, cells in chart.after_double[kind].items()
    }
    best = round_value(_spanish.UpCard(redouble_rules, up, after=table))
    reached = _spanish.UpCard(redouble_rules, up, after=table).reach()
    for state in reached:
        for other in {"D", "S", "R"} - {table[state]}:
            changed = _spanish.UpCard(redouble_rules, up, after={**table, state: other})
            assert round_value(changed) <= best + 1e-12, (state, table[state], other)


def test_a_players_21_wins_its_bonus_against_any_dealer_hand(spanish_rules: Rules):
    context = _spanish.UpCard(spanish_rules, 10)
    # After the peek the dealer has no blackjack: a 21 always wins, paid its bonus.
    assert context.stand(21) == pytest.approx(1.0)
    assert context.stand(21, context.pay_21(5, bonus=True)) == pytest.approx(1.5)
    assert context.pay_21(9, bonus=True) == 3.0 and context.pay_21(5, bonus=False) == 1.0
    # A 6-7-8: 3:2 mixed, 2:1 of one suit (3/64), 3:1 of spades (1/64).
    expected = (60 / 64) * 1.5 + (3 / 64) * 2.0 + (1 / 64) * 3.0
    assert context.pay_three(8, 6, 7, bonus=True) == pytest.approx(expected)
    assert context.pay_three(8, 6, 7, bonus=False) == 1.0
    assert context.pay_three(5, 6, 10, bonus=True) == 1.0


def test_the_shipped_spanish_strategy_is_autos_chart_for_its_casino():
    # scripts/generate_spanish_strategy.py writes it; run it again after a solver change.
    def playing(strategy: str):
        config = normalize_config(
            {
                "casino": "spanish21_6d_h17",
                "num_rounds": 1,
                "players": [{"playing_strategy": strategy}],
            }
        )
        return resolve_playing_strategy(config.players[0].playing, config.rules)

    shipped = playing("spanish21_6d_h17_basic_strategy")
    auto = playing("auto")
    tables = ("hard", "soft", "pairs", "more_cards", "rescue", "after_double")
    assert [getattr(shipped, t) for t in tables] == [getattr(auto, t) for t in tables]
