"""Rules of play, one arranged shoe at a time.

The kernel deals one card to each spot, the up card, a second card to each spot, then the
hole card (peek games only); a split hand draws its second card when its turn comes.
Arranged shoes below follow that order. The shoe is infinite unless a test says otherwise,
so any card order is possible; random cards follow the arranged ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from jost_engine import kernel as k
from jost_engine.config import (
    BettingStrategy,
    Config,
    CountingSystem,
    Player,
    PlayingStrategy,
    Rules,
)
from jost_engine.simulate import Session, new_session, results
from jost_engine.stats import Stats

A = 1
T = 10


@pytest.fixture(scope="module")
def ls_chart(published_chart: Callable[[str], PlayingStrategy]) -> PlayingStrategy:
    return published_chart("6D_H17_DAS_LS")


@pytest.fixture(scope="module")
def config(
    published_chart: Callable[[str], PlayingStrategy], hilo: CountingSystem
) -> Callable[..., Config]:
    """config(rules, strategy, bankroll, min_bet, spots): alice alone at the table, flat
    betting with Hi-Lo, logging every hand; the 6-deck S17 chart unless told otherwise."""
    s17_chart = published_chart("6D_S17_DAS_noLS")

    def build(
        rules: Rules,
        strategy: PlayingStrategy | None = None,
        bankroll: float = 1e6,
        min_bet: float = 10.0,
        spots: int = 1,
    ) -> Config:
        player = Player(
            name="alice",
            bankroll=bankroll,
            playing=strategy or s17_chart,
            betting=BettingStrategy(
                name="flat", min_bet=min_bet, num_hands=spots, ramp=((-float("inf"), 1.0),)
            ),
            counting=hilo,
        )
        return Config(rules=rules, players=(player,), num_rounds=1, seed=1, log_hands=True)

    return build


@pytest.fixture(scope="module")
def play(config: Callable[..., Config], make_rules: Callable[..., Rules]) -> Callable[..., Any]:
    """play(cards, rounds, strategy, insurance, bankroll, **rule_changes): (session, stats)
    after `rounds` rounds dealt from `cards`, under the builder's rules with those changes."""

    def deal(
        cards: list[int],
        rounds: int = 1,
        strategy: PlayingStrategy | None = None,
        insurance: float | None = None,
        bankroll: float = 1e6,
        **rule_changes: Any,
    ) -> tuple[Session, Stats]:
        session = new_session(
            config(make_rules(**rule_changes), strategy, bankroll),
            seed=7,
            arranged=cards,
            insurance_threshold=insurance,
        )
        session.play(rounds)
        return session, session.stats()

    return deal


def net(stats) -> float:
    return stats.total(0, "net")


class TestBlackjack:
    def test_blackjack_against_a_dealer_blackjack_pushes(self, play):
        _, stats = play([A, A, T, T])
        assert net(stats) == 0.0
        assert stats.counter(0, "blackjack") == 1 and stats.counter(0, "push") == 1

    def test_blackjack_pays_three_to_two(self, play):
        _, stats = play([A, 9, T, 7])
        assert net(stats) == 15.0

    def test_six_to_five_pays_twelve_on_ten(self, play):
        _, stats = play([A, 9, T, 7], blackjack_payout=1.2)
        assert net(stats) == pytest.approx(12.0)


