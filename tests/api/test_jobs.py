"""GET /api/jobs/ and /api/jobs/<id>/: the caller's own jobs, newest first, paginated."""

from datetime import timedelta

import pytest
from django.utils import timezone

from simulator.models import JobStatus, SimulationJob


def _jobs(owner, count: int) -> list[SimulationJob]:
    now = timezone.now()
    jobs = []
    for i in range(count):
        job = SimulationJob.objects.create(owner=owner, request_data={"n": i}, rounds_total=10)
        # Distinct, known creation times so "newest first" is tested, not assumed.
        SimulationJob.objects.filter(id=job.id).update(
            created_at=now - timedelta(minutes=count - i)
        )
        jobs.append(job)
    return jobs


class TestJobList:
    def test_alice_sees_her_jobs_newest_first(self, alice_client, alice):
        jobs = _jobs(alice, 3)
        body = alice_client.get("/api/jobs/").json()
        assert body["count"] == 3
        assert [row["job_id"] for row in body["results"]] == [str(j.id) for j in reversed(jobs)]

    def test_it_is_paginated(self, alice_client, alice, settings):
        _jobs(alice, 25)
        first = alice_client.get("/api/jobs/").json()
        assert first["count"] == 25 and len(first["results"]) == 20 and first["next"]
        second = alice_client.get(first["next"]).json()
        assert len(second["results"]) == 5 and second["next"] is None

    def test_charlie_sees_nothing_of_alices(self, charlie_client, alice):
        _jobs(alice, 2)
        body = charlie_client.get("/api/jobs/").json()
        assert body["count"] == 0 and body["results"] == []

    def test_bob_sees_only_his_own(self, bob_client, alice, bob):
        _jobs(alice, 2)
        (bobs,) = _jobs(bob, 1)
        body = bob_client.get("/api/jobs/").json()
        assert [row["job_id"] for row in body["results"]] == [str(bobs.id)]

    def test_without_a_token_it_gets_401(self, anon_client):
        assert anon_client.get("/api/jobs/").status_code == 401


