"""Exact expected values: the oracle the simulator is tested against.

`infinite_deck_ev` is exact (to float rounding) for an infinite deck under every rule of
config.Rules except penetration and insurance, which do not change a flat-bet EV without
insurance: peek or no hole card (a dealer blackjack taking every bet or only the
original one, `no_hole_card_loses`), late/early surrender, any payout, double restrictions,
DAS, a split-hand limit (tracked exactly; 64 or more hands is treated as unlimited),
resplit aces, hitting split aces. With an infinite deck every card is drawn with the same
probabilities, so each hand's EV depends only on its own cards and the dealer's up card,
and the EV of a split is the expected number of hands of each kind times their EVs.

`dealer_final_probabilities` is exact for a finite shoe too (a forward pass over every
multiset of dealer cards with the shoe depleted, see _dealer).

`composition_dependent_ev` gives the first-round EV from a full finite shoe for the best
composition-dependent play, exact but for splits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from jost_engine._dealer import OUTCOMES, dealer_outcomes, full_shoe
from jost_engine._dealer import given_no_blackjack as _condition_on_no_blackjack
from jost_engine._infinite_deck import DH, DS, RH, RP, RS, Chart, P, S, hit_or_stand, two_cards
from jost_engine._round_value import UpCardContext
from jost_engine.chart import UP_CARDS, chart_arrays, up_index
from jost_engine.config import PlayingStrategy, Rules
from jost_engine.strategy import resolve_playing_strategy

__all__ = [
    "blackjack_probability",
    "composition_dependent_ev",
    "dealer_final_probabilities",
    "infinite_deck_ev",
    "infinite_deck_ev_by_up_card",
]


def infinite_deck_ev(rules: Rules, strategy: PlayingStrategy | None = None) -> float:
    """Exact EV per initial unit of one round with an infinite deck (rules.decks ignored).

    `strategy` is a chart (or `auto`); None means basic strategy computed for these rules
    with an infinite deck, which is the optimal strategy there. Insurance is never taken.
    Takes tens of milliseconds per call, so tests may call it for many rule sets.

    A chart is read as the kernel reads it (simulate.action_tables): a pair uses the pairs
    row while splitting is legal (always, on the first two cards, if max_split_hands >= 2),
    and a split hand that draws its pair card resplits while the limit (and, for aces,
    resplit_aces) allows, otherwise it plays as its hard/soft total; Dh/Ds double only on
    two cards whose total is in double_totals, after a split only with DAS, else hit/stand;
    Rh/Rs/Rp surrender only on the first two cards when late or early surrender is
    offered, else hit/stand/split; a P in a hard/soft row hits. Late surrender is settled
    after the dealer's hand, so a dealer blackjack takes the whole bet, peek or no hole
    card (-p_bj - 0.5 (1 - p_bj) against an ace or ten); early surrender is -0.5 whatever
    the dealer holds. With no hole card a dealer blackjack takes every bet ("all") or one
    original bet per spot ("original_bet", which is then worth what the peek game is). A
    player's blackjack pushes a dealer's.
    """
    return sum(infinite_deck_ev_by_up_card(rules, strategy).values())


def infinite_deck_ev_by_up_card(
    rules: Rules, strategy: PlayingStrategy | None = None
) -> dict[str, float]:
    """Each up card's share of infinite_deck_ev (P(up) * EV given up), keyed as charts are."""
    rules = dataclasses.replace(rules, decks=0)
    chart = resolve_playing_strategy(strategy or PlayingStrategy(name="auto", auto=True), rules)
    hard, soft, pairs = chart_arrays(chart)
    shoe = full_shoe(0)
    q = shoe / shoe.sum()
    shares: dict[str, float] = {}
    for key in UP_CARDS:
        up = up_index(key)
        ctx = UpCardContext(rules, shoe, up, deplete=False)
        table = Chart(hard, soft, pairs, up)
        ev = 0.0
        for c1 in range(1, 11):
            for c2 in range(1, 11):
                ev += q[c1] * q[c2] * _play_two_cards(ctx, table, c1, c2)
        shares[key] = float(q[up] * ev)
    return shares


