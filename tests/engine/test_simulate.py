"""run_simulation_from_config and the results document."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jost_engine import __version__
from jost_engine.config import normalize_config
from jost_engine.simulate import results, run_shard, run_simulation_from_config
from jost_engine.stats import HAND_LOG_CAP, merge

FLAT = {
    "casino": "vegas_6d_s17_das",
    "num_rounds": 30_000,
    "seed": 12,
    "players": [
        {
            "profile": "master_player",
            "playing_strategy": "perfect_s17_basic_strategy",
            "betting_strategy": "flat_betting",
        }
    ],
}
TWO_PLAYERS = {
    "casino": "vegas_6d_h17_das_ls",
    "num_rounds": 6_000,
    "seed": 5,
    "log_hands": True,
    "players": [
        {
            "profile": "perfect_player_rich",
            "playing_strategy": "perfect_h17_basic_strategy",
            "betting_strategy": "true_count_betting",
        },
        {"profile": "perfect_player_poor", "playing_strategy": "perfect_h17_basic_strategy"},
    ],
}
JOST_FIELDS = (
    "initial_bankroll",
    "final_bankroll",
    "net_gain_loss",
    "total_wagered",
    "player_edge",
    "hand_history",
)
FREQUENCIES = (
    "win",
    "loss",
    "push",
    "blackjack",
    "bust",
    "double",
    "split",
    "surrender",
    "insurance",
)


@pytest.fixture(scope="module")
def flat_doc() -> dict:
    return run_simulation_from_config(FLAT)


@pytest.fixture(scope="module")
def table_doc() -> dict:
    return run_simulation_from_config(TWO_PLAYERS)


class TestResultsDocument:
    def test_it_is_strict_json(self, flat_doc, table_doc):
        json.dumps(flat_doc, allow_nan=False)
        json.dumps(table_doc, allow_nan=False)

    def test_top_level_says_what_ran(self, flat_doc):
        assert flat_doc["engine_version"] == __version__
        assert flat_doc["seed"] == 12
        assert flat_doc["rounds_asked"] == flat_doc["rounds_played"] == 30_000
        assert flat_doc["stop_reason"] == "completed"
        assert (
            flat_doc["duration_seconds"] >= flat_doc["play_seconds"] > 0
            and flat_doc["rounds_per_second"] > 0
        )
        assert normalize_config(flat_doc["config"]) == normalize_config(FLAT)

    def test_each_player_has_jost_fields_and_the_new_statistics(self, table_doc):
        for player in table_doc["players"]:
            for name in (
                *JOST_FIELDS,
                *("rounds_played", "hands_played", "ev_per_round", "sd_per_round"),
                *("ev_per_round_95ci", "ev_per_unit", "sd_per_unit", "ev_per_unit_95ci"),
            ):
                assert name in player, name
            assert set(FREQUENCIES) <= set(player["frequencies"])
            assert player["net_gain_loss"] == pytest.approx(
                player["final_bankroll"] - player["initial_bankroll"]
            )
            low, high = player["ev_per_unit_95ci"]
            assert low <= player["ev_per_unit"] <= high

    def test_a_counting_player_gets_a_table_by_true_count(self, table_doc):
        rows = table_doc["players"][0]["true_count_table"]
        assert sum(r["rounds"] for r in rows) == table_doc["players"][0]["rounds_played"]
        assert {r["true_count"] for r in rows} >= {-1, 0, 1}

    def test_the_hand_history_belongs_to_each_player(self, table_doc):
        rich, poor = table_doc["players"]
        assert rich["hand_history"] and all(
            h["player"] == rich["name"] for h in rich["hand_history"]
        )
        assert all(h["player"] == poor["name"] for h in poor["hand_history"])
        hand = rich["hand_history"][0]
        assert {"round", "cards", "dealer_cards", "bet", "actions", "outcome", "net"} <= set(hand)

    def test_the_hand_history_is_capped_and_says_so(self):
        doc = run_simulation_from_config({**FLAT, "num_rounds": 11_000, "log_hands": True})
        assert len(doc["players"][0]["hand_history"]) == HAND_LOG_CAP
        assert doc["hand_history_truncated"] is True and doc["hands_logged"] > HAND_LOG_CAP

    def test_without_log_hands_there_is_no_history(self, flat_doc):
        assert (
            flat_doc["players"][0]["hand_history"] == []
            and flat_doc["hand_history_truncated"] is False
        )


class TestRunning:
    def test_progress_is_reported_between_chunks_up_to_the_rounds_asked(self):
        seen = []
        run_simulation_from_config(
            FLAT, progress=lambda done, asked: seen.append((done, asked)), chunk=7_000
        )
        assert [d for d, _ in seen] == [7_000, 14_000, 21_000, 28_000, 30_000]
        assert {a for _, a in seen} == {30_000}

    def test_chunking_does_not_change_the_result(self, flat_doc):
        other = run_simulation_from_config(FLAT, chunk=4_321)
        assert other["players"] == flat_doc["players"]

    def test_a_seed_is_drawn_and_reported_when_the_config_has_none(self):
        config = {key: value for key, value in FLAT.items() if key != "seed"}
        first = run_simulation_from_config(config, rounds=2_000)
        again = run_simulation_from_config(config, rounds=2_000, seed=first["seed"])
        assert isinstance(first["seed"], int) and first["players"] == again["players"]

    def test_an_already_normalised_config_is_accepted(self, flat_doc):
        doc = run_simulation_from_config(normalize_config(FLAT))
        assert doc["players"] == flat_doc["players"]

    def test_everyone_broke_ends_the_run_early_and_says_so(self):
        config = {**FLAT, "players": [{**FLAT["players"][0], "bankroll": 200}]}
        doc = run_simulation_from_config(config, rounds=200_000)
        assert doc["stop_reason"] == "all_players_broke"
        assert doc["rounds_played"] < doc["rounds_asked"] == 200_000
        assert doc["players"][0]["final_bankroll"] < 10  # less than one flat bet left

    def test_merged_shards_make_one_document(self):
        config = normalize_config(FLAT)
        shards = [run_shard(config, s, 5_000) for s in np.random.SeedSequence(1).spawn(3)]
        doc = results(config, merge(*shards), seed=1)
        assert doc["rounds_played"] == 15_000 and doc["sessions"] == 3
        assert doc["players"][0]["rounds_played"] == 15_000


class TestInsuranceThreshold:
    def test_a_shard_insures_only_when_asked(self):
        config = normalize_config(FLAT)
        never = run_shard(config, 3, 20_000)
        always = run_shard(config, 3, 20_000, insurance_threshold=-float("inf"))
        assert never.counter(0, "insurance") == 0
        # Insurance is taken on every ace up card, which comes 1 round in 13 (within 4 SE).
        p = 1 / 13
        se = (p * (1 - p) / 20_000) ** 0.5
        assert abs(always.counter(0, "insurance") / 20_000 - p) <= 4 * se

    def test_the_players_chart_says_when_to_insure(self):
        def insured(insurance):
            raw = {
                **FLAT,
                "players": [
                    {
                        **FLAT["players"][0],
                        "playing_strategy": {
                            "name": "s17 with insurance",
                            "parent": "perfect_s17_basic_strategy",
                            "insurance": insurance,
                        },
                    }
                ],
            }
            return run_shard(normalize_config(raw), 3, 20_000).counter(0, "insurance")

        always, at_plus_3, never = insured("always"), insured(3), insured("never")
        # Every ace up card is insured "always"; at +3 only the few aces dealt at a true
        # count of +3 or more, which happen, but far less often.
        assert never == 0 < at_plus_3 < always / 3
        p, n = 1 / 13, 20_000
        assert abs(always / n - p) <= 4 * (p * (1 - p) / n) ** 0.5


class TestReproducible:
    def test_the_documents_config_reruns_to_the_same_results(self):
        config = {key: value for key, value in FLAT.items() if key != "seed"}
        first = run_simulation_from_config(config, rounds=3_000)
        assert first["config"]["seed"] == first["seed"] and first["config"]["num_rounds"] == 3_000
        again = run_simulation_from_config(first["config"])
        assert again["players"] == first["players"]
