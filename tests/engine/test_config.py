"""normalize_config: every JOST dialect of the top level, casinos, betting, counting and
players comes out as one typed Config; config_to_dict round-trips it."""

import json
import math

import pytest

from jost_engine.config import (
    FLAT_RAMP,
    MAX_ROUNDS,
    Config,
    ConfigError,
    config_to_dict,
    normalize_config,
)


def config(**overrides):
    base = {
        "casino": "master_casino",
        "num_rounds": 1000,
        "players": [{"profile": "master_player"}],
    }
    base.update(overrides)
    return base


def casino(**rules):
    return normalize_config(config(casino=rules)).rules


def player(**fields):
    return normalize_config(config(players=[fields])).players[0]


class TestTopLevel:
    def test_it_normalises_the_design_example(self):
        cfg = normalize_config(
            {
                "casino": "master_casino",
                "num_rounds": 1000000,
                "seed": 42,
                "players": [
                    {
                        "profile": "master_player",
                        "playing_strategy": "auto",
                        "betting_strategy": "master_betting_strategy",
                    }
                ],
            }
        )
        assert isinstance(cfg, Config)
        assert cfg.num_rounds == 1_000_000 and cfg.seed == 42 and cfg.log_hands is False
        assert cfg.rules.name == "master_casino"
        (only,) = cfg.players
        assert only.name == "master_player" and only.playing.auto
        assert only.betting.name == "master_betting_strategy"

    @pytest.mark.parametrize("flag", ["log_each_hand", "include_hand_history", "log_hands"])
    def test_it_accepts_every_spelling_of_the_hand_history_flag(self, flag):
        assert normalize_config(config(**{flag: True})).log_hands is True

    def test_it_accepts_two_spellings_of_the_flag_that_agree(self):
        assert normalize_config(config(log_each_hand=True, log_hands=True)).log_hands is True

    def test_the_seed_defaults_to_none_and_may_be_null(self):
        assert normalize_config(config()).seed is None
        assert normalize_config(config(seed=None)).seed is None
        assert normalize_config(config(seed=0)).seed == 0

    def test_it_accepts_rounds_written_as_a_whole_float(self):
        # JSON writers print 1e6 as 1000000.0
        assert normalize_config(config(num_rounds=1e6)).num_rounds == 1_000_000

    def test_it_accepts_rounds_up_to_the_cap(self):
        assert normalize_config(config(num_rounds=MAX_ROUNDS)).num_rounds == MAX_ROUNDS

    def test_it_reads_jost_single_player_task_form(self):
        # The payload JOST's Flask front end handed its Celery task.
        cfg = normalize_config(
            {
                "player": {"name": "Ann", "bankroll": 500},
                "casino": {
                    "name": "db casino",
                    "rules": {"deck_count": 8, "dealer_stands_on_soft_17": True},
                },
                "strategy": {"hard": {"17-21": {"2-11": "S"}}, "soft": {}, "pairs": {}},
                "betting_strategy": {
                    "name": "ramp",
                    "min_bet": 10,
                    "bet_ramp": [{"count_threshold": 1, "bet_multiplier": 2}],
                },
                "iterations": 250,
            }
        )
        (ann,) = cfg.players
        assert cfg.num_rounds == 250 and cfg.rules.decks == 8 and not cfg.rules.hit_soft_17
        assert ann.name == "Ann" and ann.bankroll == 500.0 and ann.playing.hard["18"]["A"] == "S"
        assert ann.betting.ramp[-1] == (1.0, 2.0)

    def test_it_ignores_the_descriptive_fields_jost_carried(self):
        cfg = normalize_config(config(name="my run", title="t", notes="n", description="d"))
        assert cfg.num_rounds == 1000


