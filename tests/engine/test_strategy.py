"""Charts as the kernel reads them (int8 tables) and the resolution of `auto`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jost_engine.config import ACTIONS, PlayingStrategy
from jost_engine.strategy import ACTION_CODE, FILL_CODE, chart_arrays, resolve_playing_strategy

# The shared folder sits next to the repository (CI keeps a copy at the same place).
PUBLISHED = Path(__file__).parents[3] / "shared/data/published_charts.json"


def published_chart(key: str) -> PlayingStrategy:
    chart = json.loads(PUBLISHED.read_text())["charts"][key]
    return PlayingStrategy(name=key, auto=False, hard=chart["hard"], soft=chart["soft"], pairs=chart["pairs"])


@pytest.fixture(scope="module")
def h17_ls() -> PlayingStrategy:
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
        broken = PlayingStrategy(name="broken", auto=False, hard=hard, soft=h17_ls.soft, pairs=h17_ls.pairs)
        with pytest.raises(ValueError, match=r"hard\[16\]\[10\]"):
            chart_arrays(broken)

    def test_an_unknown_action_is_an_error(self, h17_ls):
        soft = {total: dict(row) for total, row in h17_ls.soft.items()}
        soft["18"]["2"] = "D"  # JOST's code; normalize_config maps it before it gets here
        broken = PlayingStrategy(name="broken", auto=False, hard=h17_ls.hard, soft=soft, pairs=h17_ls.pairs)
        with pytest.raises(ValueError, match="soft"):
            chart_arrays(broken)

    def test_auto_must_be_resolved_first(self):
        with pytest.raises(ValueError, match="resolve_playing_strategy"):
            chart_arrays(PlayingStrategy(name="auto", auto=True))


class TestResolvePlayingStrategy:
    def test_a_chart_comes_back_unchanged(self, h17_ls):
        from jost_engine.config import Rules

        rules = Rules(name="t", decks=6, hit_soft_17=True, double_totals=None, double_after_split=True,
                      max_split_hands=4, resplit_aces=False, hit_split_aces=False, late_surrender=True,
                      early_surrender=False, blackjack_payout=1.5, penetration=0.8, offer_insurance=False,
                      dealer_peeks=True)
        assert resolve_playing_strategy(h17_ls, rules) is h17_ls
