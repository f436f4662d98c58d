"""From hand EVs to round EVs: the dealer's blackjack, the peek and surrender.

With a peek, hands are played only when the dealer has no blackjack, so HandValues
works with the dealer distribution conditioned on no blackjack and a round's value is
P(bj) * (-1) + (1 - P(bj)) * EV. Late surrender happens after the peek; early surrender
before it, so it also escapes the dealer's blackjack. Without a peek (European no hole
card) HandValues already counts the dealer's blackjack against every hand, and a
surrendered hand is settled at -0.5 before the dealer's hole card is dealt.
"""

from __future__ import annotations

import numpy as np

from jost_engine._dealer import BLACKJACK, dealer_outcomes, given_no_blackjack
from jost_engine._ev import HandValues
from jost_engine.config import Rules


class UpCardContext:
    """Everything about one up card and one shoe that the round arithmetic needs."""

    def __init__(self, rules: Rules, shoe: np.ndarray, up: int, deplete: bool) -> None:
        self.rules = rules
        self.up = up
        outcomes = dealer_outcomes(shoe, up, rules.hit_soft_17, deplete)
        self.p_blackjack = float(outcomes[BLACKJACK])
        dealer = given_no_blackjack(outcomes) if rules.dealer_peeks else outcomes
        self.hands = HandValues(shoe / shoe.sum(), dealer, rules)

    @property
    def surrender_allowed(self) -> bool:
        return self.rules.late_surrender or self.rules.early_surrender

    def round_value(self, hand_ev: float) -> float:
        """A played (non-surrendered, non-blackjack) hand's EV as a share of the round."""
        if not self.rules.dealer_peeks:
            return hand_ev
        return -self.p_blackjack + (1.0 - self.p_blackjack) * hand_ev

    def surrender_value(self) -> float:
        if not self.rules.dealer_peeks or self.rules.early_surrender:
            return -0.5
        return -self.p_blackjack - 0.5 * (1.0 - self.p_blackjack)

    def blackjack_value(self) -> float:
        """A player's natural: paid unless the dealer has one too (a push)."""
        return (1.0 - self.p_blackjack) * self.rules.blackjack_payout
