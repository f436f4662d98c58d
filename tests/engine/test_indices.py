"""The index generator's engine core (jost_engine.indices, jost_engine._index_kernel).

The published indices are in tests/data/published_indices.json (Schlesinger, Blackjack
Attack, 3rd ed.: the Illustrious 18 and Fab 4 for Hi-Lo, multi-deck S17 DAS; the source in
its `_about`); the generated ones do not yet agree with them closely enough (see
docs/INDICES.md), so here they are held to the published direction only. Every run here
has a fixed seed; a statistical assertion's tolerance is a stated number of SEs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jost_engine import _index_kernel as ik
from jost_engine._index_fit import mean_se, rounded_index
from jost_engine.config import ConfigError, normalize_config
from jost_engine.indices import (
    IndexSums,
    generate_indices,
    index_results,
    merge,
    normalize_index_request,
    run_index_shard,
)

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published_indices.json"
# 6 decks, S17, DAS, late surrender (for the Fab 4), the 80% penetration.
SHOE_6D_S17_DAS_LS = {
    "parent": "vegas_6d_s17_das",
    "allow_late_surrender": True,
    "reshuffle_penetration": 80,
}
# About 7 s on this machine for the 22 plays (docs/INDICES.md has the figures);
# scripts/indices_vs_published.py runs the same plays longer.
SHOES = 10_000


def _key(entry: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    return (entry["hand"], entry.get("vs", "A"), tuple(entry.get("actions", ())))


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PUBLISHED.read_text())
    return data


@pytest.fixture(scope="module")
def i18_fab4() -> dict[str, Any]:
    request = normalize_index_request(
        {"casino": SHOE_6D_S17_DAS_LS, "plays": ["illustrious18", "fab4"], "seed": 17}
    )
    return index_results(request, run_index_shard(request, request.seed, SHOES))


def _by_key(result: dict[str, Any]) -> dict[tuple[str, str, tuple[str, ...]], dict[str, Any]]:
    out = {}
    for entry in result["indices"]:
        actions = () if entry["hand"] == "insurance" else tuple(entry["actions"])
        out[(entry["hand"], entry["vs"], actions)] = entry
    return out


# 10,000 shoes of the 22 plays and 100,000 single-deck shoes (about 15 s): in the full
# suite, not the one-minute loop.
@pytest.mark.slow
class TestPublishedIndices:
    def test_every_i18_and_fab4_play_crosses_in_the_published_direction(
        self, i18_fab4: dict[str, Any], published: dict[str, Any]
    ) -> None:
        generated = _by_key(i18_fab4)
        for pub in published["illustrious18"] + published["fab4"]:
            got = generated[_key(pub)]
            assert not got["never_changes"], (pub, got["note"])
            assert got["index"] is not None, pub
            assert got["when"] == pub["when"], (pub, got)

    def test_all_but_two_plays_agree_with_the_published_index(
        self, i18_fab4: dict[str, Any], published: dict[str, Any]
    ) -> None:
        # The criterion: the published index (a whole number, so it stands for any
        # crossing within `rounding` of it) within the generated 95% interval widened by
        # that rounding, on all but at most two of the 22 plays.
        generated = _by_key(i18_fab4)
        misses = []
        for pub in published["illustrious18"] + published["fab4"]:
            low, high = generated[_key(pub)]["interval"]
            if not low - published["rounding"] <= pub["index"] <= high + published["rounding"]:
                misses.append((_key(pub), pub["index"], (low, high)))
        assert len(misses) <= 2, misses

    def test_insurance_is_within_half_a_count_of_plus_3(self, i18_fab4: dict[str, Any]) -> None:
        insurance = _by_key(i18_fab4)[("insurance", "A", ())]
        assert abs(insurance["index"] - 3) <= 0.5
        # the interval is around the index (given to 0.1, so up to 0.05 from the fit's)
        low, high = insurance["interval"]
        assert low - 0.05 <= insurance["index"] <= high + 0.05

    def test_single_deck_insurance_is_near_the_exact_value(self, published: dict[str, Any]) -> None:
        pub = published["single_deck_insurance"]
        dealt = 52 - pub["game"]["cards_remaining_at_reshuffle"]
        result = generate_indices(
            {
                "casino": {"deck_count": 1, "reshuffle_penetration": dealt / 52},
                "plays": ["insurance"],
                "seed": 5,
                "shoes": 100_000,
            }
        )
        (entry,) = result["indices"]
        # The EVs: the published crossing lies between the last bucket below zero and the
        # first above it (the single-deck true count takes few values, so these are
        # points a fraction of a count apart, each to a few 1e-4 of a bet).
        below = max(p["mean_count"] for p in entry["curve"] if p["ev_diff"] + 4 * p["se"] < 0)
        above = min(p["mean_count"] for p in entry["curve"] if p["ev_diff"] - 4 * p["se"] > 0)
        assert below <= pub["index"] <= above, (below, above)
        # The fitted index: within a bucket's width (half a count) of it. A line cannot
        # follow the curve's bend between those two points (docs/INDICES.md, "Checks").
        assert abs(entry["index"] - pub["index"]) <= 0.5, entry["index"]
        assert entry["when"] == pub["when"]

    def test_the_deviations_list_is_a_config_s_own(self, i18_fab4: dict[str, Any]) -> None:
        deviations = i18_fab4["deviations"]
        assert len(deviations) == 22
        config = normalize_config(
            {
                "casino": SHOE_6D_S17_DAS_LS,
                "players": [{"playing_strategy": {"auto": True, "deviations": deviations}}],
                "num_rounds": 10,
            }
        )
        playing = config.players[0].playing
        assert len(playing.deviations) == 21  # insurance is folded into its own field
        assert playing.insurance_true_count == next(
            d["index"] for d in deviations if d["hand"] == "insurance"
        )

    def test_the_result_is_plain_json(self, i18_fab4: dict[str, Any]) -> None:
        # The split job stores it and the API returns it as it is: no numpy scalars.
        assert json.loads(json.dumps(i18_fab4)) == i18_fab4

    def test_each_play_carries_its_curve(self, i18_fab4: dict[str, Any]) -> None:
        entry = _by_key(i18_fab4)[("16", "10", ("H", "S"))]
        counts = [point["count"] for point in entry["curve"]]
        assert counts == sorted(counts)
        # half-count buckets centred on whole and half counts: 0 is a bucket of its own
        assert 0.0 in counts and 0.5 in counts and -0.5 in counts
        assert all(point["se"] > 0 and point["n"] >= 100 for point in entry["curve"])


class TestMethod:
    CASINO = SHOE_6D_S17_DAS_LS

    def test_generate_indices_reads_the_request_and_deals_its_shoes(self) -> None:
        raw = {"casino": self.CASINO, "plays": ["insurance"], "seed": 4, "shoes": 500}
        result = generate_indices(raw)
        request = normalize_index_request(raw)
        assert result == index_results(request, run_index_shard(request, 4, 500))
        assert result["indices"][0]["states"] > 0.9 * 500 * 50  # 50 states a shoe, few skipped

    def test_common_random_numbers_give_a_smaller_se_than_independent_plays(self) -> None:
        request = normalize_index_request(
            {
                "casino": self.CASINO,
                "plays": [
                    {"hand": "16", "vs": "10", "actions": ["H", "S"]},
                    {"hand": "10", "vs": "10", "actions": ["H", "D"]},
                ],
            }
        )
        ses = {}
        for independent in (False, True):
            sums = run_index_shard(request, 5, 2_000, independent=independent).sums.sum(axis=1)
            ses[independent] = mean_se(sums)[1]
        assert np.all(ses[False] < ses[True]), ses

    def test_a_play_that_never_changes_says_so(self) -> None:
        request = normalize_index_request(
            {"casino": self.CASINO, "plays": [{"hand": "19", "vs": "6", "actions": ["S", "H"]}]}
        )
        result = index_results(request, run_index_shard(request, 1, 1_000))
        (entry,) = result["indices"]
        assert entry["never_changes"] is True
        assert entry["index"] is None and entry["interval"] is None
        assert entry["better"] == "S"
        assert "never changes within the counts reached" in entry["note"]
        assert result["deviations"] == []

    def test_a_run_too_short_to_tell_does_not_claim_never(self) -> None:
        # Three shoes (150 states) fill at most one bucket to the 100 states a bucket needs:
        # nothing to fit, so neither an index nor "never".
        request = normalize_index_request(
            {"casino": self.CASINO, "plays": [{"hand": "16", "vs": "9", "actions": ["H", "S"]}]}
        )
        result = index_results(request, run_index_shard(request, 1, 3))
        (entry,) = result["indices"]
        assert entry["index"] is None and entry["never_changes"] is False
        assert entry["note"] == "no crossing resolved: deal more shoes"
        assert result["deviations"] == []

    def test_a_neutral_shoe_gives_the_exact_finite_shoe_difference(self) -> None:
        # Only the first state of each shoe (a full shoe): the mean difference of standing
        # and hitting 10,6 / 9,7 vs 10 is the finite-shoe solver's (jost_engine._finite_shoe,
        # 6 decks, peek): S - H = -0.0063 on 10,6 and -0.0014 on 9,7, dealt 4 : 1.
        from jost_engine.indices import bucket_centres, index_arrays
        from jost_engine.simulate import seed_state

        request = normalize_index_request(
            {"casino": self.CASINO, "plays": [{"hand": "16", "vs": "10", "actions": ["H", "S"]}]}
        )
        game, plays = index_arrays(request)
        game.rules_i[ik.G_CUT] = 1
        tally = ik.IndexTally(
            np.zeros((1, bucket_centres(request).shape[0], ik.N_FIELDS)),
            np.zeros((1, ik.N_COUNTERS), dtype=np.int64),
        )
        ik.index_shoes(200_000, game, plays, tally, seed_state(2))
        mean, se = mean_se(tally.sums[0].sum(axis=0))
        exact = (4 * -0.0063 + -0.0014) / 5
        assert abs(mean - exact) <= 4 * se, (mean, exact, se)

    def test_shards_merge_to_the_sums_of_their_parts(self) -> None:
        request = normalize_index_request({"casino": self.CASINO, "plays": ["insurance"]})
        a = run_index_shard(request, np.random.SeedSequence(1, spawn_key=(0,)), 300)
        b = run_index_shard(request, np.random.SeedSequence(1, spawn_key=(1,)), 300)
        total = merge([a, b])
        assert np.array_equal(total.sums, a.sums + b.sums)
        assert np.array_equal(total.counters, a.counters + b.counters)
        again = run_index_shard(request, np.random.SeedSequence(1, spawn_key=(0,)), 300)
        assert np.array_equal(again.sums, a.sums)  # a seed and a number of shoes fix a shard

    def test_sums_of_different_requests_do_not_merge(self) -> None:
        request = normalize_index_request({"casino": self.CASINO, "plays": ["insurance"]})
        a = run_index_shard(request, 1, 10)
        other = IndexSums(a.sums[:, :-1], a.counters, a.centres[:-1])
        with pytest.raises(ValueError, match="cannot be merged"):
            a.merge(other)

    def test_an_unbalanced_system_gives_running_count_indices(self) -> None:
        request = normalize_index_request(
            {"casino": self.CASINO, "counting_strategy": "ko", "plays": ["insurance"]}
        )
        result = index_results(request, run_index_shard(request, 1, 2_000))
        (entry,) = result["indices"]
        assert entry["count"] == "running"
        # KO starts a six-deck shoe at -20 and insures near the pivot of +3 (a running
        # count; Vancura and Fuchs, Knock-Out Blackjack): far from any true count.
        assert -3 <= entry["index"] <= 4
        # The curve is in running counts: whole numbers, the initial count among them.
        assert all(float(point["count"]).is_integer() for point in entry["curve"])
        # A KO player's config takes the running-count deviations as they are.
        config = normalize_config(
            {
                "casino": self.CASINO,
                "players": [
                    {
                        "counting_strategy": "ko",
                        "playing_strategy": {"auto": True, "deviations": result["deviations"]},
                    }
                ],
                "num_rounds": 10,
            }
        )
        assert config.players[0].playing.insurance_true_count == entry["index_rounded"]


class TestRoundedIndex:
    @pytest.mark.parametrize(
        ("x", "rounding", "expected"),
        [
            (2.34, "none", 2.3),
            (2.3, "round", 3.0),  # the count 2 reads 1.5 .. 2.5, mostly below 2.3
            (1.9, "round", 2.0),
            (2.3, "floor", 2.0),  # the count 2 reads 2 .. 3, its middle 2.5 past 2.3
            (2.7, "floor", 3.0),
            (0.3, "truncate", 1.0),  # truncation's 0 reads -1 .. 1, its middle 0 below 0.3
            (-0.3, "truncate", 0.0),
            (-1.7, "truncate", -1.0),  # the count -1 reads -2 .. -1, its middle -1.5 past -1.7
        ],
    )
    def test_the_threshold_is_where_the_player_s_bucket_is_on_b_s_side(
        self, x: float, rounding: str, expected: float
    ) -> None:
        assert rounded_index(x, rounding) == expected


class TestRequest:
    @pytest.mark.parametrize(
        ("raw", "path", "reason"),
        [
            ({"plays": ["insurance"]}, "casino", "required"),
            ({"casino": "vegas_6d_s17_das"}, "plays", "required"),
            ({"casino": "vegas_6d_s17_das", "plays": ["i19"]}, "plays[0]", "unknown preset"),
            (
                {"casino": "vegas_6d_s17_das", "plays": ["all"], "all_within": 2},
                "all_within",
                "must be 0..1",
            ),
            (
                {"casino": "vegas_6d_s17_das", "plays": ["insurance"], "bankroll": 0},
                "bankroll",
                "",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": ["insurance"],
                    "betting_strategy": {"min_bet": 10, "wong_in": 1},
                },
                "betting_strategy.wong_in",
                "not used by an index request",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": ["insurance"],
                    "betting_strategy": {"min_bet": 10, "ramp_count": "running"},
                },
                "betting_strategy.ramp_count",
                "the ramp reads the same count",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": [{"hand": "20", "vs": "6", "actions": ["S", "H"]}],
                },
                "plays[0].hand",
                "no two different cards",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": [{"hand": "16", "vs": "11x", "actions": ["S", "H"]}],
                },
                "plays[0].vs",
                "not a dealer up card",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": [{"hand": "16", "vs": "10", "actions": ["S", "Q"]}],
                },
                "plays[0].actions[1]",
                "not one of",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": [{"hand": "16", "vs": "10", "actions": ["H", "P"]}],
                },
                "plays[0].actions[1]",
                "only a pair splits",
            ),
            (
                {"casino": "vegas_6d_s17_das", "plays": ["fab4"]},
                "plays[0].actions[1]",
                "does not offer surrender (preset fab4)",
            ),
            (
                {
                    "casino": "vegas_6d_s17_das",
                    "plays": [{"hand": "16", "vs": "10", "actions": ["H", "H"]}],
                },
                "plays[0].actions",
                "the same",
            ),
            (
                {"casino": "european_6d_no_hole_card", "plays": ["insurance"]},
                "casino",
                "no hole card",
            ),
            ({"casino": "spanish21_6d_h17", "plays": ["insurance"]}, "casino", "Spanish 21"),
            ({"casino": "vegas_6d_s17_das", "plays": ["insurance"], "shoes": 0}, "shoes", ""),
            (
                {"casino": "vegas_6d_s17_das", "plays": ["insurance"], "true_count_rounding": "up"},
                "true_count_rounding",
                "not one of",
            ),
            (
                {"casino": "vegas_6d_s17_das", "plays": ["insurance"], "colour": 1},
                "colour",
                "unknown",
            ),
        ],
    )
    def test_bad_input_names_the_field(self, raw: dict[str, Any], path: str, reason: str) -> None:
        with pytest.raises(ConfigError) as caught:
            normalize_index_request(raw)
        assert any(p == path and reason in r for p, r in caught.value.problems), (
            caught.value.problems
        )

    def test_every_problem_is_named_at_once(self) -> None:
        raw = {"casino": "european_6d_no_hole_card", "plays": ["i19"], "seed": -1}
        with pytest.raises(ConfigError) as caught:
            normalize_index_request(raw)
        assert [p for p, _ in caught.value.problems] == ["seed", "casino", "plays[0]"]

    def test_a_double_the_casino_forbids_names_the_total(self) -> None:
        casino = {"parent": "vegas_6d_s17_das", "double_down_restrictions": [10, 11]}
        raw = {"casino": casino, "plays": [{"hand": "9", "vs": "2", "actions": ["H", "D"]}]}
        with pytest.raises(
            ConfigError, match=r"plays\[0\].actions\[1\]: this casino does not allow doubling on 9"
        ):
            normalize_index_request(raw)

    def test_the_player_s_reading_of_the_count_overrides_the_system_s(self) -> None:
        request = normalize_index_request(
            {
                "casino": "vegas_6d_s17_das",
                "plays": ["illustrious18", "insurance"],
                "deck_estimation": "half",
                "true_count_rounding": "floor",
            }
        )
        assert request.counting.name == "hilo"
        assert (request.counting.deck_estimation, request.counting.true_count_rounding) == (
            "half",
            "floor",
        )
        assert len(request.plays) == 18  # insurance named twice is one play
