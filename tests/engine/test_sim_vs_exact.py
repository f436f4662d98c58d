"""The simulator against the exact infinite-deck EV of the same chart and rules.

Each case plays an infinite shoe (cards drawn with replacement, which is what
exact.infinite_deck_ev computes) with a fixed seed, and asserts the simulated EV per
initial unit lies within 4 standard errors of the exact value, the SE being the run's own
SD / sqrt(rounds). A wrong rule typically moves the EV by 0.2% or more; 4 SE here is
about 0.2% (5 million rounds, SD about 1.15 units).
"""

from __future__ import annotations

import math

import pytest

from jost_engine.config import (
    PAIR_KEYS,
    UP_CARDS,
    BettingStrategy,
    Config,
    Player,
    PlayingStrategy,
)
from jost_engine.exact import infinite_deck_ev
from jost_engine.simulate import run_shard
from jost_engine.stats import mean_sd

ROUNDS = 5_000_000
K_SE = 4.0

# Each case: a published chart and the changes to the rules builder's base (an infinite
# shoe, S17, DAS, 4 hands, no surrender, 3:2, peek) it is played under.
CASES = {
    "S17 DAS": ("6D_S17_DAS_noLS", {}),
    "H17 no DAS LS": (
        "6D_H17_DAS_LS",
        dict(hit_soft_17=True, double_after_split=False, late_surrender=True),
    ),
    "6:5": ("6D_S17_DAS_noLS", dict(blackjack_payout=1.2)),
    "no peek (ENHC)": ("6D_S17_DAS_noLS", dict(dealer_peeks=False)),
    "no peek, late surrender": (
        "6D_H17_DAS_LS",
        dict(hit_soft_17=True, late_surrender=True, dealer_peeks=False),
    ),
    "no peek, original bet only, late surrender": (
        "6D_H17_DAS_LS",
        dict(
            hit_soft_17=True,
            late_surrender=True,
            dealer_peeks=False,
            no_hole_card_loses="original_bet",
        ),
    ),
    "ES, RSA, HSA, double 10-11": (
        "6D_H17_DAS_LS",
        dict(
            hit_soft_17=True,
            early_surrender=True,
            resplit_aces=True,
            hit_split_aces=True,
            double_totals=(10, 11),
        ),
    ),
    "one split, 1:1": ("6D_S17_DAS_noLS", dict(max_split_hands=2, blackjack_payout=1.0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_simulated_ev_is_within_4_se_of_the_exact_ev(case, make_rules, published_chart, hilo):
    key, changes = CASES[case]
    rules = make_rules(**changes)
    strategy = published_chart(key)
    player = Player(
        name="p",
        bankroll=1e15,
        playing=strategy,
        betting=BettingStrategy(name="flat", min_bet=1.0, num_hands=1, ramp=((-math.inf, 1.0),)),
        counting=hilo,
    )
    config = Config(rules=rules, players=(player,), num_rounds=ROUNDS, seed=2026, log_hands=False)
    stats = run_shard(config, seed=2026, rounds=ROUNDS)
    n = stats.counter(0, "rounds")
    ev, sd = mean_sd(stats.total(0, "unit_net"), stats.total(0, "unit_net_sq"), n)
    se = sd / math.sqrt(n)
    exact = infinite_deck_ev(rules, strategy)
    assert abs(ev - exact) <= K_SE * se, (
        f"{case}: simulated {ev:.5f} vs exact {exact:.5f}, SE {se:.5f}"
    )


# Charts that play one rule as often as possible, so that a wrong settlement of it moves
# the EV by many SE: each case is (uniform_chart arguments, rule changes). Surrendering
# every hand has an SD of about 0.4 units, so 2 million rounds resolve 0.1% of EV;
# doubling and splitting everything, about 2.2 units and 0.6% (what a dealer blackjack
# gives back under "original_bet" is about 4%).
NO_PEEK = dict(dealer_peeks=False)
ORIGINAL_BET = dict(dealer_peeks=False, no_hole_card_loses="original_bet")
RULE_CASES = {
    "late surrender, no hole card": (("Rh",), dict(late_surrender=True, **NO_PEEK)),
    "early surrender, no hole card": (("Rh",), dict(early_surrender=True, **NO_PEEK)),
    "late surrender, original bet only": (("Rh",), dict(late_surrender=True, **ORIGINAL_BET)),
    "double and split, no hole card, all lost": (("Dh", "Dh", "P"), NO_PEEK),
    "double and split, original bet only": (("Dh", "Dh", "P"), ORIGINAL_BET),
}
RULE_ROUNDS = 2_000_000


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_a_chart_that_always_uses_the_rule_plays_its_exact_ev(
    case, make_rules, uniform_chart, hilo
):
    cells, changes = RULE_CASES[case]
    rules = make_rules(**changes)
    strategy = uniform_chart(*cells)
    player = Player(
        name="p",
        bankroll=1e15,
        playing=strategy,
        betting=BettingStrategy(name="flat", min_bet=1.0, num_hands=1, ramp=((-math.inf, 1.0),)),
        counting=hilo,
    )
    config = Config(
        rules=rules, players=(player,), num_rounds=RULE_ROUNDS, seed=11, log_hands=False
    )
    stats = run_shard(config, seed=11, rounds=RULE_ROUNDS)
    n = stats.counter(0, "rounds")
    ev, sd = mean_sd(stats.total(0, "unit_net"), stats.total(0, "unit_net_sq"), n)
    se = sd / math.sqrt(n)
    exact = infinite_deck_ev(rules, strategy)
    assert abs(ev - exact) <= K_SE * se, (
        f"{case}: simulated {ev:.5f} vs exact {exact:.5f}, SE {se:.5f}"
    )


def test_blackjack_frequency_with_six_decks_matches_the_exact_probability(
    make_rules, published_chart, hilo
):
    # P(two-card blackjack) from a full 6-deck shoe is 4.7489% (issue 3's published figure,
    # exact.blackjack_probability); a biased shuffle or a miscomposed shoe would miss it.
    from jost_engine.exact import blackjack_probability

    rules = make_rules(decks=6)
    player = Player(
        name="p",
        bankroll=1e15,
        playing=published_chart("6D_S17_DAS_noLS"),
        betting=BettingStrategy(name="flat", min_bet=1.0, num_hands=1, ramp=((-math.inf, 1.0),)),
        counting=hilo,
    )
    config = Config(rules=rules, players=(player,), num_rounds=ROUNDS, seed=3, log_hands=False)
    stats = run_shard(config, seed=3, rounds=ROUNDS)
    p = blackjack_probability(6)
    assert p == pytest.approx(0.047489, abs=5e-7)
    freq = stats.counter(0, "blackjack") / stats.counter(0, "spots")
    se = math.sqrt(p * (1 - p) / stats.counter(0, "spots"))
    assert abs(freq - p) <= K_SE * se, f"{freq:.5f} vs {p:.5f}, SE {se:.5f}"


def test_every_spot_at_a_full_table_plays_the_exact_ev(make_rules, published_chart, hilo):
    # Two players, three spots: with an infinite shoe the spots are independent, so each
    # player's EV per round is (spots x the exact EV per hand).
    rules = make_rules(hit_soft_17=True, late_surrender=True)
    strategy = published_chart("6D_H17_DAS_LS")
    players = tuple(
        Player(
            name=name,
            bankroll=1e15,
            playing=strategy,
            counting=hilo,
            betting=BettingStrategy(
                name="flat", min_bet=5.0, num_hands=spots, ramp=((-math.inf, 1.0),)
            ),
        )
        for name, spots in (("two spots", 2), ("one spot", 1))
    )
    config = Config(rules=rules, players=players, num_rounds=ROUNDS, seed=4, log_hands=False)
    rounds = 2_000_000
    stats = run_shard(config, seed=4, rounds=rounds)
    exact = infinite_deck_ev(rules, strategy)
    for i, spots in ((0, 2), (1, 1)):
        ev, sd = mean_sd(stats.total(i, "unit_net"), stats.total(i, "unit_net_sq"), rounds)
        se = sd / math.sqrt(rounds)
        assert abs(ev - spots * exact) <= K_SE * se, (
            f"player {i}: {ev:.5f} vs {spots * exact:.5f}, SE {se:.5f}"
        )


def test_dealer_bust_frequency_with_six_decks_s17_matches_the_exact_figures(make_rules, hilo):
    # Published: with 6 decks S17 the dealer busts in 28.19% of all rounds (29.60% without a
    # dealer blackjack), which exact.dealer_final_probabilities reproduces. The dealer draws
    # only while some hand stands, so the player here stands on everything, and the
    # rounds where the dealer plays out are those where the player holds no natural. The
    # exact figure for those rounds removes the player's two cards from the shoe, hand by
    # hand, since they are dealt before the dealer draws.
    from jost_engine._dealer import full_shoe
    from jost_engine.exact import dealer_final_probabilities

    rules = make_rules(decks=6)
    assert dealer_final_probabilities(rules)["bust"] == pytest.approx(0.2819, abs=5e-5)
    assert dealer_final_probabilities(rules, given_no_blackjack=True)["bust"] == pytest.approx(
        0.2960, abs=5e-5
    )

    shoe = full_shoe(6)
    n = shoe.sum()
    p_no_natural = p_bust_and_no_natural = 0.0
    for i in range(1, 11):
        for j in range(i, 11):
            if {i, j} == {1, 10}:
                continue
            p_hand = shoe[i] / n * (shoe[j] - (i == j)) / (n - 1) * (1 if i == j else 2)
            rest = shoe.copy()
            rest[i] -= 1
            rest[j] -= 1
            p_no_natural += p_hand
            p_bust_and_no_natural += (
                p_hand * dealer_final_probabilities(rules, shoe=list(rest[1:]))["bust"]
            )
    p = p_bust_and_no_natural / p_no_natural
    assert p == pytest.approx(0.2819, abs=5e-4)  # the player's two cards barely move it

    always_stand = PlayingStrategy(
        name="always stand",
        auto=False,
        hard={str(t): {up: "S" for up in UP_CARDS} for t in range(4, 22)},
        soft={str(t): {up: "S" for up in UP_CARDS} for t in range(12, 22)},
        pairs={key: {up: "S" for up in UP_CARDS} for key in PAIR_KEYS},
    )
    player = Player(
        name="p",
        bankroll=1e15,
        playing=always_stand,
        betting=BettingStrategy(name="flat", min_bet=1.0, num_hands=1, ramp=((-math.inf, 1.0),)),
        counting=hilo,
    )
    rounds = 2_000_000
    stats = run_shard(
        Config(rules=rules, players=(player,), num_rounds=rounds, seed=5, log_hands=False),
        seed=5,
        rounds=rounds,
    )
    dealer_played = stats.counter(0, "spots") - stats.counter(0, "blackjack")
    freq = stats.counter(0, "dealer_bust") / dealer_played
    se = math.sqrt(p * (1 - p) / dealer_played)
    assert abs(freq - p) <= K_SE * se, f"{freq:.5f} vs {p:.5f}, SE {se:.5f}"
