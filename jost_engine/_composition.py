"""Composition-dependent EVs of a starting hand against a finite shoe and one up card.

Standing, hitting and doubling are exact: every card the player draws leaves the shoe,
and every final hand is compared with the dealer's distribution computed (exactly, see
_dealer) from the shoe less the player's cards and the up card, memoised on the multiset
of the player's cards. After a peek the player's draws also carry what the peek told
(the hole card does not complete a blackjack; see _draws). One simplification, as in
the standard engines:
- a split is valued as the standard engines do: one split hand, (pair card, x), played
  optimally and exactly against the shoe less both pair cards, x and the up card (the
  other split hands' later cards are not removed), and the hand count from
  _ev._split_total with the pair card's probability in the shoe less the pair.
A hand drawing to a hard total of 11 or less never stands (hitting cannot bust it); that
only skips dealer computations.
"""

from __future__ import annotations

import numpy as np

from jost_engine._dealer import BLACKJACK, BUST, dealer_outcomes, given_no_blackjack
from jost_engine._ev import _split_total, add_card, two_cards
from jost_engine.config import Rules

# The player's cards taken from the shoe, as one int: 5 bits per rank (a hand holds at most
# 21 cards of a rank), rank c at bits 5c. Ints hash and add far faster than tuples.
Removed = int
ONE = tuple(1 << (5 * c) for c in range(11))


def _count(removed: Removed, card: int) -> int:
    return (removed >> (5 * card)) & 31


class FiniteShoeUpCard:
    """EVs of two-card starting hands for one up card; `shoe` excludes the up card."""

    def __init__(self, rules: Rules, shoe: np.ndarray, up: int) -> None:
        self.rules = rules
        self.shoe = [int(k) for k in shoe]
        self.n = int(shoe.sum())
        self.up = up
        self._dealer: dict[Removed, tuple[np.ndarray, float]] = {}
        self._multi: dict[tuple[Removed, int, bool], float] = {}
        self._draw_memo: dict[Removed, list[tuple[int, float, Removed]]] = {}
        partner = {1: 10, 10: 1}.get(up)
        self._partner = partner if rules.dealer_peeks else None

    # -- the dealer against what the player holds -------------------------------------

    def dealer(self, removed: Removed) -> tuple[np.ndarray, float]:
        """(outcome vector in the play frame, P(dealer blackjack)) for the shoe less removed."""
        if removed not in self._dealer:
            left = np.array([k - _count(removed, c) for c, k in enumerate(self.shoe)], dtype=np.int64)
            outcomes = dealer_outcomes(left, self.up, self.rules.hit_soft_17, True)
            frame = given_no_blackjack(outcomes) if self.rules.dealer_peeks else outcomes
            self._dealer[removed] = (frame, float(outcomes[BLACKJACK]))
        return self._dealer[removed]

    def stand(self, total: int, removed: Removed) -> float:
        if total > 21:
            return -1.0
        d, _ = self.dealer(removed)
        ev = d[BUST] - d[BLACKJACK]
        for i, dealer_total in enumerate(range(17, 22)):
            ev += d[i] if total > dealer_total else -d[i] if total < dealer_total else 0.0
        return float(ev)

    def _no_blackjack(self, removed: Removed, left: int) -> float:
        """P(the hole card does not complete a blackjack), were it dealt from the shoe
        less `removed` (by exchangeability it may be treated as dealt after them)."""
        if self._partner is None:
            return 1.0
        return 1.0 - (self.shoe[self._partner] - _count(removed, self._partner)) / left

    def _draws(self, removed: Removed) -> list[tuple[int, float, Removed]]:
        """(card, probability, removed after it) of the player's next card. After a peek
        the hole card is known not to complete a blackjack, which tilts the player's
        draws: c comes with P(c) * P(no bj | shoe less c) / P(no bj | shoe), still
        summing to 1."""
        draws = self._draw_memo.get(removed)
        if draws is None:
            left = self.n - sum(_count(removed, c) for c in range(1, 11))
            before = self._no_blackjack(removed, left)
            draws = []
            for c in range(1, 11):
                k = self.shoe[c] - _count(removed, c)
                if k > 0:
                    after = removed + ONE[c]
                    draws.append((c, k / left * self._no_blackjack(after, left - 1) / before, after))
            self._draw_memo[removed] = draws
        return draws

    # -- actions ----------------------------------------------------------------------

    def hit(self, total: int, soft: bool, removed: Removed) -> float:
        ev = 0.0
        for c, p, after in self._draws(removed):
            t, s = add_card(total, soft, c)
            ev += p * (-1.0 if t > 21 else self.multi(t, s, after))
        return ev

    def multi(self, total: int, soft: bool, removed: Removed) -> float:
        """Best of hit and stand, playing on optimally with the exact composition."""
        key = (removed, total, soft)
        if key not in self._multi:
            if total == 21:
                value = self.stand(21, removed)
            elif total <= 11 and not soft:
                value = self.hit(total, soft, removed)
            else:
                value = max(self.stand(total, removed), self.hit(total, soft, removed))
            self._multi[key] = value
        return self._multi[key]

    def double(self, total: int, soft: bool, removed: Removed) -> float:
        ev = 0.0
        for c, p, after in self._draws(removed):
            t, _ = add_card(total, soft, c)
            ev += p * 2.0 * self.stand(t, after)
        return ev

    def may_double(self, total: int) -> bool:
        allowed = self.rules.double_totals
        return allowed is None or total in allowed

    def options(self, c1: int, c2: int) -> tuple[dict[str, float], float]:
        """Hand EVs of every legal first action on (c1, c2) in the play frame, and
        P(dealer blackjack) given those cards."""
        removed = ONE[c1] + ONE[c2]
        total, soft = two_cards(c1, c2)
        options = {"S": self.stand(total, removed), "H": self.hit(total, soft, removed)}
        if self.may_double(total):
            options["D"] = self.double(total, soft, removed)
        if c1 == c2 and self.rules.max_split_hands >= 2:
            options["P"] = self.split(c1)
        return options, self.dealer(removed)[1]

    def split(self, card: int) -> float:
        return _SplitHands(self, card).total()


class _SplitHands(FiniteShoeUpCard):
    """The split hands of one pair: their own memo of hand values (the other split card
    is out of the shoe but not in the hand), the parent's dealer and draw caches."""

    def __init__(self, parent: FiniteShoeUpCard, card: int) -> None:
        self.__dict__.update(parent.__dict__)
        self._multi = {}
        self.card = card

    def total(self) -> float:
        rules, card = self.rules, self.card
        pair = 2 * ONE[card]

        def value(other: int) -> float:
            removed = pair + ONE[other]
            total, soft = two_cards(card, other)
            if card == 1 and not rules.hit_split_aces:
                return self.stand(total, removed)
            best = max(self.stand(total, removed), self.hit(total, soft, removed))
            if rules.double_after_split and self.may_double(total):
                best = max(best, self.double(total, soft, removed))
            return best

        draws = {c: p for c, p, _ in self._draws(pair)}
        r = draws.get(card, 0.0)
        w = sum(p * value(x) for x, p in draws.items() if x != card)
        stuck = value(card) if r > 0 else 0.0
        resplit = card != 1 or rules.resplit_aces
        k = max(rules.max_split_hands - 2, 0) if resplit else 0
        return _split_total(w, r, stuck, k)
