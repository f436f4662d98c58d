"""Bad configs: every fault comes back as (JSON path, reason), all of them at once."""

import pytest

from jost_engine.config import ConfigError, normalize_config


def config(**overrides):
    base = {
        "casino": "master_casino",
        "num_rounds": 1000,
        "players": [{"profile": "master_player"}],
    }
    base.update(overrides)
    return base


PENETRATION_REASON = (
    "must be above 0 and below 1, or as a percent below 100 (the cut card falls inside the "
    "shoe), got {}"
)


def problems(raw, resolve=None):
    with pytest.raises(ConfigError) as caught:
        normalize_config(raw, resolve=resolve)
    return caught.value.problems


def reason_at(raw, path):
    found = [reason for where, reason in problems(raw) if where == path]
    assert found, f"no problem at {path}: {problems(raw)}"
    return found[0]


class TestTopLevel:
    @pytest.mark.parametrize("raw", [None, [], "config", 3])
    def test_it_rejects_anything_but_an_object(self, raw):
        assert problems(raw) == [("(config)", "expected a JSON object")]

    def test_it_names_every_missing_required_field(self):
        assert sorted(problems({})) == [
            ("casino", "required"),
            ("num_rounds", "required"),
            ("players", "required"),
        ]

    @pytest.mark.parametrize(
        "rounds, reason",
        [
            (0, "must be 1..10000000000, got 0"),
            (-5, "must be 1..10000000000, got -5"),
            (10**10 + 1, "must be 1..10000000000, got 10000000001"),
            (1.5, "not a whole number"),
            ("1000", "not a whole number"),
            (True, "not a whole number"),
        ],
    )
    def test_it_rejects_a_bad_round_count(self, rounds, reason):
        assert reason_at(config(num_rounds=rounds), "num_rounds") == reason

    @pytest.mark.parametrize(
        "rate, reason",
        [
            (0, "must be 1..10000, got 0"),
            (0.5, "must be 1..10000, got 0.5"),
            (-60, "must be 1..10000, got -60"),
            (10_001, "must be 1..10000, got 10001"),
            ("100", "not a number"),
            (True, "not a number"),
        ],
    )
    def test_it_rejects_a_bad_pace(self, rate, reason):
        assert reason_at(config(rounds_per_hour=rate), "rounds_per_hour") == reason

    @pytest.mark.parametrize("seed", [-1, 1.5, "42", 2**64])
    def test_it_rejects_a_bad_seed(self, seed):
        assert "not a whole number" in reason_at(config(seed=seed), "seed")

    def test_it_rejects_an_unknown_top_level_field(self):
        assert reason_at(config(rounds=5), "rounds") == "unknown field"

    def test_it_rejects_hand_history_flags_that_disagree(self):
        assert (
            reason_at(config(log_each_hand=True, log_hands=False), "log_hands")
            == "contradicts log_each_hand"
        )

    def test_it_rejects_a_hand_history_flag_that_is_not_a_boolean(self):
        assert (
            reason_at(config(include_hand_history="yes"), "include_hand_history")
            == "not true or false"
        )

    @pytest.mark.parametrize("players", [[], {}, "master_player"])
    def test_it_rejects_players_that_are_not_a_non_empty_list(self, players):
        assert reason_at(config(players=players), "players") == "not a non-empty list"

    def test_it_rejects_more_players_than_seats(self):
        assert "at most 7" in reason_at(config(players=[{}] * 8), "players")

    def test_it_rejects_more_spots_than_seats(self):
        spread = {"betting_strategy": {"num_hands": 4}}
        assert (
            reason_at(config(players=[spread, spread]), "players")
            == "8 spots in all; a table has at most 7"
        )