class TestSplits:
    def test_split_aces_get_one_card_each_and_ace_ten_is_21_paid_even_money(self, play):
        # A,A vs 6: split; A,5 must stand on one card (soft 16 would hit or double), A,10
        # is 21 but not a blackjack; dealer 6,10 draws 2 to 18.
        _, stats = play([A, 6, A, T, 5, T, 2])
        first, second = stats.hand_log
        assert first["cards"] == ["A", "5"] and second["cards"] == ["A", "10"]
        assert first["net"] == -10.0 and second["net"] == 10.0
        assert stats.counter(0, "blackjack") == 0 and stats.counter(0, "split") == 1

    def test_hit_split_aces_lets_the_hand_draw(self, play):
        # With hit split aces, A,5 vs 6 is a soft 16: the chart doubles (Dh) after the split.
        _, stats = play([A, 6, A, T, 5, 3, T, 2], hit_split_aces=True)
        assert stats.hand_log[0]["cards"] == ["A", "5", "3"]
        assert "double" in stats.hand_log[0]["actions"]

    def test_double_after_split_doubles_both_hands(self, play):
        # 8,8 vs 6: split; 8,3 doubles to 21 and 8,2 doubles to 15; the dealer busts.
        _, stats = play([8, 6, 8, T, 3, T, 2, 5, T])
        assert [h["bet"] for h in stats.hand_log] == [20.0, 20.0]
        assert net(stats) == 40.0 and stats.counter(0, "double") == 2

    def test_without_das_split_hands_only_hit(self, play):
        _, stats = play([8, 6, 8, T, 3, T, 2, 5, T], double_after_split=False)
        assert [h["bet"] for h in stats.hand_log] == [10.0, 10.0]
        assert stats.hand_log[0]["cards"] == ["8", "3", "10"]
        assert net(stats) == 20.0 and stats.counter(0, "double") == 0

    def test_resplits_stop_at_the_hand_limit(self, play):
        # Four 8s more: two resplits reach four hands, then 8,8 must be played as 16.
        _, stats = play([8, 6, 8, T, 8, 8, 8, 8, 2, T, T, T])
        hands = stats.hand_log
        assert len(hands) == 4 and stats.counter(0, "split") == 3
        assert hands[0]["cards"] == ["8", "8"] and hands[1]["cards"] == ["8", "8"]
        assert hands[2]["cards"] == ["8", "2", "10"] and hands[2]["bet"] == 20.0
        assert net(stats) == 50.0

    def test_one_split_only_when_the_limit_is_two_hands(self, play):
        _, stats = play([8, 6, 8, T, 8, 8, T], max_split_hands=2)
        assert len(stats.hand_log) == 2 and stats.counter(0, "split") == 1


class TestSurrender:
    def test_late_surrender_returns_half_the_bet(self, play, ls_chart):
        # 16 vs 10 is Rh in the H17 LS chart; the dealer has no blackjack.
        _, stats = play([T, T, 6, 7], strategy=ls_chart, late_surrender=True)
        assert net(stats) == -5.0 and stats.counter(0, "surrender") == 1

    def test_late_surrender_comes_too_late_against_a_dealer_blackjack(self, play, ls_chart):
        _, stats = play([T, T, 6, A], strategy=ls_chart, late_surrender=True)
        assert net(stats) == -10.0 and stats.counter(0, "surrender") == 0

    def test_early_surrender_escapes_a_dealer_blackjack_for_half(self, play, ls_chart):
        _, stats = play([T, T, 6, A], strategy=ls_chart, early_surrender=True)
        assert net(stats) == -5.0 and stats.counter(0, "surrender") == 1


class TestSurrenderWithNoHoleCard:
    # 10,6 vs 10 surrenders (Rh in the H17 LS chart); with no hole card the dealer's second
    # card comes after the surrender.

    def test_late_surrender_loses_the_whole_bet_to_a_dealer_blackjack(self, play, ls_chart):
        _, stats = play([T, T, 6, A], strategy=ls_chart, late_surrender=True, dealer_peeks=False)
        assert net(stats) == -10.0 and stats.counter(0, "surrender") == 1
        assert stats.hand_log[0]["dealer_cards"] == ["10", "A"]
        assert stats.counter(0, "dealer_blackjack") == 1

    def test_late_surrender_loses_half_when_the_dealer_has_no_blackjack(self, play, ls_chart):
        _, stats = play([T, T, 6, 7], strategy=ls_chart, late_surrender=True, dealer_peeks=False)
        assert net(stats) == -5.0 and stats.counter(0, "surrender") == 1
        assert stats.hand_log[0]["dealer_cards"] == ["10", "7"]

    def test_early_surrender_still_escapes_a_dealer_blackjack_for_half(self, play, ls_chart):
        _, stats = play([T, T, 6, A], strategy=ls_chart, early_surrender=True, dealer_peeks=False)
        assert net(stats) == -5.0 and stats.counter(0, "surrender") == 1

    def test_with_both_offered_the_surrender_is_early(self, play, ls_chart):
        _, stats = play(
            [T, T, 6, A],
            strategy=ls_chart,
            early_surrender=True,
            late_surrender=True,
            dealer_peeks=False,
        )
        assert net(stats) == -5.0 and stats.counter(0, "surrender") == 1

    def test_the_solo_loop_settles_it_the_same(self, config, make_rules, ls_chart):
        # The hand log forces the general loop in `play`; without it the one-spot loop runs.
        rules = make_rules(late_surrender=True, dealer_peeks=False)
        cfg = dataclasses.replace(config(rules, ls_chart), log_hands=False)
        session = new_session(cfg, seed=7, arranged=[T, T, 6, A])
        assert k.solo_applies(session.table, session.players)
        session.play(1)
        stats = session.stats()
        assert net(stats) == -10.0 and stats.counter(0, "surrender") == 1