class TestCasinoDialects:
    def test_omitted_rules_take_the_documented_defaults(self):
        rules = casino(name="bare")
        assert (rules.decks, rules.hit_soft_17, rules.double_totals, rules.double_after_split) == (
            6,
            False,
            None,
            True,
        )
        assert (rules.max_split_hands, rules.resplit_aces, rules.hit_split_aces) == (
            4,
            False,
            False,
        )
        assert (rules.late_surrender, rules.early_surrender, rules.blackjack_payout) == (
            False,
            False,
            1.5,
        )
        assert (rules.penetration, rules.offer_insurance, rules.dealer_peeks) == (0.75, True, True)

    @pytest.mark.parametrize(
        "spelling, hits",
        [
            ({"hit_on_soft_17": True}, True),
            ({"hit_on_soft_17": False}, False),
            ({"dealer_stands_on_soft_17": True}, False),
            ({"dealer_stands_on_soft_17": False}, True),
            ({"hit_on_soft_17": True, "dealer_stands_on_soft_17": False}, True),
        ],
    )
    def test_it_reads_soft_17_in_both_dialects(self, spelling, hits):
        assert casino(**spelling).hit_soft_17 is hits

    @pytest.mark.parametrize("key", ["DAS", "allow_double_after_split"])
    def test_it_reads_double_after_split_in_both_dialects(self, key):
        assert casino(**{key: False}).double_after_split is False

    @pytest.mark.parametrize(
        "spelling, totals",
        [
            ({"double_down_restrictions": ["any"]}, None),
            ({"double_down_restrictions": [9, 10, 11]}, (9, 10, 11)),
            ({"double_down_restrictions": [10, 11]}, (10, 11)),
            ({"double_down_restrictions": ["9-11"]}, (9, 10, 11)),
            ({"double_down_restrictions": "any"}, None),
            ({"allow_double_on_any_two": True}, None),
            ({"allow_double_on_any_two": False}, (9, 10, 11)),
            ({"allow_double_on_any_two": False, "double_down_restrictions": [10, 11]}, (10, 11)),
        ],
    )
    def test_it_reads_double_down_rules_in_both_dialects(self, spelling, totals):
        assert casino(**spelling).double_totals == totals

    @pytest.mark.parametrize("value, decks", [(1, 1), (2, 2), (8, 8), (0, 0), ("infinite", 0)])
    def test_it_reads_deck_counts_and_the_infinite_shoe(self, value, decks):
        assert casino(deck_count=value).decks == decks

    @pytest.mark.parametrize(
        "value, payout",
        [(1.5, 1.5), ("3:2", 1.5), ("6:5", 1.2), (1.2, 1.2), ("1:1", 1.0), ("3/2", 1.5), (1, 1.0)],
    )
    def test_it_reads_blackjack_payouts_as_numbers_or_ratios(self, value, payout):
        assert casino(blackjack_payout=value).blackjack_payout == pytest.approx(payout)

    @pytest.mark.parametrize("value", [75, 0.75, 75.0])
    def test_it_reads_penetration_as_percent_or_fraction(self, value):
        assert casino(reshuffle_penetration=value).penetration == pytest.approx(0.75)

    def test_it_reads_the_remaining_rules(self):
        rules = casino(
            allow_resplit_to_hands=2,
            allow_resplit_aces=True,
            hit_split_aces=True,
            allow_late_surrender=True,
            allow_early_surrender=True,
            offer_insurance=False,
            dealer_checks_for_blackjack=False,
        )
        assert rules.max_split_hands == 2 and rules.resplit_aces and rules.hit_split_aces
        assert rules.late_surrender and rules.early_surrender
        assert not rules.offer_insurance and not rules.dealer_peeks

    def test_a_no_hole_card_blackjack_takes_every_bet_unless_told_otherwise(self):
        assert casino(dealer_checks_for_blackjack=False).no_hole_card_loses == "all"
        rules = casino(dealer_checks_for_blackjack=False, no_hole_card_loses="original_bet")
        assert rules.no_hole_card_loses == "original_bet" and rules.blackjack_takes_one_bet

    def test_all_is_accepted_in_a_peek_game_where_it_changes_nothing(self):
        rules = casino(dealer_checks_for_blackjack=True, no_hole_card_loses="all")
        assert rules.dealer_peeks and rules.no_hole_card_loses == "all"

    def test_it_reads_rules_nested_under_rules_as_jost_casino_to_dict_sent_them(self):
        rules = casino(name="nested", rules={"deck_count": 2, "dealer_stands_on_soft_17": False})
        assert (rules.name, rules.decks, rules.hit_soft_17) == ("nested", 2, True)

    def test_an_inline_casino_may_overlay_a_named_parent(self):
        rules = casino(parent="master_casino", deck_count=2)
        assert rules.decks == 2 and rules.late_surrender is True  # master_casino's surrender

    def test_a_named_casino_keeps_its_name(self):
        assert (
            normalize_config(config(casino="vegas_6d_h17_das_ls")).rules.name
            == "vegas_6d_h17_das_ls"
        )