class TestNames:
    def test_an_unknown_casino_lists_the_available_ones(self):
        reason = reason_at(config(casino="mgm"), "casino")
        assert reason.startswith("unknown casino 'mgm'; available: ")
        assert "master_casino" in reason and "perfect_h17_casino" in reason

    def test_an_unknown_name_mentions_saved_profiles_when_a_resolver_is_given(self):
        found = problems(config(casino="mgm"), resolve=lambda kind, name: None)
        assert found[0][1].endswith("or one of your saved profiles")

    def test_an_unknown_betting_strategy_names_its_player_path(self):
        raw = config(players=[{"betting_strategy": "labouchere"}])  # not shipped
        assert reason_at(raw, "players[0].betting_strategy").startswith(
            "unknown betting strategy 'labouchere'"
        )

    def test_an_unknown_player_profile_names_the_profile_path(self):
        raw = config(players=[{"profile": "nobody"}])
        assert reason_at(raw, "players[0].profile").startswith(
            "unknown player 'nobody'; available: master_player"
        )

    def test_a_parent_cycle_is_an_error(self):
        saved = {"a": {"parent": "b", "min_bet": 5}, "b": {"parent": "a"}}
        found = problems(
            config(players=[{"betting_strategy": "a"}]),
            resolve=lambda kind, name: saved.get(name) if kind == "betting_strategy" else None,
        )
        assert ("players[0].betting_strategy.parent.parent", "profile cycle: a -> b -> a") in found

    def test_a_profile_that_is_neither_a_name_nor_an_object_is_an_error(self):
        assert reason_at(config(casino=6), "casino") == "expected a profile name or an object"

    def test_a_name_written_twice_is_an_error(self):
        raw = config(players=[{"name": "Ann"}, {"name": "Ann"}])
        assert reason_at(raw, "players[1].name") == "duplicate name 'Ann', already players[0]"


class TestCasinoErrors:
    @pytest.mark.parametrize(
        "field, value, reason",
        [
            ("deck_count", 9, "must be 1..8, or 0 for an infinite shoe, got 9"),
            ("deck_count", 2.5, 'not a whole number of decks (or "infinite")'),
            ("deck_count", "lots", 'not a whole number of decks (or "infinite")'),
            ("DAS", "yes", "not true or false"),
            ("blackjack_payout", "2 to 1", 'not a payout (use 1.5, "3:2", "6:5" or "1:1")'),
            ("blackjack_payout", 0, "must be more than 0 and at most 3 (3:1), got 0"),
            ("reshuffle_penetration", 100, PENETRATION_REASON.format(100)),
            ("reshuffle_penetration", 0, PENETRATION_REASON.format(0)),
            ("allow_resplit_to_hands", 0, "must be 1..8, got 0"),
            (
                "double_down_restrictions",
                [],
                'empty: give ["any"] or a list of totals such as [9, 10, 11]',
            ),
            ("surrender", True, "unknown field"),
            ("no_hole_card_loses", "doubles", 'not "all" or "original_bet"'),
            ("no_hole_card_loses", False, 'not "all" or "original_bet"'),
        ],
    )
    def test_it_names_the_bad_rule_and_why(self, field, value, reason):
        assert reason_at(config(casino={field: value}), f"casino.{field}") == reason

    def test_it_names_the_bad_total_in_double_down_restrictions(self):
        raw = config(casino={"double_down_restrictions": [10, "eleven"]})
        assert reason_at(raw, "casino.double_down_restrictions[1]").startswith(
            'not "any", a total 4..21'
        )

    def test_contradictory_soft_17_rules_are_an_error(self):
        raw = config(casino={"hit_on_soft_17": True, "dealer_stands_on_soft_17": True})
        assert "contradicts hit_on_soft_17" in reason_at(raw, "casino.dealer_stands_on_soft_17")

    def test_contradictory_double_rules_are_an_error(self):
        raw = config(casino={"allow_double_on_any_two": True, "double_down_restrictions": [10, 11]})
        assert (
            reason_at(raw, "casino.allow_double_on_any_two")
            == "contradicts double_down_restrictions"
        )

    def test_contradictory_aliases_are_an_error(self):
        raw = config(casino={"DAS": True, "allow_double_after_split": False})
        assert reason_at(raw, "casino.allow_double_after_split") == "contradicts DAS"

    def test_original_bet_only_is_refused_in_a_peek_game(self):
        # With a peek the blackjack ends the round before any double or split: the rule
        # would change nothing, so it can only be a missing dealer_checks_for_blackjack.
        raw = config(
            casino={"dealer_checks_for_blackjack": True, "no_hole_card_loses": "original_bet"}
        )
        assert reason_at(raw, "casino.no_hole_card_loses").startswith(
            '"original_bet" needs dealer_checks_for_blackjack false'
        )

    def test_a_nested_rule_is_reported_at_its_nested_path(self):
        raw = config(casino={"rules": {"deck_count": 12}})
        assert reason_at(raw, "casino.rules.deck_count").startswith("must be 1..8")


