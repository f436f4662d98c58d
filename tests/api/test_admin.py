"""/admin/: SimulationJob and JobShard are registered, so an operator can read and filter
the ledger and see every shard of a split job;
no lookup or form value turns into a 500."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from simulator.models import SimulationJob


class TestAdmin:
    def test_a_superuser_sees_the_jobs(self, admin_client, alice_job):
        response = admin_client.get("/admin/simulator/simulationjob/")
        assert response.status_code == 200
        assert str(alice_job.id) in response.content.decode()

    def test_the_job_page_opens(self, admin_client, alice_job):
        assert (
            admin_client.get(f"/admin/simulator/simulationjob/{alice_job.id}/change/").status_code
            == 200
        )

    def test_the_job_page_reads_owner_and_request_before_the_claim(self, admin_client, alice_job):
        page = admin_client.get(f"/admin/simulator/simulationjob/{alice_job.id}/change/")
        html = page.content.decode()
        order = [
            html.index(f"field-{name}") for name in ("owner", "status", "request_data", "claim")
        ]
        assert order == sorted(order)

    def test_the_list_filters_by_priority_and_the_page_shows_it_read_only(
        self, admin_client, alice, bob, master_config
    ):
        from django.contrib.auth.models import Group

        from simulator.services.submit import submit_job

        # What an operator does on alice's user page: Groups, "priority".
        alice.groups.add(Group.objects.get_or_create(name="priority")[0])
        alices, bobs = submit_job(alice, master_config), submit_job(bob, master_config)
        html = admin_client.get("/admin/simulator/simulationjob/?priority__exact=1").content
        assert str(alices.id) in html.decode() and str(bobs.id) not in html.decode()
        page = admin_client.get(f"/admin/simulator/simulationjob/{alices.id}/change/")
        assert 'name="priority"' not in page.content.decode()  # shown, not a form field
        assert "field-priority" in page.content.decode()

    def test_the_list_shows_each_jobs_kind_and_filters_by_it(self, admin_client, alice, alice_job):
        from simulator.services.submit import submit_index_job

        request = {"casino": "vegas_6d_s17_das", "plays": ["insurance"], "shoes": 10}
        index_job = submit_index_job(alice, request)
        everything = admin_client.get("/admin/simulator/simulationjob/").content.decode()
        assert 'class="field-kind">Index generator<' in everything
        assert 'class="field-kind">Simulation<' in everything
        page = admin_client.get("/admin/simulator/simulationjob/?kind__exact=indices")
        html = page.content.decode()
        assert str(index_job.id) in html and str(alice_job.id) not in html

    def test_alice_without_staff_rights_is_sent_to_log_in(self, client, alice, alice_job):
        client.force_login(alice)
        response = client.get("/admin/simulator/simulationjob/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_the_home_page_points_to_the_api(self, client, db):
        response = client.get("/")
        assert response.status_code == 200 and b"/api/jobs/" in response.content


def _split_job(owner, shards: int = 3) -> SimulationJob:
    """A running split job as workers leave it: shard 0 stored, 1 running on host-b,
    2 back in the queue after its worker died (its second attempt to come)."""
    from simulator.models import JobShard, JobStatus

    job = SimulationJob.objects.create(
        owner=owner,
        request_data={"num_rounds": 3000},
        status=JobStatus.RUNNING,
        rounds_total=3000,
        shards_total=shards,
        shard_rounds=1000,
    )
    for index in range(shards):
        JobShard.objects.create(job=job, index=index, rounds=1000)
    JobShard.objects.filter(job=job, index=0).update(
        status=JobStatus.COMPLETE,
        claimed_by="w0@host-a:1:2",
        attempts=1,
        rounds_done=1000,
        stats={"format": 1, "big": "x" * 1000},
        wall_seconds=1.5,
    )
    JobShard.objects.filter(job=job, index=1).update(
        status=JobStatus.RUNNING,
        claimed_by="w1@host-b:3:4",
        attempts=1,
        rounds_done=400,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    JobShard.objects.filter(job=job, index=2).update(status=JobStatus.PENDING, attempts=2)
    return job


class TestJobShardAdmin:
    """Shards in sight: every shard listed with its state, worker, attempts and run time,
    filtered by state, searched by its job's id, and linked both ways with the job."""

    def test_the_shard_list_shows_state_worker_attempts_and_rounds(self, admin_client, alice):
        job = _split_job(alice)
        html = admin_client.get("/admin/simulator/jobshard/").content.decode()
        assert html.count(f">{job.id}</a>") == 3
        assert "w0@host-a:1:2" in html and "w1@host-b:3:4" in html
        assert 'class="field-attempts">2<' in html
        assert 'class="field-rounds_done">400<' in html
        assert 'class="field-wall_seconds">1.5<' in html

    def test_a_stuck_and_a_retried_shard_are_marked_and_filtered(self, admin_client, alice):
        from simulator.models import JobShard

        job = _split_job(alice)
        an_hour_ago = timezone.now() - timedelta(hours=1)
        JobShard.objects.filter(job=job, index=0).update(
            status="RUNNING", heartbeat_at=an_hour_ago, started_at=an_hour_ago
        )
        html = admin_client.get("/admin/simulator/jobshard/").content.decode()
        assert "stuck: no heartbeat for 1 h 00 min" in html
        assert "retried: attempt 2" in html
        stuck = admin_client.get("/admin/simulator/jobshard/?mark=stuck").content.decode()
        assert "w0@host-a:1:2" in stuck and "w1@host-b:3:4" not in stuck
        retried = admin_client.get("/admin/simulator/jobshard/?mark=retried").content.decode()
        assert "retried: attempt 2" in retried and "w0@host-a:1:2" not in retried

    def test_a_running_shard_shows_its_time_so_far(self, admin_client, alice):
        _split_job(alice)
        html = admin_client.get("/admin/simulator/jobshard/").content.decode()
        assert re.search(r'class="field-run_time">\d+\.\d s so far<', html)
        assert 'class="field-run_time">1.5 s<' in html

    def test_it_filters_by_state(self, admin_client, alice):
        _split_job(alice)
        html = admin_client.get("/admin/simulator/jobshard/?status__exact=RUNNING").content.decode()
        assert "w1@host-b:3:4" in html and "w0@host-a:1:2" not in html

    def test_it_finds_a_jobs_shards_by_the_job_id(self, admin_client, alice):
        job, other = _split_job(alice), _split_job(alice)
        html = admin_client.get(f"/admin/simulator/jobshard/?q={job.id}").content.decode()
        assert str(job.id) in html and str(other.id) not in html

    def test_the_jobs_link_lists_its_shards_alone(self, admin_client, alice):
        job, other = _split_job(alice), _split_job(alice)
        page = admin_client.get(f"/admin/simulator/jobshard/?job__id__exact={job.id}")
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count(f">{job.id}</a>") == 3 and str(other.id) not in html

    def test_the_list_never_reads_the_stored_statistics(self, admin_client, alice):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        _split_job(alice)
        with CaptureQueriesContext(connection) as queries:
            admin_client.get("/admin/simulator/jobshard/")
        reads = [q["sql"] for q in queries if 'FROM "simulator_jobshard"' in q["sql"]]
        assert reads and not any('"simulator_jobshard"."stats"' in sql for sql in reads)

    def test_a_shard_is_shown_read_only(self, admin_client, alice):
        from simulator.models import JobShard

        shard = JobShard.objects.get(job=_split_job(alice), index=0)
        url = f"/admin/simulator/jobshard/{shard.pk}/change/"
        page = admin_client.get(url)
        assert page.status_code == 200 and "w0@host-a:1:2" in page.content.decode()
        assert admin_client.post(url, {"status": "PENDING"}).status_code == 403
        assert admin_client.get("/admin/simulator/jobshard/add/").status_code == 403
        shard.refresh_from_db()
        assert shard.status == "COMPLETE"

    def test_the_job_page_lists_its_shards_inline_and_links_the_list(self, admin_client, alice):
        job = _split_job(alice)
        html = admin_client.get(f"/admin/simulator/simulationjob/{job.id}/change/").content.decode()
        assert "w0@host-a:1:2" in html and "w1@host-b:3:4" in html
        assert "retried: attempt 2" in html
        assert f"/admin/simulator/jobshard/?job__id__exact={job.id}" in html
        assert "x" * 1000 not in html  # the statistics stay on the shard's own page

    def test_a_job_with_thousands_of_shards_links_them_instead(
        self, admin_client, alice, monkeypatch
    ):
        from simulator import admin as simulator_admin

        monkeypatch.setattr(simulator_admin, "SHARD_INLINE_ROWS", 2)
        job = _split_job(alice)
        html = admin_client.get(f"/admin/simulator/simulationjob/{job.id}/change/").content.decode()
        assert "w1@host-b:3:4" not in html
        assert f"/admin/simulator/jobshard/?job__id__exact={job.id}" in html

    def test_saving_a_split_job_in_the_admin_leaves_its_shards_alone(self, admin_client, alice):
        from simulator.models import JobShard

        job = _split_job(alice)
        url = f"/admin/simulator/simulationjob/{job.id}/change/"
        form = admin_client.get(url).context["adminform"].form
        data = {
            name: form.initial.get(name) if form.initial.get(name) is not None else ""
            for name in form.fields
        }
        for name in ("request_data", "resolved_config", "result_data"):
            value = form.initial.get(name)
            data[name] = "" if value is None else json.dumps(value)
        data.update(
            {
                "name": "renamed",
                "shards-TOTAL_FORMS": "3",
                "shards-INITIAL_FORMS": "3",
                "shards-MIN_NUM_FORMS": "0",
                "shards-MAX_NUM_FORMS": "1000",
            }
        )
        for n, shard in enumerate(JobShard.objects.filter(job=job).order_by("index")):
            data[f"shards-{n}-id"] = str(shard.pk)
            data[f"shards-{n}-job"] = str(job.id)
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert SimulationJob.objects.get(id=job.id).name == "renamed"
        assert list(
            JobShard.objects.filter(job=job).order_by("index").values_list("status", "attempts")
        ) == [("COMPLETE", 1), ("RUNNING", 1), ("PENDING", 2)]

    def test_alice_without_staff_rights_is_sent_to_log_in(self, client, alice):
        _split_job(alice)
        client.force_login(alice)
        response = client.get("/admin/simulator/jobshard/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


class TestAdminLogin:
    """/admin/login/ checks passwords through the same guard as the token and the
    dashboard: failures counted per address and per username, a 429 page past either."""

    @staticmethod
    def _log_in(client, username: str, password: str, address: str = "10.0.0.1"):
        return client.post(
            "/admin/login/",
            {"username": username, "password": password, "next": "/admin/"},
            REMOTE_ADDR=address,
        )

    def test_past_the_limit_it_is_a_429_page_with_retry_after(
        self, client, admin_user, login_limits, login_clock, password_checks
    ):
        login_limits(address="3/minute")
        codes = [self._log_in(client, "admin", "guess").status_code for _ in range(3)]
        assert codes == [200] * 3  # the form again, with its error
        refused = self._log_in(client, "admin", "password")  # admin_user's right password
        assert refused.status_code == 429
        assert refused["Retry-After"] == "15"
        assert "Wait 15 seconds" in refused.content.decode()
        assert len(password_checks) == 3  # the right password was never checked
        assert "_auth_user_id" not in client.session

    def test_past_the_username_limit_another_address_is_refused_too(
        self, client, admin_user, login_limits, login_clock
    ):
        login_limits(username="2/hour")
        self._log_in(client, "admin", "guess", "10.0.0.1")
        self._log_in(client, "admin", "guess", "10.0.0.2")
        refused = self._log_in(client, "admin", "password", "10.0.0.3")
        assert refused.status_code == 429 and refused["Retry-After"] == "1755"

    def test_a_user_not_staff_gets_the_same_error_and_a_count(
        self, client, alice, admin_user, login_limits
    ):
        login_limits(address="2/minute")
        wrong = self._log_in(client, "admin", "guess").content.decode()
        right = self._log_in(client, "alice", "alice-password-123").content.decode()
        error = "Please enter the correct username and password for a staff account."
        assert error in wrong and error in right
        assert self._log_in(client, "admin", "password").status_code == 429

    def test_a_staff_login_gives_its_place_back(self, client, admin_user, login_limits):
        login_limits(address="2/minute")
        for _ in range(4):
            response = self._log_in(client, "admin", "password")
            assert response.status_code == 302 and response["Location"] == "/admin/"
            client.logout()


def _change_form(admin_client, job, **fields: str) -> dict[str, str]:
    """The job's change form as the admin renders it, with `fields` typed over."""
    form = (
        admin_client.get(f"/admin/simulator/simulationjob/{job.id}/change/")
        .context["adminform"]
        .form
    )
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form.initial.get(name))
        data[name] = "" if value is None else str(value)
    return {**data, **fields}


