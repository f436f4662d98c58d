"""Spanish 21's `auto` in a finite shoe: a fresh hand's cells chosen from exact values.

jost_engine._spanish solves an infinite deck, where a hand is (cards, total, soft). In a
shoe of six or eight decks the cards a hand holds have left it, and for hands of several
small cards that changes the play: Wizard of Odds' chart stands on a four-card 14 against
a 5 (the shoe left is richer in tens) where an infinite deck hits, by 0.0004 a hand.
Here a hand is the multiset of its cards. Its cards and the up card are out of the shoe;
where a dealer blackjack costs one bet (a peek, or no hole card with "original_bet") the
dealer has none, and the player's draws know it (Bayes over the hole card, as
jost_engine._finite_shoe does). Standing, hitting and doubling are exact, each followed
by the best play for the cards then held (hit, stand, or double where the rules allow);
a doubled hand plays the chart's after-double cells as _spanish chose them (redouble where
one is left, stand, or be rescued). A row's cell is the action whose EV, summed over the
row's hands weighted by the number of ways the shoe deals each, is the best: the two-card
rows (pairs have their own row) and the rows of 3, 4, 5, 6 and 7 or more cards (the last
by its seven-card hands). A row of n cards weighs its hands by how often the shoe holds
them, not by how often play reaches them (which would need the chart being chosen).

What stays the infinite deck's: the pairs (a split's value), surrender (a cell that
surrenders keeps it, with its fallback chosen here), the rows no two-card hand but a pair
reaches (hard 4 and 20, soft 12), the after-double and rescue cells, and the 6-7-8 and
7-7-7 suits (taken in expectation as _spanish does: three cards of one suit 1/16, of
spades 1/64; exact for 6-7-8, whose ranks differ).

It takes about a second for the ten up cards of a six-deck game (docs/BENCHMARKS.md).
tests/engine/test_spanish21_exact.py holds its values to the common game's finite-shoe
solver (to 1e-12) and, in a shoe of 5,000 decks, to the infinite-deck solver (to 1e-4).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from math import comb

import numpy as np

from jost_engine._dealer import BLACKJACK, BUST, dealer_outcomes, given_no_blackjack
from jost_engine.config import Rules

SUITED, SPADES = 3.0 / 64.0, 1.0 / 64.0
# Hands of this many cards or more play one row (as in _spanish).
MOST_CARDS = 7
# A hand as the count of each rank it holds (index 1..10, 1 = ace).
Hand = tuple[int, ...]
# A doubled hand's cell by (total, soft): "D" redouble, "S" stand, "R" rescue.
AfterCell = Callable[[int, bool], str]


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


def stand_value(d: np.ndarray, total: int, pay: float, player_21_wins: bool) -> float:
    """A standing hand of `total` against the dealer's outcomes `d` (jost_engine._dealer's
    order), per unit of its wager; a winning 21 is paid `pay`."""
    if total > 21:
        return -1.0
    ev = pay * d[BUST] - d[BLACKJACK]
    for i, dealer in enumerate(range(17, 22)):
        if total > dealer or (total == 21 and player_21_wins):
            ev += pay * d[i]
        elif total < dealer:
            ev -= d[i]
    return float(ev)


def many_cards_pay(rules: Rules, cards: int) -> float:
    """What a winning 21 of `cards` cards pays with its bonus (five, six, seven or more)."""
    if cards < 5:
        return 1.0
    pay = (rules.bonus_five_card_21, rules.bonus_six_card_21, rules.bonus_seven_card_21)
    return max(pay[min(cards, MOST_CARDS) - 5], 1.0)


def three_card_pay(rules: Rules, ranks: Sequence[int]) -> float:
    """What a winning three-card 21 of these ranks pays, suits in expectation."""
    ordered = sorted(ranks)
    if ordered == [7, 7, 7]:
        pays = (rules.bonus_777_mixed, rules.bonus_777_suited, rules.bonus_777_spades)
    elif ordered == [6, 7, 8]:
        pays = (rules.bonus_678_mixed, rules.bonus_678_suited, rules.bonus_678_spades)
    else:
        return 1.0
    mixed, suited, spades = (max(p, 1.0) for p in pays)
    return (1.0 - SUITED - SPADES) * mixed + SUITED * suited + SPADES * spades


@cache
def rows() -> dict[tuple[int, int, bool], tuple[Hand, ...]]:
    """Every hand of 2..MOST_CARDS cards below 21 by (cards, total, soft); two-card pairs
    left out (they have their own row)."""
    found: dict[tuple[int, int, bool], list[Hand]] = defaultdict(list)
    for cards in range(2, MOST_CARDS + 1):
        for ranks in itertools.combinations_with_replacement(range(1, 11), cards):
            if cards == 2 and ranks[0] == ranks[1]:
                continue
            counts = hand(*ranks)
            total, soft = value(counts)
            if total < 21:
                found[(cards, total, soft)].append(counts)
    return {key: tuple(hands) for key, hands in found.items()}


class ShoeUpCard:
    """Exact hand values against one up card from `decks` decks of the game (default:
    the rules'), a doubled hand playing `after`."""

    def __init__(self, rules: Rules, up: int, after: AfterCell, decks: int | None = None):
        n = decks or rules.decks
        self.rules = rules
        self.up = up
        self.after = after
        self.shoe = np.zeros(11, dtype=np.int64)
        self.shoe[1:10] = 4 * n
        self.shoe[10] = (12 if rules.deck == "spanish" else 16) * n
        self.shoe[up] -= 1
        # The hole card known not to be this rank (0: nothing known).
        one_bet = rules.blackjack_takes_one_bet and up in (1, 10)
        self.partner = {1: 10, 10: 1}[up] if one_bet else 0
        self._dealer: dict[Hand, np.ndarray] = {}
        self._best: dict[Hand, float] = {}
        self._doubled: dict[tuple[Hand, int], float] = {}

    def weight(self, counts: Hand) -> int:
        """How many ways the shoe deals these cards (as a multiset)."""
        ways = 1
        for rank, k in enumerate(counts):
            if k:
                ways *= comb(int(self.shoe[rank]), k)
        return ways

    def draws(self, counts: Hand) -> np.ndarray:
        """P(next card = rank | the player holds `counts`, and what the dealer's up card
        says of his hole card)."""
        left = (self.shoe - np.array(counts)).astype(float)
        if not self.partner:
            return left / left.sum()
        # P(card, hole) summed over every hole card but the partner; a card of the hole
        # card's rank finds one fewer of its rank.
        holes = left.copy()
        holes[self.partner] = 0.0
        p = left * holes.sum() - holes
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
        """A standing hand, per unit of its wager; a winning 21 is paid `pay`."""
        total, _ = value(counts)
        if total > 21:
            return -1.0
        return stand_value(self.dealer(counts), total, pay, self.rules.player_21_wins)

    def pay_21(self, counts: Hand, doubled: bool) -> float:
        """What a winning 21 of these cards pays."""
        if doubled and not self.rules.bonus_after_double:
            return 1.0
        cards = sum(counts)
        if cards == 3:
            return three_card_pay(self.rules, [r for r in range(1, 11) for _ in range(counts[r])])
        return many_cards_pay(self.rules, cards)

    def may_double(self, counts: Hand) -> bool:
        if sum(counts) == 2:
            return self.rules.may_double(value(counts)[0])
        return self.rules.double_any_cards

    def options(self, counts: Hand) -> dict[str, float]:
        """EV of standing, hitting and (where allowed) doubling on these cards, per unit
        of the hand's wager."""
        p = self.draws(counts)
        after = [(p[rank], _add(counts, rank)) for rank in range(1, 11) if p[rank] > 0]
        options = {"S": self.stand(counts)}
        options["H"] = sum(pr * self.best(cards) for pr, cards in after)
        if self.may_double(counts):
            options["D"] = 2.0 * sum(pr * self.doubled(cards, 0) for pr, cards in after)
        return options

    def best(self, counts: Hand) -> float:
        """A fresh hand played best from here on."""
        if counts not in self._best:
            total, _ = value(counts)
            if total > 21:
                result = -1.0
            elif total == 21:
                result = self.stand(counts, self.pay_21(counts, doubled=False))
            else:
                result = max(self.options(counts).values())
            self._best[counts] = result
        return self._best[counts]

    def doubled(self, counts: Hand, made: int) -> float:
        """A doubled hand after its card (`made` redoubles made), per unit of its wager,
        by its after-double cell."""
        key = (counts, made)
        if key not in self._doubled:
            total, soft = value(counts)
            if total > 21:
                result = -1.0
            elif total == 21:
                result = self.stand(counts, self.pay_21(counts, doubled=True))
            else:
                cell = self.after(total, soft)
                if cell == "D" and made < self.rules.max_redoubles:
                    p = self.draws(counts)
                    result = 2.0 * sum(
                        p[rank] * self.doubled(_add(counts, rank), made + 1)
                        for rank in range(1, 11)
                        if p[rank] > 0
                    )
                elif cell == "R" and self.rules.double_rescue:
                    # A rescue forfeits the original bet (or half the wager); a blackjack
                    # still to come (no hole card) takes it all, as in _spanish.
                    bj = self.dealer(counts)[BLACKJACK]
                    share = 0.5 if self.rules.rescue_forfeits == "half" else 0.5 / 2.0**made
                    result = float(-bj - share * (1.0 - bj))
                else:
                    result = self.stand(counts)
            self._doubled[key] = result
        return self._doubled[key]

    def row(self, hands: Sequence[Hand]) -> dict[str, float] | None:
        """Each action's EV over these hands, weighted by how often the shoe deals them
        (None if the shoe deals none of them)."""
        sums: dict[str, float] = defaultdict(float)
        weights = 0
        for counts in hands:
            w = self.weight(counts)
            if w:
                weights += w
                for action, ev in self.options(counts).items():
                    sums[action] += w * ev
        return {action: ev / weights for action, ev in sums.items()} if weights else None

    def cell(self, cards: int, total: int, soft: bool, infinite: str) -> str:
        """The chart cell of a fresh hand of `cards` cards (MOST_CARDS: that many or more)
        of (total, soft), `infinite` being the infinite deck's."""
        row = self.row(rows().get((cards, total, soft), ()))
        if row is None:
            return infinite
        fallback = "H" if row["H"] >= row["S"] else "S"
        if infinite[0] == "R":
            return "R" + fallback.lower()
        if row.get("D", -9.0) > max(row["H"], row["S"]):
            return "D" + fallback.lower()
        return fallback


def _add(counts: Hand, rank: int) -> Hand:
    after = list(counts)
    after[rank] += 1
    return tuple(after)
