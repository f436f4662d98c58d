"""Same seed, same bits: one call or many chunks, one process or shards merged."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.config import (
    BettingStrategy,
    Config,
    CountingSystem,
    Player,
    PlayingStrategy,
    Rules,
)
from jost_engine.simulate import Session, new_session, results, run_shard
from jost_engine.stats import merge
from tests.engine.loop_state import assert_same_state

RAMP = ((-math.inf, 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 8.0))


def assert_loops_agree(general: Session, solo: Session) -> None:
    """Play the same chunks in the general and the one-spot loop; same rounds, and after
    them every array of the state the loops mutate bit for bit the same."""
    for chunk in (1, 999, 20_000):
        assert k.play_rounds(chunk, *general.kernel_arrays) == k.play_rounds_solo(
            chunk, *solo.kernel_arrays
        )
    assert_same_state(general, solo)


@pytest.fixture(scope="module")
def rules(make_rules: Callable[..., Rules]) -> Rules:
    """6 decks cut at 75%, H17, resplit aces, late surrender, insurance offered."""
    return make_rules(
        name="6d",
        decks=6,
        hit_soft_17=True,
        resplit_aces=True,
        late_surrender=True,
        penetration=0.75,
    )


@pytest.fixture(scope="module")
def ls_chart(published_chart: Callable[[str], PlayingStrategy]) -> PlayingStrategy:
    return published_chart("6D_H17_DAS_LS")


@pytest.fixture(scope="module")
def table(
    rules: Rules,
    ls_chart: PlayingStrategy,
    published_chart: Callable[[str], PlayingStrategy],
    hilo: CountingSystem,
) -> Callable[..., Config]:
    """table(log_hands, bankroll): a Hi-Lo counter on two spots with a ramp and a flat
    bettor on one, at the 6-deck H17 table."""
    s17_chart = published_chart("6D_S17_DAS_noLS")

    def build(log_hands: bool = True, bankroll: float = 50_000.0) -> Config:
        counter = Player(
            name="counter",
            bankroll=bankroll,
            playing=ls_chart,
            betting=BettingStrategy(name="ramp", min_bet=10.0, num_hands=2, ramp=RAMP),
            counting=hilo,
        )
        flat = Player(
            name="flat",
            bankroll=bankroll,
            playing=s17_chart,
            betting=BettingStrategy(
                name="flat", min_bet=25.0, num_hands=1, ramp=((-math.inf, 1.0),)
            ),
            counting=hilo,
        )
        return Config(
            rules=rules, players=(counter, flat), num_rounds=20_000, seed=5, log_hands=log_hands
        )

    return build


def assert_same(a, b) -> None:
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(a.sums, b.sums) and np.array_equal(a.tc_table, b.tc_table)


class TestSameSeed:
    def test_the_same_seed_gives_identical_results(self, table, without_timing):
        config = table()
        first = results(config, run_shard(config, 42, 20_000), seed=42, duration=1.0)
        second = results(config, run_shard(config, 42, 20_000), seed=42, duration=2.0)
        assert without_timing(first) == without_timing(second)
        assert first["players"][0]["hand_history"]  # the log is part of what must match

    def test_another_seed_gives_another_run(self, table):
        config = table(log_hands=False)
        assert run_shard(config, 1, 5_000).to_dict() != run_shard(config, 2, 5_000).to_dict()

    def test_a_seed_sequence_and_its_integer_agree(self, table):
        config = table(log_hands=False)
        assert_same(
            run_shard(config, 9, 3_000), run_shard(config, np.random.SeedSequence(9), 3_000)
        )


class TestChunks:
    @pytest.mark.parametrize("chunks", [[20_000], [1, 999, 9_000, 10_000], [7] * 2_857 + [1]])
    def test_a_chunked_session_equals_one_call(self, chunks, table):
        config = table()
        whole = new_session(config, 77)
        whole.play(sum(chunks))
        pieces = new_session(config, 77)
        for n in chunks:
            pieces.play(n)
        assert_same(whole.stats(), pieces.stats())
        assert_same_state(whole, pieces)

    def test_a_session_that_goes_broke_stops_the_same_way_in_chunks(self, table):
        config = table(log_hands=False, bankroll=300.0)
        whole = new_session(config, 3)
        whole.play(50_000)
        pieces = new_session(config, 3)
        for _ in range(50):
            pieces.play(1_000)
        assert whole.all_broke and pieces.all_broke
        assert whole.rounds_played < 50_000
        assert whole.stats().to_dict()["sums"] == pieces.stats().to_dict()["sums"]


class TestShards:
    def test_merged_shards_equal_the_same_shards_merged_again(self, table):
        config = table()
        seeds = np.random.SeedSequence(2026).spawn(4)
        once = merge(*[run_shard(config, s, 2_500) for s in seeds])
        seeds = np.random.SeedSequence(2026).spawn(4)
        again = merge(*[run_shard(config, s, 2_500) for s in seeds])
        assert_same(once, again)
        assert once.rounds_played == 10_000 and once.sessions == 4

    def test_shard_stats_survive_a_json_round_trip_bit_for_bit(self, table):
        from jost_engine.stats import Stats

        stats = run_shard(table(), 8, 2_000)
        assert_same(Stats.from_dict(json.loads(json.dumps(stats.to_dict()))), stats)


class TestShoe:
    def test_the_shoe_stays_a_permutation_of_its_decks_through_many_shuffles(self, table):
        config = table(log_hands=False)
        session = new_session(config, 4)
        session.play(30_000)
        assert session.shoe.st_i[k.S_SHUFFLES] > 100  # many shoes went by
        counts = np.bincount(session.shoe.cards, minlength=11)
        assert counts[1:10].tolist() == [24] * 9 and counts[10] == 96


class TestSoloLoop:
    """play_rounds_solo must be play_rounds, bit for bit, wherever it is used."""

    VARIANTS = {
        "6D H17 LS RSA": {},
        "S17 no peek": dict(hit_soft_17=False, dealer_peeks=False),
        "no peek, original bet only": dict(dealer_peeks=False, no_hole_card_loses="original_bet"),
        "no peek, early and late surrender": dict(dealer_peeks=False, early_surrender=True),
        "early surrender, hit split aces": dict(
            early_surrender=True, late_surrender=False, hit_split_aces=True
        ),
        "one split, double 10-11, 6:5": dict(
            max_split_hands=2, double_totals=(10, 11), blackjack_payout=1.2
        ),
        "no split": dict(max_split_hands=1),
        "infinite": dict(decks=0),
        "one deck dealt deep": dict(decks=1, penetration=0.95),
    }

    @pytest.fixture
    def sessions(self, rules: Rules, ls_chart: PlayingStrategy, hilo: CountingSystem):
        """sessions(rules_changes, bankroll, seed, ramp): two sessions of one solo player,
        alike in every bit."""

        def build(rules_changes: dict, bankroll: float, seed: int, ramp=((-math.inf, 1.0),)):
            player = Player(
                name="solo",
                bankroll=bankroll,
                playing=ls_chart,
                counting=hilo,
                betting=BettingStrategy(name="ramp", min_bet=10.0, num_hands=1, ramp=ramp),
            )
            config = Config(
                rules=dataclasses.replace(rules, **rules_changes),
                players=(player,),
                num_rounds=1,
                seed=seed,
                log_hands=False,
            )
            return new_session(config, seed), new_session(config, seed)

        return build

    @pytest.mark.parametrize("variant", list(VARIANTS))
    @pytest.mark.parametrize("bankroll", [1e9, 400.0])
    @pytest.mark.parametrize("ramp", [((-math.inf, 1.0),), RAMP], ids=["flat", "hilo ramp"])
    def test_the_solo_loop_is_the_general_loop_bit_for_bit(self, variant, bankroll, ramp, sessions):
        general, solo = sessions(self.VARIANTS[variant], bankroll, seed=31, ramp=ramp)
        assert k.solo_applies(solo.table, solo.players)
        assert_loops_agree(general, solo)

    def test_it_is_not_used_where_it_does_not_apply(self, table):
        config = table()
        session = new_session(config, 1)
        assert not k.solo_applies(session.table, session.players)


@pytest.fixture(scope="module")
def documents(table):
    """One run's document for each of three chunk sizes."""
    from jost_engine.simulate import run_simulation_from_config

    config = table(log_hands=False)
    return {chunk: run_simulation_from_config(config, chunk=chunk) for chunk in (20_000, 4_999, 7)}


