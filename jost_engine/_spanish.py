"""`auto` basic strategy for Spanish 21: an expectimax over the player's hand states.

The method: for every up card, the dealer's final-total distribution is computed for an
infinite deck of the game's composition (a Spanish deck: A..9 four times and twelve
ten-value cards in 48; _dealer), conditioned on no blackjack after a peek. The player's
hand is a state (number of cards, total, soft), which is all that Spanish 21's rules need
once the hand has three cards: the 21 bonuses of five, six and seven or more cards depend
on the number of cards only, and a 6-7-8 or 7-7-7 is a three-card 21 decided by the first
two cards and the third (so the two-card hands are solved per composition, with the
bonus's suited and spade shares taken in expectation: with suits drawn independently a
three-card hand is of one suit 1/16 of the time, of spades 1/64). Hands of seven or more
cards all pay the same 21 bonus, so they share one state per total.

Backward over the states (a card only ever adds to the hard total), each state of three or
more cards gets its best action among hit, stand and double (on any number of cards with
`double_any_cards`). A doubled hand, after its card, plays its own table (the chart's
`after_double`, by total and softness; jost_engine.kernel_spanish): redouble, stand or
be rescued. Standing and a rescue are worth the same for every doubled hand of a total,
so without redoubles that choice is exact (the chart's `rescue` table); with them the
cell is the best on average over the doubled hands that reach it (below). The
two-card cells are chosen as in jost_engine._basic_strategy: each action's EV summed over
the two-card hands of the row, weighted by their probability given the up card; splits
as in jost_engine._infinite_deck (each split hand played optimally, resplits whenever
allowed, its hands' later cards by the chart's three-card-and-more rows).

What is approximated, and why:
- the deck is infinite: for a finite shoe (any deck count but 0) the fresh hands' hard
  and soft cells, two cards and more, are then chosen again from their exact values in
  that shoe (jost_engine._spanish_shoe, which says what it leaves to this module: pairs,
  surrender, the after-double and rescue cells);
- a redouble is worth more with more redoubles left (and, where a doubled hand earns
  the bonuses, with more cards), but the after_double table has one cell per total and
  softness: the cells are chosen again (REWEIGH times), each weighing what redoubling
  gains over settling by how often the cells chosen before reach the total with each
  number of cards and of redoubles made (UpCard.reach);
- two-card rows are total-dependent (the 6-7 and 7-8 whose bonus hopes make a hit better
  than a stand share the row of their total with the other hands of that total);
- the super bonus and the envy bonus are money, not a multiple of the bet: the chart
  leaves them out (they change at most the 7,7 rows against a 7).

EVs are per unit of the hand's current wager; a double counts twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from functools import lru_cache

import numpy as np

from jost_engine import _auto_cache
from jost_engine._basic_strategy import _strategy_key, choose_cells
from jost_engine._dealer import BLACKJACK, dealer_outcomes, given_no_blackjack
from jost_engine._infinite_deck import _split_total, add_card, two_cards
from jost_engine._round_value import round_value, surrender_value
from jost_engine._spanish_shoe import (
    ShoeUpCard,
    hand,
    many_cards_pay,
    stand_value,
    three_card_pay,
)
from jost_engine.chart import HARD_TOTALS, PAIR_KEYS, SOFT_TOTALS, UP_CARDS, up_index
from jost_engine.config import PlayingStrategy, Rules

# Hands of this many cards or more pay the same 21 bonus: one state per total.
MOST_CARDS = 7
# With redoubles: how many times the after-double cells are chosen again, weighed by how
# often the cells chosen before reach them.
REWEIGH = 2
# How often a doubled hand reaches (total, soft) after a card, by (cards, redoubles made).
Reach = dict[tuple[int, bool], dict[tuple[int, int], float]]


def composition(rules: Rules) -> np.ndarray:
    """Card counts of one deck of the game by rank (index 1..10, 1 = ace)."""
    counts = np.zeros(11, dtype=np.int64)
    counts[1:10] = 4
    counts[10] = 12 if rules.deck == "spanish" else 16
    return counts


class UpCard:
    """Hand EVs against one dealer up card, for Spanish 21's rules."""

    def __init__(
        self,
        rules: Rules,
        up: int,
        weights: Reach | None = None,
        after: dict[tuple[int, bool], str] | None = None,
    ) -> None:
        self.rules = rules
        self.up = up
        # With redoubles, one after-double cell serves a doubled hand of its total with
        # any number of cards and of redoubles made: how often each is reached weighs it.
        self.weights = weights or {}
        deck = composition(rules)
        self.q = deck / deck.sum()
        outcomes = dealer_outcomes(deck, up, rules.hit_soft_17, deplete=False)
        self.p_blackjack = float(outcomes[BLACKJACK])
        self.d = given_no_blackjack(outcomes) if rules.blackjack_takes_one_bet else outcomes
        self._codes: dict[tuple[int, int, bool], str] = {}
        # The after_double cells by (total, soft): `after`'s where given (a table to value
        # rather than choose), else chosen when first asked.
        self._after: dict[tuple[int, bool], str] = dict(after or {})
        self._fresh: dict[tuple[int, int, bool, bool, bool], float] = {}
        self._doubled: dict[tuple[int, int, bool, bool, int], float] = {}

    # -- settlement --------------------------------------------------------------------

    def stand(self, total: int, pay: float = 1.0) -> float:
        """A standing hand of `total`; a winning 21 is paid `pay` per unit."""
        return stand_value(self.d, total, pay, self.rules.player_21_wins)

    def pay_21(self, cards: int, bonus: bool) -> float:
        """What a winning 21 of this many cards pays (no 6-7-8 or 7-7-7)."""
        return many_cards_pay(self.rules, cards) if bonus else 1.0

    def pay_three(self, c1: int, c2: int, c3: int, bonus: bool) -> float:
        """What a winning three-card 21 of these ranks pays, suits in expectation."""
        return three_card_pay(self.rules, (c1, c2, c3)) if bonus else 1.0

    # -- hands of three or more cards --------------------------------------------------

    def may_double(self, split: bool) -> bool:
        """May a hand of three or more cards double (the kernel's act_n)?"""
        return self.rules.double_any_cards and (not split or self.rules.double_after_split)

    def code(self, cards: int, total: int, soft: bool) -> str:
        """The chart cell of a fresh, unsplit hand of `cards` (>= 3) cards."""
        key = (min(cards, MOST_CARDS), total, soft)
        if key not in self._codes:
            self._codes[key] = self._choose(*key)
        return self._codes[key]

    def _choose(self, cards: int, total: int, soft: bool) -> str:
        if total >= 21:
            return "S"
        stand = self.stand(total)
        hit = self._hit(cards, total, soft, bonus=True, split=False)
        fallback = "H" if hit >= stand else "S"
        # Double where it may (else the kernel plays the fallback) and it is worth more.
        may = self.may_double(split=False)
        if may and self._double(cards, total, soft, bonus=True) > max(hit, stand):
            return "D" + fallback.lower()
        return fallback

    def after_code(self, total: int, soft: bool) -> str:
        """The after_double cell of a doubled hand of `total` (< 22) after its card:
        "D" redouble (where one is left, else stand), "S" stand, "R" rescue."""
        key = (total, soft)
        if key not in self._after:
            self._after[key] = self._choose_after(total, soft)
        return self._after[key]

    def rescued(self, made: int) -> float:
        """A rescued hand after `made` redoubles, per unit of its wager: it forfeits the
        original bet (rescue_forfeits), a share 1 / 2^(1 + made) of the wager, or half;
        with no hole card a blackjack found later takes it all (docs/CONFIG.md)."""
        share = 0.5 if self.rules.rescue_forfeits == "half" else 0.5 / 2.0**made
        return float(-self.d[BLACKJACK] - share * (1.0 - self.d[BLACKJACK]))

    def _choose_after(self, total: int, soft: bool) -> str:
        if total >= 21:
            return "S"
        stand = self.stand(total)
        rescue = self.rules.double_rescue
        most = self.rules.max_redoubles
        if most == 0:
            return "R" if rescue and self.rescued(0) > stand else "S"
        # Each cell's worth summed over the (cards, redoubles made) in which a doubled hand
        # reaches this total, weighed by how often (a hand with no redouble left stands on
        # a "D"; a rescue's worth depends on the redoubles made); a total not reached is
        # judged as a three-card hand's first.
        reached = self.weights.get((total, soft)) or {(3, 0): 1.0}
        worth = {"S": 0.0, "R": 0.0, "D": 0.0}
        for (cards, made), weight in reached.items():
            worth["S"] += weight * stand
            worth["R"] += weight * self.rescued(made)
            if made < most:
                value = 2.0 * self._after_card(cards, total, soft, bonus=True, redoubles=made + 1)
            else:
                value = stand
            worth["D"] += weight * value
        settle = "R" if rescue and worth["R"] > worth["S"] else "S"
        return "D" if worth["D"] > worth[settle] else settle

    def reach(self) -> Reach:
        """How often a doubled hand reaches each (total, soft) after a card, by (cards,
        redoubles made), when the player plays by the cells as they are (per round against
        this up card; split hands left out)."""
        q = self.q
        most = self.rules.max_redoubles
        fresh: dict[tuple[int, int, bool], float] = defaultdict(float)
        doubled: dict[tuple[int, int, bool, int], float] = defaultdict(float)
        for c1 in range(1, 11):
            for c2 in range(c1, 11):
                if (c1, c2) == (1, 10):
                    continue
                options = self.options(c1, c2)
                action = max(options, key=options.__getitem__)
                if action not in ("H", "D"):
                    continue
                weight = q[c1] * q[c2] * (1 if c1 == c2 else 2)
                for c in range(1, 11):
                    t, s = add_card(*two_cards(c1, c2), c)
                    if t < 21:
                        if action == "H":
                            fresh[(3, t, s)] += weight * q[c]
                        else:
                            doubled[(3, t, s, 0)] += weight * q[c]
        # A card only adds to the hard total: soft states before hard ones, each by
        # total, reach every state after the states that lead to it.
        order = [
            (n, t, s)
            for n in range(3, MOST_CARDS + 1)
            for s in (True, False)
            for t in (range(12, 21) if s else range(4, 21))
        ]
        for n, t, s in order:
            code = self.code(n, t, s)
            after = min(n + 1, MOST_CARDS)
            nexts = [(add_card(t, s, c), q[c]) for c in range(1, 11)]
            m = fresh.get((n, t, s), 0.0)
            if m and code not in ("S", "Ds"):
                double = code[0] == "D" and self.may_double(split=False)
                for (t2, s2), p in nexts:
                    if t2 < 21:
                        if double:
                            doubled[(after, t2, s2, 0)] += m * p
                        else:
                            fresh[(after, t2, s2)] += m * p
            if self.after_code(t, s) != "D":
                continue
            for r in range(most):
                m = doubled.get((n, t, s, r), 0.0)
                if m:
                    for (t2, s2), p in nexts:
                        if t2 < 21:
                            doubled[(after, t2, s2, r + 1)] += m * p
        weights: Reach = defaultdict(dict)
        for (n, t, s, r), m in doubled.items():
            weights[(t, s)][(n, r)] = m
        return dict(weights)

    def _hit(self, cards: int, total: int, soft: bool, bonus: bool, split: bool) -> float:
        ev = 0.0
        for c in range(1, 11):
            t, s = add_card(total, soft, c)
            ev += self.q[c] * self.fresh(cards + 1, t, s, bonus, split)
        return ev

    def _double(self, cards: int, total: int, soft: bool, bonus: bool) -> float:
        return 2.0 * self._after_card(cards, total, soft, bonus, redoubles=0)

    def _after_card(self, cards: int, total: int, soft: bool, bonus: bool, redoubles: int) -> float:
        """A doubled hand's card drawn (per unit of its doubled wager)."""
        bonus = bonus and self.rules.bonus_after_double
        ev = 0.0
        for c in range(1, 11):
            t, s = add_card(total, soft, c)
            ev += self.q[c] * self.doubled(cards + 1, t, s, bonus, redoubles)
        return ev

    def fresh(self, cards: int, total: int, soft: bool, bonus: bool, split: bool) -> float:
        """A hand of `cards` >= 3 cards, not doubled, played by the chart's cells."""
        cards = min(cards, MOST_CARDS)
        key = (cards, total, soft, bonus, split)
        if key not in self._fresh:
            if total > 21:
                value = -1.0
            elif total == 21:
                value = self.stand(21, self.pay_21(cards, bonus))
            else:
                code = self.code(cards, total, soft)
                if code[0] == "D" and self.may_double(split):
                    value = self._double(cards, total, soft, bonus)
                elif code in ("S", "Ds"):
                    value = self.stand(total)
                else:
                    value = self._hit(cards, total, soft, bonus, split)
            self._fresh[key] = value
        return self._fresh[key]

    def doubled(self, cards: int, total: int, soft: bool, bonus: bool, redoubles: int) -> float:
        """A doubled hand after its card (`redoubles` made), by its after_double cell:
        redouble (where one is left, else stand), stand, or be rescued."""
        cards = min(cards, MOST_CARDS)
        key = (cards, total, soft, bonus, redoubles)
        if key not in self._doubled:
            if total > 21:
                value = -1.0
            elif total == 21:
                value = self.stand(21, self.pay_21(cards, bonus))
            else:
                code = self.after_code(total, soft)
                if code == "D" and redoubles < self.rules.max_redoubles:
                    value = 2.0 * self._after_card(cards, total, soft, bonus, redoubles + 1)
                elif code == "R":
                    value = self.rescued(redoubles)
                else:
                    value = self.stand(total)
            self._doubled[key] = value
        return self._doubled[key]

    # -- two-card hands ----------------------------------------------------------------

    def _third(self, c1: int, c2: int, c: int, bonus: bool, split: bool, doubled: bool) -> float:
        """Value of (c1, c2) plus a third card c (per unit of the wager then)."""
        total, soft = add_card(*two_cards(c1, c2), c)
        if total == 21:
            ok = bonus and (not doubled or self.rules.bonus_after_double)
            return self.stand(21, self.pay_three(c1, c2, c, ok))
        if doubled:
            return self.doubled(3, total, soft, bonus and self.rules.bonus_after_double, 0)
        return self.fresh(3, total, soft, bonus, split)

    def two_card_options(self, c1: int, c2: int, split: bool) -> dict[str, float]:
        """EVs of the first actions on (c1, c2), splitting aside; `split`: a split hand."""
        rules = self.rules
        total, _ = two_cards(c1, c2)
        bonus = not split or rules.bonus_after_split
        options = {"S": self.stand(total)}
        if split and c1 == 1 and not rules.hit_split_aces:
            return options
        options["H"] = sum(
            self.q[c] * self._third(c1, c2, c, bonus, split, False) for c in range(1, 11)
        )
        if rules.may_double(total, after_split=split):
            options["D"] = 2.0 * sum(
                self.q[c] * self._third(c1, c2, c, bonus, split, True) for c in range(1, 11)
            )
        return options

    def split(self, card: int) -> float:
        """Splitting a pair of `card`, all hands together, per unit of the original bet
        (jost_engine._infinite_deck.HandValues.split, with Spanish hands)."""
        rules = self.rules

        def value(other: int) -> float:
            return max(self.two_card_options(card, other, split=True).values())

        r = float(self.q[card])
        w = sum(self.q[x] * value(x) for x in range(1, 11) if x != card)
        stuck = value(card)
        resplit = card != 1 or rules.resplit_aces
        k = max(rules.max_split_hands - 2, 0) if resplit else 0
        return _split_total(w, r, stuck, k)

    def options(self, c1: int, c2: int) -> dict[str, float]:
        """Round values of every legal first action on (c1, c2)."""
        rules = self.rules
        hand = self.two_card_options(c1, c2, split=False)
        if c1 == c2 and rules.max_split_hands >= 2:
            hand["P"] = self.split(c1)
        values = {a: round_value(rules, self.p_blackjack, ev) for a, ev in hand.items()}
        if rules.surrender_offered:
            values["R"] = surrender_value(rules, self.p_blackjack)
        return values


