"""POST /api/risk/: the risk and bankroll figures from an EV and SD, or from a seat of the
caller's completed job; a bad field is a 400 naming it; another user's job is a 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import jost_engine
from simulator.models import JobStatus, SimulationJob

URL = "/api/risk/"
KEYS = {
    "risk_of_ruin",
    "trip_ruin",
    "goal_before_ruin",
    "chance_of_loss",
    "bankroll_for_risk",
    "n0",
    "n0_hours",
    "hours_to_double",
    "certainty_equivalent",
}


def figures(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in KEYS}


@pytest.fixture
def complete_job(alice_job) -> SimulationJob:
    """alice's job, COMPLETE, two seats with their EV and SD per round (money)."""
    players = [
        {"ev_per_round": 0.12, "sd_per_round": 11.5, "rounds_per_hour": 80},
        {"ev_per_round": -0.05, "sd_per_round": 11.2, "rounds_per_hour": 80},
    ]
    SimulationJob.objects.filter(id=alice_job.id).update(
        status=JobStatus.COMPLETE, result_data={"players": players}
    )
    alice_job.refresh_from_db()
    return alice_job


class TestFromEvAndSd:
    def test_it_answers_every_figure_of_the_engines_report(self, alice_client):
        body = {"ev_per_round": 0.01, "sd_per_round": 1.15, "bankroll": 100}
        response = alice_client.post(URL, {**body, "rounds": 1000, "goal": 200}, format="json")
        assert response.status_code == 200
        answer = response.json()
        expected = jost_engine.risk_report(
            ev_per_round=0.01, sd_per_round=1.15, bankroll=100, rounds=1000, goal=200
        )
        assert figures(answer) == expected  # JSON carries a float exactly
        assert set(answer) == KEYS | {"inputs"}
        assert answer["inputs"]["rounds_per_hour"] == 100

    def test_a_trip_in_hours_is_rounds_at_the_pace_asked(self, alice_client):
        base = {"ev_per_round": 0.02, "sd_per_round": 1.2, "bankroll": 100}
        hours = alice_client.post(URL, {**base, "hours": 5, "rounds_per_hour": 60}, format="json")
        rounds = alice_client.post(
            URL, {**base, "rounds": 300, "rounds_per_hour": 60}, format="json"
        )
        assert hours.status_code == rounds.status_code == 200
        assert figures(hours.json()) == figures(rounds.json())
        assert hours.json()["inputs"]["rounds"] == 300

    def test_what_was_not_asked_is_null(self, alice_client):
        response = alice_client.post(
            URL, {"ev_per_round": 0.02, "sd_per_round": 1.2, "bankroll": 100}, format="json"
        )
        answer = response.json()
        assert answer["trip_ruin"] is None and answer["chance_of_loss"] is None
        assert answer["goal_before_ruin"] is None
        assert answer["risk_of_ruin"] == pytest.approx(jost_engine.risk_of_ruin(0.02, 1.2, 100))

    def test_bob_and_charlie_may_ask_with_numbers_too(self, bob_client, charlie_client):
        body = {"ev_per_round": -0.01, "sd_per_round": 1.1, "bankroll": 50, "rounds": 500}
        for client in (bob_client, charlie_client):
            response = client.post(URL, body, format="json")
            assert response.status_code == 200
            assert response.json()["risk_of_ruin"] == 1.0
            assert response.json()["bankroll_for_risk"][0]["bankroll"] is None

    def test_it_needs_a_token(self, anon_client):
        body = {"ev_per_round": 0.01, "sd_per_round": 1.1, "bankroll": 50}
        assert anon_client.post(URL, body, format="json").status_code == 401


class TestFromAJob:
    def test_alices_job_gives_its_seats_ev_sd_and_pace(self, alice_client, complete_job):
        body = {"job": str(complete_job.id), "seat": 0, "bankroll": 5000, "hours": 10}
        response = alice_client.post(URL, body, format="json")
        assert response.status_code == 200
        expected = jost_engine.risk_report(
            ev_per_round=0.12, sd_per_round=11.5, bankroll=5000, hours=10, rounds_per_hour=80
        )
        assert figures(response.json()) == expected
        assert response.json()["inputs"]["rounds"] == 800

    def test_it_reads_a_real_results_document(self, alice_client, alice_job):
        # The engine's own results, not a hand-made dict: the keys the view reads exist.
        results = jost_engine.run_simulation_from_config(
            {
                "casino": "vegas_6d_s17_das",
                "num_rounds": 20_000,
                "seed": 3,
                "rounds_per_hour": 90,
                "players": [{"bankroll": 10**6, "betting_strategy": "flat_betting"}],
            }
        )
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.COMPLETE, result_data=results
        )
        body = {"job": str(alice_job.id), "bankroll": 1000, "rounds": 500}
        response = alice_client.post(URL, body, format="json")
        assert response.status_code == 200, response.json()
        player = results["players"][0]
        assert response.json()["inputs"]["ev_per_round"] == player["ev_per_round"]
        assert response.json()["inputs"]["sd_per_round"] == player["sd_per_round"]
        assert response.json()["inputs"]["rounds_per_hour"] == 90

    def test_the_seat_decides_which_player(self, alice_client, complete_job):
        body = {"job": str(complete_job.id), "seat": 1, "bankroll": 5000, "rounds": 1000}
        answer = alice_client.post(URL, body, format="json").json()
        assert answer["inputs"]["ev_per_round"] == -0.05 and answer["risk_of_ruin"] == 1.0
        assert answer["hours_to_double"] is None

    def test_bob_gets_404_for_alices_job(self, bob_client, complete_job):
        body = {"job": str(complete_job.id), "seat": 0, "bankroll": 5000}
        response = bob_client.post(URL, body, format="json")
        assert response.status_code == 404
        assert "ev_per_round" not in response.json()

    def test_charlie_gets_404_for_alices_job_and_for_no_job(self, charlie_client, complete_job):
        for job in (complete_job.id, uuid.uuid4()):
            body = {"job": str(job), "bankroll": 5000}
            assert charlie_client.post(URL, body, format="json").status_code == 404

    def test_a_job_that_is_not_complete_is_400_naming_job(self, alice_client, alice_job):
        body = {"job": str(alice_job.id), "bankroll": 5000}
        response = alice_client.post(URL, body, format="json")
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["path"] == "job" and "PENDING" in error["reason"]

    def test_a_seat_the_job_does_not_have_is_400_naming_seat(self, alice_client, complete_job):
        body = {"job": str(complete_job.id), "seat": 2, "bankroll": 5000}
        response = alice_client.post(URL, body, format="json")
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["seat"]

    def test_a_seat_without_an_sd_is_400_naming_seat(self, alice_client, complete_job):
        SimulationJob.objects.filter(id=complete_job.id).update(
            result_data={"players": [{"ev_per_round": 0.0, "sd_per_round": None}]}
        )
        response = alice_client.post(
            URL, {"job": str(complete_job.id), "bankroll": 5000}, format="json"
        )
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["seat"]


