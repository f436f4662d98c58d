"""GET /api/compare/?jobs=<id>,<id>,...: the caller's complete jobs side by side, as JSON or
CSV; another user's job is a 404, every bad `jobs` a 400 naming it."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from simulator.models import JobStatus, SimulationJob
from simulator.services.submit import submit_job
from tests.helpers import load_master_config, s17_and_h17_results


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two real results documents: S17 (seed 1) and H17 (seed 2)."""
    return s17_and_h17_results()


def _complete(owner, document: dict[str, Any], name: str = "") -> SimulationJob:
    job = submit_job(owner, {**load_master_config(num_rounds=500), "name": name})
    SimulationJob.objects.filter(id=job.id).update(
        status=JobStatus.COMPLETE, result_data=document, rounds_done=500
    )
    job.refresh_from_db()
    return job


@pytest.fixture
def alice_jobs(alice, documents) -> list[SimulationJob]:
    return [_complete(alice, documents[0], "S17"), _complete(alice, documents[1], "H17")]


def _ids(*jobs: SimulationJob) -> str:
    return ",".join(str(job.id) for job in jobs)


def _reasons(response) -> list[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "These jobs cannot be compared."
    assert {e["path"] for e in body["errors"]} == {"jobs"}
    return [e["reason"] for e in body["errors"]]


def _row(body: dict[str, Any], metric: str, seat: int = 0) -> dict[str, Any]:
    return next(r for r in body["seats"][seat]["rows"] if r["metric"] == metric)


class TestCompare:
    def test_alice_compares_her_two_jobs(self, alice_client, alice_jobs, documents):
        response = alice_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}")
        assert response.status_code == 200
        body = response.json()
        assert body["jobs"] == [
            {"job_id": str(alice_jobs[0].id), "name": "S17"},
            {"job_id": str(alice_jobs[1].id), "name": "H17"},
        ]
        s17, h17 = (doc["players"][0] for doc in documents)
        row = _row(body, "ev_per_unit")
        assert row["values"] == [s17["ev_per_unit"], h17["ev_per_unit"]]
        diff = row["differences"][1]
        assert diff["difference"] == pytest.approx(h17["ev_per_unit"] - s17["ev_per_unit"])
        n1, n2 = s17["rounds_played"], h17["rounds_played"]
        se = ((s17["sd_per_unit"] ** 2 / n1) + (h17["sd_per_unit"] ** 2 / n2)) ** 0.5
        assert diff["standard_error"] == pytest.approx(se)
        assert diff["z"] == pytest.approx(diff["difference"] / se)
        texts = [d["text"] for d in body["config_differences"]]
        assert "casino.hit_on_soft_17: false vs true" in texts

    def test_the_first_job_named_is_the_base(self, alice_client, alice_jobs):
        forward = alice_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}").json()
        backward = alice_client.get(f"/api/compare/?jobs={_ids(*alice_jobs[::-1])}").json()
        a = _row(forward, "ev_per_round")["differences"][1]
        b = _row(backward, "ev_per_round")["differences"][1]
        assert b["difference"] == pytest.approx(-a["difference"])
        assert b["standard_error"] == pytest.approx(a["standard_error"])

    def test_the_parameter_may_be_repeated_as_a_form_sends_it(self, alice_client, alice_jobs):
        a, b = alice_jobs
        response = alice_client.get(f"/api/compare/?jobs={a.id}&jobs={b.id}")
        assert response.status_code == 200
        assert [j["job_id"] for j in response.json()["jobs"]] == [str(a.id), str(b.id)]

    def test_six_jobs_are_compared(self, alice, alice_client, documents):
        jobs = [_complete(alice, documents[i % 2]) for i in range(6)]
        body = alice_client.get(f"/api/compare/?jobs={_ids(*jobs)}").json()
        assert len(body["jobs"]) == 6
        assert len(_row(body, "score")["values"]) == 6


class TestWhoSeesWhat:
    def test_bob_gets_404_for_alices_job_in_a_comparison(self, bob, bob_client, alice_jobs):
        bobs = _complete(bob, alice_jobs[0].result_data)
        response = bob_client.get(f"/api/compare/?jobs={_ids(bobs, alice_jobs[0])}")
        assert response.status_code == 404
        assert "seats" not in response.json()

    def test_charlie_sees_nothing_of_alices_jobs(self, charlie_client, alice_jobs):
        for fmt in ("", "&format=csv"):
            response = charlie_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}{fmt}")
            assert response.status_code == 404
            assert response.json() == {"detail": "No such job."}

    def test_another_users_unfinished_job_is_a_404_not_a_400_telling_its_status(
        self, alice, bob, bob_client, documents
    ):
        pending = submit_job(alice, load_master_config(num_rounds=500))
        bobs = _complete(bob, documents[0])
        assert bob_client.get(f"/api/compare/?jobs={_ids(bobs, pending)}").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_jobs):
        assert anon_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}").status_code == 401


