"""From hand EVs to round EVs: the dealer's blackjack, the peek and surrender.

With a peek, hands are played only when the dealer has no blackjack, so hand EVs are
computed with the dealer distribution conditioned on no blackjack and a round's value is
P(bj) * (-1) + (1 - P(bj)) * EV. With no hole card and `no_hole_card_loses`
"original_bet" a dealer blackjack also costs exactly one bet whatever was played, so the
round is valued the same way (Rules.blackjack_takes_one_bet). With no hole card and
"all", hand EVs count the dealer's blackjack against every hand, doubles and split hands
included, and are the round's value as they are.

Surrender does not depend on the peek: early surrender gives up half the bet before the
dealer looks, so it escapes a blackjack (-0.5 always); late surrender is settled after the
dealer's hand, so a dealer blackjack takes the whole bet, with a peek (surrender is never
offered) and without one (the blackjack shows after the surrender) alike.
"""

from __future__ import annotations

import numpy as np

from jost_engine._dealer import BLACKJACK, dealer_outcomes, given_no_blackjack
from jost_engine._infinite_deck import HandValues, two_cards
from jost_engine.config import Rules


def round_value(rules: Rules, p_blackjack: float, hand_ev: float) -> float:
    """A played (non-surrendered, non-blackjack) hand's EV as a share of the round."""
    if not rules.blackjack_takes_one_bet:
        return hand_ev
    return -p_blackjack + (1.0 - p_blackjack) * hand_ev


def surrender_value(rules: Rules, p_blackjack: float) -> float:
    """Surrendering the first two cards, as a share of the round. With both rules offered
    the player surrenders early (it is never worse)."""
    if rules.early_surrender:
        return -0.5
    return -p_blackjack - 0.5 * (1.0 - p_blackjack)


def blackjack_value(rules: Rules, p_blackjack: float) -> float:
    """A player's natural: paid unless the dealer has one too (a push)."""
    return (1.0 - p_blackjack) * rules.blackjack_payout


class UpCardContext:
    """One up card with cards drawn at fixed proportions (exact for an infinite deck)."""

    def __init__(self, rules: Rules, shoe: np.ndarray, up: int, deplete: bool) -> None:
        self.rules = rules
        self.up = up
        outcomes = dealer_outcomes(shoe, up, rules.hit_soft_17, deplete)
        self.p_blackjack = float(outcomes[BLACKJACK])
        dealer = given_no_blackjack(outcomes) if rules.blackjack_takes_one_bet else outcomes
        self.hands = HandValues(shoe / shoe.sum(), dealer, rules)

    def round_value(self, hand_ev: float) -> float:
        return round_value(self.rules, self.p_blackjack, hand_ev)

    def surrender_value(self) -> float:
        return surrender_value(self.rules, self.p_blackjack)

    def blackjack_value(self) -> float:
        return blackjack_value(self.rules, self.p_blackjack)

    def options(self, c1: int, c2: int) -> tuple[dict[str, float], float]:
        """Hand EVs of every legal first action on (c1, c2), and P(dealer blackjack)."""
        hv = self.hands
        total, soft = two_cards(c1, c2)
        options = {"S": hv.stand(total), "H": hv.hit(total, soft)}
        if self.rules.may_double(total):
            options["D"] = hv.double(total, soft)
        if c1 == c2 and self.rules.max_split_hands >= 2:
            options["P"] = hv.split(c1)
        return options, self.p_blackjack