class TestInsurance:
    def test_insurance_pays_two_to_one_against_a_dealer_blackjack(self, play):
        # 19 vs A with insurance always taken: the hand loses 10, insurance wins 2 x 5.
        _, stats = play([T, A, 9, T], insurance=-float("inf"))
        assert net(stats) == 0.0
        assert stats.counter(0, "insurance") == 1 and stats.counter(0, "insurance_won") == 1
        assert stats.total(0, "wagered") == 15.0

    def test_insurance_loses_half_the_bet_when_the_dealer_has_no_blackjack(self, play):
        # 19 vs A,8 (a soft 19 that stands): the hand pushes, the insurance loses 5.
        _, stats = play([T, A, 9, 8], insurance=-float("inf"))
        assert net(stats) == -5.0 and stats.counter(0, "insurance_won") == 0

    def test_no_insurance_is_taken_by_default(self, play):
        _, stats = play([T, A, 9, T])
        assert stats.counter(0, "insurance") == 0 and net(stats) == -10.0


class TestNoHoleCard:
    def test_doubles_and_splits_are_lost_in_full_to_a_dealer_blackjack(self, play):
        # 8,8 vs 10, no hole card: split; 8,3 doubles (11 vs 10) to 16, 8,10 stands;
        # the dealer's second card is an ace: blackjack takes 20 + 10.
        _, stats = play([8, T, 8, 3, 5, T, A], dealer_peeks=False)
        assert [h["bet"] for h in stats.hand_log] == [20.0, 10.0]
        assert net(stats) == -30.0
        assert stats.hand_log[0]["dealer_cards"] == ["10", "A"]

    def test_with_a_peek_the_same_cards_lose_only_the_bet(self, play):
        # With a peek the ace is the hole card: the dealer's blackjack ends the round at once.
        _, stats = play([8, T, 8, A], dealer_peeks=True)
        assert net(stats) == -10.0 and stats.counter(0, "split") == 0


class TestNoHoleCardOriginalBetOnly:
    """no_hole_card_loses "original_bet": a dealer blackjack takes one bet per spot, and the
    money of doubles and of the other split hands comes back; "all" takes everything."""

    # 6,5 = 11 vs 10 doubles (the S17 chart) and draws a 5; the dealer's second card is an
    # ace. 8,8 vs 10 splits: 8,3 doubles to 16, 8,10 stands; the dealer's ace again.
    DOUBLED = [6, T, 5, 5, A]
    SPLIT = [8, T, 8, 3, 5, T, A]

    @pytest.mark.parametrize(
        "loses, expected", [("all", -20.0), ("original_bet", -10.0)], ids=["all", "original"]
    )
    def test_a_doubled_hand_against_a_dealer_blackjack(self, play, loses, expected):
        _, stats = play(self.DOUBLED, dealer_peeks=False, no_hole_card_loses=loses)
        assert stats.hand_log[0]["bet"] == 20.0 and stats.counter(0, "double") == 1
        assert stats.hand_log[0]["dealer_cards"] == ["10", "A"]
        assert net(stats) == expected and stats.counter(0, "loss") == 1

    @pytest.mark.parametrize(
        "loses, nets",
        [("all", [-20.0, -10.0]), ("original_bet", [-10.0, 0.0])],
        ids=["all", "original"],
    )
    def test_split_hands_against_a_dealer_blackjack(self, play, loses, nets):
        _, stats = play(self.SPLIT, dealer_peeks=False, no_hole_card_loses=loses)
        assert [h["bet"] for h in stats.hand_log] == [20.0, 10.0]
        assert [h["net"] for h in stats.hand_log] == nets
        assert net(stats) == sum(nets)

    def test_the_returned_split_hand_counts_as_a_push(self, play):
        _, stats = play(self.SPLIT, dealer_peeks=False, no_hole_card_loses="original_bet")
        assert [h["outcome"] for h in stats.hand_log] == ["loss", "push"]

    def test_busted_split_hands_still_lose_only_one_bet(self, play):
        # 8,8 vs 10 split: 8,4 hits a 10 and busts, 8,5 hits a 10 and busts. No hand
        # stands, yet the dealer draws its second card: the blackjack returns the split bet.
        cards = [8, T, 8, 4, T, 5, T, A]
        _, stats = play(cards, dealer_peeks=False, no_hole_card_loses="original_bet")
        assert stats.counter(0, "bust") == 2 and net(stats) == -10.0
        assert stats.hand_log[0]["dealer_cards"] == ["10", "A"]
        _, stats = play(cards, dealer_peeks=False, no_hole_card_loses="all")
        assert net(stats) == -20.0 and stats.hand_log[0]["dealer_cards"] == ["10"]

    def test_without_a_dealer_blackjack_doubles_and_splits_are_paid_as_usual(self, play):
        # 6,5 doubles to 16 vs 10,7: the doubled hand loses its 20.
        _, stats = play([6, T, 5, 5, 7], dealer_peeks=False, no_hole_card_loses="original_bet")
        assert net(stats) == -20.0

    def test_the_solo_loop_settles_it_the_same(self, config, make_rules):
        rules = make_rules(dealer_peeks=False, no_hole_card_loses="original_bet")
        cfg = dataclasses.replace(config(rules), log_hands=False)
        for cards, expected in ((self.SPLIT, -10.0), ([8, T, 8, 4, T, 5, T, A], -10.0)):
            session = new_session(cfg, seed=7, arranged=cards)
            assert k.solo_applies(session.table, session.players)
            session.play(1)
            assert net(session.stats()) == expected