class TestBetting:
    def test_a_dict_ramp_with_minus_infinity_is_sorted_from_minus_infinity(self):
        bet = player(
            betting_strategy={"min_bet": 25, "bet_ramp": {"3": 6, "-Infinity": 1, "1": 2}}
        ).betting
        assert bet.min_bet == 25.0
        assert bet.ramp == ((-math.inf, 1.0), (1.0, 2.0), (3.0, 6.0))

    def test_ramp_keys_may_be_floats_ints_or_strings(self):
        bet = player(betting_strategy={"bet_ramp": {"1.5": 2, "-1": 0.5, "2": 3}}).betting
        assert bet.ramp == ((-math.inf, 1.0), (-1.0, 0.5), (1.5, 2.0), (2.0, 3.0))

    def test_a_ramp_that_starts_above_minus_infinity_bets_one_unit_below_it(self):
        bet = player(betting_strategy={"bet_ramp": {"2": 4}}).betting
        assert bet.ramp == ((-math.inf, 1.0), (2.0, 4.0))

    def test_it_reads_a_list_of_count_threshold_tiers(self):
        bet = player(
            betting_strategy={
                "min_bet": 5,
                "bet_ramp": [
                    {"count_threshold": 2, "bet_multiplier": 4},
                    {"count_threshold": "-Infinity", "bet_multiplier": 1},
                    {"count_threshold": 1, "bet_multiplier": 2},
                ],
            }
        ).betting
        assert bet.ramp == ((-math.inf, 1.0), (1.0, 2.0), (2.0, 4.0))

    def test_a_flat_betting_strategy_class_bets_its_amount_flat(self):
        bet = player(
            betting_strategy={"name": "FlatBettingStrategy", "params": {"bet_amount": 100}}
        ).betting
        assert bet.min_bet == 100.0 and bet.ramp == FLAT_RAMP

    def test_a_missing_ramp_is_a_flat_bet(self):
        bet = player(betting_strategy={"min_bet": 15}).betting
        assert bet.ramp == FLAT_RAMP and bet.num_hands == 1

    def test_num_hands_sets_the_spots(self):
        assert player(betting_strategy={"num_hands": 3}).betting.num_hands == 3

    def test_a_child_overlays_its_named_parent(self):
        bet = player(betting_strategy={"parent": "master_betting_strategy", "min_bet": 50}).betting
        assert bet.min_bet == 50.0 and bet.ramp[-1] == (4.0, 8.0)

    def test_a_child_overlays_an_inline_parent(self):
        bet = player(
            betting_strategy={"parent": {"min_bet": 5, "bet_ramp": {"1": 3}}, "num_hands": 2}
        ).betting
        assert (bet.min_bet, bet.num_hands, bet.ramp[-1]) == (5.0, 2, (1.0, 3.0))

    def test_the_shipped_true_count_betting_inherits_min_bet_from_basic_betting(self):
        bet = player(betting_strategy="true_count_betting").betting
        assert (
            bet.name == "true_count_betting" and bet.min_bet == 10.0 and bet.ramp[-1] == (4.0, 12.0)
        )


class TestCounting:
    def test_it_counts_hi_lo_by_default(self):
        counting = player(name="p").counting
        assert counting.name == "hilo" and counting.tags == (1, 1, 1, 1, 1, 0, 0, 0, -1, -1)

    @pytest.mark.parametrize("spelling", ["hilo", "Hi-Lo", "hi_lo", "HILO"])
    def test_it_finds_a_system_by_a_loose_spelling_of_its_name(self, spelling):
        assert player(counting_strategy=spelling).counting.name == "hilo"

    def test_counting_system_is_a_synonym_of_counting_strategy(self):
        assert player(counting_system="ko").counting.tags[5] == 1

    def test_it_reads_inline_tags_by_rank_with_face_cards_that_agree(self):
        tags = {
            "2": 1,
            "3": 1,
            "4": 1,
            "5": 1,
            "6": 1,
            "7": 0,
            "8": 0,
            "9": 0,
            "T": -1,
            "J": -1,
            "Q": -1,
            "K": -1,
            "10": -1,
            "A": -1,
        }
        counting = player(counting_strategy={"name": "mine", "tags": tags}).counting
        assert counting.name == "mine" and counting.tags == (1, 1, 1, 1, 1, 0, 0, 0, -1, -1)

    def test_it_reads_inline_tags_as_a_list_of_ten(self):
        counting = player(
            counting_strategy={"name": "list", "tags": [0, 1, 1, 1, 1, 0, 0, 0, -1, 0]}
        ).counting
        assert counting.tags == (0, 1, 1, 1, 1, 0, 0, 0, -1, 0)

    def test_half_point_tags_are_doubled_with_a_scale_of_one_half(self):
        counting = player(counting_strategy="wong_halves").counting
        assert counting.tags == (1, 2, 2, 3, 2, 1, 0, -1, -2, -2) and counting.tag_scale == 0.5


