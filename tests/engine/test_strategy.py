"""Charts as the kernel reads them (int8 tables) and the resolution of `auto`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from jost_engine.chart import ACTION_CODE, ACTIONS, FILL_CODE, chart_arrays
from jost_engine.config import PlayingStrategy
from jost_engine.strategy import resolve_playing_strategy


@pytest.fixture(scope="module")
def h17_ls(published_chart: Callable[[str], PlayingStrategy]) -> PlayingStrategy:
    return published_chart("6D_H17_DAS_LS")


class TestActionCode:
    def test_codes_follow_the_canonical_action_order(self):
        assert list(ACTION_CODE) == list(ACTIONS)
        assert list(ACTION_CODE.values()) == list(range(8))


class TestChartArrays:
    def test_tables_have_the_kernel_shapes_and_dtype(self, h17_ls):
        hard, soft, pairs = chart_arrays(h17_ls)
        assert hard.shape == (22, 11) and soft.shape == (22, 11) and pairs.shape == (11, 11)
        assert hard.dtype == soft.dtype == pairs.dtype == np.int8

    def test_cells_land_at_total_and_up_card_with_ace_as_one(self, h17_ls):
        hard, soft, pairs = chart_arrays(h17_ls)
        assert hard[11, 1] == ACTION_CODE["Dh"]  # 11 vs A doubles under H17
        assert hard[16, 10] == ACTION_CODE["Rh"]
        assert hard[17, 1] == ACTION_CODE["Rs"]
        assert soft[18, 2] == ACTION_CODE["Ds"]
        assert pairs[8, 1] == ACTION_CODE["Rp"]
        assert pairs[1, 10] == ACTION_CODE["P"]  # A,A vs ten
        assert pairs[10, 6] == ACTION_CODE["S"]

    def test_unused_cells_stand(self, h17_ls):
        hard, soft, pairs = chart_arrays(h17_ls)
        assert (hard[:4] == FILL_CODE).all() and (soft[:12] == FILL_CODE).all()
        assert (hard[:, 0] == FILL_CODE).all() and (pairs[0] == FILL_CODE).all()

    def test_rows_published_charts_omit_get_their_undisputed_play(self, h17_ls):
        # Published charts start at hard 5 and soft 13: 2,2 that cannot split plays as
        # hard 5 does (hit), A,A that cannot split hits.
        hard, soft, _ = chart_arrays(h17_ls)
        assert (hard[4, 1:] == hard[5, 1:]).all()
        assert (soft[12, 1:] == ACTION_CODE["H"]).all()

    def test_a_missing_cell_is_an_error_not_a_guess(self, h17_ls):
        hard = {total: dict(row) for total, row in h17_ls.hard.items()}
        del hard["16"]["10"]
        broken = PlayingStrategy(
            name="broken", auto=False, hard=hard, soft=h17_ls.soft, pairs=h17_ls.pairs
        )
        with pytest.raises(ValueError, match=r"hard\[16\]\[10\]"):
            chart_arrays(broken)

    def test_an_unknown_action_is_an_error(self, h17_ls):
        soft = {total: dict(row) for total, row in h17_ls.soft.items()}
        soft["18"]["2"] = "D"  # JOST's code; normalize_config maps it before it gets here
        broken = PlayingStrategy(
            name="broken", auto=False, hard=h17_ls.hard, soft=soft, pairs=h17_ls.pairs
        )
        with pytest.raises(ValueError, match="soft"):
            chart_arrays(broken)

    def test_auto_must_be_resolved_first(self):
        with pytest.raises(ValueError, match="resolve_playing_strategy"):
            chart_arrays(PlayingStrategy(name="auto", auto=True))


class TestResolvePlayingStrategy:
    def test_a_chart_comes_back_unchanged(self, h17_ls, make_rules):
        rules = make_rules(decks=6, hit_soft_17=True, late_surrender=True, offer_insurance=False)
        assert resolve_playing_strategy(h17_ls, rules) is h17_ls


class TestAutoStrategy:
    # Rule effects are checked on an infinite deck (milliseconds per chart); the
    # finite-shoe path is covered by the published charts and by the last test here.
    @pytest.fixture
    def auto(self, make_rules) -> Callable[..., PlayingStrategy]:
        def solve(**changes: Any) -> PlayingStrategy:
            rules = make_rules(**{"offer_insurance": False, **changes})
            return resolve_playing_strategy(PlayingStrategy(name="auto", auto=True), rules)

        return solve

    def test_auto_resolves_to_a_full_chart_the_kernel_can_read(self, auto):
        chart = auto()
        assert not chart.auto
        hard, _soft, pairs = chart_arrays(chart)
        assert (hard[4:22, 1:] >= 0).all() and (pairs[1:, 1:] >= 0).all()

    def test_no_surrender_code_without_surrender(self, auto):
        chart = auto()
        cells = [
            a
            for grid in (chart.hard, chart.soft, chart.pairs)
            for row in grid.values()
            for a in row.values()
        ]
        assert not {"Rh", "Rs", "Rp"} & set(cells)

    def test_late_surrender_gives_the_classic_surrenders(self, auto):
        chart = auto(late_surrender=True)
        assert chart.hard["16"]["10"] == "Rh" and chart.hard["15"]["10"] == "Rh"
        assert chart.hard["16"]["9"] == "Rh" and chart.hard["17"]["A"] == "S"  # S17: no 17 vs A

    def test_doubling_only_on_10_and_11_drops_the_other_doubles(self, auto):
        chart = auto(double_totals=(10, 11))
        assert chart.hard["9"]["5"] == "H" and chart.soft["17"]["5"] == "H"
        assert chart.hard["10"]["5"] == "Dh"

    def test_without_das_small_pairs_split_less(self, auto):
        # Published no-DAS basic strategy: 2,2 and 3,3 hit vs 2 and 3, 4,4 always hits.
        chart = auto(double_after_split=False)
        assert chart.pairs["2,2"]["2"] == "H" and chart.pairs["4,4"]["5"] == "H"

    def test_no_hole_card_stops_risking_more_against_ten_and_ace(self, auto):
        # Doubles and splits lose everything to a blackjack: 11 vs 10, 8,8 vs 10 and A,A vs
        # A are not doubled or split under the European rule.
        chart = auto(dealer_peeks=False)
        assert chart.hard["11"]["10"] == "H" and chart.pairs["8,8"]["10"] == "H"
        assert chart.pairs["A,A"]["A"] == "H"

    def test_a_two_deck_european_chart_follows_the_same_rules(self, auto):
        chart = auto(decks=2, dealer_peeks=False, double_totals=(10, 11), late_surrender=True)
        assert chart.hard["11"]["10"] == "H" and chart.hard["9"]["5"] == "H"
        assert chart.hard["16"]["10"] == "Rh" and chart.soft["18"]["4"] == "S"

    def test_auto_is_computed_once_per_rule_set(self, auto):
        assert auto() is auto(name="other name", penetration=0.5)
