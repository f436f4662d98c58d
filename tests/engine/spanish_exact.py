"""Exact values of Spanish 21 hands in a finite shoe, by brute recursion over the cards.

A check on `"auto"` for Spanish 21 (jost_engine._spanish), written apart from it: that
solver draws from an infinite deck and keeps a hand as (cards, total, soft); this one
removes every card the player draws from the shoe and keeps the hand as the multiset of
its cards, so its values are those of the exact game for one hand. It shares with the
engine only jost_engine._dealer's dealer distribution (exact for a finite shoe, and what
the common game's finite-shoe solver rests on; tests/engine/test_spanish21_exact.py
holds this module to that solver on the common game).

The hand is unsplit and nothing after a double is redoubled (max_redoubles 0). Its play
after the first decision is the best for its exact cards (hit, stand, or double where the
rules allow it; a doubled hand stands or is rescued). A dealer who peeks has no
blackjack: the dealer's cards and the player's draws are conditioned on it (Bayes over
the hole card). The 6-7-8 and 7-7-7 bonuses take their suits in expectation as the
engine's solver does (three cards of one suit 1/16, spades 1/64: exact for 6-7-8, whose
ranks differ; for 7-7-7 the removal of same-suit sevens is ignored).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from math import comb

import numpy as np

from jost_engine._dealer import BLACKJACK, BUST, dealer_outcomes, given_no_blackjack
from jost_engine.config import Rules

SUITED, SPADES = 3.0 / 64.0, 1.0 / 64.0
# A hand as the count of each rank it holds (index 1..10, 1 = ace).
Hand = tuple[int, ...]


def hand(*cards: int) -> Hand:
    counts = [0] * 11
    for card in cards:
        counts[card] += 1
    return tuple(counts)


def value(counts: Hand) -> tuple[int, bool]:
    """(total, soft) of a hand: an ace counts 11 where that does not bust it."""
    hard = sum(rank * k for rank, k in enumerate(counts))
    soft = counts[1] > 0 and hard + 10 <= 21
    return (hard + 10 if soft else hard), soft


def compositions(cards: int, total: int, soft: bool) -> Iterator[Hand]:
    """Every hand of `cards` cards with this total and softness."""
    for ranks in itertools.combinations_with_replacement(range(1, 11), cards):
        counts = hand(*ranks)
        if value(counts) == (total, soft):
            yield counts


class ExactShoe:
    """Hand values against one up card, `decks` decks of the game (default: the rules')."""

    def __init__(self, rules: Rules, up: int, decks: int | None = None) -> None:
        if rules.max_redoubles:
            raise ValueError("ExactShoe values hands without redoubles")
        n = decks or rules.decks
        self.rules = rules
        self.up = up
        self.shoe = np.zeros(11, dtype=np.int64)
        self.shoe[1:10] = 4 * n
        self.shoe[10] = (12 if rules.deck == "spanish" else 16) * n
        self.shoe[up] -= 1
        # With a peek the hole card is known not to be this rank.
        peeked = rules.dealer_peeks and up in (1, 10)
        self.partner = {1: 10, 10: 1}[up] if peeked else 0
        self._dealer: dict[Hand, np.ndarray] = {}
        self._best: dict[Hand, float] = {}

    def weight(self, counts: Hand) -> int:
        """How many ways the shoe deals these cards (as a multiset)."""
        ways = 1
        for rank, k in enumerate(counts):
            if k:
                ways *= comb(int(self.shoe[rank]), k)
        return ways

    def draws(self, counts: Hand) -> np.ndarray:
        """P(next card = rank | the player holds `counts`, the dealer has no blackjack)."""
        left = (self.shoe - np.array(counts)).astype(float)
        n = left.sum()
        if not self.partner:
            return left / n
        # P(card, hole) for every hole card but the partner, summed over the hole.
        holes = left.copy()
        holes[self.partner] = 0.0
        p = left * holes.sum() - holes  # card == hole takes one card of that rank
        p[0] = 0.0
        return np.clip(p, 0.0, None) / p.sum()

    def dealer(self, counts: Hand) -> np.ndarray:
        if counts not in self._dealer:
            left = self.shoe - np.array(counts)
            outcomes = dealer_outcomes(left, self.up, self.rules.hit_soft_17, deplete=True)
            if self.rules.blackjack_takes_one_bet:
                outcomes = given_no_blackjack(outcomes)
            self._dealer[counts] = outcomes
        return self._dealer[counts]

    def stand(self, counts: Hand, pay: float = 1.0) -> float:
        total, _ = value(counts)
        if total > 21:
            return -1.0
        d = self.dealer(counts)
        ev = pay * d[BUST] - d[BLACKJACK]
        for i, dealer in enumerate(range(17, 22)):
            if total > dealer or (total == 21 and self.rules.player_21_wins):
                ev += pay * d[i]
            elif total < dealer:
                ev -= d[i]
        return float(ev)

    def pay_21(self, counts: Hand) -> float:
        """What a winning 21 of these cards pays (a hand not doubled)."""
        r = self.rules
        cards = sum(counts)
        if cards == 3 and counts in (hand(6, 7, 8), hand(7, 7, 7)):
            if counts == hand(7, 7, 7):
                pays = (r.bonus_777_mixed, r.bonus_777_suited, r.bonus_777_spades)
            else:
                pays = (r.bonus_678_mixed, r.bonus_678_suited, r.bonus_678_spades)
            mixed, suited, spades = (max(p, 1.0) for p in pays)
            return (1.0 - SUITED - SPADES) * mixed + SUITED * suited + SPADES * spades
        if cards >= 5:
            pay = (r.bonus_five_card_21, r.bonus_six_card_21, r.bonus_seven_card_21)
            return max(pay[min(cards, 7) - 5], 1.0)
        return 1.0

    def may_double(self, counts: Hand) -> bool:
        if sum(counts) == 2:
            return self.rules.may_double(value(counts)[0])
        return self.rules.double_any_cards

    def options(self, counts: Hand) -> dict[str, float]:
        """EV of standing, hitting and (where allowed) doubling on these cards, per unit
        of the hand's bet, the dealer having no blackjack where he peeks."""
        p = self.draws(counts)
        draws = [(rank, p[rank], _add(counts, rank)) for rank in range(1, 11) if p[rank] > 0]
        options = {"S": self.stand(counts)}
        options["H"] = sum(pr * self.best(after) for _, pr, after in draws)
        if self.may_double(counts):
            options["D"] = 2.0 * sum(pr * self._doubled(after) for _, pr, after in draws)
        if sum(counts) == 2 and self.rules.late_surrender and self.rules.dealer_peeks:
            options["R"] = -0.5
        return options

    def best(self, counts: Hand) -> float:
        """A hand played best from here on (not doubled yet)."""
        if counts not in self._best:
            total, _ = value(counts)
            if total > 21:
                result = -1.0
            elif total == 21:
                result = self.stand(counts, self.pay_21(counts))
            else:
                options = self.options(counts)
                options.pop("R", None)  # a hand that has drawn may not surrender
                result = max(options.values())
            self._best[counts] = result
        return self._best[counts]

    def _doubled(self, counts: Hand) -> float:
        """A doubled hand after its card, per unit of its (doubled) wager."""
        total, _ = value(counts)
        if total > 21:
            return -1.0
        pay = self.pay_21(counts) if total == 21 and self.rules.bonus_after_double else 1.0
        stand = self.stand(counts, pay)
        # A rescue forfeits half of the doubled wager (the dealer has no blackjack here).
        return max(stand, -0.5) if self.rules.double_rescue else stand

    def row(self, hands: Sequence[Hand]) -> dict[str, float]:
        """Each action's EV over these hands, weighted by how often the shoe deals them
        (a chart row: one action for every hand of it)."""
        total: dict[str, float] = {}
        weights = 0
        for counts in hands:
            w = self.weight(counts)
            weights += w
            for action, ev in self.options(counts).items():
                total[action] = total.get(action, 0.0) + w * ev
        return {action: ev / weights for action, ev in total.items()}


def _add(counts: Hand, rank: int) -> Hand:
    after = list(counts)
    after[rank] += 1
    return tuple(after)
