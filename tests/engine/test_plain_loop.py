"""The plain loops are the full loops, bit for bit, on every game they play.

Each round loop is compiled twice from one source (kernel.py, `full`): the plain variant,
without the code of index plays, wonging, spots ramps and the player's own true count
(and, in the solo loop, insurance), plays every plain game (kernel.plain_game); the full
variant plays the rest. R_FULL_LOOP makes a plain game run the full variant, so the two
can be held to the same rounds and the same state here, as test_determinism holds the
solo loop to the general one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest

from jost_engine import kernel as k
from jost_engine.config import BettingStrategy, Config, CountingSystem, Player, Rules
from jost_engine.simulate import Session, new_session
from tests.engine.loop_state import assert_same_state

FLAT = ((-math.inf, 1.0),)
RAMP = ((-math.inf, 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 8.0))

# Each rule family, from 6 decks cut at 75%, S17, DAS, split to 4 hands, peek, 3:2,
# insurance offered (by nobody unless the game says so).
RULES = {
    "S17": {},
    "H17": dict(hit_soft_17=True),
    "no DAS": dict(double_after_split=False),
    "double on 10 and 11 only": dict(double_totals=(10, 11)),
    "late surrender": dict(late_surrender=True),
    "early surrender, no peek": dict(early_surrender=True, dealer_peeks=False),
    "no peek, all bets lost": dict(dealer_peeks=False),
    "no peek, original bet only": dict(dealer_peeks=False, no_hole_card_loses="original_bet"),
    "resplit aces": dict(resplit_aces=True),
    "hit split aces": dict(hit_split_aces=True),
    "no split": dict(max_split_hands=1),
    "one split": dict(max_split_hands=2),
    "6:5": dict(blackjack_payout=1.2),
    "no insurance offered": dict(offer_insurance=False),
    "infinite deck": dict(decks=0),
    "one deck dealt deep": dict(decks=1, penetration=0.95),
}


@pytest.fixture(scope="module")
def game(
    make_rules: Callable[..., Rules],
    published_chart: Callable[[str], object],
    hilo: CountingSystem,
) -> Callable[..., Config]:
    """game(rules, ramp, bankroll, players=1, spots=1, log=False, play_on=False): a table
    of `players` alike (the first on `spots` spots), the published 6-deck H17 LS chart (its
    surrender cells play where surrender is offered), Hi-Lo."""
    chart = published_chart("6D_H17_DAS_LS")

    def build(
        rules: dict,
        ramp: tuple = FLAT,
        bankroll: float = 1e9,
        players: int = 1,
        spots: int = 1,
        log: bool = False,
        play_on: bool = False,
    ) -> Config:
        seats = tuple(
            Player(
                name=f"p{i}",
                bankroll=bankroll,
                playing=chart,  # type: ignore[arg-type]
                counting=hilo,
                betting=BettingStrategy(
                    name="bet", min_bet=10.0, num_hands=spots if i == 0 else 1, ramp=ramp
                ),
            )
            for i in range(players)
        )
        return Config(
            rules=make_rules(**{"name": "plain", "decks": 6, "penetration": 0.75, **rules}),
            players=seats,
            num_rounds=1,
            seed=1,
            log_hands=log,
            stop_when_broke=not play_on,
        )

    return build


def assert_variants_agree(
    config: Config, loop: Callable[..., int], insurance: float | None = None
) -> None:
    """Two sessions of `config`, one forced onto the full variant: the same chunks of
    `loop` give the same rounds and leave the same state."""
    solo = loop is k.play_rounds_solo

    def session() -> Session:
        return new_session(config, 31, insurance_threshold=insurance)

    plain, full = session(), session()
    full.table.rules_i[k.R_FULL_LOOP] = 1
    # Else both would run the full variant and the comparison would hold nothing.
    assert k.plain_game(plain.table, plain.players, solo)
    assert not k.plain_game(full.table, full.players, solo)
    if solo:
        assert k.solo_applies(plain.table, plain.players)
    for chunk in (1, 999, 20_000):
        assert loop(chunk, *plain.kernel_arrays) == loop(chunk, *full.kernel_arrays)
    assert_same_state(plain, full)
    assert plain.rounds_played > 0


LOOPS = {"solo loop": k.play_rounds_solo, "general loop": k.play_rounds}


class TestEveryRuleFamily:
    @pytest.mark.parametrize("rules", list(RULES))
    @pytest.mark.parametrize("ramp", [FLAT, RAMP], ids=["flat", "hilo ramp"])
    @pytest.mark.parametrize("loop", list(LOOPS))
    def test_the_plain_variant_is_the_full_one_bit_for_bit(self, game, rules, ramp, loop):
        assert_variants_agree(game(RULES[rules], ramp), LOOPS[loop])


class TestMoneyAndTables:
    @pytest.mark.parametrize("loop", list(LOOPS))
    @pytest.mark.parametrize("ramp", [FLAT, RAMP], ids=["flat", "hilo ramp"])
    def test_a_player_going_broke_plays_alike(self, game, loop, ramp):
        assert_variants_agree(game({}, ramp, bankroll=400.0), LOOPS[loop])

    @pytest.mark.parametrize("loop", list(LOOPS))
    def test_playing_on_when_broke_plays_alike(self, game, loop):
        assert_variants_agree(game({}, RAMP, bankroll=400.0, play_on=True), LOOPS[loop])

    @pytest.mark.parametrize("ramp", [FLAT, RAMP], ids=["flat", "hilo ramp"])
    def test_insurance_in_the_general_loop_plays_alike(self, game, ramp):
        # The general loop's plain variant keeps insurance (the solo loop's does not).
        config = game({}, ramp)
        assert_variants_agree(config, k.play_rounds, insurance=1.0)
        session = new_session(config, 31, insurance_threshold=1.0)
        session.play(20_000)
        assert session.stats().counter(0, "insurance") > 0

    @pytest.mark.parametrize("ramp", [FLAT, RAMP], ids=["flat", "hilo ramp"])
    def test_three_players_two_spots_and_the_hand_log_play_alike(self, game, ramp):
        config = game({"late_surrender": True}, ramp, players=3, spots=2, log=True)
        assert_variants_agree(config, k.play_rounds, insurance=2.0)


def test_the_full_loop_flag_changes_nothing_else(game):
    """R_FULL_LOOP is read by plain_game alone: a game that is not plain (index plays)
    plays the same with it set."""
    config = game({})
    player = config.players[0]
    with_plays = dataclasses.replace(
        config,
        players=(
            dataclasses.replace(
                player, playing=dataclasses.replace(player.playing, deviations=("fab4",))
            ),
        ),
    )
    a, b = new_session(with_plays, 5), new_session(with_plays, 5)
    b.table.rules_i[k.R_FULL_LOOP] = 1
    assert not k.plain_game(a.table, a.players, True)
    a.play(5_000)
    b.play(5_000)
    assert_same_state(a, b)