class TestDealer:
    def test_s17_dealer_stands_on_soft_17(self, play):
        _, stats = play([T, 6, 8, A, 3])
        assert stats.hand_log[0]["dealer_cards"] == ["6", "A"] and net(stats) == 10.0

    def test_h17_dealer_hits_soft_17(self, play):
        _, stats = play([T, 6, 8, A, 3], hit_soft_17=True)
        assert stats.hand_log[0]["dealer_cards"] == ["6", "A", "3"] and net(stats) == -10.0


class TestShoe:
    def test_the_cut_card_lets_the_round_finish_and_reshuffles_before_the_next(self, play):
        # One deck, cut after 4 cards: the dealer's 15 draws the fifth card past the cut.
        session, stats = play([T, 5, 6, T, 5], decks=1, penetration=4 / 52)
        assert stats.hand_log[0]["dealer_cards"] == ["5", "10", "5"]
        assert session.shoe.st_i[k.S_POS] == 5 and session.shoe.st_i[k.S_SHUFFLES] == 0
        session.play(1)
        assert session.shoe.st_i[k.S_SHUFFLES] == 1 and session.shoe.st_i[k.S_POS] < 20

    def test_an_arranged_finite_shoe_holds_only_cards_the_shoe_has(self, play):
        with pytest.raises(ValueError):
            play([A, A, A, A, A], decks=1)


class TestBankroll:
    def test_a_broke_player_stops_and_the_run_says_so(self, play):
        # 15 covers one bet of 10; 16 vs 10 hits and busts, leaving 5.
        session, stats = play([T, T, 6, T, T], rounds=5, bankroll=15.0)
        assert stats.rounds_played == 1 and session.all_broke
        doc = results(session.config, stats, seed=7)
        assert doc["stop_reason"] == "all_players_broke"
        assert doc["rounds_played"] == 1 and doc["rounds_asked"] == 5
        assert doc["players"][0]["final_bankroll"] == 5.0 and doc["players"][0]["broke"] is True

    def test_a_double_not_covered_by_the_bankroll_becomes_a_hit(self, play):
        # 6,5 = 11 vs 6 doubles by the chart, but a bankroll of 10 covers only the bet.
        _, stats = play([6, 6, 5, T, T], bankroll=10.0)
        assert stats.counter(0, "double") == 0
        assert stats.hand_log[0]["cards"] == ["6", "5", "10"] and stats.hand_log[0]["bet"] == 10.0