class TestBettingErrors:
    def test_it_rejects_a_ramp_with_a_bad_threshold(self):
        raw = config(players=[{"betting_strategy": {"bet_ramp": {"x": 2}}}])
        assert reason_at(raw, 'players[0].betting_strategy.bet_ramp["x"]') == "not a number"

    def test_it_rejects_a_ramp_with_a_bad_multiplier(self):
        raw = config(players=[{"betting_strategy": {"bet_ramp": {"2": "lots"}}}])
        assert reason_at(raw, 'players[0].betting_strategy.bet_ramp["2"]') == "not a number"

    def test_it_rejects_a_ramp_with_a_non_positive_multiplier(self):
        raw = config(players=[{"betting_strategy": {"bet_ramp": {"2": 0}}}])
        assert (
            reason_at(raw, 'players[0].betting_strategy.bet_ramp["2"]')
            == "must be 0.01..10000, got 0"
        )

    def test_it_rejects_plus_infinity_as_a_threshold(self):
        raw = config(players=[{"betting_strategy": {"bet_ramp": {"Infinity": 2}}}])
        assert (
            reason_at(raw, 'players[0].betting_strategy.bet_ramp["Infinity"]')
            == 'only "-Infinity" may be infinite'
        )

    def test_it_rejects_a_threshold_given_twice(self):
        raw = config(players=[{"betting_strategy": {"bet_ramp": {"2": 3, "2.0": 4}}}])
        assert (
            reason_at(raw, 'players[0].betting_strategy.bet_ramp["2.0"]')
            == "threshold 2 is given twice"
        )

    def test_it_names_a_bad_tier_in_a_list_ramp(self):
        raw = config(
            players=[
                {
                    "betting_strategy": {
                        "bet_ramp": [
                            {"count_threshold": 1, "bet_multiplier": 2},
                            {"count_threshold": "high", "multiplier": 2},
                        ]
                    }
                }
            ]
        )
        found = problems(raw)
        assert ("players[0].betting_strategy.bet_ramp[1].bet_multiplier", "required") in found
        assert ("players[0].betting_strategy.bet_ramp[1].multiplier", "unknown field") in found

    @pytest.mark.parametrize(
        "field, value, reason",
        [
            ("min_bet", 0, "must be 0.01..1e12, got 0"),
            ("min_bet", "10", "not a number"),
            ("num_hands", 8, "must be 1..7, got 8"),
            ("num_hands", 0, "must be 1..7, got 0"),
            ("max_bet", 5, "must be at least min_bet (10), got 5"),
            ("table_max", 100, "unknown field"),
        ],
    )
    def test_it_names_a_bad_betting_field(self, field, value, reason):
        raw = config(players=[{"betting_strategy": {field: value}}])
        assert reason_at(raw, f"players[0].betting_strategy.{field}") == reason

    def test_a_flat_betting_strategy_takes_no_ramp(self):
        raw = config(
            players=[
                {
                    "betting_strategy": {
                        "name": "FlatBettingStrategy",
                        "params": {"bet_amount": 5},
                        "bet_ramp": {"1": 2},
                    }
                }
            ]
        )
        assert "has no ramp" in reason_at(raw, "players[0].betting_strategy.bet_ramp")