class TestBadInputs:
    BASE: dict[str, Any] = {"ev_per_round": 0.01, "sd_per_round": 1.15, "bankroll": 100}

    @pytest.mark.parametrize(
        ("change", "path"),
        [
            ({"bankroll": 0}, "bankroll"),
            ({"bankroll": -10}, "bankroll"),
            ({"bankroll": "100"}, "bankroll"),
            ({"bankroll": None}, "bankroll"),
            ({"sd_per_round": 0}, "sd_per_round"),
            ({"ev_per_round": True}, "ev_per_round"),
            ({"ev_per_round": 1e13}, "ev_per_round"),
            ({"rounds": 0}, "rounds"),
            ({"rounds": 2.5}, "rounds"),
            ({"hours": 0}, "hours"),
            ({"rounds": 10, "hours": 2}, "hours"),
            ({"goal": 100}, "goal"),
            ({"goal": 20}, "goal"),
            ({"rounds_per_hour": 0}, "rounds_per_hour"),
            # The smallest and largest floats a field accepts in JSON: each was a 500 or an
            # infinite figure before the config's own bounds applied here.
            ({"rounds_per_hour": 5e-324}, "rounds_per_hour"),
            ({"rounds_per_hour": 10_001}, "rounds_per_hour"),
            ({"bankroll": 5e-324}, "bankroll"),
            ({"bankroll": 1e300}, "bankroll"),
            ({"sd_per_round": 1e300}, "sd_per_round"),
            ({"hours": 1e300}, "hours"),
            ({"rounds": 1e300}, "rounds"),
            ({"goal": 1e300}, "goal"),
            ({"seat": 0}, "seat"),
            ({"job": "not-a-uuid"}, "job"),
            ({"job": str(uuid.UUID(int=1))}, "job"),
        ],
    )
    def test_it_is_400_naming_the_field(self, alice_client, change, path):
        response = alice_client.post(URL, {**self.BASE, **change}, format="json")
        assert response.status_code == 400, response.json()
        body = response.json()
        assert body["detail"] == "The risk request is invalid."
        assert [e["path"] for e in body["errors"]] == [path], body
        assert all(e["reason"] for e in body["errors"])

    @pytest.mark.parametrize("missing", ["ev_per_round", "sd_per_round", "bankroll"])
    def test_a_missing_input_is_400_naming_it(self, alice_client, missing):
        body = {k: v for k, v in self.BASE.items() if k != missing}
        response = alice_client.post(URL, body, format="json")
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == [missing]

    def test_a_body_that_is_not_an_object_is_400(self, alice_client):
        response = alice_client.post(URL, [1, 2], format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "(body)"


class TestThrottleAndSchema:
    def test_a_flood_is_a_429_like_every_read(self, alice_client):
        from rest_framework.throttling import SimpleRateThrottle

        original = SimpleRateThrottle.THROTTLE_RATES
        SimpleRateThrottle.THROTTLE_RATES = {**original, "read": "3/minute"}
        try:
            body = {"ev_per_round": 0.01, "sd_per_round": 1.1, "bankroll": 50}
            codes = [alice_client.post(URL, body, format="json").status_code for _ in range(4)]
        finally:
            SimpleRateThrottle.THROTTLE_RATES = original
        assert codes == [200, 200, 200, 429]

    def test_the_schema_documents_the_call_with_examples(self, anon_client):
        doc = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        operation = doc["paths"]["/api/risk/"]["post"]
        assert {"200", "400", "401", "404", "429"} <= set(operation["responses"])
        request = operation["requestBody"]["content"]["application/json"]
        assert len(request["examples"]) >= 2
        answer = operation["responses"]["200"]["content"]["application/json"]
        assert set(answer["examples"]["TheAnswer"]["value"]) == KEYS | {"inputs"}
