"""Betting by rules in the config: the JSON form, its normalised form and its errors.

A betting strategy's `bet_rules` is a prioritised list of {"when": {...}, "then": {...}}
rules (docs/CONFIG.md, "Betting by rules"); `bet_steps` the units of each progression step.
"""

from __future__ import annotations

from typing import Any

import pytest

from jost_engine import defaults
from jost_engine.config import BetRule, ConfigError, config_to_dict, normalize_config

PRESETS = ("martingale", "paroli", "dalembert", "oscars_grind", "one_three_two_six", "count_paroli")


def config(betting: Any) -> dict[str, Any]:
    return {
        "casino": "vegas_6d_s17_das",
        "num_rounds": 1000,
        "players": [{"betting_strategy": betting}],
    }


def problems(betting: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        normalize_config(config(betting))
    return caught.value.problems


PATH = "players[0].betting_strategy"


class TestTheRuleForm:
    def test_a_rule_list_reads_into_rules_in_their_order(self):
        betting = (
            normalize_config(
                config(
                    {
                        "min_bet": 10,
                        "bet_steps": [1, 3, 2, 6],
                        "bet_rules": [
                            {"when": {"last_result": "win", "step": 0}, "then": {"step": 1}},
                            {
                                "when": {"true_count_min": 2, "loss_streak_min": 3},
                                "then": {"bet": 4},
                            },
                            {"then": {"reset": True}},
                        ],
                    }
                )
            )
            .players[0]
            .betting
        )
        assert betting.steps == (1.0, 3.0, 2.0, 6.0)
        assert betting.rules == (
            BetRule(action="step", value=1.0, last_result=("win",), step_min=0, step_max=0),
            BetRule(action="bet", value=4.0, true_count_min=2.0, loss_streak_min=3),
            BetRule(action="reset"),
        )

    def test_results_are_kept_in_one_order_whatever_order_they_are_written_in(self):
        rule = {"when": {"last_result": ["push", "WIN", "loss"]}, "then": {"multiply": 2}}
        betting = normalize_config(config({"bet_rules": [rule]})).players[0].betting
        assert betting.rules[0].last_result == ("win", "loss", "push")

    @pytest.mark.parametrize("name", PRESETS)
    def test_each_preset_round_trips_through_its_canonical_form(self, name):
        first = normalize_config(config(name))
        assert first.players[0].betting.rules, "a preset bets by rules"
        again = normalize_config(config_to_dict(first))
        assert again == first

    def test_the_presets_are_shipped_betting_strategies(self):
        assert set(PRESETS) <= set(defaults()["betting_strategies"])

    def test_a_strategy_without_rules_bets_as_before(self):
        betting = normalize_config(config({"min_bet": 5})).players[0].betting
        assert betting.rules == () and betting.steps == (1.0,)
        assert (
            "bet_rules"
            not in config_to_dict(normalize_config(config({"min_bet": 5})))["players"][0][
                "betting_strategy"
            ]
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("betting", "path", "reason"),
        [
            ({"bet_rules": []}, "bet_rules", "not a non-empty list"),
            ({"bet_rules": {"then": {"bet": 2}}}, "bet_rules", "not a non-empty list"),
            ({"bet_rules": [3]}, "bet_rules[0]", 'not a {"when", "then"} object'),
            ({"bet_rules": [{"when": {}}]}, "bet_rules[0].then", "required"),
            ({"bet_rules": [{"then": {"bet": 2}, "if": 1}]}, "bet_rules[0].if", "unknown field"),
            (
                {"bet_rules": [{"when": {"last_reslt": "win"}, "then": {"bet": 2}}]},
                "bet_rules[0].when.last_reslt",
                "unknown field",
            ),
            (
                {"bet_rules": [{"when": {"last_result": "lose"}, "then": {"bet": 2}}]},
                "bet_rules[0].when.last_result",
                "not one of none, win, blackjack, loss, surrender, push",
            ),
            (
                {"bet_rules": [{"when": {"last_result": ["win", 7]}, "then": {"bet": 2}}]},
                "bet_rules[0].when.last_result[1]",
                "not one of",
            ),
            (
                {"bet_rules": [{"when": {"last_result": []}, "then": {"bet": 2}}]},
                "bet_rules[0].when.last_result",
                "an empty list",
            ),
            (
                {"bet_rules": [{"when": {"true_count_min": 2e6}, "then": {"bet": 2}}]},
                "bet_rules[0].when.true_count_min",
                "must be -1000000..1000000",
            ),
            (
                {"bet_rules": [{"when": {"win_streak_min": 1e10}, "then": {"bet": 2}}]},
                "bet_rules[0].when.win_streak_min",
                "must be 0..1000000000",
            ),
            (
                {"bet_rules": [{"when": {"loss_streak_max": 1.5}, "then": {"bet": 2}}]},
                "bet_rules[0].when.loss_streak_max",
                "not a whole number",
            ),
            (
                {"bet_rules": [{"when": {"net_min": 1e13}, "then": {"bet": 2}}]},
                "bet_rules[0].when.net_min",
                "must be -1e12..1e12",
            ),
            (
                {
                    "bet_rules": [
                        {"when": {"true_count_min": 3, "true_count_max": 1}, "then": {"bet": 2}}
                    ]
                },
                "bet_rules[0].when.true_count_max",
                "must be at least true_count_min (3)",
            ),
            (
                {"bet_rules": [{"when": {"step": 1, "step_min": 0}, "then": {"bet": 2}}]},
                "bet_rules[0].when.step_min",
                "also given as step",
            ),
            ({"bet_rules": [{"then": {}}]}, "bet_rules[0].then", "give exactly one of"),
            (
                {"bet_rules": [{"then": {"bet": 2, "add": 1}}]},
                "bet_rules[0].then",
                "give exactly one of bet, multiply, add, step, reset (got bet, add)",
            ),
            ({"bet_rules": [{"then": {"bet": 0.5}}]}, "bet_rules[0].then.bet", "must be 1..10000"),
            (
                {"bet_rules": [{"then": {"bet": 1e300}}]},
                "bet_rules[0].then.bet",
                "must be 1..10000",
            ),
            (
                {"bet_rules": [{"then": {"multiply": 1e9}}]},
                "bet_rules[0].then.multiply",
                "must be 0.01..10000",
            ),
            ({"bet_rules": [{"then": {"add": "1"}}]}, "bet_rules[0].then.add", "not a number"),
            (
                {"bet_rules": [{"then": {"reset": False}}]},
                "bet_rules[0].then.reset",
                "only true",
            ),
            (
                {"bet_steps": [1, 2], "bet_rules": [{"then": {"step": 2}}]},
                "bet_rules[0].then.step",
                "must be 0..1",
            ),
            (
                {"bet_rules": [{"then": {"add": 1, "cycle_target": 0}}]},
                "bet_rules[0].then.cycle_target",
                "must be 0.01..10000",
            ),
            (
                {"bet_steps": [], "bet_rules": [{"then": {"bet": 1}}]},
                "bet_steps",
                "not a non-empty",
            ),
            (
                {"bet_steps": [1, 0], "bet_rules": [{"then": {"bet": 1}}]},
                "bet_steps[1]",
                "must be 1",
            ),
            ({"bet_steps": [1, 2]}, "bet_steps", "steps are bet only by bet_rules"),
            (
                {"bet_ramp": {"1": 2}, "bet_rules": [{"then": {"bet": 1}}]},
                "bet_ramp",
                "bet_rules set the bet",
            ),
            (
                {"min_bet": 1e9, "bet_rules": [{"then": {"bet": 1}}]},
                "min_bet",
                "the largest bet",
            ),
        ],
    )
    def test_it_names_the_field_and_the_reason(self, betting, path, reason):
        found = problems(betting)
        assert any(p == f"{PATH}.{path}" and reason in r for p, r in found), found

    def test_a_list_of_more_than_100_rules_is_one_problem(self):
        found = problems({"bet_rules": [{"then": {"bet": 1}}] * 101})
        assert found == [(f"{PATH}.bet_rules", "101 entries; at most 100")]

    def test_every_bad_rule_is_reported_not_only_the_first(self):
        found = problems({"bet_rules": [{"then": {"bet": 0}}, {"then": {"add": "x"}}]})
        assert {p for p, _ in found} == {
            f"{PATH}.bet_rules[0].then.bet",
            f"{PATH}.bet_rules[1].then.add",
        }

    def test_a_flat_class_has_no_rules(self):
        found = problems(
            {"name": "FlatBettingStrategy", "bet_rules": [{"then": {"bet": 1}}], "min_bet": 10}
        )
        assert (f"{PATH}.bet_rules", "a FlatBettingStrategy has no rules") in found
