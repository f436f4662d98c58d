"""`"plays": ["all"]` (jost_engine.indices.all_plays): every chart cell where another
action comes within `all_within` of the best at a true count of 0, as the "auto" solver
values them for the casino's rules."""

from __future__ import annotations

import pytest

from jost_engine.config import ConfigError, PlayingStrategy
from jost_engine.indices import IndexPlay, normalize_index_request
from jost_engine.strategy import resolve_playing_strategy

GAME = {"parent": "vegas_6d_s17_das", "allow_late_surrender": True}


def _plays(**extra: object) -> tuple[IndexPlay, ...]:
    return normalize_index_request({"casino": GAME, "plays": ["all"], **extra}).plays


def _chart_action(play: IndexPlay) -> str:
    request = normalize_index_request({"casino": GAME, "plays": ["insurance"]})
    chart = resolve_playing_strategy(PlayingStrategy(name="auto", auto=True), request.rules)
    table = {"hard": chart.hard, "soft": chart.soft, "pair": chart.pairs}[play.kind]
    return table[play.row][play.up][0]  # "Dh" is a double, "Rh" a surrender


def test_all_holds_the_close_calls_of_the_illustrious_18() -> None:
    cells = {(p.hand, p.up): p.actions for p in _plays()}
    assert cells[("insurance", "A")] == ("decline", "insure")
    assert cells[("12", "2")] == ("H", "S")
    assert cells[("12", "4")] == ("S", "H")
    assert cells[("10", "10")] == ("H", "D")
    assert cells[("11", "A")] == ("H", "D")
    # With late surrender 16 v 10 is a surrender at 0, hitting the next best.
    assert cells[("16", "10")] == ("R", "H")
    # A clear play is not listed: 11 v 6 doubles by far, 20 v 6 stands by far.
    assert ("11", "6") not in cells and ("20", "6") not in cells


def test_a_is_the_chart_s_play_at_zero() -> None:
    for play in _plays():
        if play.kind != "insurance":
            assert play.actions[0] == _chart_action(play), play


def test_a_wider_margin_lists_more_cells_and_keeps_the_narrower_ones() -> None:
    narrow, default, wide = _plays(all_within=0.01), _plays(), _plays(all_within=0.15)
    assert set(narrow) < set(default) < set(wide)
    # Only insurance (a side bet, always listed) is left when nothing may come close.
    assert _plays(all_within=0) == (
        IndexPlay("insurance", "insurance", "A", ("decline", "insure")),
    )


def test_no_surrender_cell_without_late_surrender() -> None:
    plays = normalize_index_request(
        {"casino": "vegas_6d_s17_das", "plays": ["all"], "all_within": 0.15}
    ).plays
    assert all("R" not in p.actions for p in plays)


def test_all_with_named_plays_lists_each_play_once() -> None:
    plays = normalize_index_request(
        {
            "casino": GAME,
            "plays": ["all", "illustrious18", {"hand": "12", "vs": "2", "actions": ["H", "S"]}],
        }
    ).plays
    assert len(plays) == len(set(plays))
    assert IndexPlay("hard", "16", "10", ("H", "S")) in plays  # from the preset


def test_a_margin_out_of_range_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_index_request({"casino": GAME, "plays": ["all"], "all_within": -0.1})
    assert [path for path, _ in caught.value.problems] == ["all_within"]
