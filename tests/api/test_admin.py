"""/admin/: SimulationJob is registered, so an operator can read and filter the ledger;
no lookup or form value turns into a 500."""

import pytest

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
