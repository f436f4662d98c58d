"""Counting as players count (issue 10): the true count a player computes, unbalanced
systems, index plays, wonging, spots and the bet cap. Arranged shoes follow the deal
order of tests/engine/test_mechanics.py; statistical claims state their SE multiple."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.config import (
    BettingStrategy,
    Config,
    ConfigError,
    CountingSystem,
    Player,
    PlayingStrategy,
    Rules,
    config_to_dict,
    normalize_config,
)
from jost_engine.config.types import Deviation
from jost_engine.simulate import new_session

A, T = 1, 10
INF = math.inf
FLAT = ((-INF, 1.0),)


@pytest.fixture(scope="module")
def s17_chart(published_chart: Callable[[str], PlayingStrategy]) -> PlayingStrategy:
    return published_chart("6D_S17_DAS_noLS")


@pytest.fixture(scope="module")
def table(
    s17_chart: PlayingStrategy, hilo: CountingSystem, make_rules: Callable[..., Rules]
) -> Callable[..., Config]:
    """table(rules=..., playing=..., betting=..., counting=..., log_hands=...): one player."""

    def build(
        rules: dict[str, Any] | None = None,
        playing: dict[str, Any] | None = None,
        betting: dict[str, Any] | None = None,
        counting: dict[str, Any] | None = None,
        log_hands: bool = True,
        bankroll: float = 1e6,
    ) -> Config:
        player = Player(
            name="alice",
            bankroll=bankroll,
            playing=dataclasses.replace(s17_chart, **(playing or {})),
            betting=BettingStrategy(
                **{"name": "b", "min_bet": 10.0, "num_hands": 1, "ramp": FLAT, **(betting or {})}
            ),
            counting=dataclasses.replace(hilo, **(counting or {})),
        )
        return Config(
            rules=make_rules(**{"decks": 6, "penetration": 0.75, **(rules or {})}),
            players=(player,),
            num_rounds=1,
            seed=1,
            log_hands=log_hands,
        )

    return build


class TestTrueCountAsAPlayerComputesIt:
    """kernel._true_count: running count 7 with 100 cards unseen (1.92 decks)."""

    @pytest.mark.parametrize(
        ("estimation", "rounding", "expected"),
        [
            ("exact", "none", 7 * 52 / 100),  # 3.64
            ("half", "none", 7 / 2.0),  # 100 / 26 = 3.85 half decks -> 4 -> 2 decks
            ("whole", "none", 7 / 2.0),  # 1.92 decks -> 2
            ("exact", "floor", 3.0),
            ("exact", "truncate", 3.0),
            ("exact", "round", 4.0),
            ("half", "round", 4.0),  # 3.5 rounds half away from 0
            ("whole", "floor", 3.0),
        ],
    )
    def test_a_positive_count(self, estimation, rounding, expected):
        est = {"exact": k.EST_EXACT, "half": k.EST_HALF, "whole": k.EST_WHOLE}[estimation]
        rnd = {"none": k.RND_NONE, "floor": k.RND_FLOOR, "truncate": k.RND_TRUNC}
        rnd["round"] = k.RND_ROUND
        assert k._true_count(7.0, 100, k.DECK_CARDS, est, rnd[rounding]) == pytest.approx(expected)

    @pytest.mark.parametrize(
        ("rounding", "expected"),
        [("none", -3.5), ("floor", -4.0), ("truncate", -3.0), ("round", -4.0)],
    )
    def test_negative_counts_floor_down_truncate_up_and_round_halves_away(self, rounding, expected):
        rnd = {"none": 0, "floor": 1, "truncate": 2, "round": 3}[rounding]
        assert k._true_count(-7.0, 104, k.DECK_CARDS, k.EST_WHOLE, rnd) == expected  # 2 decks

    @pytest.mark.parametrize(
        ("estimation", "unseen", "decks"),
        [
            ("half", 12, 0.5),  # never under half a deck
            ("half", 39, 1.0),  # 1.5 half decks: halves up, to 2 half decks
            ("half", 38, 0.5),
            ("whole", 20, 1.0),  # never under one deck
            ("whole", 78, 2.0),  # 1.5 decks: halves up
            ("whole", 77, 1.0),
        ],
    )
    def test_the_deck_estimate_rounds_to_the_nearest_step_halves_up(
        self, estimation, unseen, decks
    ):
        est = k.EST_HALF if estimation == "half" else k.EST_WHOLE
        assert k._true_count(6.0, unseen, k.DECK_CARDS, est, k.RND_NONE) == pytest.approx(
            6.0 / decks
        )

    def test_the_running_count_after_known_cards_sets_the_bet(self, table):
        # Round 1: 5,6 vs 4 up, 3 hole (hilo +4); the player's 11 doubles and draws a 2
        # (+1), the dealer's 7 draws a 10 (-1) to 17: running count +4 at round 2, with
        # 312 - 6 cards unseen. Whole decks: 306/52 = 5.88 -> 6, true count 0.67;
        # rounded: 1, which bets 2 units.
        config = table(
            betting={"ramp": ((-INF, 1.0), (1.0, 2.0))},
            counting={"deck_estimation": "whole", "true_count_rounding": "round"},
        )
        s = new_session(config, 1, arranged=[5, 4, 6, 3, 2, T, 9, T, T, 7, 7])
        s.play(2)
        assert s.seats.run_count[0] == 4.0  # round 2's own cards are added when round 3 starts
        bets = [h["bet"] for h in s.stats().hand_log]
        assert bets[0] == 20.0 and bets[1] == 20.0  # round 1 doubled 10; round 2 bets 2 units

    def test_without_rounding_the_same_shoe_bets_one_unit(self, table):
        config = table(
            betting={"ramp": ((-INF, 1.0), (1.0, 2.0))}, counting={"deck_estimation": "whole"}
        )
        s = new_session(config, 1, arranged=[5, 4, 6, 3, 2, T, 9, T, T, 7, 7])
        s.play(2)
        assert [h["bet"] for h in s.stats().hand_log][1] == 10.0  # 0.67 is under +1


class TestUnbalancedSystems:
    def test_ko_starts_at_its_initial_running_count_and_a_full_shoe_ends_at_plus_4(self):
        config = normalize_config(
            {
                "casino": "vegas_6d_s17_das",
                "num_rounds": 1,
                "players": [{"counting_strategy": "ko"}],
            }
        )
        s = new_session(config, 1)
        assert s.players.cnt_f[0, k.CF_IRC] == 4 - 4 * 6 and s.seats.run_count[0] == -20.0
        # Every card of the shoe added: each deck adds +4.
        assert s.seats.run_count[0] + s.players.tags[0][s.shoe.cards].sum() == 4.0

    def test_the_initial_running_count_comes_back_at_every_shuffle(self):
        raw = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 1,
            "players": [{"counting_strategy": "red7", "betting_strategy": {"bet_ramp": {"0": 2}}}],
        }
        s = new_session(normalize_config(raw), 1)
        s.play(5_000)
        assert s.shoe.st_i[k.S_SHUFFLES] > 50
        # Counted from -12 (Red 7: -2 per deck) since the last shuffle: the shoe's dealt
        # cards before the count position add up to the running count.
        dealt = s.shoe.cards[: s.shoe.st_i[k.S_COUNT_FROM]]
        assert s.seats.run_count[0] == pytest.approx(-12.0 + s.players.tags[0][dealt].sum())

    def test_red_seven_counts_a_seven_as_half(self):
        c = (
            normalize_config(
                {
                    "casino": "vegas_6d_s17_das",
                    "num_rounds": 1,
                    "players": [{"counting_strategy": "red7"}],
                }
            )
            .players[0]
            .counting
        )
        assert c.unbalanced and c.tags[5] * c.tag_scale == 0.5 and c.initial_count(6) == -12

    def test_an_unbalanced_ramp_reads_the_running_count_by_default(self):
        from jost_engine.counting import ramp_reads_running

        raw = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 1,
            "players": [{"counting_strategy": "ko"}],
        }
        assert ramp_reads_running(normalize_config(raw).players[0])
        raw["players"][0]["betting_strategy"] = {"ramp_count": "true"}
        assert not ramp_reads_running(normalize_config(raw).players[0])

    def test_ko_with_a_running_count_ramp_wins_where_hi_lo_wins(self):
        def ev(counting: str, ramp: dict[str, int]) -> tuple[float, float]:
            raw = {
                "casino": {"parent": "vegas_6d_s17_das", "allow_late_surrender": True},
                "num_rounds": 1,
                "players": [
                    {
                        "bankroll": 1e12,
                        "counting_strategy": counting,
                        "betting_strategy": {"min_bet": 1, "bet_ramp": ramp},
                    }
                ],
            }
            s = new_session(normalize_config(raw), 3)
            s.play(3_000_000)
            st = s.stats()
            n = st.counter(0, "rounds")
            mean = st.total(0, "unit_net") / n
            var = st.total(0, "unit_net_sq") / n - mean * mean
            return mean, math.sqrt(var / n)

        # KO 6 decks: IRC -20, key count -4, pivot +4; the Hi-Lo ramp at true counts 1..4.
        ko, ko_se = ev("ko", {"-4": 2, "-2": 4, "0": 8, "2": 12})
        hilo, hilo_se = ev("hilo", {"1": 2, "2": 4, "3": 8, "4": 12})
        assert hilo > 4 * hilo_se
        assert ko > 4 * ko_se


def _sixteen_vs_ten(index: float, when: str = "at_or_above") -> Deviation:
    return Deviation(
        kind="hard", row="16", up="10", index=index, action="S", above=when == "at_or_above"
    )


class TestIndexPlays:
    # A fresh 6-deck shoe: 10,6 vs 10 (hilo -1), hole 7: true count -52/309, floored -1.
    # Standing, the player's 16 meets the dealer's 17; hitting, the 5 makes 21.
    CARDS = [T, T, 6, 7, 5, 2]

    @pytest.mark.parametrize(("index", "stands"), [(-1.0, True), (0.0, False)])
    def test_taken_at_its_index_and_not_one_step_before(self, table, index, stands):
        config = table(
            playing={"deviations": (_sixteen_vs_ten(index),)},
            counting={"true_count_rounding": "floor"},
        )
        s = new_session(config, 1, arranged=self.CARDS)
        s.play(1)
        hand = s.stats().hand_log[0]
        assert hand["cards"] == (["10", "6"] if stands else ["10", "6", "5"])

    @pytest.mark.parametrize(("index", "hits"), [(1.0, True), (0.0, False)])
    def test_a_below_play_is_taken_under_its_index_only(self, table, index, hits):
        # Hard 12 vs 4 stands in the chart; "hit below index" at a true count of 0.
        play = Deviation(kind="hard", row="12", up="4", index=index, action="H", above=False)
        config = table(playing={"deviations": (play,)}, counting={"true_count_rounding": "floor"})
        s = new_session(config, 1, arranged=[T, 4, 2, 7, 9])  # -1 +1 +1: tc 0.17 -> 0
        s.play(1)
        assert len(s.stats().hand_log[0]["cards"]) == (3 if hits else 2)

    def test_a_double_play_where_doubling_is_not_allowed_plays_its_fallback(self, table):
        # 10 vs 10: double at -5; only 11 may double, so Dh hits.
        play = Deviation(kind="hard", row="10", up="10", index=-5.0, action="Dh")
        config = table(rules={"double_totals": (11,)}, playing={"deviations": (play,)})
        s = new_session(config, 1, arranged=[6, T, 4, 7, 9])
        s.play(1)
        hand = s.stats().hand_log[0]
        assert hand["bet"] == 10.0 and hand["cards"] == ["6", "4", "9"]

    def test_a_surrender_play_only_where_surrender_is_offered(self, table):
        play = Deviation(kind="hard", row="14", up="10", index=-10.0, action="Rh")
        cards = [T, T, 4, 7, 2, 9]
        for surrender, expected in ((True, ["surrender"]), (False, [])):
            config = table(rules={"late_surrender": surrender}, playing={"deviations": (play,)})
            s = new_session(config, 1, arranged=cards)
            s.play(1)
            actions = s.stats().hand_log[0]["actions"]
            assert [a for a in actions if a == "surrender"] == expected

    def test_insurance_given_as_a_play(self):
        raw = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 1,
            "players": [
                {
                    "playing_strategy": {
                        "strategy": "auto",
                        "deviations": [{"hand": "insurance", "index": 2}],
                    }
                }
            ],
        }
        assert normalize_config(raw).players[0].playing.insurance_true_count == 2.0

    def test_an_insurance_index_counts_only_where_insurance_is_offered(self, table):
        # Counting costs time on every card: a flat-betting player whose only use of the
        # count is an insurance index counts nothing at a table that offers none.
        for offered in (True, False):
            config = table(
                rules={"offer_insurance": offered}, playing={"insurance_true_count": 3.0}
            )
            assert new_session(config, 1).table.rules_i[k.R_COUNT_ON] == offered

    def test_i18_and_fab4_do_not_lower_the_counters_ev(self):
        def ev(deviations: list[str]) -> tuple[float, float]:
            raw = {
                "casino": {"parent": "vegas_6d_s17_das", "allow_late_surrender": True},
                "num_rounds": 1,
                "players": [
                    {
                        "bankroll": 1e12,
                        "playing_strategy": {"strategy": "auto", "deviations": deviations},
                        "betting_strategy": {"min_bet": 1, "bet_ramp": {"1": 2, "2": 4, "3": 8}},
                    }
                ],
            }
            s = new_session(normalize_config(raw), 11)
            s.play(2_000_000)
            st = s.stats()
            n = st.counter(0, "rounds")
            mean = st.total(0, "unit_net") / n
            return mean, math.sqrt((st.total(0, "unit_net_sq") / n - mean * mean) / n)

        base, base_se = ev([])
        dev, dev_se = ev(["illustrious18", "fab4"])
        assert dev - base > -4 * math.hypot(base_se, dev_se)


class TestWonging:
    # One deck: round 1 deals only low cards, so the count at round 2 is far above +1.
    LOW = [2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6]

    def test_a_watching_player_bets_nothing_and_rejoins_at_wong_in(self, table):
        config = table(rules={"decks": 1}, betting={"wong_in": 1.0})
        s = new_session(config, 1, arranged=self.LOW)
        s.play(1)
        st = s.stats()
        assert st.counter(0, "rounds_watched") == 1 and st.counter(0, "rounds") == 0
        assert st.total(0, "wagered") == 0.0 and st.hand_log == [] and s.seats.bankroll[0] == 1e6
        s.play(1)
        st = s.stats()
        assert st.counter(0, "rounds") == 1 and st.counter(0, "rounds_watched") == 1
        assert st.total(0, "wagered") >= 10.0 and s.rounds_played == 2

    def test_a_player_leaves_below_wong_out_and_watches(self, table):
        high = [T, T, T, T, A, A, A, A, T, T, T, T, T, T, T, T]
        config = table(rules={"decks": 1}, betting={"wong_out": -1.0})
        s = new_session(config, 1, arranged=high)
        s.play(3)
        st = s.stats()
        assert st.counter(0, "rounds") == 1 and st.counter(0, "rounds_watched") == 2


class TestSpotsAndCap:
    def test_the_spots_ramp_and_max_bet_follow_the_count(self, table):
        # As TestWonging: round 2 is at a high count, so 3 spots at the capped bet.
        config = table(
            rules={"decks": 1},
            betting={
                "ramp": ((-INF, 1.0), (1.0, 8.0)),
                "spots_ramp": ((-INF, 1), (1.0, 3)),
                "max_bet": 50.0,
            },
        )
        s = new_session(config, 1, arranged=TestWonging.LOW)
        s.play(2)
        st = s.stats()
        assert st.counter(0, "spots") == 1 + 3
        assert st.total(0, "initial_bet") == 10.0 + 3 * 50.0

    def test_the_table_seats_the_widest_spots_ramp(self):
        raw = {
            "casino": "vegas_6d_s17_das",
            "num_rounds": 1,
            "players": [{"betting_strategy": {"spots_ramp": {"2": 4}}}] * 2,
        }
        with pytest.raises(ConfigError, match="8 spots in all"):
            normalize_config(raw)


BAD_CONFIG = {
    "casino": "vegas_6d_s17_das",
    "num_rounds": 1,
    "players": [
        {
            "playing_strategy": {
                "strategy": "auto",
                "insurance": 2,
                "deviations": [
                    "i19",
                    {"hand": "17x", "vs": "Z", "index": "a", "action": "P", "when": "x"},
                    {"hand": "insurance", "index": 3},
                    {"hand": "16", "vs": "10"},
                ],
            },
            "betting_strategy": {
                "spots_ramp": {"3": 9},
                "max_bet": 5,
                "wong_in": -2,
                "wong_out": 1,
                "ramp_count": "x",
            },
            "counting_strategy": {
                "tags": [1] * 10,
                "initial_running_count": 3,
                "deck_estimation": "quarter",
                "true_count_rounding": "up",
            },
        },
        {
            "counting_strategy": {
                "tags": [1] * 10,
                "unbalanced": "yes",
                "initial_running_count": {"base": "x"},
            }
        },
    ],
}


def test_every_new_field_names_its_path_and_reason():
    with pytest.raises(ConfigError) as error:
        normalize_config(BAD_CONFIG)
    p0, p1 = "players[0]", "players[1]"
    dev = f"{p0}.playing_strategy.deviations"
    expected = {
        (f"{dev}[0]", "unknown preset 'i19'; available: fab4, illustrious18"),
        (f"{dev}[1].index", "not a number (a true count)"),
        (f"{dev}[1].when", 'not "at_or_above" or "below"'),
        (
            f"{dev}[1].hand",
            'not a hand such as "16", "hard 16", "soft 18", "A,7", "10,10" or "insurance"',
        ),
        (f"{dev}[1].vs", "not a dealer up card 2..10 or A"),
        (f"{dev}[1].action", "P (split) is only for pairs"),
        (f"{dev}[2]", "contradicts insurance (2)"),
        (f"{dev}[3].index", "required"),
        (f"{dev}[3].action", "required"),
        (f"{p0}.betting_strategy.ramp_count", 'not "true" or "running"'),
        (f'{p0}.betting_strategy.spots_ramp["3"]', "must be 1..7, got 9"),
        (f"{p0}.betting_strategy.max_bet", "must be at least min_bet (10), got 5"),
        (
            f"{p0}.betting_strategy.wong_out",
            "must be at most wong_in (-2): a player would leave at a count that makes them sit in",
        ),
        (f"{p0}.counting_strategy.deck_estimation", "not one of 'exact', 'half', 'whole'"),
        (
            f"{p0}.counting_strategy.true_count_rounding",
            "not one of 'none', 'floor', 'truncate', 'round'",
        ),
        (
            f"{p0}.counting_strategy.initial_running_count",
            "only an unbalanced system starts from an initial running count (set unbalanced: true)",
        ),
        (f"{p1}.counting_strategy.unbalanced", "not true or false"),
        (
            f"{p1}.counting_strategy.initial_running_count.base",
            "not a number between -10000 and 10000",
        ),
    }
    assert expected <= set(error.value.problems)


def test_the_new_fields_survive_config_to_dict():
    raw = {
        "casino": "vegas_6d_h17_das_ls",
        "num_rounds": 10,
        "players": [
            {
                "playing_strategy": {
                    "strategy": "auto",
                    "deviations": [
                        "illustrious18",
                        "fab4",
                        {"hand": "A,7", "vs": "2", "index": 1, "action": "Ds"},
                        {"hand": "8,8", "vs": "10", "index": 6, "action": "S", "when": "below"},
                    ],
                },
                "betting_strategy": {
                    "bet_ramp": {"1": 2},
                    "spots_ramp": {"3": 2},
                    "max_bet": 15,
                    "wong_in": 1,
                    "wong_out": -1,
                    "ramp_count": "true",
                },
                "counting_strategy": {
                    "parent": "ko",
                    "deck_estimation": "half",
                    "true_count_rounding": "round",
                },
            },
            {"counting_strategy": "red7"},
        ],
    }
    config = normalize_config(raw)
    assert normalize_config(config_to_dict(config)) == config
    assert config.players[0].playing.insurance_true_count == 3.0  # from the I18


def test_the_h17_presets_differ_where_published():
    from jost_engine.config.charts import preset_deviations

    s17 = {(d.row, d.up): d for d in preset_deviations("illustrious18", False)}
    h17 = {(d.row, d.up): d for d in preset_deviations("illustrious18", True)}
    assert s17[("10", "A")].index == 4 and h17[("10", "A")].index == 3
    assert s17[("11", "A")].above and not h17[("11", "A")].above
    fab = {(d.row, d.up): d.index for d in preset_deviations("fab4", True)}
    assert fab[("15", "A")] == -1
    assert np.isfinite([d.index for d in s17.values()]).all()
