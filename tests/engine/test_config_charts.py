"""Playing strategies: "auto", full grids, range keys and JOST's action letters all come
out as one canonical chart (hard 4..21, soft 12..21, pairs PAIR_KEYS, every up card)."""

import json
import math

import pytest

from jost_engine.config import (
    HARD_TOTALS,
    PAIR_KEYS,
    SOFT_TOTALS,
    UP_CARDS,
    ConfigError,
    config_to_dict,
    normalize_config,
)


def playing(strategy):
    cfg = normalize_config(
        {"casino": "master_casino", "num_rounds": 1, "players": [{"playing_strategy": strategy}]}
    )
    return cfg.players[0].playing


def every_up(action):
    return {up: action for up in UP_CARDS}


def assert_canonical_shape(chart):
    assert list(chart.hard) == [str(t) for t in HARD_TOTALS]
    assert list(chart.soft) == [str(t) for t in SOFT_TOTALS]
    assert list(chart.pairs) == list(PAIR_KEYS)
    for table in (chart.hard, chart.soft, chart.pairs):
        for cells in table.values():
            assert list(cells) == list(UP_CARDS)


class TestAuto:
    @pytest.mark.parametrize(
        "spelling", ["auto", "AUTO", {"strategy": "auto"}, {"auto": True}, "auto_basic_strategy"]
    )
    def test_every_spelling_of_auto_gives_an_auto_strategy(self, spelling):
        chart = playing(spelling)
        assert chart.auto is True and not chart.hard and not chart.soft and not chart.pairs

    @pytest.mark.parametrize("spelling", [{"strategy": "auto"}, {"auto": True}])
    def test_an_inline_auto_strategy_is_named_auto(self, spelling):
        assert playing(spelling).name == "auto"


class TestInsurance:
    @pytest.mark.parametrize(
        "value, threshold",
        [("never", None), ("Never", None), ("always", -math.inf), (3, 3.0), (2.5, 2.5), (-1, -1.0)],
    )
    def test_a_chart_says_when_to_take_insurance(self, value, threshold):
        chart = playing({"strategy": "auto", "insurance": value})
        assert chart.auto is True and chart.insurance_true_count == threshold

    def test_insurance_is_never_taken_unless_the_chart_says_so(self):
        assert playing("auto").insurance_true_count is None
        assert playing("perfect_s17_basic_strategy").insurance_true_count is None

    def test_take_insurance_is_a_synonym(self):
        assert playing({"strategy": "auto", "take_insurance": 3}).insurance_true_count == 3.0

    @pytest.mark.parametrize("value", ["always", 3])
    def test_the_insurance_choice_round_trips(self, value):
        raw = {
            "casino": "master_casino",
            "num_rounds": 10,
            "players": [{"playing_strategy": {"strategy": "auto", "insurance": value}}],
        }
        cfg = normalize_config(raw)
        assert normalize_config(json.loads(json.dumps(config_to_dict(cfg)))) == cfg


class TestParentCharts:
    def test_a_child_overlays_its_parents_chart_row_by_row(self):
        parent = playing("perfect_s17_basic_strategy")
        child = playing(
            {
                "name": "mine",
                "parent": "perfect_s17_basic_strategy",
                "strategy": {"hard": {"16": every_up("S")}},
            }
        )
        assert child.name == "mine" and child.auto is False
        assert child.hard["16"] == every_up("S")
        # Every other row is the parent's: the eights are still split.
        assert child.pairs == parent.pairs and child.soft == parent.soft
        assert {r: c for r, c in child.hard.items() if r != "16"} == {
            r: c for r, c in parent.hard.items() if r != "16"
        }

    def test_a_child_without_rows_is_its_parent_under_its_own_name(self):
        child = playing({"name": "same", "parent": "perfect_s17_basic_strategy"})
        assert child.name == "same"
        assert child.hard == playing("perfect_s17_basic_strategy").hard

    def test_a_child_inherits_its_parents_insurance_choice_unless_it_gives_one(self):
        parent = {"name": "insurer", "parent": "perfect_s17_basic_strategy", "insurance": 3}
        assert playing({"parent": parent}).insurance_true_count == 3.0
        assert playing({"parent": parent, "insurance": "never"}).insurance_true_count is None

    def test_a_child_of_auto_is_auto(self):
        assert (
            playing({"name": "auto with insurance", "parent": "auto", "insurance": 3}).auto is True
        )

    def test_rows_cannot_overlay_an_auto_parent(self):
        raw = {
            "casino": "master_casino",
            "num_rounds": 10,
            "players": [
                {
                    "playing_strategy": {
                        "parent": "auto",
                        "strategy": {"hard": {"16": every_up("S")}},
                    }
                }
            ],
        }
        with pytest.raises(ConfigError) as caught:
            normalize_config(raw)
        assert caught.value.problems == [
            (
                "players[0].playing_strategy",
                "rows cannot overlay an auto parent: give a whole chart",
            )
        ]

    def test_a_cycle_of_named_charts_is_an_error(self):
        def resolve(kind, name):
            other = {"a": "b", "b": "a"}.get(name)
            return {"parent": other} if kind == "playing_strategy" and other else None

        raw = {"casino": "master_casino", "num_rounds": 10, "players": [{"playing_strategy": "a"}]}
        with pytest.raises(ConfigError) as caught:
            normalize_config(raw, resolve=resolve)
        assert any("profile cycle: a -> b -> a" in reason for _, reason in caught.value.problems)