class TestBankrollPath:
    """run_simulation_from_config's per-player bankroll_path: exact [round, bankroll]
    points, evenly spaced, the same whatever the chunk size."""

    def test_the_whole_document_is_the_same_for_any_chunk(self, documents, without_timing):
        first, *others = documents.values()
        for other in others:
            assert without_timing(other) == without_timing(first)

    def test_it_runs_from_the_start_to_the_last_round_evenly(self, documents):
        from jost_engine.simulate import bankroll_path_rounds

        document = documents[4_999]
        for player in document["players"]:
            path = player["bankroll_path"]
            assert len(path) == 1_000
            assert path[0] == [0, player["initial_bankroll"]]
            assert path[-1] == [document["rounds_played"], player["final_bankroll"]]
            assert [r for r, _ in path] == bankroll_path_rounds(20_000)
            gaps = {b - a for (a, _), (b, _) in itertools.pairwise(path)}
            assert gaps <= {20, 21}  # 20,000 rounds in 999 steps

    def test_each_point_is_the_bankroll_after_that_round(self, table, documents):
        config = table(log_hands=False)
        path = documents[20_000]["players"]
        for index in (1, 137, 500, 998):
            round_ = path[0]["bankroll_path"][index][0]
            session = new_session(config, config.seed)
            session.play(round_)
            assert [p["bankroll_path"][index][1] for p in path] == session.seats.bankroll.tolist()

    def test_a_short_run_has_every_round(self, table):
        from jost_engine.simulate import run_simulation_from_config

        config = table(log_hands=False)
        path = run_simulation_from_config(config, rounds=30)["players"][0]["bankroll_path"]
        assert [r for r, _ in path] == list(range(31))

    def test_when_everyone_goes_broke_it_ends_where_play_ended(self, table):
        from jost_engine.simulate import run_simulation_from_config

        config = table(log_hands=False, bankroll=300.0)
        document = run_simulation_from_config(config, rounds=50_000, chunk=7_000)
        assert document["stop_reason"] == "all_players_broke"
        for player in document["players"]:
            path = player["bankroll_path"]
            assert path[-1] == [document["rounds_played"], player["final_bankroll"]]
            assert [r for r, _ in path] == sorted({r for r, _ in path})

    def test_merged_shards_have_no_path(self, table):
        config = table(log_hands=False)
        document = results(config, merge(run_shard(config, 1, 100), run_shard(config, 2, 100)))
        assert all(player["bankroll_path"] is None for player in document["players"])


