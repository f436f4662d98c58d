"""POST /api/optimal-bets/: the ramp for a counting job of the caller's (or a table given
inline), another user's job a 404, every bad input a 400 naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from jost_engine import CountRow, optimal_bets, per_count_rows, run_simulation_from_config
from simulator.models import JobStatus, SimulationJob

URL = "/api/optimal-bets/"
LIMITS: dict[str, Any] = {
    "bankroll": 10_000,
    "min_bet": 10,
    "max_bet": 500,
    "max_spread": 12,
    "unit": 5,
    "kelly_fraction": 0.5,
}
CONTRACT = {
    "betting_strategy", "ramp", "ev_per_round", "sd_per_round", "win_per_hour", "sd_per_hour",
    "di", "score", "n0", "risk_of_ruin", "certainty_equivalent",
}  # fmt: skip


@pytest.fixture(scope="module")
def counting_results() -> dict[str, Any]:
    """A real per-count run: seat 1 asks for the analysis; seat 0 bets flat beside it (its
    rounds are tallied by count too, as for every seat of a table where someone counts)."""
    return run_simulation_from_config(
        {
            "casino": "master_casino",
            "num_rounds": 200_000,
            "seed": 1515,
            "stop_when_broke": False,
            "players": [
                {"name": "flat", "betting_strategy": {"min_bet": 10}},
                {"name": "counter", "analysis": "per_count", "counting_strategy": "hilo"},
            ],
        }
    )


@pytest.fixture
def alice_counting_job(alice_job, counting_results) -> SimulationJob:
    SimulationJob.objects.filter(id=alice_job.id).update(
        status=JobStatus.COMPLETE, result_data=counting_results
    )
    alice_job.refresh_from_db()
    return alice_job


@pytest.fixture
def alice_flat_job(alice, master_config) -> SimulationJob:
    """A COMPLETE job of alice's in which nobody counted: no true-count table."""
    from simulator.services.submit import submit_job

    job = submit_job(alice, master_config)
    results = run_simulation_from_config(
        {"casino": "master_casino", "num_rounds": 1000, "seed": 1,
         "players": [{"betting_strategy": {"min_bet": 10}}]}
    )  # fmt: skip
    assert "true_count_table" not in results["players"][0]
    SimulationJob.objects.filter(id=job.id).update(status=JobStatus.COMPLETE, result_data=results)
    return job


def table_of(results: dict[str, Any], seat: int) -> list[dict[str, Any]]:
    return [
        {k: row[k] for k in ("true_count", "frequency", "flat_edge", "flat_sd")}
        for row in results["players"][seat]["true_count_table"]
    ]


def paths(response) -> list[str]:
    assert response.status_code == 400, response.content
    return [e["path"] for e in response.json()["errors"]]


class TestFromAJob:
    def test_it_answers_the_ramp_of_alices_counting_job(
        self, alice_client, alice_counting_job, counting_results
    ):
        response = alice_client.post(
            URL, {"job": str(alice_counting_job.id), "seat": 1, **LIMITS}, format="json"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) >= CONTRACT
        # The engine's answer for the job's own table, nothing lost on the way.
        expected = optimal_bets(per_count_rows(counting_results, 1), **LIMITS)
        assert body == expected  # floats survive JSON exactly (repr round-trips)
        for row in body["ramp"]:
            assert set(row) >= {"true_count", "bet"}
            assert 10 <= row["bet"] <= 120 and row["bet"] % 5 == 0

    def test_its_betting_strategy_pastes_into_a_config(self, alice_client, alice_counting_job):
        body = alice_client.post(
            URL, {"job": str(alice_counting_job.id), "seat": 1, **LIMITS}, format="json"
        ).json()
        config = {
            "casino": "master_casino",
            "num_rounds": 1000,
            "players": [{"betting_strategy": body["betting_strategy"]}],
        }
        response = alice_client.post("/api/validate/", config, format="json")
        assert response.status_code == 200, response.content
        ramp = response.json()["players"][0]["betting_strategy"]["bet_ramp"]
        assert len(ramp) == len(body["betting_strategy"]["bet_ramp"])

    def test_a_target_risk_is_met(self, alice_client, alice_counting_job):
        response = alice_client.post(
            URL,
            {"job": str(alice_counting_job.id), "seat": 1, **LIMITS, "bankroll": 50_000,
             "kelly_fraction": None, "risk_of_ruin": 0.05},
            format="json",
        )  # fmt: skip
        assert response.status_code == 200, response.content
        assert response.json()["risk_of_ruin_before_rounding"] == pytest.approx(0.05, abs=1e-6)

    def test_bob_gets_404_for_alices_job(self, bob_client, alice_counting_job):
        response = bob_client.post(
            URL, {"job": str(alice_counting_job.id), "seat": 1, **LIMITS}, format="json"
        )
        assert response.status_code == 404

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_counting_job):
        response = charlie_client.post(
            URL, {"job": str(alice_counting_job.id), "seat": 1, **LIMITS}, format="json"
        )
        assert response.status_code == 404

    def test_a_job_that_did_not_count_is_400_naming_job(self, alice_client, alice_flat_job):
        response = alice_client.post(
            URL, {"job": str(alice_flat_job.id), "seat": 0, **LIMITS}, format="json"
        )
        assert paths(response) == ["job"]
        assert "per_count" in response.json()["errors"][0]["reason"]

    def test_a_job_not_complete_is_400_naming_job(self, alice_client, alice_job):
        response = alice_client.post(
            URL, {"job": str(alice_job.id), "seat": 0, **LIMITS}, format="json"
        )
        assert paths(response) == ["job"]
        assert "PENDING" in response.json()["errors"][0]["reason"]

    def test_a_seat_that_is_not_there_is_400_naming_seat(self, alice_client, alice_counting_job):
        response = alice_client.post(
            URL, {"job": str(alice_counting_job.id), "seat": 5, **LIMITS}, format="json"
        )
        assert paths(response) == ["seat"]

    def test_without_a_token_it_gets_401(self, anon_client, alice_counting_job):
        response = anon_client.post(
            URL, {"job": str(alice_counting_job.id), **LIMITS}, format="json"
        )
        assert response.status_code == 401