class TestChartErrors:
    def path(self, tail):
        return f"players[0].playing_strategy.{tail}"

    def chart(self, **tables):
        return config(players=[{"playing_strategy": {"strategy": tables}}])

    def test_a_row_missing_up_cards_names_the_row_and_the_cards(self):
        raw = self.chart(hard={"16": {"2-6": "S", "7-9": "H"}})
        assert reason_at(raw, self.path('strategy.hard["16"]')) == "hard 16 misses up cards 10, A"

    @pytest.mark.parametrize("value", ["sometimes", True, None, [3]])
    def test_it_rejects_an_insurance_choice_that_is_not_never_always_or_a_count(self, value):
        raw = config(players=[{"playing_strategy": {"strategy": "auto", "insurance": value}}])
        assert (
            reason_at(raw, "players[0].playing_strategy.insurance")
            == 'not "never", "always" or a true count'
        )

    def test_a_bad_action_names_its_cell(self):
        raw = self.chart(hard={"16": {"2-9": "S", "10": "X", "A": "H"}})
        assert reason_at(raw, self.path('strategy.hard["16"]["10"]')).startswith("not an action")

    def test_a_split_outside_the_pair_table_is_an_error(self):
        raw = self.chart(hard={"16": {"2-11": "P"}})
        assert (
            reason_at(raw, self.path('strategy.hard["16"]["2-11"]'))
            == "P (split) is only for pairs"
        )

    @pytest.mark.parametrize(
        "table, row", [("hard", "22"), ("hard", "3"), ("soft", "11"), ("pairs", "8,9")]
    )
    def test_a_row_that_names_no_hand_is_an_error(self, table, row):
        raw = self.chart(**{table: {row: {"2-A": "H"}}})
        assert reason_at(raw, self.path(f'strategy.{table}["{row}"]')).startswith("not ")

    def test_a_bad_up_card_is_an_error(self):
        raw = self.chart(hard={"16": {"2-10": "H", "B": "H"}})
        assert reason_at(raw, self.path('strategy.hard["16"]["B"]')).startswith(
            "not a dealer up card"
        )

    def test_a_cell_given_twice_with_different_actions_is_an_error(self):
        raw = self.chart(hard={"16": {"2-11": "H", "10": "S"}})
        assert "given twice" in reason_at(raw, self.path('strategy.hard["16"]["10"]'))

    def test_a_strategy_without_a_chart_is_an_error(self):
        raw = config(players=[{"playing_strategy": {"name": "empty"}}])
        assert reason_at(raw, "players[0].playing_strategy").startswith("no chart")

    def test_an_unknown_table_is_an_error(self):
        raw = self.chart(hard={"16": "S"}, splits={"8,8": "P"})
        assert reason_at(raw, self.path("strategy.splits")) == "unknown field"


class TestCountingErrors:
    def test_face_cards_that_disagree_with_ten_are_an_error(self):
        tags = {
            "2": 1,
            "3": 1,
            "4": 1,
            "5": 1,
            "6": 1,
            "7": 0,
            "8": 0,
            "9": 0,
            "10": -1,
            "K": 0,
            "A": -1,
        }
        raw = config(players=[{"counting_strategy": {"name": "x", "tags": tags}}])
        assert (
            reason_at(raw, 'players[0].counting_strategy.tags["K"]')
            == 'disagrees with players[0].counting_strategy.tags["10"]'
        )

    def test_missing_ranks_are_named(self):
        raw = config(players=[{"counting_strategy": {"tags": {"2": 1, "3": 1}}}])
        assert (
            reason_at(raw, "players[0].counting_strategy.tags")
            == "misses ranks 4, 5, 6, 7, 8, 9, 10, A"
        )

    def test_a_list_of_the_wrong_length_is_an_error(self):
        raw = config(players=[{"counting_strategy": {"tags": [1, 1, 1]}}])
        assert "10 entries" in reason_at(raw, "players[0].counting_strategy.tags")

    def test_quarter_point_tags_are_refused(self):
        raw = config(players=[{"counting_strategy": {"tags": [0.25, 1, 1, 1, 1, 0, 0, 0, -1, -1]}}])
        assert (
            reason_at(raw, "players[0].counting_strategy.tags")
            == "tags must be whole or half numbers"
        )

    def test_an_unknown_system_lists_the_shipped_ones(self):
        raw = config(players=[{"counting_strategy": "red8"}])  # Red 7 is shipped
        reason = reason_at(raw, "players[0].counting_strategy")
        assert "hilo" in reason and "wong_halves" in reason


