"""The `auto` solver rewritten for speed (issue 16) gives the charts the old one gave.

The reference charts (tests/data/auto_reference_charts.json, see auto_reference.py) were
written by the solver of commit 7611f30 for every shipped casino and 48 random rule sets;
the solver is held to them cell by cell. Its batched dealer is held to the plain forward
pass of _dealer that the old solver used, composition by composition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jost_engine import _finite_shoe
from jost_engine._basic_strategy import solve
from jost_engine._dealer import BLACKJACK, dealer_outcomes_by_states, dealer_states, full_shoe
from jost_engine.config import Rules
from tests.engine.auto_reference import load

REFERENCE = load()


@pytest.mark.parametrize(
    "rules, chart",
    REFERENCE,
    ids=[f"{i}-{r.decks}d" for i, (r, _) in enumerate(REFERENCE)],
)
def test_every_cell_is_the_chart_the_old_solver_gave(rules: Rules, chart: dict[str, Any]) -> None:
    solved = solve(rules)
    assert solved.name == chart["name"]
    for table in ("hard", "soft", "pairs"):
        grid = getattr(solved, table)
        wrong = [
            f"{table}[{row}][{up}]: {grid[row][up]}, was {cell}"
            for row, cells in chart[table].items()
            for up, cell in cells.items()
            if grid[row][up] != cell
        ]
        assert not wrong, wrong


def test_the_reference_holds_the_shipped_casinos_and_48_random_rule_sets() -> None:
    assert len(REFERENCE) == 58
    assert sum(r.decks == 0 for r, _ in REFERENCE) >= 4  # the infinite deck is in it too
    assert {r.max_split_hands for r, _ in REFERENCE} >= {1, 2, 3, 4, 8}


@pytest.mark.parametrize("decks", [1, 6])
@pytest.mark.parametrize("h17", [False, True], ids=["S17", "H17"])
@pytest.mark.parametrize("peek", [False, True], ids=["no-peek", "peek"])
def test_the_batched_dealer_is_the_forward_pass_for_every_composition(
    decks: int, h17: bool, peek: bool
) -> None:
    # Compositions the solver asks for: every hand of a split-to-4 game, the shoe less
    # the up card and the player's cards (one deck runs ranks out).
    full = full_shoe(decks)
    rules = Rules(
        name="",
        decks=decks,
        hit_soft_17=h17,
        double_totals=None,
        double_after_split=True,
        max_split_hands=4,
        resplit_aces=True,
        hit_split_aces=True,
        late_surrender=False,
        early_surrender=False,
        blackjack_payout=1.5,
        penetration=0.5,
        offer_insurance=False,
        dealer_peeks=peek,
    )
    hands, _ = _finite_shoe.starting_hands(rules, [full])
    _, _, _, graph = _finite_shoe._graph(full, hands, np.ones(len(hands), dtype=np.bool_))
    comps = graph[5][::7]
    counts, taken = _finite_shoe._composition_counts(comps)
    for up in range(1, 11):
        shoe = full.copy()
        shoe[up] -= 1
        batched = _finite_shoe._dealer_batch(
            shoe, counts, taken, _finite_shoe.dealer_program(up, h17), peek
        )
        for removed, row in zip(comps, batched, strict=True):
            left = shoe.copy()
            for c in range(1, 11):
                left[c] -= (int(removed) >> (5 * c)) & 31
            if (left < 0).any():
                continue  # more of a rank than the shoe holds: never asked for
            plain = dealer_outcomes_by_states(left, *dealer_states(up, h17), True)
            p_blackjack = plain[BLACKJACK]
            expected = np.append(plain, p_blackjack)
            if peek:
                expected[:6] /= 1.0 - p_blackjack
                expected[BLACKJACK] = 0.0
            np.testing.assert_allclose(row, expected, rtol=0, atol=1e-13)
