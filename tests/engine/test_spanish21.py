"""Spanish 21, one arranged shoe at a time (jost_engine.kernel_spanish).

Deal order as in test_mechanics.py: a card to every spot, the up card, a second card to
every spot, the hole card (the dealer peeks), then the players act in seat order and the
dealer draws. The shoe is an infinite Spanish one unless a test says otherwise, so any
order is possible. A card is rank | suit << 4 (rank 1 = ace .. 10 = J/Q/K; suit 0 =
spades, 1 hearts, 2 diamonds, 3 clubs), so a plain rank is a spade.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine import kernel_spanish as ks
from jost_engine.chart import UP_CARDS
from jost_engine.config import ConfigError, config_to_dict, normalize_config
from jost_engine.simulate import Session, new_session, results
from jost_engine.stats import FORMAT_1_COUNTERS, Stats, merge
from jost_engine.strategy import resolve_playing_strategy

A, T = 1, 10
SPADES, HEARTS, DIAMONDS, CLUBS = 0, 1, 2, 3


def card(rank: int, suit: int) -> int:
    return rank | (suit << ks.SUIT_SHIFT)


# A small chart that says what each test needs: double 9-11 on two or three cards (hit
# them on four or more), stand 12-16 against 2-6, rescue a doubled 12-16 against 8-A;
# 7,7 is hit (for the 7-7-7s), 2,2 and 8,8 split.
CHART: dict[str, Any] = {
    "name": "spanish test chart",
    "strategy": {
        "hard": {
            "4-8": "H",
            "9-11": "D",
            "12-16": {"2-6": "S", "7-A": "H"},
            "17-21": "S",
        },
        "soft": {"12-17": "H", "18-21": "S"},
        "pairs": {"2,2": "P", "8,8": "P", "7,7": "H", "A,A": "P"},
        "more_cards": {"4+": {"hard": {"9-11": "H"}}},
        "rescue": {"12-16": {"8-A": "R"}},
    },
}

SPANISH_RULES: dict[str, Any] = {
    "deck": "spanish",
    "deck_count": "infinite",
    "player_21_always_wins": True,
    "player_blackjack_beats_dealer_blackjack": True,
    "double_on_any_number_of_cards": True,
    "double_down_rescue": True,
    "max_redoubles": 3,
    "bonus_five_card_21": "3:2",
    "bonus_six_card_21": "2:1",
    "bonus_seven_card_21": "3:1",
    "bonus_678_mixed": "3:2",
    "bonus_678_suited": "2:1",
    "bonus_678_spades": "3:1",
    "bonus_777_mixed": "3:2",
    "bonus_777_suited": "2:1",
    "bonus_777_spades": "3:1",
    "super_bonus": 1000,
    "envy_bonus": 50,
}


def spanish_config(players: int = 1, chart: dict[str, Any] | None = None, **rules: Any) -> Any:
    casino = {**SPANISH_RULES, **rules}
    return normalize_config(
        {
            "casino": casino,
            "num_rounds": 1,
            "seed": 1,
            "log_hands": True,
            "players": [
                {
                    "name": f"p{i}",
                    "bankroll": 1e6,
                    "playing_strategy": chart or CHART,
                    "betting_strategy": {"min_bet": 10},
                }
                for i in range(players)
            ],
        }
    )


def play(cards: list[int], players: int = 1, **rules: Any) -> Stats:
    session = new_session(spanish_config(players, **rules), seed=7, arranged=cards)
    assert session.spanish is not None
    session.play(1)
    return session.stats()


def net(stats: Stats, player: int = 0) -> float:
    return stats.total(player, "net")


class TestTheSpanishDeck:
    def test_a_spanish_deck_has_48_cards_without_the_ten_spots(self):
        deck = ks.suited_deck(True)
        ranks = deck & ks.RANK_MASK
        # J, Q and K of a suit are one card to the game (a ten of that suit).
        assert deck.size == 48 and len(set(deck.tolist())) == 40
        assert (ranks == 10).sum() == 12
        assert all((ranks == r).sum() == 4 for r in range(1, 10))
        assert all(((deck >> ks.SUIT_SHIFT) == s).sum() == 12 for s in range(4))

    def test_a_six_deck_spanish_shoe_holds_288_suited_cards(self):
        cfg = spanish_config(deck_count=6)
        shoe = new_session(cfg, seed=1).shoe.cards
        ranks = shoe & ks.RANK_MASK
        assert shoe.size == 288
        assert (ranks == 10).sum() == 72 and (ranks == 5).sum() == 24
        # Every card of the deck six times (a suit's three tens 18 times).
        values, counts = np.unique(shoe, return_counts=True)
        tens = (values & ks.RANK_MASK) == 10
        assert values.size == 40 and set(counts[tens]) == {18} and set(counts[~tens]) == {6}

    def test_the_infinite_spanish_shoe_deals_a_ten_a_quarter_of_the_time(self):
        deck = ks.suited_deck(True)
        cards = np.zeros(200_000, dtype=np.int8)
        ks.fill_suited(cards, 0, deck, np.array([1, 2, 3, 4], dtype=np.uint64))
        assert set(np.unique(cards).tolist()) == set(deck.tolist())
        share = float(((cards & ks.RANK_MASK) == 10).mean())
        se = (0.25 * 0.75 / cards.size) ** 0.5
        assert abs(share - 12 / 48) < 4 * se

    def test_naturals_come_at_the_spanish_rate(self):
        # An infinite Spanish shoe deals a natural with probability 2 x 4/48 x 12/48 =
        # 1/24 (the common shoe's 2 x 1/13 x 4/13 is 0.0473). 300,000 rounds, seed 9.
        cfg = dataclasses.replace(spanish_config(), log_hands=False)
        session = new_session(cfg, seed=9)
        session.play(300_000)
        stats = session.stats()
        n = stats.counter(0, "spots")
        share = stats.counter(0, "blackjack") / n
        p = 1 / 24
        se = (p * (1 - p) / n) ** 0.5
        assert abs(share - p) < 4 * se
        assert abs(share - 2 * 4 / 13**2) > 4 * se

    def test_hilo_over_a_spanish_deck_sums_to_plus_four(self):
        # 2-6 (+1) are 20 cards, tens and aces (-1) only 16: the count ends a shoe at +4
        # a deck, where a standard deck's ends at 0 (docs/CONFIG.md, counting).
        hilo = np.array([0, -1, 1, 1, 1, 1, 1, 0, 0, 0, -1])
        assert hilo[ks.suited_deck(True) & ks.RANK_MASK].sum() == 4
        assert hilo[ks.suited_deck(False) & ks.RANK_MASK].sum() == 0

    def test_the_true_count_divides_by_spanish_decks_of_48_cards(self):
        # A running count of +4 with 96 cards unseen is two Spanish decks: +2.
        tc = k._true_count.py_func(4.0, 96, 48, k.EST_EXACT, k.RND_NONE)
        assert tc == 2.0
        assert k._true_count.py_func(4.0, 96, 48, k.EST_WHOLE, k.RND_NONE) == 2.0

    def test_the_count_reads_the_rank_of_a_suited_card(self):
        cfg = normalize_config(
            {
                **config_to_dict(spanish_config(deck_count=2)),
                "log_hands": False,
                "players": [
                    {
                        "playing_strategy": CHART,
                        "bankroll": 1e6,
                        "betting_strategy": {
                            "min_bet": 10,
                            "bet_ramp": {"-Infinity": 1, "2": 4},
                        },
                    }
                ],
            }
        )
        session = new_session(cfg, seed=3)
        session.play(1)
        dealt = int(session.shoe.st_i[k.S_POS])
        first_round = session.shoe.cards[:dealt].copy()
        session.play(1)  # the first round's cards are counted when the second starts
        hilo = np.array([0, -1, 1, 1, 1, 1, 1, 0, 0, 0, -1])
        assert session.seats.run_count[0] == hilo[first_round & ks.RANK_MASK].sum()


class TestSettlement:
    def test_a_players_21_beats_a_dealers_21(self):
        # 10,5 vs 10 hits a 6 to 21; the dealer's 10,4 draws a 7 to 21.
        stats = play([T, T, 5, 4, 6, 7])
        assert net(stats) == 10.0 and stats.counter(0, "win") == 1

    def test_without_the_rule_21_against_21_pushes(self):
        stats = play([T, T, 5, 4, 6, 7], player_21_always_wins=False)
        assert net(stats) == 0.0 and stats.counter(0, "push") == 1

    def test_a_blackjack_beats_a_dealer_blackjack_at_three_to_two(self):
        stats = play([A, A, T, T])
        assert net(stats) == 15.0
        assert stats.counter(0, "blackjack") == 1 and stats.counter(0, "dealer_blackjack") == 1

    def test_without_the_rule_blackjack_against_blackjack_pushes(self):
        stats = play([A, A, T, T], player_blackjack_beats_dealer_blackjack=False)
        assert net(stats) == 0.0 and stats.counter(0, "push") == 1

    def test_a_dealer_blackjack_still_takes_a_hand_that_never_played(self):
        stats = play([T, A, 9, T])
        assert net(stats) == -10.0


class TestBonuses:
    def test_a_suited_777_against_a_dealer_7_wins_the_super_bonus_and_others_envy(self):
        # p0: 7h,7h vs 7 hits a 7h; p1: 10,10 stands; the dealer's 7,10 stands on 17.
        seven = card(7, HEARTS)
        stats = play([seven, T, 7, seven, T, T, seven], players=2)
        # The hand's suited 7-7-7 (2:1) and the super bonus besides.
        assert net(stats, 0) == 20.0 + 1000.0 and stats.counter(0, "super_bonus") == 1
        assert stats.counter(0, "777_suited") == 1
        # p1 wins its 20 and the envy bonus.
        assert net(stats, 1) == 10.0 + 50.0 and stats.counter(1, "envy_bonus") == 1
        assert stats.counter(1, "super_bonus") == 0 and stats.counter(0, "envy_bonus") == 0

    def test_a_doubled_suited_777_against_a_7_wins_no_super_bonus(self):
        # 7h,7h vs 7 doubles (this test's chart) and draws a 7h: even money on 20, and
        # with bonus_after_double its 2:1, but never the super bonus (not the first three
        # cards as dealt).
        chart = copy.deepcopy(CHART)
        chart["strategy"]["hard"] = {
            "4-8": "H",
            "9-11": "D",
            "12-13": "H",
            "14": "D",
            "15-16": "H",
            "17-21": "S",
        }
        chart["strategy"]["pairs"] = {**CHART["strategy"]["pairs"], "7,7": "D"}
        seven = card(7, HEARTS)
        for after_double, paid in ((False, 20.0), (True, 40.0)):
            session = new_session(
                spanish_config(chart=chart, bonus_after_double=after_double),
                seed=7,
                arranged=[seven, 7, seven, T, seven],
            )
            session.play(1)
            stats = session.stats()
            assert net(stats) == paid and stats.counter(0, "super_bonus") == 0

    def test_without_a_super_bonus_a_suited_777_pays_two_to_one(self):
        seven = card(7, HEARTS)
        stats = play([seven, 7, seven, T, seven], super_bonus=0, envy_bonus=0)
        assert net(stats) == 20.0 and stats.counter(0, "777_suited") == 1

    @pytest.mark.parametrize(
        ("sevens", "paid", "counter"),
        [
            ([card(7, SPADES)] * 3, 30.0, "777_spades"),
            ([card(7, HEARTS)] * 3, 20.0, "777_suited"),
            ([card(7, HEARTS), card(7, CLUBS), card(7, HEARTS)], 15.0, "777_mixed"),
        ],
    )
    def test_a_777_against_another_up_card_pays_by_its_suits(self, sevens, paid, counter):
        # 7,7 vs 9 hits a 7; the dealer's 9,10 stands on 19.
        stats = play([sevens[0], 9, sevens[1], T, sevens[2]])
        assert net(stats) == paid and stats.counter(0, counter) == 1

    @pytest.mark.parametrize(
        ("cards", "paid", "counter"),
        [
            ([card(6, SPADES), card(8, SPADES), card(7, SPADES)], 30.0, "678_spades"),
            ([card(8, DIAMONDS), card(6, DIAMONDS), card(7, DIAMONDS)], 20.0, "678_suited"),
            ([card(6, CLUBS), card(7, HEARTS), card(8, CLUBS)], 15.0, "678_mixed"),
        ],
    )
    def test_a_678_in_any_order_pays_by_its_suits(self, cards, paid, counter):
        # 6,8 (or 6,7) vs 9 is hit to 21; the dealer's 9,10 stands on 19.
        stats = play([cards[0], 9, cards[1], T, cards[2]])
        assert net(stats) == paid and stats.counter(0, counter) == 1

    def test_a_five_card_21_after_a_split_pays_three_to_two(self):
        # 2,2 vs 6 splits. Hand 1: 2,3 (5) 2 (7) 4: 11 of four cards, which the chart's
        # more_cards hits (it doubles 11 on two or three cards); a 10 makes a five-card 21.
        # Hand 2: 2,10 stands on 12. The dealer's 6,10 draws a 10 and busts.
        stats = play([2, 6, 2, T, 3, 2, 4, T, T, T])
        first, second = stats.hand_log
        assert first["cards"] == ["2", "3", "2", "4", "10"] and first["bet"] == 10.0
        assert first["net"] == 15.0 and second["net"] == 10.0
        assert stats.counter(0, "five_card_21") == 1 and stats.counter(0, "split") == 1

    def test_a_venue_that_pays_no_bonus_after_a_split_pays_even_money(self):
        stats = play([2, 6, 2, T, 3, 2, 4, T, T, T], bonus_after_split=False)
        assert stats.hand_log[0]["net"] == 10.0 and stats.counter(0, "five_card_21") == 0

    def test_a_six_card_21_pays_two_to_one(self):
        # 2,3 vs 7 hits 2, 2, 2 (9 and 11 of four and five cards hit: more_cards) and a 10
        # to a six-card 21; the dealer's 7,10 stands on 17.
        stats = play([2, 7, 3, T, 2, 2, 2, T])
        assert stats.hand_log[0]["cards"] == ["2", "3", "2", "2", "2", "10"]
        assert net(stats) == 20.0 and stats.counter(0, "six_card_21") == 1

    def test_no_bonus_on_a_doubled_hand_unless_the_venue_pays_it(self):
        # 6,8 vs 9 doubles 14 (this test's chart) and draws a 7 of spades: a 678 of
        # spades, doubled: even money on 20.
        chart = copy.deepcopy(CHART)
        chart["strategy"]["hard"] = {
            "4-8": "H",
            "9-11": "D",
            "12-13": {"2-6": "S", "7-A": "H"},
            "14": "D",
            "15-16": {"2-6": "S", "7-A": "H"},
            "17-21": "S",
        }
        cards = [card(6, SPADES), 9, card(8, SPADES), T, card(7, SPADES)]
        session = new_session(spanish_config(chart=chart), seed=7, arranged=cards)
        session.play(1)
        assert session.stats().total(0, "net") == 20.0
        assert session.stats().counter(0, "678_spades") == 0
        paid = new_session(
            spanish_config(chart=chart, bonus_after_double=True), seed=7, arranged=cards
        )
        paid.play(1)
        assert paid.stats().total(0, "net") == 60.0  # 3:1 on the doubled 20
        assert paid.stats().counter(0, "678_spades") == 1


class TestDoubles:
    def test_double_on_three_cards(self):
        # 2,3 vs 6 hits a 4: 9 of three cards doubles (any number of cards) and draws a
        # 10 to 19; the dealer's 6,10 draws a 10 and busts.
        stats = play([2, 6, 3, T, 4, T, T])
        assert stats.hand_log[0]["bet"] == 20.0 and net(stats) == 20.0
        assert stats.counter(0, "double") == 1

    def test_without_the_rule_a_three_card_9_hits(self):
        stats = play([2, 6, 3, T, 4, T, T], double_on_any_number_of_cards=False)
        assert stats.hand_log[0]["bet"] == 10.0 and net(stats) == 10.0

    def test_a_redouble(self):
        # 4,5 vs 6 doubles 9 and draws a 2: 11 of three cards, which the chart doubles, so
        # it redoubles (40 in all) and draws a 9 to 20; the dealer's 6,10 busts on a 10.
        stats = play([4, 6, 5, T, 2, 9, T])
        assert stats.hand_log[0]["bet"] == 40.0 and net(stats) == 40.0
        assert stats.counter(0, "double") == 1 and stats.counter(0, "redouble") == 1

    def test_without_redoubling_the_doubled_11_stands(self):
        stats = play([4, 6, 5, T, 2, 9, T], max_redoubles=0)
        assert stats.hand_log[0]["cards"] == ["4", "5", "2"]
        assert net(stats) == 20.0 and stats.counter(0, "redouble") == 0

    def test_double_down_rescue_forfeits_the_original_bet(self):
        # 5,5 vs 9 doubles and draws a 6: 16 against 9 is rescued, losing 10 of the 20.
        # The dealer's 9,8 never draws.
        stats = play([5, 9, 5, 8, 6])
        assert net(stats) == -10.0
        assert stats.counter(0, "rescue") == 1 and stats.counter(0, "surrender") == 0

    def test_without_rescue_the_doubled_16_stands_and_loses_the_double(self):
        stats = play([5, 9, 5, 8, 6], double_down_rescue=False)
        assert net(stats) == -20.0 and stats.counter(0, "rescue") == 0


def after_double_chart(after_double: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    """CHART with an after_double table in place of its rescue table."""
    chart = copy.deepcopy(CHART)
    del chart["strategy"]["rescue"]
    chart["strategy"].update(after_double=after_double, **strategy)
    return chart


def play_chart(cards: list[int], chart: dict[str, Any], **rules: Any) -> Stats:
    session = new_session(spanish_config(chart=chart, **rules), seed=7, arranged=cards)
    session.play(1)
    return session.stats()


class TestAfterDouble:
    # Each round is one where the doubled hand's own table and its chart cell disagree.
    def test_a_doubled_hand_stands_where_its_table_says_so_though_the_chart_doubles(self):
        # 4,5 vs 6 doubles and draws a 2: the chart doubles a three-card 11, the table
        # stands on it (test_a_redouble redoubles). The 9 goes to the dealer's 16: bust.
        stats = play_chart([4, 6, 5, T, 2, 9], after_double_chart({"hard": {"11": "S"}}))
        assert stats.hand_log[0]["cards"] == ["4", "5", "2"]
        assert net(stats) == 20.0 and stats.counter(0, "redouble") == 0

    def test_a_doubled_hand_redoubles_where_its_table_says_so_though_the_chart_stands(self):
        # 5,5 vs 6 doubles and draws a 2: the chart stands on 12 against a 6, the table
        # redoubles it (40 in all), and a 9 makes 21; the dealer's 6,10 busts on a 10.
        stats = play_chart([5, 6, 5, T, 2, 9, T], after_double_chart({"hard": {"12": {"6": "D"}}}))
        assert stats.hand_log[0]["cards"] == ["5", "5", "2", "9"]
        assert stats.hand_log[0]["bet"] == 40.0 and net(stats) == 40.0
        assert stats.counter(0, "redouble") == 1

    def test_a_doubled_soft_hand_reads_the_soft_row(self):
        # 2,3 vs 6 doubles (the chart doubles 5 here) and draws an ace: soft 16, which the
        # chart hits and the table's soft row redoubles (its hard 16 row stands); a 4
        # makes soft 20 and the dealer's 6,10 busts.
        chart = after_double_chart({"hard": {"16": "S"}, "soft": {"16": {"6": "D"}}})
        hard = chart["strategy"]["hard"]
        del hard["4-8"]
        hard.update({"4": "H", "5": "D", "6-8": "H"})
        stats = play_chart([2, 6, 3, T, A, 4, T], chart)
        assert stats.hand_log[0]["cards"] == ["2", "3", "A", "4"]
        assert stats.hand_log[0]["bet"] == 40.0 and net(stats) == 40.0

    def test_with_no_redouble_left_a_d_stands(self):
        # One redouble: 5,5 vs 6 doubles, draws a 2 and redoubles 12, draws a 2: 14,
        # which the table would redouble again; it stands, and the dealer busts.
        table = {"hard": {"12": {"6": "D"}, "14": {"6": "D"}}}
        stats = play_chart([5, 6, 5, T, 2, 2, T, T], after_double_chart(table), max_redoubles=1)
        assert stats.hand_log[0]["cards"] == ["5", "5", "2", "2"]
        assert stats.hand_log[0]["bet"] == 40.0 and net(stats) == 40.0

    def test_a_rescue_after_a_redouble_forfeits_the_original_bet(self):
        # 5,5 vs 9 doubles, draws a 2 and redoubles 12 (40 in all), draws a 4: 16
        # against the dealer's 19, rescued. It forfeits the first 10; where the venue
        # takes half of the wager (the last double back), 20.
        table = {"hard": {"12": {"9": "D"}, "16": {"9": "R"}}}
        cards = [5, 9, 5, T, 2, 4]
        stats = play_chart(cards, after_double_chart(table))
        assert stats.hand_log[0]["cards"] == ["5", "5", "2", "4"]
        assert stats.hand_log[0]["bet"] == 40.0 and stats.counter(0, "redouble") == 1
        assert net(stats) == -10.0 and stats.counter(0, "rescue") == 1
        half = play_chart(cards, after_double_chart(table), rescue_forfeits="half")
        assert net(half) == -20.0 and half.counter(0, "rescue") == 1

    def test_after_one_double_both_rules_forfeit_the_original_bet(self):
        table = {"hard": {"16": {"9": "R"}}}
        for rule in ("original_bet", "half"):
            stats = play_chart([5, 9, 5, T, 6], after_double_chart(table), rescue_forfeits=rule)
            assert net(stats) == -10.0

    def test_an_r_rescues_and_the_chart_rescue_table_is_not_read(self):
        # 5,5 vs 9 doubles and draws a 6: 16 against 9. The table rescues a doubled 16
        # against a 9 (losing 10 of the 20) and stands on 16 against an 8 (losing 20).
        table = {"hard": {"16": {"9": "R", "8": "S"}}}
        rescued = play_chart([5, 9, 5, 8, 6], after_double_chart(table))
        assert net(rescued) == -10.0 and rescued.counter(0, "rescue") == 1
        stood = play_chart([5, 8, 5, T, 6], after_double_chart(table))
        assert net(stood) == -20.0 and stood.counter(0, "rescue") == 0
        # Where the casino offers no rescue an R stands.
        offered_none = play_chart(
            [5, 9, 5, 8, 6], after_double_chart(table), double_down_rescue=False
        )
        assert net(offered_none) == -20.0

    def test_a_table_that_says_what_the_chart_says_plays_the_same_game_bitwise(self):
        # The chart's own cells and rescue table, written as an after_double table (no
        # more_cards, so a cell does not change with the number of cards): the two
        # paths through the loop must play every round alike.
        plain = copy.deepcopy(CHART)
        del plain["strategy"]["more_cards"]
        same = copy.deepcopy(plain)
        del same["strategy"]["rescue"]
        # The chart doubles 9-11; the rescue table is by total, soft hands' too.
        same["strategy"]["after_double"] = {
            "hard": {"9-11": "D", "12-16": {"8-A": "R"}},
            "soft": {"12-16": {"8-A": "R"}},
        }
        runs = []
        for chart in (plain, same):
            cfg = dataclasses.replace(spanish_config(chart=chart), log_hands=False)
            session = new_session(cfg, seed=5)
            session.play(50_000)
            runs.append(session.stats())
        a, b = runs
        assert (a.counters == b.counters).all() and (a.sums == b.sums).all()
        assert a.counter(0, "redouble") > 0 and a.counter(0, "rescue") > 0


class TestSplitAces:
    def test_aces_resplit_and_split_aces_are_hit(self):
        # A,A vs 6 splits; the first ace draws an ace and resplits, then draws 5 and 3 to
        # soft 19; the second draws a 10 (21 of two cards: no natural, no bonus); the third
        # a 9. The dealer's 6,10 busts on a 10: three wins.
        stats = play([A, 6, A, T, A, 5, 3, T, 9, T], allow_resplit_aces=True, hit_split_aces=True)
        assert [h["cards"] for h in stats.hand_log] == [["A", "5", "3"], ["A", "10"], ["A", "9"]]
        assert net(stats) == 30.0 and stats.counter(0, "split") == 2
        assert stats.counter(0, "blackjack") == 0

    def test_without_hitting_split_aces_each_gets_one_card(self):
        stats = play([A, 6, A, T, A, 5, T, 9, T], allow_resplit_aces=True, hit_split_aces=False)
        assert [h["cards"] for h in stats.hand_log] == [["A", "5"], ["A", "10"], ["A", "9"]]


class TestResults:
    def test_bonus_counters_merge_and_reach_the_frequencies(self):
        seven = card(7, SPADES)
        one = play([seven, 9, seven, T, seven])
        both = merge(one, Stats.from_dict(one.to_dict()))
        assert both.counter(0, "777_spades") == 2
        cfg = spanish_config()
        player = results(cfg, both)["players"][0]
        assert player["counts"]["777_spades"] == 2
        assert player["frequencies"]["777_spades"] == 1.0

    def test_stats_stored_before_the_spanish_counters_still_read(self):
        # Format 1 (and release-16's, with no format) kept the common game's first 16.
        stored = play([T, 9, T, T]).to_dict()
        stored["format"] = 1
        stored["counters"] = [row[:FORMAT_1_COUNTERS] for row in stored["counters"]]
        read = Stats.from_dict(stored)
        assert read.counters.shape == (1, k.N_COUNTERS)
        assert read.counters[0, FORMAT_1_COUNTERS:].tolist() == [0] * (
            k.N_COUNTERS - FORMAT_1_COUNTERS
        )
        assert read.counters[0, :FORMAT_1_COUNTERS].tolist() == stored["counters"][0]

    def test_a_common_game_keeps_its_loop_and_its_results(self):
        cfg = normalize_config(
            {"casino": {"deck_count": 6}, "num_rounds": 1, "players": [{"name": "a"}]}
        )
        session: Session = new_session(cfg, seed=1)
        assert session.spanish is None and not cfg.rules.spanish_game
        assert "deck" not in config_to_dict(cfg)["casino"]
        session.play(10)
        player = results(cfg, session.stats())["players"][0]
        assert "five_card_21" not in player["frequencies"]
        assert "five_card_21" not in player["counts"]


class TestConfig:
    def test_a_spanish_casino_round_trips(self):
        cfg = spanish_config()
        assert normalize_config(config_to_dict(cfg)) == cfg
        assert cfg.rules.cards_per_deck == 48 and cfg.rules.spanish_game

    def test_it_names_each_bad_spanish_rule(self):
        with pytest.raises(ConfigError) as err:
            spanish_config(
                deck="spain",
                max_redoubles=4,
                bonus_five_card_21="1:2",
                double_down_rescue="yes",
                super_bonus=-1,
            )
        paths = dict(err.value.problems)
        assert "not" in paths["casino.deck"] and "spanish" in paths["casino.deck"]
        assert paths["casino.max_redoubles"] == "must be 0..3, got 4"
        assert "at least 1" in paths["casino.bonus_five_card_21"]
        assert paths["casino.double_down_rescue"] == "not true or false"
        assert "must be 0.." in paths["casino.super_bonus"]

    def test_it_names_a_bad_rescue_rule(self):
        with pytest.raises(ConfigError) as err:
            spanish_config(rescue_forfeits="everything")
        assert '"original_bet"' in dict(err.value.problems)["casino.rescue_forfeits"]

    def test_an_envy_bonus_needs_a_super_bonus(self):
        with pytest.raises(ConfigError) as err:
            spanish_config(super_bonus=0)
        assert "super_bonus" in dict(err.value.problems)["casino.envy_bonus"]

    def test_auto_gives_a_chart_by_number_of_cards_for_spanish_rules(self):
        cfg = spanish_config(chart="auto")  # type: ignore[arg-type]
        chart = resolve_playing_strategy(cfg.players[0].playing, cfg.rules)
        assert not chart.auto and chart.name.startswith("auto spanish 21")
        spans = [(lo, hi) for lo, hi, _ in chart.more_cards]
        assert spans == [(3, 3), (4, 4), (5, 5), (6, 6), (7, 23)]
        # The bonuses make the number of cards matter: a 4-card 16 against a 2 stands, a
        # 5-card 16 hits (a six-card 21 pays 2:1), a 6-card one too (seven cards: 3:1).
        sixteen = {lo: tables["hard"]["16"]["2"] for lo, _, tables in chart.more_cards}
        assert sixteen == {3: "S", 4: "S", 5: "H", 6: "H", 7: "H"}
        # The casino offers the rescue and redoubles, so a doubled hand has its own table:
        # a doubled 16 against a 10 is rescued, a doubled 18 never, a doubled 11 redoubled.
        after = chart.after_double["hard"]
        assert after["16"]["10"] == "R" and after["18"]["10"] == "S"
        assert after["11"]["6"] == "D" and chart.rescue == {}
        # ...and the chart plays in the Spanish loop.
        assert new_session(cfg, seed=1).spanish is not None

    def test_it_names_a_bad_more_cards_or_rescue_entry(self):
        chart = copy.deepcopy(CHART)
        chart["strategy"]["more_cards"] = {"2": {"hard": {"11": "H"}}, "5+": {"pairs": {}}}
        chart["strategy"]["rescue"] = {"16": {"9": "H"}}
        with pytest.raises(ConfigError) as err:
            spanish_config(chart=chart)
        paths = dict(err.value.problems)
        base = "players[0].playing_strategy.strategy"
        assert "number of cards" in paths[f'{base}.more_cards["2"]']
        assert "not hard or soft" in paths[f'{base}.more_cards["5+"].pairs']
        assert "R (rescue) or S" in paths[f'{base}.rescue["16"]']

    def test_an_after_double_table_round_trips_with_both_its_tables(self):
        chart = after_double_chart({"hard": {"9-11": "D", "12-16": {"8-A": "r"}}, "soft": {}})
        cfg = spanish_config(chart=chart)
        playing = cfg.players[0].playing
        assert playing.after_double["hard"]["11"] == {up: "D" for up in UP_CARDS}
        assert playing.after_double["hard"]["16"]["7"] == "S"  # an up card left out stands
        assert playing.after_double["soft"] == {} and playing.rescue == {}
        assert normalize_config(config_to_dict(cfg)) == cfg
        # An empty table is a table: every doubled hand stands.
        empty = spanish_config(chart=after_double_chart({}))
        assert empty.players[0].playing.after_double == {"hard": {}, "soft": {}}
        assert normalize_config(config_to_dict(empty)) == empty

    def test_it_names_a_bad_after_double_entry(self):
        chart = after_double_chart(
            {"hard": {"12": {"2-6": "H", "7-A": "S"}, "13": "P"}, "pairs": {}, "soft": {"A,7": "X"}}
        )
        with pytest.raises(ConfigError) as err:
            spanish_config(chart=chart)
        paths = dict(err.value.problems)
        base = "players[0].playing_strategy.strategy.after_double"
        assert paths[f'{base}.hard["12"]'].startswith("against 2, 3, 4, 5, 6: a doubled hand")
        assert "only for pairs" in paths[f'{base}.hard["13"]["2-A"]']
        assert "not hard or soft" in paths[f"{base}.pairs"]
        assert "not an action" in paths[f'{base}.soft["A,7"]["2-A"]']

    def test_a_chart_takes_rescue_or_after_double_not_both(self):
        chart = after_double_chart({"hard": {"16": "R"}}, rescue={"16": "R"})
        with pytest.raises(ConfigError) as err:
            spanish_config(chart=chart)
        assert (
            "as R in after_double"
            in dict(err.value.problems)["players[0].playing_strategy.strategy.rescue"]
        )
        # A child's table of either kind replaces its parent's.
        child = {"parent": CHART, "after_double": {"hard": {"16": "R"}}}
        playing = spanish_config(chart=child).players[0].playing
        assert playing.rescue == {} and playing.after_double["hard"]["16"]["2"] == "R"
        back = {"parent": child, "rescue": {"15": "R"}}
        playing = spanish_config(chart=back).players[0].playing
        assert playing.after_double == {} and set(playing.rescue) == {"15"}

    def test_an_auto_strategy_takes_no_after_double_table(self):
        with pytest.raises(ConfigError) as err:
            spanish_config(chart={"strategy": "auto", "after_double": {}})
        assert "after_double" in dict(err.value.problems)["players[0].playing_strategy"]

    def test_overlapping_card_counts_are_refused(self):
        chart = copy.deepcopy(CHART)
        chart["strategy"]["more_cards"] = {"3-5": {"hard": {"11": "H"}}, "4+": {}}
        with pytest.raises(ConfigError) as err:
            spanish_config(chart=chart)
        assert (
            dict(err.value.problems)['players[0].playing_strategy.strategy.more_cards["4+"]']
            == 'overlaps "3-5"'
        )


def composition_chart(compositions: dict[str, Any]) -> dict[str, Any]:
    """CHART with a `compositions` table."""
    chart = copy.deepcopy(CHART)
    chart["strategy"]["compositions"] = compositions
    return chart


class TestCompositions:
    # CHART stands on 12-16 against 2-6; a hand of these two ranks plays otherwise.
    def test_a_hand_of_the_two_ranks_plays_its_composition_cell(self):
        # 6,8 against a 4 hits (its row stands), draws a 5 for 19; the dealer's 4,10
        # draws an 8 and busts.
        stats = play_chart([6, 4, 8, T, 5, 8], composition_chart({"6,8": {"4": "H"}}))
        assert stats.hand_log[0]["cards"] == ["6", "8", "5"] and net(stats) == 10.0

    def test_the_ranks_count_in_either_order_and_other_hands_play_the_row(self):
        chart = composition_chart({"8,6": {"4": "H"}})
        stats = play_chart([8, 4, 6, T, 5, 8], chart)
        assert stats.hand_log[0]["cards"] == ["8", "6", "5"]
        # 10,4 is a 14 too: it stands, and the 5 is the dealer's (19 beats 14).
        stats = play_chart([T, 4, 4, T, 5, 8], chart)
        assert stats.hand_log[0]["cards"] == ["10", "4"] and net(stats) == -10.0

    def test_an_up_card_the_composition_leaves_out_plays_the_row(self):
        stats = play_chart([6, 5, 8, T, 5, 8], composition_chart({"6,8": {"4": "H"}}))
        assert stats.hand_log[0]["cards"] == ["6", "8"]

    def test_a_composition_double_is_a_double(self):
        # 6,8 against a 4 doubles (its row stands): one card, a 5, for 19 at 20 a hand.
        stats = play_chart([6, 4, 8, T, 5, 8], composition_chart({"6,8": {"4": "D"}}))
        assert stats.hand_log[0]["bet"] == 20.0 and net(stats) == 20.0

    def test_a_common_game_chart_with_compositions_plays_in_the_spanish_loop(self):
        cfg = normalize_config(
            {
                "casino": "vegas_6d_h17_das_ls",
                "num_rounds": 1,
                "players": [{"playing_strategy": composition_chart({"6,7": {"6": "H"}})}],
            }
        )
        assert new_session(cfg, seed=1).spanish is not None

    def test_compositions_round_trip(self):
        cfg = spanish_config(chart=composition_chart({"7,6": {"6": "H", "5": "Ds"}}))
        assert cfg.players[0].playing.compositions == {"6,7": {"6": "H", "5": "Ds"}}
        assert normalize_config(config_to_dict(cfg)) == cfg

    def test_it_names_each_bad_composition(self):
        bad = {"7,7": "H", "A,K": "S", "6,8": {"4": "P", "12": "H"}, "zz": "H", "5,9": 3}
        with pytest.raises(ConfigError) as err:
            spanish_config(chart=composition_chart(bad))
        paths = dict(err.value.problems)
        base = "players[0].playing_strategy.strategy.compositions"
        assert paths[f'{base}["7,7"]'] == "a pair: 7,7 plays its pairs row"
        assert paths[f'{base}["A,K"]'] == "a blackjack: it is not played"
        assert paths[f'{base}["6,8"]["4"]'] == "P (split) is only for pairs"
        assert "dealer up card" in paths[f'{base}["6,8"]["12"]']
        assert "two cards" in paths[f'{base}["zz"]']
        assert paths[f'{base}["5,9"]'] == "not an object of up cards"


class TestTheCommonGameInTheSpanishLoop:
    def test_a_standard_deck_with_an_idle_spanish_rule_plays_the_common_game_bitwise(self):
        # Rescue offered but no chart cell rescues: the Spanish loop deals a suited
        # standard shoe whose ranks shuffle exactly as the common shoe's, so it must play
        # the common general loop's game card for card (two players, a Hi-Lo ramp,
        # insurance at +3, the hand log), however differently its code is written.
        def config(**spanish: Any) -> Any:
            player = {
                "playing_strategy": {"parent": "perfect_h17_basic_strategy", "insurance": 3},
                "betting_strategy": "true_count_betting",
                "bankroll": 1e7,
            }
            return normalize_config(
                {
                    "casino": {"parent": "vegas_6d_h17_das_ls", **spanish},
                    "num_rounds": 1,
                    "log_hands": True,
                    "players": [{"name": "a", **player}, {"name": "b", **player}],
                }
            )

        common = new_session(config(), seed=11)
        spanish = new_session(config(double_down_rescue=True), seed=11)
        assert common.spanish is None and spanish.spanish is not None
        assert (spanish.shoe.cards & ks.RANK_MASK == common.shoe.cards).all()
        common.play(100_000)
        spanish.play(100_000)
        a, b = common.stats(), spanish.stats()
        assert (a.counters == b.counters).all()
        assert (a.sums == b.sums).all() and (a.tc_table == b.tc_table).all()
        assert a.hand_log == b.hand_log
        assert (common.seats.bankroll == spanish.seats.bankroll).all()
        assert a.counter(0, "insurance") > 0 and a.counter(0, "surrender") > 0


class TestCardCountPlaysInTheCommonGame:
    def test_a_common_game_with_more_cards_plays_them_in_the_spanish_loop(self):
        # 10,2 vs 10 hits a 4: hard 16 of three cards, which this chart stands on (it hits
        # 16 on two); the dealer's 10,7 stands on 17.
        chart = {
            "strategy": {
                "hard": {"4-11": "H", "12-16": {"2-6": "S", "7-A": "H"}, "17-21": "S"},
                "more_cards": {"3+": {"hard": {"16": "S"}}},
            }
        }
        cfg = normalize_config(
            {
                "casino": {"deck_count": "infinite"},
                "num_rounds": 1,
                "log_hands": True,
                "players": [{"playing_strategy": chart, "bankroll": 1e6}],
            }
        )
        assert not cfg.rules.spanish_game
        session = new_session(cfg, seed=7, arranged=[T, T, 2, 7, 4])
        assert session.spanish is not None
        session.play(1)
        stats = session.stats()
        assert stats.hand_log[0]["cards"] == ["10", "2", "4"] and net(stats) == -10.0
        player = results(cfg, stats)["players"][0]
        assert "five_card_21" not in player["frequencies"]  # a common game's results


class TestInsurance:
    def test_insurance_pays_two_to_one_and_loses_a_quarter_on_a_spanish_deck(self):
        # Against an ace, the hole card of an infinite Spanish shoe is a ten 12/48 of the
        # time: insurance returns 3 x 0.25 - 1 = -25% of its cost (the common game's
        # 16/52 gives -7.7%). Always insured, 300,000 rounds, seed 5.
        cfg = dataclasses.replace(spanish_config(), log_hands=False)
        session = new_session(cfg, seed=5, insurance_threshold=-float("inf"))
        session.play(300_000)
        stats = session.stats()
        n, won = stats.counter(0, "insurance"), stats.counter(0, "insurance_won")
        p = won / n
        se = 3 * (p * (1 - p) / n) ** 0.5
        assert abs((3 * p - 1) - (-0.25)) < 4 * se
        assert abs((3 * p - 1) - (-1 / 13)) > 4 * se  # not the common game's
        assert stats.total(0, "insurance_wagered") == 5.0 * n  # half the bet a spot

    def test_an_insured_hand_against_a_dealer_blackjack_breaks_even(self):
        # 10,9 vs A, insured for 5; the hole card is a 10: insurance wins 10 (2:1), the
        # hand loses 10.
        session = new_session(
            spanish_config(), seed=7, arranged=[T, A, 9, T], insurance_threshold=-float("inf")
        )
        session.play(1)
        (hand,) = session.stats().hand_log
        assert hand["insurance_net"] == 10.0 and hand["net"] == -10.0


class TestIndexPlays:
    def test_an_index_play_on_two_cards_holds_in_the_spanish_loop(self):
        # 10,6 vs 10: the chart hits, the index play stands at a true count of 0 or more
        # (an infinite shoe's is always 0); the dealer's 10,7 stands on 17.
        chart = copy.deepcopy(CHART)
        chart["deviations"] = [{"hand": "16", "vs": "10", "index": 0, "action": "S"}]
        session = new_session(spanish_config(chart=chart), seed=7, arranged=[T, T, 6, 7, 5])
        session.play(1)
        assert session.stats().hand_log[0]["cards"] == ["10", "6"]
        plain = play([T, T, 6, 7, 5])  # without it: hits the 5 to 21
        assert plain.hand_log[0]["cards"] == ["10", "6", "5"] and net(plain) == 10.0


class TestBettingByRules:
    def run(self, betting: Any) -> dict[str, Any]:
        from jost_engine.simulate import run_simulation_from_config

        config = {
            "casino": "spanish21_6d_h17",
            "num_rounds": 20_000,
            "seed": 5,
            "stop_when_broke": False,
            "players": [{"bankroll": 1e6, "playing_strategy": CHART, "betting_strategy": betting}],
        }
        return run_simulation_from_config(config)["players"][0]

    def test_a_progression_bets_by_its_rules_in_the_spanish_loop_on_the_same_rounds(self):
        flat = self.run({"min_bet": 10, "max_bet": 1000})
        martingale = self.run("martingale")
        # The same cards played the same way (nothing decided depends on the bet)...
        assert martingale["flat_edge"] == flat["flat_edge"]
        assert martingale["counts"]["five_card_21"] == flat["counts"]["five_card_21"]
        # ...with the Martingale's bets, which run into the table's limit.
        assert martingale["average_bet"] > 1.2 * flat["average_bet"]
        assert martingale["counts"]["bets_capped"] > 0 == flat["counts"]["bets_capped"]