class TestTable:
    def test_cards_go_round_the_table_in_seat_order_then_the_dealer(self, config, make_rules):
        # Two players, the first with two spots: spot cards, up card, second cards, hole.
        first = config(make_rules(), spots=2).players[0]
        second = dataclasses.replace(
            first, name="bob", betting=dataclasses.replace(first.betting, num_hands=1)
        )
        cfg = dataclasses.replace(config(make_rules()), players=(first, second))
        session = new_session(cfg, seed=1, arranged=[T, 9, 8, 7, T, 9, T, T])
        session.play(1)
        hands = session.stats().hand_log
        assert [(h["player"], h["spot"], h["cards"]) for h in hands] == [
            ("alice", 0, ["10", "10"]),
            ("alice", 1, ["9", "9"]),
            ("bob", 0, ["8", "10"]),
        ]
        assert hands[0]["dealer_cards"] == ["7", "10"]


class TestCounting:
    RAMP = ((-float("inf"), 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 8.0))

    def test_the_bet_follows_the_true_count_of_every_card_seen(self, config, make_rules):
        # One deck. Round 1: 10,10 vs 2 with a 3 in the hole; the dealer draws 4, 5, 6 to 20.
        # Hi-Lo over those 7 cards (the hole card included) is +3; 45 cards unseen make a
        # true count of 3 * 52 / 45 = 3.47, so round 2 bets 8 units.
        base = config(make_rules(decks=1, penetration=0.75))
        player = base.players[0]
        player = dataclasses.replace(
            player, betting=dataclasses.replace(player.betting, ramp=self.RAMP)
        )
        session = new_session(
            dataclasses.replace(base, players=(player,)), seed=2, arranged=[T, 2, T, 3, 4, 5, 6]
        )
        session.play(2)
        stats = session.stats()
        assert stats.hand_log[0]["outcome"] == "push"
        # A round's cards are counted when the next round starts (no decision depends on
        # them before), so after two rounds the running count holds round 1's cards.
        assert session.seats.run_count[0] == 3.0
        assert stats.total(0, "initial_bet") == 10.0 + 80.0
        table = stats.tc_table[0, :, k.T_ROUNDS]
        assert table[0 - k.TC_MIN] == 1 and table[3 - k.TC_MIN] == 1

    def test_a_round_goes_in_the_table_row_of_the_tier_it_bet_at(self, config, make_rules):
        # Round 1 as above (+3 over 7 cards: true count 3.47, round 2 bets 8 units).
        # Round 2: 7,10 vs 9 with an 8 in the hole, both stand on 17: Hi-Lo -1. After 11
        # cards the running count is +2 and the true count 2 * 52 / 41 = 2.54, so round 3
        # bets at the +2 tier (4 units) and is tallied in row +2, not the +3 of rounding.
        base = config(make_rules(decks=1, penetration=0.75))
        player = base.players[0]
        player = dataclasses.replace(
            player, betting=dataclasses.replace(player.betting, ramp=self.RAMP)
        )
        session = new_session(
            dataclasses.replace(base, players=(player,)),
            seed=2,
            arranged=[T, 2, T, 3, 4, 5, 6, 7, 9, T, 8],
        )
        session.play(3)
        stats = session.stats()
        assert stats.hand_log[1]["outcome"] == "push"
        assert stats.total(0, "initial_bet") == 10.0 + 80.0 + 40.0
        table = stats.tc_table[0, :, k.T_ROUNDS]
        assert [table[row - k.TC_MIN] for row in (0, 2, 3)] == [1, 1, 1]


class TestNoHoleCardInsurance:
    def test_insurance_waits_for_the_dealers_second_card(self, play):
        # No hole card: 10,9 vs A insured; the player stands, the dealer's second card is a
        # ten: blackjack. The hand loses 10 and the insurance wins 10.
        _, stats = play([T, A, 9, T], insurance=-float("inf"), dealer_peeks=False)
        assert net(stats) == 0.0 and stats.counter(0, "insurance_won") == 1
        assert stats.hand_log[0]["dealer_cards"] == ["A", "10"]


class TestCrowdedShoe:
    def test_seven_spots_at_one_deck_dealt_deep_never_break_the_shoe(self, config, make_rules):
        # So many cards a round that the shoe can run out mid-round: the discards are
        # shuffled back in and the shoe stays a permutation of one deck.
        base = config(make_rules(decks=1, penetration=0.95), spots=7)
        session = new_session(base, seed=5)
        session.play(5_000)
        assert session.rounds_played == 5_000
        counts = [int((session.shoe.cards == rank).sum()) for rank in range(1, 11)]
        assert counts == [4] * 9 + [16]