def auto_strategy(rules: Rules) -> PlayingStrategy:
    """The Spanish 21 chart for `rules`, cached per rule set in memory and on disk
    (jost_engine._auto_cache, as the common game's: _basic_strategy.auto_strategy)."""
    return _auto_for(strategy_key(rules))


def strategy_key(rules: Rules) -> Rules:
    """The rules as the solver sees them: _basic_strategy's key, and neither a natural
    beating a natural (it changes only what a natural is paid) nor the super and envy
    bonuses (money the solver leaves out)."""
    return replace(
        _strategy_key(rules), blackjack_beats_blackjack=False, super_bonus=0.0, envy_bonus=0.0
    )


@lru_cache(maxsize=64)
def _auto_for(rules: Rules) -> PlayingStrategy:
    return _auto_cache.solved(rules, solve)


def solve(rules: Rules) -> PlayingStrategy:
    """The Spanish 21 chart for `rules` (keyed by strategy_key), no cache."""

    deck = composition(rules)
    q = deck / deck.sum()
    hard: dict[str, dict[str, str]] = {str(t): {} for t in HARD_TOTALS}
    soft: dict[str, dict[str, str]] = {str(t): {} for t in SOFT_TOTALS}
    pairs: dict[str, dict[str, str]] = {key: {} for key in PAIR_KEYS}
    spans = [(n, n) for n in range(3, MOST_CARDS)] + [(MOST_CARDS, 23)]
    more: list[dict[str, dict[str, dict[str, str]]]] = [{"hard": {}, "soft": {}} for _ in spans]
    rescue: dict[str, dict[str, str]] = {}
    compositions: dict[str, dict[str, str]] = {}
    # With redoubles a doubled hand plays its own table (which holds the rescue cells);
    # without, standing or a rescue is all it can do: the rescue table says which.
    redoubling = rules.max_redoubles > 0
    after: dict[str, dict[str, dict[str, str]]] = {"hard": {}, "soft": {}}
    for up in UP_CARDS:
        u = up_index(up)
        context = UpCard(rules, u)
        for _ in range(REWEIGH if rules.max_redoubles else 0):
            context = UpCard(rules, u, context.reach())
        rows: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for c1 in range(1, 11):
            for c2 in range(c1, 11):
                if (c1, c2) == (1, 10):
                    continue
                weight = float(q[c1] * q[c2] * (1 if c1 == c2 else 2))
                total, is_soft = two_cards(c1, c2)
                kind = "soft" if is_soft else "hard"
                keys = [("pair", c1), (kind + "-pair", total)] if c1 == c2 else [(kind, total)]
                for key in keys:
                    for action, value in context.options(c1, c2).items():
                        if key[0].endswith("-pair") and action == "P":
                            continue
                        rows[key][action] += weight * value
        choose_cells(rows, up, hard, soft, pairs)
        for (lo, _), tables in zip(spans, more, strict=True):
            for t in HARD_TOTALS:
                tables["hard"].setdefault(str(t), {})[up] = context.code(lo, t, False)
            for t in SOFT_TOTALS:
                tables["soft"].setdefault(str(t), {})[up] = context.code(lo, t, True)
        shoe = ShoeUpCard(rules, u, context.after_code) if rules.decks else None
        if shoe is not None:
            _in_the_shoe(shoe, up, hard, soft, spans, more)
        _two_card_hands(context, shoe, up, hard, soft, compositions)
        if redoubling:
            for kind, totals in (("hard", HARD_TOTALS), ("soft", SOFT_TOTALS)):
                for t in totals:
                    cell = context.after_code(t, kind == "soft")
                    after[kind].setdefault(str(t), {})[up] = cell
        elif rules.double_rescue:
            for t in HARD_TOTALS:
                rescue.setdefault(str(t), {})[up] = context.after_code(t, False)
    return PlayingStrategy(
        name=f"auto spanish 21 ({rules.decks or 'infinite'} decks)",
        auto=False,
        hard=hard,
        soft=soft,
        pairs=pairs,
        more_cards=tuple((lo, hi, tables) for (lo, hi), tables in zip(spans, more, strict=True)),
        rescue=rescue,
        after_double=after if redoubling else {},
        compositions=dict(sorted(compositions.items(), key=lambda item: _hand_order(item[0]))),
    )