class TestPlayers:
    def test_players_without_a_name_are_numbered_by_seat(self):
        cfg = normalize_config(config(players=[{"bankroll": 100}, {"bankroll": 200}]))
        assert [p.name for p in cfg.players] == ["Player 1", "Player 2"]

    def test_a_profile_player_is_overlaid_by_the_fields_given(self):
        (p,) = normalize_config(
            config(
                players=[{"profile": "master_player", "bankroll": 77, "counting_strategy": "zen"}]
            )
        ).players
        assert p.name == "master_player" and p.bankroll == 77.0 and p.counting.name == "zen"
        assert p.betting.name == "master_betting_strategy" and not p.playing.auto

    def test_a_player_may_be_given_by_name(self):
        (p,) = normalize_config(config(players=["perfect_player_poor"])).players
        assert p.bankroll == 500.0 and p.betting.name == "flat_betting" and p.playing.auto

    def test_two_seats_from_one_profile_get_distinct_names(self):
        cfg = normalize_config(
            config(players=[{"profile": "master_player"}, {"profile": "master_player"}])
        )
        assert [p.name for p in cfg.players] == ["master_player", "master_player #2"]

    def test_a_missing_playing_strategy_is_auto(self):
        assert player(name="x").playing.auto is True

    def test_null_strategies_take_their_defaults(self):
        p = player(playing_strategy=None, betting_strategy=None, counting_strategy=None)
        assert p.playing.auto and p.betting.ramp == FLAT_RAMP and p.counting.name == "hilo"


class TestUserProfiles:
    def test_a_resolver_profile_shadows_a_shipped_one(self):
        mine = {"name": "master_casino", "deck_count": 1}
        cfg = normalize_config(
            config(), resolve=lambda kind, name: mine if kind == "casino" else None
        )
        assert cfg.rules.decks == 1

    def test_names_the_resolver_does_not_know_fall_back_to_the_defaults(self):
        cfg = normalize_config(config(), resolve=lambda kind, name: None)
        assert cfg.rules.name == "master_casino"

    def test_the_resolver_is_asked_by_kind_and_name(self):
        asked = []

        def resolve(kind, name):
            asked.append((kind, name))
            return None

        normalize_config(
            config(players=[{"profile": "master_player", "betting_strategy": "flat_betting"}]),
            resolve=resolve,
        )
        assert ("casino", "master_casino") in asked and ("player", "master_player") in asked
        assert ("betting_strategy", "flat_betting") in asked


class TestRoundTrip:
    @pytest.mark.parametrize(
        "raw",
        [
            config(),
            config(
                casino="european_6d_no_hole_card",
                seed=5,
                log_hands=True,
                players=[
                    "perfect_player_rich",
                    {
                        "profile": "perfect_player_poor",
                        "playing_strategy": "perfect_h17_basic_strategy",
                        "counting_strategy": "wong_halves",
                    },
                ],
            ),
            config(
                casino={
                    "parent": "european_6d_no_hole_card",
                    "no_hole_card_loses": "original_bet",
                    "allow_late_surrender": True,
                }
            ),
            config(
                casino={"deck_count": "infinite", "blackjack_payout": "6:5"},
                players=[{"betting_strategy": {"bet_ramp": {"2": 3}, "num_hands": 2}}],
            ),
            config(rounds_per_hour=62.5),
        ],
    )
    def test_config_to_dict_survives_json_and_normalises_to_an_equal_config(self, raw):
        cfg = normalize_config(raw)
        again = normalize_config(json.loads(json.dumps(config_to_dict(cfg), allow_nan=False)))
        assert again == cfg

    def test_the_pace_of_the_per_hour_figures_defaults_to_100_rounds(self):
        assert normalize_config(config()).rounds_per_hour == 100.0
        assert normalize_config(config(rounds_per_hour=250)).rounds_per_hour == 250.0
        assert config_to_dict(normalize_config(config()))["rounds_per_hour"] == 100

    def test_minus_infinity_is_written_as_a_string(self):
        out = config_to_dict(normalize_config(config()))
        assert (
            out["players"][0]["betting_strategy"]["bet_ramp"][0]["count_threshold"] == "-Infinity"
        )


def test_config_error_lists_problems_as_path_and_reason():
    with pytest.raises(ConfigError) as caught:
        normalize_config(config(num_rounds=0))
    assert caught.value.problems == [("num_rounds", "must be 1..10000000000, got 0")]
    assert "num_rounds: must be" in str(caught.value)