def test_it_reports_every_problem_at_once():
    raw = {
        "casino": {"deck_count": 9, "DAS": "yes"},
        "num_rounds": 0,
        "seed": -1,
        "colour": "red",
        "players": [
            {"bankroll": -5, "betting_strategy": {"bet_ramp": {"x": 2}, "min_bet": 0}},
            {"playing_strategy": {"hard": {"16": {"2": "Z"}}}, "counting_strategy": "nope"},
        ],
    }
    paths = {path for path, _ in problems(raw)}
    assert {
        "casino.deck_count",
        "casino.DAS",
        "num_rounds",
        "seed",
        "colour",
        "players[0].bankroll",
        'players[0].betting_strategy.bet_ramp["x"]',
        "players[0].betting_strategy.min_bet",
        'players[1].playing_strategy.hard["16"]["2"]',
        "players[1].counting_strategy",
    } <= paths


def player(**fields):
    """A config with one master_player whose sections are overridden by `fields`."""
    return config(players=[{"profile": "master_player", **fields}])


def betting(**fields):
    return player(betting_strategy={"min_bet": 10, **fields})


def counting(**fields):
    return player(counting_strategy={"tags": [1, 1, 1, 1, 1, 0, 0, 0, -1, -1], **fields})


def playing(**fields):
    return player(playing_strategy={"strategy": "auto", **fields})