def _in_the_shoe(
    shoe: ShoeUpCard,
    up: str,
    hard: dict[str, dict[str, str]],
    soft: dict[str, dict[str, str]],
    spans: list[tuple[int, int]],
    more: list[dict[str, dict[str, dict[str, str]]]],
) -> None:
    """Choose again, from their exact values in the shoe, the cells of the fresh hands
    against `up`: the two-card rows and each number of cards' rows."""
    tables = [(2, {"hard": hard, "soft": soft})] + [
        (lo, grids) for (lo, _), grids in zip(spans, more, strict=True)
    ]
    for cards, grids in tables:
        for kind, totals in (("hard", HARD_TOTALS), ("soft", SOFT_TOTALS)):
            for t in totals:
                row = grids[kind][str(t)]
                row[up] = shoe.cell(cards, t, kind == "soft", row[up])


def _two_card_hands(
    context: UpCard,
    shoe: ShoeUpCard | None,
    up: str,
    hard: dict[str, dict[str, str]],
    soft: dict[str, dict[str, str]],
    compositions: dict[str, dict[str, str]],
) -> None:
    """The two-card hands (pairs apart) whose best play against `up` is not their row's:
    the 6-7 that hits a 13 for the 6-7-8 where the 10-3 stands. Valued in the shoe where
    there is one (else the infinite deck); a row that surrenders is left to the row."""
    for c1 in range(1, 11):
        for c2 in range(c1 + 1, 11):
            if (c1, c2) == (1, 10):
                continue
            total, is_soft = two_cards(c1, c2)
            cell = (soft if is_soft else hard)[str(total)][up]
            if cell[0] == "R":
                continue
            values = shoe.options(hand(c1, c2)) if shoe is not None else context.options(c1, c2)
            fallback = "H" if values["H"] >= values["S"] else "S"
            best = "D" + fallback.lower() if values.get("D", -9.0) > values[fallback] else fallback
            if best[0] != cell[0]:
                compositions.setdefault(_hand_key(c1, c2), {})[up] = best


def _hand_key(c1: int, c2: int) -> str:
    """A compositions key: "A,7", "6,8", "3,10"."""
    return ",".join("A" if c == 1 else str(c) for c in (c1, c2))


def _hand_order(key: str) -> tuple[int, int]:
    first, second = (1 if r == "A" else int(r) for r in key.split(","))
    return first, second
