"""GET /api/jobs/ and /api/jobs/<id>/: the caller's own jobs, newest first, paginated."""

from datetime import timedelta

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
