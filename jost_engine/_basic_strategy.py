"""`auto` basic strategy: total-dependent, computed for the exact rules and deck count.

For every up card and every two-card starting hand (c1, c2), the shoe is the full shoe
less c1, c2 and the up card. Against that shoe we compute the EV of standing, hitting,
doubling, splitting and surrendering, as a share of the round (see _round_value: with a peek
the hands are played only when the dealer has no blackjack). The EVs of all hands of the
same hard or soft total (pairs apart) are added, weighted by the hand's probability given
the up card, and the best action wins the (total, up) cell; pairs get their own row.

Fallbacks the kernel needs are written into every cell (config.ACTIONS): Dh/Ds and Rh/Rs
carry the better of hit and stand over the same weighted hands, Rp marks a pair whose
best non-surrender play is splitting. Hard 4 (2,2), hard 20 (10,10) and soft 12 (A,A)
have no non-pair two-card hand, so their rows come from the pair played without
splitting. Hard and soft 21 (three or more cards) stand.

How the EVs are computed, and what is approximated (the four published charts in
tests/engine/test_auto_strategy_vs_published.py come out cell by cell):
- finite shoe (_finite_shoe): standing, hitting (then playing on optimally, composition
  dependent) and doubling are exact for the shoe less the hand and the up card: the
  player's later cards leave the shoe, the dealer's distribution is recomputed exactly
  for every final hand, and after a peek the player's draws carry the knowledge that the
  hole card does not complete a blackjack (these EVs equal Wizard of Odds' Appendix 9 to
  its six published decimals, see tests/engine/test_exact.py);
- splits are approximated as in the standard engines: each split hand is played exactly
  against the shoe less the up card, its own cards and the pair cards dealt so far in
  the split, ignoring the other hands' non-pair cards; resplits are made whenever the
  limit allows, because the kernel resplits whenever the pairs cell says P;
- total dependence: hands of three or more cards play the cell's hit/stand fallback,
  which is chosen on the two-card hands of that total (weighted as above);
- infinite deck (decks = 0, _infinite_deck): everything is exact, and the chart is the optimal
  strategy among the charts the kernel plays (with an infinite deck a hand's best play
  depends only on its total, so total dependence loses nothing there).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from functools import lru_cache

import numpy as np

from jost_engine import _auto_cache
from jost_engine._dealer import full_shoe
from jost_engine._finite_shoe import FiniteShoeUpCard, up_cards
from jost_engine._infinite_deck import two_cards
from jost_engine._round_value import (
    UpCardContext,
    blackjack_value,
    round_value,
    surrender_value,
)
from jost_engine.chart import HARD_TOTALS, PAIR_KEYS, SOFT_TOTALS, UP_CARDS, pair_index, up_index
from jost_engine.config import PlayingStrategy, Rules


def auto_strategy(rules: Rules) -> PlayingStrategy:
    """Basic strategy for `rules` as a full canonical chart, cached per rule set in memory
    and on disk (_auto_cache: a chart solved once is read back in about a millisecond)."""
    return _auto_for(_strategy_key(rules))


def _strategy_key(rules: Rules) -> Rules:
    # Name, penetration, insurance and the blackjack payout (a natural is paid, never
    # played) do not change the chart: drop them from the cache key. Nor does a no-hole-card
    # game whose blackjack takes only the original bet differ from the peek game: every
    # value the solvers compute is the same (_round_value), so they share one entry.
    from dataclasses import replace

    peek = rules.blackjack_takes_one_bet
    return replace(
        rules,
        name="",
        penetration=0.5,
        offer_insurance=False,
        blackjack_payout=1.5,
        dealer_peeks=peek,
        no_hole_card_loses="all",
    )


@lru_cache(maxsize=64)
def _auto_for(rules: Rules) -> PlayingStrategy:
    return _auto_cache.solved(rules, solve)


def solve(rules: Rules) -> PlayingStrategy:
    """The chart computed for `rules` (already keyed by _strategy_key), no cache."""
    evs = two_card_evs(rules)
    hard: dict[str, dict[str, str]] = {str(t): {} for t in HARD_TOTALS}
    soft: dict[str, dict[str, str]] = {str(t): {} for t in SOFT_TOTALS}
    pairs: dict[str, dict[str, str]] = {key: {} for key in PAIR_KEYS}
    for up in UP_CARDS:
        choose_cells(evs[up_index(up)], up, hard, soft, pairs)
    return PlayingStrategy(
        name=f"auto ({rules.decks or 'infinite'} decks)",
        auto=False,
        hard=hard,
        soft=soft,
        pairs=pairs,
    )


def choose_cells(
    rows: Mapping[tuple[str, int], dict[str, float]],
    up: str,
    hard: dict[str, dict[str, str]],
    soft: dict[str, dict[str, str]],
    pairs: dict[str, dict[str, str]],
) -> None:
    """Each two-card row's cell against `up`, from its summed EVs (two_card_evs' keys): a
    total only pairs make (hard 4, 20; soft 12) plays as its pairs do unsplit."""
    for t in HARD_TOTALS:
        row = rows.get(("hard", t)) or rows.get(("hard-pair", t))
        hard[str(t)][up] = choose(row) if row else "S"
    for t in SOFT_TOTALS:
        row = rows.get(("soft", t)) or rows.get(("soft-pair", t))
        soft[str(t)][up] = choose(row) if row else "S"
    for key in PAIR_KEYS:
        pairs[key][up] = choose(rows[("pair", pair_index(key))])


def choose(row: dict[str, float]) -> str:
    """Best action of a row of summed EVs, written with its fallback."""
    fallback = "H" if row["H"] >= row["S"] else "S"
    best = max(row, key=row.__getitem__)
    if best == "D":
        return "D" + fallback.lower()
    if best == "R":
        others = {a: v for a, v in row.items() if a != "R"}
        return "Rp" if max(others, key=others.__getitem__) == "P" else "R" + fallback.lower()
    return best


def two_card_evs(rules: Rules) -> dict[int, dict[tuple[str, int], dict[str, float]]]:
    """evs[up][(row kind, total or rank)][action] = sum over two-card hands of that row of
    P(hand | up) * round value of the action. Row kinds: "hard", "soft", "pair", and
    "hard-pair"/"soft-pair" (a pair played without splitting, under its total)."""
    evs: dict[int, dict] = {up: defaultdict(lambda: defaultdict(float)) for up in range(1, 11)}
    for up, _, c1, c2, weight, values in starting_hands(rules):
        total, soft = two_cards(c1, c2)
        kind = "soft" if soft else "hard"
        keys = [("pair", c1), (kind + "-pair", total)] if c1 == c2 else [(kind, total)]
        for key in keys:
            for action, value in values.items():
                if key[0].endswith("-pair") and action == "P":
                    continue
                evs[up][key][action] += weight * value
    return evs


def starting_hands(
    rules: Rules, with_blackjacks: bool = False
) -> Iterator[tuple[int, float, int, int, float, dict[str, float]]]:
    """Yields (up, P(up), c1, c2, P(c1, c2 | up), {action: round value}) for every up card
    and two-card hand c1 <= c2 of the full shoe. A blackjack (only if asked) has the one
    action "BJ", its value after the dealer's possible blackjack."""
    infinite = rules.decks == 0
    full = full_shoe(rules.decks)
    # A finite shoe's up cards are valued together: they share one graph of hands.
    finite = {} if infinite else up_cards(rules, full)
    for up in range(1, 11):
        p_up = float(full[up] / full.sum())
        shoe_u = full.copy()
        context: UpCardContext | FiniteShoeUpCard
        if infinite:
            context = UpCardContext(rules, shoe_u, up, deplete=False)
        else:
            shoe_u[up] -= 1
            context = finite[up]
        for c1 in range(1, 11):
            for c2 in range(c1, 11):
                weight = _hand_probability(shoe_u, c1, c2, infinite)
                if weight == 0.0:
                    continue
                if (c1, c2) == (1, 10):
                    if with_blackjacks:
                        p_blackjack = _dealer_blackjack_probability(shoe_u, up, infinite)
                        yield up, p_up, c1, c2, weight, {"BJ": blackjack_value(rules, p_blackjack)}
                    continue
                options, p_blackjack = context.options(c1, c2)
                values = {a: round_value(rules, p_blackjack, ev) for a, ev in options.items()}
                if rules.surrender_offered:
                    values["R"] = surrender_value(rules, p_blackjack)
                yield up, p_up, c1, c2, weight, values


def _dealer_blackjack_probability(shoe_u: np.ndarray, up: int, infinite: bool) -> float:
    # Against a player's ace and ten: the hole card completes the dealer's blackjack.
    partner = {1: 10, 10: 1}.get(up)
    if partner is None:
        return 0.0
    if infinite:
        return float(shoe_u[partner] / shoe_u.sum())
    return float((shoe_u[partner] - 1) / (shoe_u.sum() - 2))


def _hand_probability(shoe: np.ndarray, c1: int, c2: int, infinite: bool) -> float:
    n = shoe.sum()
    if infinite:
        p = shoe[c1] / n * shoe[c2] / n
    else:
        p = shoe[c1] / n * max(shoe[c2] - (c1 == c2), 0) / (n - 1)
    return float(p if c1 == c2 else 2 * p)
