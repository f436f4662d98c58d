"""The boundary of simulator.inputs on PostgreSQL: whatever a submit or a saved profile
accepts is read back from jsonb as the same number, and a number jsonb would hand back
as something else (a 309-digit integer for 1e308) is a 400 naming its path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from simulator.inputs import MAX_INTEGER, json_problems
from simulator.models import Profile, SimulationJob

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="jsonb's numbers are what is tested"
    ),
]

SUBMITS = ["/api/submit/", "/api/jobs/"]
# The largest float below 2^63 (2^63 - 1024); 2^63 itself is the first refused.
LARGEST_FLOAT = float.fromhex("0x1.fffffffffffffp+62")
# Every extreme the boundary accepts: 64-bit integers, the largest floats below 2^63, the
# smallest (subnormal) floats, and floats whose decimal jsonb prints without an exponent.
EXTREMES: dict[str, Any] = {
    "largest_int": MAX_INTEGER,
    "smallest_int": -MAX_INTEGER,
    "largest_float": LARGEST_FLOAT,
    "smallest_float": -LARGEST_FLOAT,
    "a_float_past_2_53": 1e18,
    "tiniest": 5e-324,
    "tiniest_normal": -2.2250738585072014e-308,
    "a_fraction": 0.1,
    "a_small_fraction": 1.5e-7,
}
# Each is a size jsonb would hand back as an integer of 64 bits or more.
REFUSED = ["9223372036854775808", "9223372036854775808.0", "1e19", "1e20", "-1e20", "1e308"]


def as_decimals(value: Any) -> Any:
    """`value` with every number as the exact decimal its JSON text writes: what a JSON
    number is, whatever a reader parses it into (jsonb's 9223372036854775000 and Python's
    9.223372036854775e+18 are the same decimal number)."""
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


def _post_raw(client, url: str, config: dict[str, Any], field: str, raw: str):
    text = json.dumps({**config, field: "@raw@"}).replace('"@raw@"', raw)
    return client.post(url, text, content_type="application/json")


class TestTheLargestAcceptedValuesComeBackTheSame:
    @pytest.mark.parametrize("url", SUBMITS)
    def test_a_submitted_config_is_read_back_as_sent(self, alice_client, master_config, url):
        # description is stored and never read by the engine: any JSON may be there.
        config = {**master_config, "seed": MAX_INTEGER, "description": EXTREMES}
        response = alice_client.post(url, config, format="json")
        assert response.status_code in (201, 202), response.json()
        job = SimulationJob.objects.get()
        job.refresh_from_db()
        assert as_decimals(job.request_data) == as_decimals(config)
        assert job.seed == MAX_INTEGER
        # What the worker reads is still inside the boundary, and runs as validated.
        assert json_problems(job.request_data) == []
        assert json_problems(job.resolved_config) == []
        assert job.resolved_config["seed"] == MAX_INTEGER

    def test_the_job_reads_them_back_as_sent(self, alice_client, master_config):
        config = {**master_config, "description": EXTREMES}
        job_id = alice_client.post("/api/jobs/", config, format="json").json()["job_id"]
        served = alice_client.get(f"/api/jobs/{job_id}/").json()["config"]
        assert as_decimals(served) == as_decimals(config)

    def test_a_saved_profile_is_read_back_as_sent_and_can_be_used(
        self, alice_client, master_config
    ):
        data = {"parent": "master_casino", "description": EXTREMES}
        body = {"profile_type": "casino", "name": "extremes", "data": data}
        response = alice_client.post("/api/profiles/", body, format="json")
        assert response.status_code == 201, response.json()
        stored = Profile.objects.get(name="extremes").data
        assert as_decimals(stored) == as_decimals(data)
        served = alice_client.get(f"/api/profiles/{response.json()['id']}/").json()["data"]
        assert as_decimals(served) == as_decimals(data)
        # Used by name after the round trip through jsonb: the engine reads it as saved.
        config = {**master_config, "casino": "extremes"}
        assert alice_client.post("/api/submit/", config, format="json").status_code == 202


class TestNumbersJsonbCannotGiveBack:
    @pytest.mark.parametrize("url", [*SUBMITS, "/api/validate/"])
    @pytest.mark.parametrize("raw", REFUSED)
    def test_a_bankroll_too_large_is_a_400_naming_it(self, alice_client, master_config, url, raw):
        text = json.dumps(master_config).replace(
            '"players": [{', '"players": [{"bankroll": ' + raw + ", ", 1
        )
        response = alice_client.post(url, text, content_type="application/json")
        assert response.status_code == 400, response.content[:300]
        errors = response.json()["errors"]
        assert errors == [
            {
                "path": "players[0].bankroll",
                "reason": "a number too large (its size must be below 2^63)",
            }
        ]
        assert not SimulationJob.objects.exists()

    @pytest.mark.parametrize("raw", REFUSED)
    def test_a_large_number_anywhere_is_a_400_naming_it(self, alice_client, master_config, raw):
        response = _post_raw(alice_client, "/api/submit/", master_config, "description", raw)
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["description"]

    @pytest.mark.parametrize("raw", ["1e308", "1e20", "9223372036854775808"])
    def test_a_profile_holding_one_is_a_400_naming_it(self, alice_client, raw):
        text = (
            '{"profile_type": "player", "name": "rich", "data": {"parent": "master_player", '
            f'"bankroll": {raw}}}}}'
        )
        response = alice_client.post("/api/profiles/", text, content_type="application/json")
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["data.bankroll"]
        assert not Profile.objects.exists()


class TestTheRule:
    @pytest.mark.parametrize("value", list(EXTREMES.values()))
    def test_every_extreme_is_accepted(self, value):
        assert json_problems({"x": value}) == []

    @pytest.mark.parametrize("value", [2**63, -(2**63), 2.0**63, -(2.0**63), 1e20, 1e308])
    def test_a_size_of_2_63_or_more_is_refused_for_ints_and_floats(self, value):
        assert json_problems({"x": value}) == [
            ("x", "a number too large (its size must be below 2^63)")
        ]