class TestBadJobs:
    def test_no_jobs_parameter(self, alice_client, alice_jobs):
        for query in ("", "?jobs=", "?jobs=,,"):
            reasons = _reasons(alice_client.get(f"/api/compare/{query}"))
            assert reasons == ["required: 2 to 6 job ids separated by commas"]

    def test_one_job(self, alice_client, alice_jobs):
        assert _reasons(alice_client.get(f"/api/compare/?jobs={alice_jobs[0].id}")) == [
            "2 to 6 jobs, not 1"
        ]

    def test_seven_jobs(self, alice_client, alice_jobs):
        ids = ",".join(str(uuid.uuid4()) for _ in range(7))
        assert _reasons(alice_client.get(f"/api/compare/?jobs={ids}")) == ["2 to 6 jobs, not 7"]

    def test_a_malformed_id(self, alice_client, alice_jobs):
        response = alice_client.get(f"/api/compare/?jobs={alice_jobs[0].id},not-a-uuid")
        assert _reasons(response) == ["'not-a-uuid' is not a job id (a UUID)"]

    def test_a_repeated_id(self, alice_client, alice_jobs):
        a = alice_jobs[0].id
        assert _reasons(alice_client.get(f"/api/compare/?jobs={a},{a}")) == [
            f"{a} is named more than once"
        ]

    @pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED])
    def test_a_job_that_is_not_complete(self, alice_client, alice_jobs, status):
        SimulationJob.objects.filter(id=alice_jobs[1].id).update(status=status)
        reasons = _reasons(alice_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}"))
        assert reasons == [f"job {alice_jobs[1].id} is {status}, not COMPLETE"]

    def test_a_bad_request_for_csv_is_answered_in_json(self, alice_client, alice_jobs):
        response = alice_client.get(f"/api/compare/?jobs={alice_jobs[0].id}&format=csv")
        assert response["Content-Type"] == "application/json"
        assert _reasons(response) == ["2 to 6 jobs, not 1"]


class TestCsv:
    def _check(self, response, jobs: list[SimulationJob]) -> None:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        first, second = (str(job.id) for job in jobs)
        assert rows[0] == [
            "seat",
            "player",
            "metric",
            first,
            second,
            f"{second} - {first}",
            f"SE ({second})",
            f"z ({second})",
        ]
        player = jobs[0].result_data["players"][0]
        line = next(r for r in rows if r[2] == "flat_edge")
        assert line[:2] == ["0", player["name"]]
        assert float(line[3]) == player["flat_edge"]
        assert line[6] != "" and line[7] != ""  # the flat edge carries an SE

    def test_format_csv_gives_the_table_as_csv(self, alice_client, alice_jobs):
        self._check(
            alice_client.get(f"/api/compare/?jobs={_ids(*alice_jobs)}&format=csv"), alice_jobs
        )

    def test_accept_text_csv_gives_the_table_as_csv(self, alice_client, alice_jobs):
        response = alice_client.get(
            f"/api/compare/?jobs={_ids(*alice_jobs)}", HTTP_ACCEPT="text/csv"
        )
        self._check(response, alice_jobs)


class TestSchema:
    def test_the_call_is_in_the_schema_with_examples(self, anon_client):
        doc = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        operation = doc["paths"]["/api/compare/"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"jobs", "format"}
        content = operation["responses"]["200"]["content"]
        assert set(content) >= {"application/json", "text/csv"}
        assert content["application/json"]["examples"]
        assert content["text/csv"]["examples"]
        assert operation["responses"]["400"]["content"]["application/json"]["examples"]
        assert {"401", "404", "429"} <= set(operation["responses"])


HOSTILE = [
    "\x00",
    "a\x00b",
    "9" * 5_000,
    "," * 10_000,
    "{}",
    "%",
    " ",
    "00000000-0000-0000-0000-000000000000" * 3,
]


class TestHostileInput:
    @pytest.mark.parametrize("value", HOSTILE)
    def test_a_hostile_jobs_value_is_a_400_never_a_500(self, alice_client, alice_jobs, value):
        for fmt in ("json", "csv"):
            response = alice_client.get("/api/compare/", {"jobs": value, "format": fmt})
            assert response.status_code == 400, (value[:20], response.content[:200])
            assert response["Content-Type"] == "application/json"