def _play_two_cards(ctx: UpCardContext, chart: Chart, c1: int, c2: int) -> float:
    """Round value of the first two cards (c1, c2) played by the chart."""
    if {c1, c2} == {1, 10}:
        return ctx.blackjack_value()
    hv, rules = ctx.hands, ctx.rules
    total, soft = two_cards(c1, c2)
    is_pair = c1 == c2 and rules.max_split_hands >= 2
    code = chart.pair_cell(c1) if is_pair else chart.cell(total, soft)
    if code in (RH, RS, RP):
        if ctx.rules.surrender_offered:
            return ctx.surrender_value()
        code = P if code == RP else hit_or_stand(code)
    if code == P and is_pair:
        return ctx.round_value(hv.split(c1, chart))
    if code in (DH, DS) and ctx.rules.may_double(total):
        return ctx.round_value(hv.double(total, soft))
    if hit_or_stand(code) == S:
        return ctx.round_value(hv.stand(total))
    return ctx.round_value(hv.hit(total, soft, chart))


def composition_dependent_ev(rules: Rules) -> float:
    """EV per initial unit of the first round from a full shoe of rules.decks, for a
    player whose first decision on every two-card hand is the best for that exact hand
    (and later decisions too, composition dependent). With decks = 0 this is
    infinite_deck_ev of the optimal strategy.

    Exact but for splits, which use the approximation described in
    _finite_shoe.FiniteShoeUpCard.split; it is what published tables of "expected return
    of the game" for N decks compute (e.g. Wizard of Odds, Blackjack Appendix 9), so a
    simulator playing `auto` should come out slightly below it (auto is total-dependent).
    """
    from jost_engine._basic_strategy import starting_hands  # imports the finite-shoe machinery

    return float(
        sum(
            p_up * weight * max(values.values())
            for _, p_up, _, _, weight, values in starting_hands(rules, with_blackjacks=True)
        )
    )


def blackjack_probability(decks: int) -> float:
    """P(the player's first two cards are a blackjack) from a full shoe (0 = infinite)."""
    if decks == 0:
        return 2.0 * (1 / 13) * (4 / 13)
    aces, tens, n = 4 * decks, 16 * decks, 52 * decks
    return 2.0 * aces * tens / (n * (n - 1))


def dealer_final_probabilities(
    rules: Rules,
    up_card: str | int | None = None,
    shoe: Mapping[int, int] | Sequence[int] | None = None,
    *,
    given_no_blackjack: bool = False,
) -> dict[str, float]:
    """P(dealer ends on 17, 18, 19, 20, 21, bust, blackjack), exact.

    shoe: cards as {rank: count} with rank 1 (ace) .. 10 (every ten-value card) or a
    sequence of 10 counts in that order. With `up_card` ("2".."10", "A" or 1..10) it is
    the shoe left after the up card was dealt (the hole card and draws come from it);
    without, the up card is drawn from it too and the result is over all up cards.
    Default: the full shoe of rules.decks less the up card (decks = 0: an infinite deck,
    whose proportions never change).
    given_no_blackjack=True conditions on the dealer not having a blackjack (what a
    player sees after the peek); its "blackjack" entry is then 0.
    """
    infinite = shoe is None and rules.decks == 0
    counts = _shoe_counts(shoe) if shoe is not None else full_shoe(rules.decks)
    ups = (
        [up_card if isinstance(up_card, int) else up_index(up_card)]
        if up_card is not None
        else range(1, 11)
    )
    total = np.zeros(len(OUTCOMES))
    for up in ups:
        weight = 1.0 if up_card is not None else counts[up] / counts.sum()
        if weight == 0.0:
            continue
        rest = counts.copy()
        if not infinite and (up_card is None or shoe is None):
            rest[up] -= 1
        total += weight * dealer_outcomes(rest, up, rules.hit_soft_17, not infinite)
    if given_no_blackjack:
        total = _condition_on_no_blackjack(total)
    return {name: float(p) for name, p in zip(OUTCOMES, total, strict=False)}


def _shoe_counts(shoe: Mapping[int, int] | Sequence[int]) -> np.ndarray:
    counts = np.zeros(11, dtype=np.int64)
    if isinstance(shoe, Mapping):
        for rank, n in shoe.items():
            counts[int(rank)] = n
    else:
        if len(shoe) != 10:
            raise ValueError("a shoe sequence gives 10 counts: ace, 2, ..., 9, ten-value")
        counts[1:] = shoe
    if (counts < 0).any() or counts.sum() == 0:
        raise ValueError("a shoe needs a non-negative count of each rank and at least one card")
    return counts
