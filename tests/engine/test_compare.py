"""jost_engine.compare: runs side by side, differences from the first run with their SE and
z, and the configs' differences by path, on real small runs."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest

from jost_engine import ConfigError, compare_results, comparison_csv, run_simulation_from_config
from tests.helpers import load_master_config

ROUNDS = 20_000
WITH_SE = ("ev_per_round", "ev_per_unit", "player_edge", "flat_edge", "win_per_hour")
WITHOUT_SE = ("sd_per_round", "di", "score", "n0", "risk_of_ruin", "sd_per_hour")


def _run(seed: int, *, h17: bool, players: int = 1) -> dict[str, Any]:
    config = load_master_config(num_rounds=ROUNDS)
    config["seed"] = seed
    config["casino"] = {"parent": "master_casino", "hit_on_soft_17": h17}
    config["players"] = [dict(config["players"][0], name=f"p{i}") for i in range(players)]
    return run_simulation_from_config(config)


@pytest.fixture(scope="module")
def s17() -> dict[str, Any]:
    return _run(1, h17=False)


@pytest.fixture(scope="module")
def h17() -> dict[str, Any]:
    return _run(2, h17=True)


@pytest.fixture(scope="module")
def s17_again() -> dict[str, Any]:
    return _run(3, h17=False, players=2)


def _row(comparison: dict[str, Any], metric: str, seat: int = 0) -> dict[str, Any]:
    return next(r for r in comparison["seats"][seat]["rows"] if r["metric"] == metric)


def _se(player: dict[str, Any], metric: str) -> float:
    """The SE docs/RESULTS.md gives each mean: its SD over sqrt(rounds)."""
    n = player["rounds_played"]
    sd = {
        "ev_per_round": player["sd_per_round"],
        "ev_per_unit": player["sd_per_unit"],
        "flat_edge": player["flat_sd"],
        "win_per_hour": player["sd_per_round"] * player["rounds_per_hour"],
        # The EV's SD over the average wagered per round (total_wagered / n).
        "player_edge": player["sd_per_round"] * n / player["total_wagered"],
    }[metric]
    return sd / math.sqrt(n)


class TestSideBySide:
    def test_every_figure_of_each_run_is_in_its_column(self, s17, h17):
        comparison = compare_results([s17, h17], labels=["S17", "H17"])
        assert [run["label"] for run in comparison["runs"]] == ["S17", "H17"]
        assert comparison["seats"][0]["names"] == ["p0", "p0"]
        for metric in WITH_SE + WITHOUT_SE:
            values = _row(comparison, metric)["values"]
            assert values == [s17["players"][0][metric], h17["players"][0][metric]], metric

    def test_the_difference_is_the_later_run_less_the_first_with_ses_in_quadrature(self, s17, h17):
        comparison = compare_results([s17, h17])
        a, b = s17["players"][0], h17["players"][0]
        for metric in WITH_SE:
            row = _row(comparison, metric)
            se_a, se_b = _se(a, metric), _se(b, metric)
            assert row["standard_errors"] == pytest.approx([se_a, se_b], rel=1e-12)
            diff = row["differences"][1]
            assert row["differences"][0] is None
            assert diff["difference"] == pytest.approx(b[metric] - a[metric], rel=1e-12)
            se = math.sqrt(se_a**2 + se_b**2)
            assert diff["standard_error"] == pytest.approx(se, rel=1e-12)
            assert diff["z"] == pytest.approx((b[metric] - a[metric]) / se, rel=1e-12)

    def test_the_se_agrees_with_the_95_interval_the_results_carry(self, s17):
        # Two routes to one SE: SD / sqrt(n), and the half-width of the stored interval
        # over 1.96 (RESULTS.md: mean -/+ 1.96 SD / sqrt(n)).
        comparison = compare_results([s17, s17])
        player = s17["players"][0]
        for metric, interval in (
            ("ev_per_round", "ev_per_round_95ci"),
            ("ev_per_unit", "ev_per_unit_95ci"),
            ("flat_edge", "flat_edge_95ci"),
        ):
            low, high = player[interval]
            se = _row(comparison, metric)["standard_errors"][0]
            assert se == pytest.approx((high - low) / 2 / 1.96, rel=1e-9), metric

    def test_a_figure_with_no_se_of_its_own_gets_a_difference_but_no_se_or_z(self, s17, h17):
        comparison = compare_results([s17, h17])
        for metric in WITHOUT_SE:
            row = _row(comparison, metric)
            assert row["standard_errors"] == [None, None], metric
            diff = row["differences"][1]
            expected = h17["players"][0][metric] - s17["players"][0][metric]
            assert diff["difference"] == pytest.approx(expected, rel=1e-12, abs=1e-300), metric
            assert diff["standard_error"] is None and diff["z"] is None

    def test_two_runs_of_one_game_differ_by_less_than_4_se(self, s17, s17_again):
        # Same rules and ramp, seeds 1 and 3: a real difference of 0, so |z| < 4.
        comparison = compare_results([s17, s17_again])
        for metric in WITH_SE:
            z = _row(comparison, metric)["differences"][1]["z"]
            assert z is not None and abs(z) < 4, (metric, z)

    def test_every_later_run_is_compared_with_the_first(self, s17, h17, s17_again):
        comparison = compare_results([s17, h17, s17_again])
        row = _row(comparison, "ev_per_unit")
        first = s17["players"][0]["ev_per_unit"]
        assert row["differences"][2]["difference"] == pytest.approx(
            s17_again["players"][0]["ev_per_unit"] - first, rel=1e-12
        )

    def test_a_seat_only_one_run_has_is_null_in_the_other(self, s17, s17_again):
        comparison = compare_results([s17, s17_again])
        assert len(comparison["seats"]) == 2
        seat = comparison["seats"][1]
        assert seat["names"] == [None, "p1"]
        row = next(r for r in seat["rows"] if r["metric"] == "ev_per_round")
        assert row["values"][0] is None
        assert row["values"][1] == s17_again["players"][1]["ev_per_round"]
        assert row["differences"][1] is None


class TestConfigDifferences:
    def test_h17_against_s17_is_named_by_its_path(self, s17, h17):
        differences = compare_results([s17, h17])["config_differences"]
        by_path = {d["path"]: d for d in differences}
        assert by_path["casino.hit_on_soft_17"]["values"] == [False, True]
        assert by_path["casino.hit_on_soft_17"]["text"] == "casino.hit_on_soft_17: false vs true"
        assert by_path["seed"]["values"] == [1, 2]
        # What both runs share is not listed.
        assert "casino.deck_count" not in by_path
        assert "num_rounds" not in by_path
        assert set(by_path) == {"casino.hit_on_soft_17", "seed"}

    def test_a_seat_only_one_config_has_is_listed_as_absent(self, s17, s17_again):
        differences = compare_results([s17, s17_again])["config_differences"]
        by_path = {d["path"]: d for d in differences}
        assert by_path["players[1].name"]["present"] == [False, True]
        assert by_path["players[1].name"]["text"] == 'players[1].name: (absent) vs "p1"'

    def test_configs_passed_beside_the_documents_are_the_ones_compared(self, s17, h17):
        differences = compare_results(
            [s17, h17], configs=[{"casino": {"deck_count": 6}}, {"casino": {"deck_count": 2}}]
        )["config_differences"]
        assert [d["text"] for d in differences] == ["casino.deck_count: 6 vs 2"]


class TestRefusals:
    @pytest.mark.parametrize("count", [0, 1, 7])
    def test_it_refuses_fewer_than_two_or_more_than_six_runs_naming_jobs(self, s17, count):
        with pytest.raises(ConfigError) as caught:
            compare_results([s17] * count)
        assert caught.value.problems == [("jobs", f"compare 2 to 6 runs, not {count}")]

    def test_it_refuses_a_document_without_players_naming_jobs(self, s17):
        with pytest.raises(ConfigError) as caught:
            compare_results([s17, {"rounds_played": 3}], labels=["a", "b"])
        assert caught.value.problems == [("jobs", "b: not a results document (no players)")]


class TestCsv:
    def test_the_csv_holds_one_line_per_seat_and_figure_with_the_differences(self, s17, h17):
        comparison = compare_results([s17, h17], labels=["S17", "H17"])
        rows = list(csv.reader(io.StringIO(comparison_csv(comparison))))
        assert rows[0] == [
            "seat",
            "player",
            "metric",
            "S17",
            "H17",
            "H17 - S17",
            "SE (H17)",
            "z (H17)",
        ]
        assert len(rows) == 1 + len(comparison["seats"][0]["rows"])
        line = next(r for r in rows if r[2] == "ev_per_unit")
        diff = _row(comparison, "ev_per_unit")["differences"][1]
        assert float(line[3]) == s17["players"][0]["ev_per_unit"]
        assert float(line[5]) == diff["difference"]
        assert float(line[6]) == diff["standard_error"]
        assert float(line[7]) == diff["z"]
        score = next(r for r in rows if r[2] == "score")
        assert score[6:] == ["", ""]  # no SE, no z

    def test_a_name_that_would_be_a_spreadsheet_formula_is_quoted(self, s17, h17):
        comparison = compare_results([s17, h17], labels=["=HYPERLINK(1)", "b"])
        header = next(csv.reader(io.StringIO(comparison_csv(comparison))))
        assert header[3] == "'=HYPERLINK(1)"