class TestFromATable:
    def test_it_answers_for_a_table_given_inline(self, bob_client, counting_results):
        table = table_of(counting_results, 1)
        response = bob_client.post(URL, {"table": table, **LIMITS}, format="json")
        assert response.status_code == 200, response.content
        expected = optimal_bets([CountRow(**row) for row in table], **LIMITS)
        assert response.json() == expected

    @pytest.mark.parametrize(
        ("change", "path"),
        [
            ({"bankroll": 0}, "bankroll"),
            ({"bankroll": "ten"}, "bankroll"),
            ({"max_spread": 0.5}, "max_spread"),
            ({"min_bet": 600}, "min_bet"),
            ({"risk_of_ruin": 0.05}, "risk_of_ruin"),
            ({"kelly_fraction": None}, "kelly_fraction"),
            ({"unit": 3}, "min_bet"),
            ({"rounds_per_hour": 0}, "rounds_per_hour"),
            # Below the config's money bounds: the strategy would not paste into a config,
            # and 5e-324 made a 500 (an infinite certainty equivalent, an overflowing ratio).
            ({"bankroll": 5e-324}, "bankroll"),
            ({"unit": 5e-324}, "unit"),
            ({"min_bet": 0.001, "unit": 0.001}, "min_bet"),
            ({"max_bet": 1e300}, "max_bet"),
        ],
    )
    def test_a_bad_input_is_400_naming_the_field(
        self, alice_client, counting_results, change, path
    ):
        body = {"table": table_of(counting_results, 1), **LIMITS, **change}
        assert path in paths(alice_client.post(URL, body, format="json"))

    def test_a_bad_row_is_named_by_its_index(self, alice_client, counting_results):
        table = table_of(counting_results, 1)
        table[1]["flat_sd"] = 0
        table[2]["frequency"] = "often"
        response = alice_client.post(URL, {"table": table, **LIMITS}, format="json")
        assert paths(response) == ["table[2].frequency"]  # the types first, then the values
        table[2]["frequency"] = 0.1
        response = alice_client.post(URL, {"table": table, **LIMITS}, format="json")
        assert paths(response) == ["table[1].flat_sd"]

    def test_a_job_and_a_table_together_are_400_naming_job(
        self, alice_client, alice_counting_job, counting_results
    ):
        body = {"job": str(alice_counting_job.id), "table": table_of(counting_results, 1)}
        assert paths(alice_client.post(URL, {**body, **LIMITS}, format="json")) == ["job"]

    def test_neither_a_job_nor_a_table_is_400_naming_job(self, alice_client):
        assert paths(alice_client.post(URL, LIMITS, format="json")) == ["job"]


class TestSchema:
    def test_the_schema_documents_the_call_with_examples(self, anon_client):
        doc = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        operation = doc.json()["paths"]["/api/optimal-bets/"]["post"]
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        assert len(examples) >= 2
        answer = operation["responses"]["200"]["content"]["application/json"]
        assert set(answer["examples"].popitem()[1]["value"]) >= CONTRACT
        assert {"400", "401", "404", "429"} <= set(operation["responses"])