class TestGrids:
    def test_a_chart_with_only_some_rows_is_filled_with_the_documented_defaults(self):
        chart = playing({"strategy": {"hard": {"16": every_up("S")}}})
        assert_canonical_shape(chart)
        assert chart.hard["16"]["10"] == "S"
        assert chart.hard["4"]["2"] == "H" and chart.hard["17"]["A"] == "S"
        assert (
            chart.soft["12"]["6"] == "H"
            and chart.soft["18"]["6"] == "H"
            and chart.soft["19"]["6"] == "S"
        )

    def test_a_missing_pair_row_plays_as_its_total(self):
        chart = playing({"strategy": {"hard": {"16": every_up("R"), "10": every_up("D")}}})
        assert chart.pairs["8,8"] == chart.hard["16"]  # 8,8 is hard 16: no split assumed
        assert chart.pairs["5,5"]["6"] == "Dh"
        assert chart.pairs["A,A"] == chart.soft["12"]

    @pytest.mark.parametrize(
        "code, canonical",
        [
            ("H", "H"),
            ("h", "H"),
            ("S", "S"),
            ("D", "Dh"),
            ("d", "Dh"),
            ("Ds", "Ds"),
            ("DS", "Ds"),
            ("R", "Rh"),
            ("Sr", "Rh"),
            ("u", "Rh"),
            ("U", "Rh"),
            ("Rh", "Rh"),
            ("Rs", "Rs"),
            ("Dh", "Dh"),
        ],
    )
    def test_it_maps_jost_action_letters_to_canonical_codes(self, code, canonical):
        assert playing({"hard": {"16": every_up(code)}}).hard["16"]["7"] == canonical

    @pytest.mark.parametrize(
        "code, canonical", [("P", "P"), ("p", "P"), ("Rp", "Rp"), ("rp", "Rp")]
    )
    def test_split_codes_are_read_in_pair_rows(self, code, canonical):
        assert playing({"pairs": {"8,8": every_up(code)}}).pairs["8,8"]["A"] == canonical

    @pytest.mark.parametrize("ace_key", ["A", "11", "1"])
    def test_the_dealer_ace_may_be_written_a_11_or_1(self, ace_key):
        cells = {**{up: "H" for up in UP_CARDS[:-1]}, ace_key: "S"}
        assert playing({"hard": {"12": cells}}).hard["12"]["A"] == "S"

    def test_ten_value_up_cards_may_be_written_t_j_q_k(self):
        cells = {**{up: "H" for up in UP_CARDS if up != "10"}, "T": "S"}
        assert playing({"hard": {"12": cells}}).hard["12"]["10"] == "S"

    @pytest.mark.parametrize("key", ["8,8", "88", "8"])
    def test_pair_rows_may_be_keyed_8_8_or_88_or_8(self, key):
        assert playing({"pairs": {key: every_up("P")}}).pairs["8,8"]["10"] == "P"

    @pytest.mark.parametrize("key", ["10,10", "T,T", "TT", "T"])
    def test_the_ten_pair_may_be_keyed_several_ways(self, key):
        assert playing({"pairs": {key: every_up("P")}}).pairs["10,10"]["6"] == "P"

    @pytest.mark.parametrize("key", ["18", "A,7", "A7"])
    def test_soft_rows_may_be_keyed_by_total_or_by_ace_and_card(self, key):
        assert playing({"soft": {key: every_up("S")}}).soft["18"]["9"] == "S"

    def test_jost_engine_hard_totals_and_soft_totals_tables_are_read(self):
        chart = playing(
            {
                "hard_totals": {"16": {"2-6": "S", "7-11": "H"}},
                "soft_totals": {"7": {"2-8": "S", "9-11": "H"}},
                "pairs": {"A": {"2-11": "P"}},
            }
        )
        assert chart.hard["16"]["6"] == "S" and chart.hard["16"]["7"] == "H"
        assert chart.soft["18"]["8"] == "S" and chart.soft["18"]["A"] == "H"
        assert chart.pairs["A,A"]["A"] == "P"


class TestRangeKeys:
    def test_range_keys_cover_rows_and_up_cards_with_the_ace_as_11(self):
        chart = playing(
            {"strategy": {"hard": {"17-21": {"2-11": "S"}, "12-16": {"2-6": "S", "7-A": "H"}}}}
        )
        assert all(chart.hard[str(t)][up] == "S" for t in range(17, 22) for up in UP_CARDS)
        assert chart.hard["13"]["6"] == "S" and chart.hard["13"]["A"] == "H"

    def test_a_row_given_as_one_action_plays_it_against_every_up_card(self):
        assert playing({"hard": {"17-21": "S"}}).hard["19"] == every_up("S")

    def test_the_shipped_master_chart_in_range_keys_equals_the_full_grid_chart(self):
        assert playing("master_playing_strategy").hard == playing("perfect_s17_basic_strategy").hard
        assert playing("master_playing_strategy").soft == playing("perfect_s17_basic_strategy").soft
        assert (
            playing("master_playing_strategy").pairs == playing("perfect_s17_basic_strategy").pairs
        )


class TestShippedChartsMatchThePublishedOnes:
    @pytest.mark.parametrize(
        "profile, published",
        [
            ("perfect_s17_basic_strategy", "6D_S17_DAS_noLS"),
            ("perfect_h17_basic_strategy", "6D_H17_DAS_LS"),
        ],
    )
    def test_every_published_cell_is_shipped_as_published(
        self, profile, published, published_charts
    ):
        # Source of the figures: tests/data/published_charts.json (Wizard of Odds,
        # BlackjackInfo, Blackjack Apprenticeship; see its _about).
        chart = playing(profile)
        expected = published_charts[published]
        for table in ("hard", "soft", "pairs"):
            for row, cells in expected[table].items():
                assert dict(getattr(chart, table)[row]) == cells, (table, row)