class TestAdminDateHierarchy:
    @pytest.mark.parametrize(
        "query",
        [
            "created_at__year=99999999999",
            "created_at__year=-99999999999",
            "created_at__year=9999",
            "created_at__year=9999&created_at__month=12",
            "created_at__year=9999&created_at__month=12&created_at__day=31",
            "created_at__year=2020&created_at__month=99999999999",
            "created_at__year=2020&created_at__month=1&created_at__day=99999999999",
        ],
    )
    def test_a_date_past_the_calendar_is_the_admins_incorrect_lookup(
        self, admin_client, alice_job, query
    ):
        # The admin's answer to any bad lookup: back to the list with ?e=1.
        response = admin_client.get(f"/admin/simulator/simulationjob/?{query}")
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")

    def test_a_real_year_still_filters(self, admin_client, alice_job):
        year = alice_job.created_at.year
        page = admin_client.get(f"/admin/simulator/simulationjob/?created_at__year={year}")
        assert page.status_code == 200 and str(alice_job.id) in page.content.decode()
        page = admin_client.get(f"/admin/simulator/simulationjob/?created_at__year={year - 1}")
        assert page.status_code == 200 and str(alice_job.id) not in page.content.decode()


class TestAdminJsonFields:
    """A JSON field saved in the admin follows the API's rules (simulator.inputs)."""

    @pytest.mark.parametrize("field", ["request_data", "resolved_config", "result_data"])
    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            ('{"x": NaN}', "x: not a finite number"),
            ('{"x": [Infinity]}', "x[0]: not a finite number"),
            ('{"x": -Infinity}', "x: not a finite number"),
            ('{"x": 1e308}', "x: a number too large"),
            ('{"x": ' + "9" * 400 + "}", "x: a number too large"),
            ('{"x": "a\\u0000b"}', "x: contains a NUL character"),
            ('{"x": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32 levels"),
            ("[" * 100_000 + "]" * 100_000, "Enter a valid JSON."),
            ('{"x": ' + "9" * 5_000 + "}", "Enter a valid JSON."),
        ],
    )
    def test_what_cannot_be_stored_is_the_forms_error(
        self, admin_client, alice_job, field, text, shown
    ):
        before = SimulationJob.objects.get(id=alice_job.id)
        response = admin_client.post(
            f"/admin/simulator/simulationjob/{alice_job.id}/change/",
            _change_form(admin_client, alice_job, **{field: text}),
        )
        assert response.status_code == 200  # the form again, with its error
        errors = response.context["adminform"].form.errors[field]
        assert any(shown in error for error in errors), errors
        after = SimulationJob.objects.get(id=alice_job.id)
        assert getattr(after, field) == getattr(before, field)

    def test_a_valid_change_is_saved(self, admin_client, alice_job):
        response = admin_client.post(
            f"/admin/simulator/simulationjob/{alice_job.id}/change/",
            _change_form(admin_client, alice_job, result_data='{"note": 9223372036854775807}'),
        )
        assert response.status_code == 302
        stored = SimulationJob.objects.get(id=alice_job.id).result_data
        assert stored == {"note": 9223372036854775807}
