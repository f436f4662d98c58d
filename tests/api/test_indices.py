"""POST /api/indices/: an index request becomes a PENDING index job of shards (a split job
whose rounds are shoes); a bad one never does. Its status, cancel, results, and the job
list and detail work as for any job, and only for its owner."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from jost_engine import indices
from simulator.models import JobKind, JobShard, JobStatus, Profile, SimulationJob
from simulator.services import broker as broker_services
from simulator.services.shards import run_shard
from simulator.services.submit import submit_index_job

NO_SURRENDER = "vegas_6d_s17_das"


@pytest.fixture
def index_request() -> dict[str, Any]:
    """Insurance and one play: a job of a few dozen shoes runs in a fraction of a second."""
    return {
        "name": "16 v 10",
        "casino": NO_SURRENDER,
        "plays": ["insurance", {"hand": "16", "vs": "10", "actions": ["H", "S"]}],
        "shoes": 50,
        "seed": 7,
    }


@pytest.fixture
def small_shards(settings):
    settings.JOB_SHARD_SHOES = 20
    return settings


@pytest.fixture
def alice_index_job(alice, index_request, small_shards) -> SimulationJob:
    """A PENDING index job of alice's: inside the test's transaction nothing is sent."""
    return submit_index_job(alice, index_request)


def post(client, body: Any, **headers: str):
    return client.post("/api/indices/", body, format="json", **headers)


def paths(response) -> list[str]:
    return [error["path"] for error in response.json()["errors"]]


class TestSubmitIndexJob:
    def test_it_returns_202_and_only_the_job_id(self, alice_client, alice, index_request):
        response = post(alice_client, index_request)
        assert response.status_code == 202, response.json()
        job = SimulationJob.objects.get()
        assert response.json() == {"job_id": str(job.id)}
        assert job.owner == alice and job.kind == JobKind.INDICES
        assert job.status == JobStatus.PENDING and job.result_data is None

    def test_the_job_keeps_the_request_as_sent_and_runs_it_resolved(
        self, alice_client, index_request
    ):
        job_id = post(alice_client, index_request).json()["job_id"]
        job = SimulationJob.objects.get(id=job_id)
        assert job.request_data == index_request
        assert job.name == "16 v 10"
        assert (job.rounds_total, job.seed) == (50, 7)
        expected = indices.normalize_index_request(index_request)
        assert job.resolved_config == indices.index_request_to_dict(expected)
        # The stored form names no profile: the casino is written out.
        assert isinstance(job.resolved_config["casino"], dict)

    def test_its_shards_are_cut_at_job_shard_shoes(self, alice_client, index_request, small_shards):
        job = SimulationJob.objects.get(id=post(alice_client, index_request).json()["job_id"])
        rows = list(job.shards.order_by("index").values_list("index", "rounds", "status"))
        assert rows == [(0, 20, "PENDING"), (1, 20, "PENDING"), (2, 10, "PENDING")]
        assert (job.shards_total, job.shard_rounds) == (3, 20)

    def test_the_shard_size_defaults_to_the_engines(self):
        from django.conf import settings

        assert settings.JOB_SHARD_SHOES == indices.SHARD_SHOES
        assert settings.JOB_CHUNK_SHOES == indices.CHUNK_SHOES

    @pytest.mark.parametrize("seed", ["absent", None])
    def test_a_request_without_a_seed_gets_one_drawn_and_stored(
        self, alice_client, index_request, seed
    ):
        if seed == "absent":
            del index_request["seed"]
        else:
            index_request["seed"] = seed
        ids = [post(alice_client, index_request).json()["job_id"] for _ in range(2)]
        jobs = [SimulationJob.objects.get(id=job_id) for job_id in ids]
        assert all(isinstance(job.seed, int) and 0 <= job.seed < 2**63 for job in jobs)
        assert jobs[0].seed != jobs[1].seed
        # What runs carries the drawn seed; what was sent stays as sent.
        assert [job.resolved_config["seed"] for job in jobs] == [job.seed for job in jobs]
        assert jobs[0].request_data == index_request

    def test_alices_saved_casino_and_counting_system_resolve_by_name(
        self, alice, alice_client, index_request
    ):
        Profile.objects.create(
            owner=alice,
            profile_type="casino",
            name="my ls game",
            data={"parent": NO_SURRENDER, "allow_late_surrender": True},
        )
        Profile.objects.create(
            owner=alice, profile_type="counting_system", name="my ko", data={"parent": "ko"}
        )
        body = {**index_request, "casino": "my ls game", "counting_strategy": "my ko"}
        body["plays"] = ["fab4"]
        response = post(alice_client, body)
        assert response.status_code == 202, response.json()
        resolved = SimulationJob.objects.get().resolved_config
        assert resolved["casino"]["allow_late_surrender"] is True
        assert resolved["counting_strategy"]["tags"]["7"] == 1  # KO's tags

    def test_bob_cannot_name_alices_casino(self, alice, bob_client, index_request):
        Profile.objects.create(
            owner=alice, profile_type="casino", name="my ls game", data={"parent": NO_SURRENDER}
        )
        response = post(bob_client, {**index_request, "casino": "my ls game"})
        assert response.status_code == 400 and paths(response) == ["casino"]

    def test_the_schemas_example_is_accepted_and_its_result_has_the_real_keys(
        self, alice_client, index_request, small_shards
    ):
        from simulator.api import schema

        response = post(alice_client, schema.INDEX_REQUEST_EXAMPLE)
        assert response.status_code == 202, response.json()
        assert len(SimulationJob.objects.get().resolved_config["plays"]) == 22
        # The example was run with a bankroll: so is this, for its risk-averse keys.
        request = indices.normalize_index_request({**index_request, "bankroll": 10_000})
        real = indices.index_results(request, indices.run_index_shard(request, 1, 200))
        example = schema.INDEX_RESULTS_EXAMPLE
        assert example.keys() == real.keys()
        for shown in example["indices"]:
            assert set(shown) <= set(real["indices"][0]), set(shown) - set(real["indices"][0])
            assert set(shown["curve"][0]) == set(real["indices"][0]["curve"][0])

    def test_without_a_token_it_is_401(self, db, anon_client, index_request):
        assert post(anon_client, index_request).status_code == 401
        assert not SimulationJob.objects.exists()


class TestBadIndexRequest:
    @pytest.mark.parametrize(
        "change, path, words",
        [
            ({"casino": None}, "casino", "required"),
            ({"plays": ["illustrious19"]}, "plays[0]", "unknown preset"),
            ({"shoes": 0}, "shoes", "1..100000000"),
            (
                {"plays": [{"hand": "16", "vs": "10", "actions": ["H", "R"]}]},
                "plays[0].actions[1]",
                "surrender",
            ),
            ({"plays": ["fab4"]}, "plays[0].actions[1]", "surrender (preset fab4)"),
            ({"name": 5}, "name", "not a string"),
            ({"turbo": True}, "turbo", ""),
        ],
        ids=[
            "no casino",
            "unknown preset",
            "no shoes",
            "surrender",
            "preset fab4",
            "name",
            "unknown",
        ],
    )
    def test_it_names_the_path_and_the_reason(
        self, alice_client, index_request, change, path, words
    ):
        body = {**index_request, **change}
        if change.get("casino", "") is None:
            del body["casino"]
        response = post(alice_client, body)
        assert response.status_code == 400, response.json()
        assert response.json()["detail"] == "The index request is invalid."
        errors = response.json()["errors"]
        # Named once, however many plays of a preset share the fault.
        assert [error["path"] for error in errors] == [path], errors
        assert words in errors[0]["reason"] and errors[0]["reason"]
        assert not SimulationJob.objects.exists()

    def test_more_shoes_than_job_max_shoes_is_refused_naming_the_limit(
        self, alice_client, index_request, settings
    ):
        settings.JOB_MAX_SHOES = 1000
        response = post(alice_client, {**index_request, "shoes": 1001})
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["path"] == "shoes" and "JOB_MAX_SHOES" in error["reason"]
        assert post(alice_client, {**index_request, "shoes": 1000}).status_code == 202

    def test_the_engine_info_states_the_shoe_limits(self, alice_client, settings):
        settings.JOB_MAX_SHOES = 1234
        limits = alice_client.get("/api/engine/").json()["limits"]
        assert limits["JOB_MAX_SHOES"] == 1234
        assert limits["JOB_SHARD_SHOES"] == settings.JOB_SHARD_SHOES

    @pytest.mark.parametrize("body", [[1, 2], "plays", None])
    def test_a_body_that_is_not_an_object_is_400(self, alice_client, body):
        response = post(alice_client, body)
        assert response.status_code == 400
        assert not SimulationJob.objects.exists()


class TestLimits:
    def test_a_retry_with_the_same_idempotency_key_gives_one_job(self, alice_client, index_request):
        first = post(alice_client, index_request, HTTP_IDEMPOTENCY_KEY="idx-1")
        again = post(alice_client, index_request, HTTP_IDEMPOTENCY_KEY="idx-1")
        assert first.status_code == again.status_code == 202
        assert first.json() == again.json()
        assert SimulationJob.objects.count() == 1

    def test_the_same_key_with_another_request_is_422(self, alice_client, index_request):
        post(alice_client, index_request, HTTP_IDEMPOTENCY_KEY="idx-1")
        other = post(alice_client, {**index_request, "shoes": 60}, HTTP_IDEMPOTENCY_KEY="idx-1")
        assert other.status_code == 422
        assert SimulationJob.objects.count() == 1

    def test_index_jobs_count_against_the_active_job_quota(
        self, alice_client, index_request, settings
    ):
        settings.JOB_MAX_ACTIVE_PER_USER = 1
        assert post(alice_client, index_request).status_code == 202
        refused = post(alice_client, index_request)
        assert refused.status_code == 429 and "JOB_MAX_ACTIVE_PER_USER" in refused.json()["detail"]


class TestOthersCannotReadAlicesIndexJob:
    @pytest.mark.parametrize("persona", ["bob_client", "charlie_client"])
    @pytest.mark.parametrize("url", ["/api/status/{}/", "/api/results/{}/", "/api/jobs/{}/"])
    def test_reads_are_404(self, request, alice_index_job, persona, url):
        client = request.getfixturevalue(persona)
        assert client.get(url.format(alice_index_job.id)).status_code == 404

    @pytest.mark.parametrize("persona", ["bob_client", "charlie_client"])
    def test_cancel_is_404_and_the_job_goes_on(self, request, alice_index_job, persona):
        client = request.getfixturevalue(persona)
        assert client.post(f"/api/jobs/{alice_index_job.id}/cancel/").status_code == 404
        alice_index_job.refresh_from_db()
        assert alice_index_job.status == JobStatus.PENDING

    def test_charlies_job_list_is_empty(self, charlie_client, alice_index_job):
        assert charlie_client.get("/api/jobs/").json()["results"] == []


class TestAliceReadsHerIndexJob:
    def test_status_counts_shoes(self, alice_client, alice_index_job):
        body = alice_client.get(f"/api/status/{alice_index_job.id}/").json()
        assert body["status"] == "PENDING"
        assert body["progress"]["rounds_total"] == 50

    def test_the_list_and_the_detail_say_its_kind(self, alice_client, alice_index_job, alice_job):
        listed = alice_client.get("/api/jobs/").json()["results"]
        assert {row["job_id"]: row["kind"] for row in listed} == {
            str(alice_index_job.id): "indices",
            str(alice_job.id): "simulation",
        }
        only = alice_client.get("/api/jobs/?kind=indices").json()["results"]
        assert [row["job_id"] for row in only] == [str(alice_index_job.id)]
        detail = alice_client.get(f"/api/jobs/{alice_index_job.id}/").json()
        assert detail["kind"] == "indices" and detail["config"] == alice_index_job.request_data

    def test_an_unknown_kind_in_the_list_query_is_400(self, alice_client):
        response = alice_client.get("/api/jobs/?kind=poker")
        assert response.status_code == 400 and paths(response) == ["kind"]

    def test_cancel_stops_it_and_its_shards(self, alice_client, alice_index_job):
        response = alice_client.post(f"/api/jobs/{alice_index_job.id}/cancel/")
        assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
        assert set(alice_index_job.shards.values_list("status", flat=True)) == {"CANCELLED"}
        results = alice_client.get(f"/api/results/{alice_index_job.id}/").json()
        assert results["status"] == "CANCELLED" and results["results"] is None

    def test_results_are_null_until_complete_then_the_result_document(
        self, alice_client, alice_index_job
    ):
        url = f"/api/results/{alice_index_job.id}/"
        assert alice_client.get(url).json()["results"] is None
        with mock.patch.object(broker_services, "send_task"):
            for pk in JobShard.objects.filter(job=alice_index_job).values_list("id", flat=True):
                run_shard(pk, worker="test")
        body = alice_client.get(url).json()
        assert body["status"] == "COMPLETE", body
        request = indices.normalize_index_request(alice_index_job.resolved_config)
        parts = [
            indices.run_index_shard_spec(request, 7, spec)
            for spec in indices.plan_index_shards(request, 20)
        ]
        expected = indices.index_results(request, indices.merge(parts))
        assert [play["hand"] for play in body["results"]["indices"]] == ["insurance", "16"]
        assert body["results"].keys() == expected.keys()
        assert body["results"]["indices"][1]["curve"] == expected["indices"][1]["curve"]