class TestBounds:
    """Every number is bounded so that all the kernel computes stays finite and every index
    in range (docs/CONFIG.md, Bounds); the largest and smallest value of each bound pass."""

    BET = "players[0].betting_strategy"
    COUNT = "players[0].counting_strategy"
    PLAY = "players[0].playing_strategy"

    @pytest.mark.parametrize(
        "raw, path, reason",
        [
            # The crash: tags of 10 scaled by 1e308 overflowed the running count.
            (counting(tag_scale=1e308), f"{COUNT}.tag_scale", "must be 0.001..100, got 1e+308"),
            (counting(tag_scale=1e-9), f"{COUNT}.tag_scale", "must be 0.001..100, got 1e-09"),
            (player(bankroll=1e13), "players[0].bankroll", "must be 0.01..1e12, got 1e+13"),
            (player(bankroll=0.001), "players[0].bankroll", "must be 0.01..1e12, got 0.001"),
            (betting(min_bet=2e12), f"{BET}.min_bet", "must be 0.01..1e12, got 2e+12"),
            (betting(max_bet=1e300), f"{BET}.max_bet", "must be 0.01..1e12, got 1e+300"),
            (
                betting(bet_ramp={"1": 10_001}),
                f'{BET}.bet_ramp["1"]',
                "must be 0.01..10000, got 10001",
            ),
            (
                betting(bet_ramp={"1e7": 2}),
                f'{BET}.bet_ramp["1e7"]',
                'must be -1000000..1000000 (or "-Infinity"), got 1e+07',
            ),
            (betting(wong_in=-2e6), f"{BET}.wong_in", "must be -1000000..1000000, got -2000000.0"),
            (betting(wong_out=1e300), f"{BET}.wong_out", "must be -1000000..1000000, got 1e+300"),
            (
                playing(insurance=1e9),
                f"{PLAY}.insurance",
                "must be -1000000..1000000, got 1000000000.0",
            ),
            (
                playing(deviations=[{"hand": "16", "vs": "10", "index": -1e7, "action": "S"}]),
                f"{PLAY}.deviations[0].index",
                "must be -1000000..1000000, got -10000000.0",
            ),
        ],
    )
    def test_it_refuses_a_number_out_of_its_bounds(self, raw, path, reason):
        assert reason_at(raw, path) == reason

    def test_it_refuses_a_ramp_whose_largest_bet_passes_the_money_bound(self):
        raw = betting(min_bet=1e9, bet_ramp={"2": 10_000})
        reason = reason_at(raw, f"{self.BET}.bet_ramp")
        assert "the largest bet, min_bet x the largest multiplier (1e13)" in reason
        assert "at most 1e12" in reason

    def test_max_bet_keeps_a_large_ramp_within_the_money_bound(self):
        cfg = normalize_config(betting(min_bet=1e9, max_bet=1e12, bet_ramp={"2": 10_000}))
        assert cfg.players[0].betting.max_bet == 1e12

    def test_every_bound_itself_is_accepted(self):
        cfg = normalize_config(
            config(
                rounds_per_hour=1,
                players=[
                    {
                        "bankroll": 1e12,
                        "betting_strategy": {
                            "min_bet": 0.01,
                            "max_bet": 1e12,
                            "wong_in": 1e6,
                            "wong_out": -1e6,
                            "bet_ramp": {"-1000000": 0.01, "1000000": 10_000},
                        },
                        "counting_strategy": {
                            "tags": [10] * 5 + [0] * 3 + [-10] * 2,
                            "tag_scale": 100,
                        },
                        "playing_strategy": {"strategy": "auto", "insurance": -1e6},
                    },
                    {
                        "bankroll": 0.01,
                        "betting_strategy": {"min_bet": 1e12},
                        "counting_strategy": {"tags": [1] * 10, "tag_scale": 0.001},
                    },
                ],
            )
        )
        first, second = cfg.players
        assert first.bankroll == 1e12 and second.bankroll == 0.01
        assert first.counting.tag_scale == 100 and second.counting.tag_scale == 0.001
        assert first.betting.ramp[-1] == (1e6, 10_000)

    @pytest.mark.parametrize(
        "raw, path, entries, cap",
        [
            (betting(bet_ramp={str(t): 2 for t in range(101)}), "bet_ramp", 101, 100),
            (
                betting(
                    bet_ramp=[{"count_threshold": t, "bet_multiplier": 2} for t in range(30_000)]
                ),
                "bet_ramp",
                30_000,
                100,
            ),
            (betting(spots_ramp={str(t): 2 for t in range(101)}), "spots_ramp", 101, 100),
        ],
    )
    def test_it_caps_the_entries_of_a_ramp(self, raw, path, entries, cap):
        assert problems(raw) == [(f"{self.BET}.{path}", f"{entries} entries; at most {cap}")]

    def test_it_caps_the_deviations_of_a_strategy(self):
        plays = [{"hand": "16", "vs": "10", "index": i, "action": "S"} for i in range(101)]
        assert problems(playing(deviations=plays)) == [
            (f"{self.PLAY}.deviations", "101 entries; at most 100")
        ]

    def test_a_hundred_plays_on_one_cell_are_accepted(self):
        plays = [{"hand": "16", "vs": "10", "index": i / 10, "action": "S"} for i in range(100)]
        cfg = normalize_config(playing(deviations=plays))
        assert len(cfg.players[0].playing.deviations) == 100

    def test_it_caps_the_rows_of_a_chart(self):
        rows = {f"{t}": "S" for t in range(4, 22)} | {f"x{i}": "S" for i in range(100)}
        found = problems(playing(strategy={"hard": rows}))
        assert found == [(f"{self.PLAY}.strategy.hard", "118 entries; at most 100")]

    def test_it_caps_tags_by_rank(self):
        tags = {str(i): 0 for i in range(200)}
        assert problems(counting(tags=tags)) == [(f"{self.COUNT}.tags", "200 entries; at most 100")]