class TestJobDetail:
    def test_alice_gets_everything_about_her_job(self, alice_client, alice_job, master_config):
        body = alice_client.get(f"/api/jobs/{alice_job.id}/").json()
        assert body["job_id"] == str(alice_job.id)
        assert body["status"] == "PENDING"
        assert body["config"] == master_config
        assert body["seed"] == alice_job.seed is not None  # what reproduces the run
        assert body["attempts"] == 0
        assert body["results"] is None
        assert body["created_at"] and body["started_at"] is None

    def test_results_appear_when_complete(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.COMPLETE, result_data={"rounds_played": 500}
        )
        assert alice_client.get(f"/api/jobs/{alice_job.id}/").json()["results"] == {
            "rounds_played": 500
        }

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_job):
        assert charlie_client.get(f"/api/jobs/{alice_job.id}/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_job):
        assert anon_client.get(f"/api/jobs/{alice_job.id}/").status_code == 401


class TestJobCreate:
    def test_it_returns_201_with_the_job_and_its_location(self, alice_client, master_config):
        response = alice_client.post("/api/jobs/", master_config, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "PENDING" and body["config"] == master_config
        assert response["Location"] == f"/api/jobs/{body['job_id']}/"
        assert SimulationJob.objects.get(id=body["job_id"]).owner.username == "alice"

    def test_a_bad_config_is_a_400_naming_the_field_and_stores_nothing(self, alice_client):
        response = alice_client.post("/api/jobs/", {"num_rounds": "x"}, format="json")
        assert response.status_code == 400
        assert "num_rounds" in [e["path"] for e in response.json()["errors"]]
        assert not SimulationJob.objects.exists()

    def test_the_configs_name_names_the_job(self, alice_client, master_config):
        response = alice_client.post(
            "/api/jobs/", {**master_config, "name": "  my run "}, format="json"
        )
        assert response.json()["name"] == "my run"

    def test_a_name_over_100_characters_is_a_400(self, alice_client, master_config):
        response = alice_client.post(
            "/api/jobs/", {**master_config, "name": "x" * 101}, format="json"
        )
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["name"]

    def test_without_a_token_it_gets_401(self, anon_client, master_config):
        assert anon_client.post("/api/jobs/", master_config, format="json").status_code == 401


class TestJobListFilters:
    def test_by_status(self, alice_client, alice):
        _pending, running = _jobs(alice, 2)
        SimulationJob.objects.filter(id=running.id).update(status=JobStatus.RUNNING)
        body = alice_client.get("/api/jobs/?status=RUNNING").json()
        assert [row["job_id"] for row in body["results"]] == [str(running.id)]

    def test_by_creation_time(self, alice_client, alice):
        old, middle, new = _jobs(alice, 3)
        middle.refresh_from_db()
        after = middle.created_at.isoformat()
        body = alice_client.get("/api/jobs/", {"created_after": after}).json()
        assert {row["job_id"] for row in body["results"]} == {str(middle.id), str(new.id)}
        body = alice_client.get("/api/jobs/", {"created_before": after}).json()
        assert [row["job_id"] for row in body["results"]] == [str(old.id)]

    def test_by_name_any_case_any_part(self, alice_client, alice):
        first, _second = _jobs(alice, 2)
        SimulationJob.objects.filter(id=first.id).update(name="Hi-Lo six decks")
        body = alice_client.get("/api/jobs/?name=six").json()
        assert [row["job_id"] for row in body["results"]] == [str(first.id)]
        assert body["results"][0]["name"] == "Hi-Lo six decks"

    @pytest.mark.parametrize(
        "query", ["status=DONE", "created_after=yesterday", "name=" + "x" * 101, "name=a%00b"]
    )
    def test_a_bad_filter_is_a_400_naming_it(self, alice_client, query):
        response = alice_client.get(f"/api/jobs/?{query}")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        # The API's one error shape, as for a bad body: each problem with its path.
        body = response.json()
        assert body["detail"] == "The query is invalid."
        assert [problem["path"] for problem in body["errors"]] == [query.split("=")[0]]
        assert all(problem["reason"] for problem in body["errors"])

    def test_bob_never_sees_alices_jobs_through_a_filter(self, bob_client, alice):
        _jobs(alice, 2)
        assert bob_client.get("/api/jobs/?status=PENDING").json()["count"] == 0


class TestJobListQueryCount:
    @staticmethod
    def _queries(client, django_assert_max_num_queries) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/jobs/").status_code == 200
        return len(captured)

    def test_the_query_count_is_the_same_for_1_and_50_jobs(self, alice_client, alice):
        _jobs(alice, 1)
        one = self._queries(alice_client, None)
        _jobs(alice, 49)
        fifty = self._queries(alice_client, None)
        assert one == fifty <= 3, (one, fifty)  # the token with its user, the count, the page


class TestIdempotencyKey:
    @pytest.mark.parametrize(("url", "code"), [("/api/submit/", 202), ("/api/jobs/", 201)])
    def test_a_repeated_key_gives_one_job_and_the_same_body(
        self, alice_client, master_config, url, code
    ):
        first = alice_client.post(url, master_config, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = alice_client.post(url, master_config, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == code
        assert first.content == again.content
        assert SimulationJob.objects.count() == 1

    def test_the_first_body_is_replayed_even_after_the_job_moved_on(
        self, alice_client, master_config
    ):
        first = alice_client.post(
            "/api/jobs/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        SimulationJob.objects.update(status=JobStatus.RUNNING)
        again = alice_client.post(
            "/api/jobs/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert again.json() == first.json()

    def test_the_same_key_with_another_body_is_a_422_saying_so(self, alice_client, master_config):
        alice_client.post("/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k")
        other = {**master_config, "num_rounds": 600}
        response = alice_client.post("/api/submit/", other, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 422
        assert "already used with a different request" in response.json()["detail"]
        assert SimulationJob.objects.count() == 1

    def test_keys_are_per_user(self, alice_client, bob_client, master_config):
        alice_client.post("/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k")
        bobs = bob_client.post(
            "/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert bobs.status_code == 202
        assert SimulationJob.objects.count() == 2

    def test_different_keys_make_different_jobs(self, alice_client, master_config):
        for key in ("a", "b"):
            alice_client.post(
                "/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY=key
            )
        assert SimulationJob.objects.count() == 2

    def test_a_key_is_kept_at_least_a_day(self, alice_client, master_config):
        from datetime import timedelta

        from simulator.models import IdempotencyKey

        alice_client.post("/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k")
        IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
        alice_client.post("/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert SimulationJob.objects.count() == 1

    @pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
    def test_a_malformed_key_is_a_400(self, alice_client, master_config, key):
        response = alice_client.post(
            "/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 400
        assert not SimulationJob.objects.exists()


def test_the_sweep_forgets_idempotency_keys_past_their_ttl(alice_client, master_config, settings):
    from simulator.models import IdempotencyKey
    from simulator.services.submit import purge_idempotency_keys

    alice_client.post("/api/submit/", master_config, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert purge_idempotency_keys() == 0
    IdempotencyKey.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 1)
    )
    assert purge_idempotency_keys() == 1