class TestCountingFeatures:
    """Index plays, insurance, wonging, unbalanced counts and the player's true count play
    the same in the solo and the general loop, bit for bit, and in any chunks."""

    VARIANTS = {
        "hilo, I18 + Fab 4, wong out below -1": dict(
            deviations=("illustrious18", "fab4"), wong_out=-1.0
        ),
        "hilo, wong in at +2, out below 0, half decks, floored": dict(
            wong_in=2.0, wong_out=0.0, deck_estimation="half", true_count_rounding="floor"
        ),
        "ko by the running count, I18, whole decks rounded": dict(
            deviations=("illustrious18",),
            ko=True,
            deck_estimation="whole",
            true_count_rounding="round",
        ),
        "no peek, I18 + Fab 4, early surrender": dict(
            deviations=("illustrious18", "fab4"),
            rules=dict(dealer_peeks=False, early_surrender=True),
        ),
        "max bet": dict(max_bet=40.0, deviations=("fab4",)),
    }

    @staticmethod
    def config(rules: Rules, ls_chart: PlayingStrategy, hilo: CountingSystem, v: dict, bankroll):
        from jost_engine.config.charts import _preset_insurance

        deviations = v.get("deviations", ())
        insurance = 3.0 if "illustrious18" in deviations else None
        assert insurance is None or _preset_insurance("illustrious18") == insurance
        counting = dataclasses.replace(
            hilo,
            deck_estimation=v.get("deck_estimation", "exact"),
            true_count_rounding=v.get("true_count_rounding", "none"),
        )
        ramp = RAMP
        if v.get("ko"):
            counting = dataclasses.replace(
                counting,
                name="ko",
                tags=(1, 1, 1, 1, 1, 1, 0, 0, -1, -1),
                unbalanced=True,
                initial_running_count=4.0,
                initial_running_count_per_deck=-4.0,
            )
            ramp = ((-math.inf, 1.0), (-4.0, 2.0), (-2.0, 4.0), (0.0, 8.0))
        player = Player(
            name="solo",
            bankroll=bankroll,
            playing=dataclasses.replace(
                ls_chart, deviations=deviations, insurance_true_count=insurance
            ),
            counting=counting,
            betting=BettingStrategy(
                name="ramp",
                min_bet=10.0,
                num_hands=1,
                ramp=ramp,
                max_bet=v.get("max_bet"),
                wong_in=v.get("wong_in"),
                wong_out=v.get("wong_out"),
            ),
        )
        return Config(
            rules=dataclasses.replace(rules, **v.get("rules", {})),
            players=(player,),
            num_rounds=1,
            seed=1,
            log_hands=False,
        )

    @pytest.mark.parametrize("variant", list(VARIANTS))
    @pytest.mark.parametrize("bankroll", [1e9, 400.0])
    def test_the_solo_loop_is_the_general_loop_bit_for_bit(
        self, variant, bankroll, rules, ls_chart, hilo
    ):
        config = self.config(rules, ls_chart, hilo, self.VARIANTS[variant], bankroll)
        general, solo = new_session(config, 31), new_session(config, 31)
        assert k.solo_applies(solo.table, solo.players)
        assert_loops_agree(general, solo)
        if "wong" in variant and bankroll > 1e6:
            assert solo.stats().counter(0, "rounds_watched") > 0
        if "I18" in variant and bankroll > 1e6:
            assert solo.stats().counter(0, "insurance") > 0

    @pytest.mark.parametrize("variant", list(VARIANTS))
    def test_any_chunks_give_the_same_session(self, variant, rules, ls_chart, hilo):
        config = self.config(rules, ls_chart, hilo, self.VARIANTS[variant], 1e9)
        whole = new_session(config, 5)
        whole.play(12_000)
        pieces = new_session(config, 5)
        for n in [1, 7, 4_992, 7_000]:
            pieces.play(n)
        assert_same(whole.stats(), pieces.stats())
        assert_same_state(whole, pieces)
