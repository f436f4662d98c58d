"""The dashboard's pages through Django's test client: staff only, the runner's form works
without JavaScript, the job page shows a result, the history filters and pages."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from simulator.models import JobStatus, Profile, SimulationJob
from simulator.services.submit import submit_job

PAGES = ["/dashboard/", "/dashboard/jobs/"]


def _result(edge: float, rounds: int = 500) -> dict:
    """A results document with the fields the pages read (docs/RESULTS.md)."""
    return {
        "config": {"casino": {"name": "master_casino"}, "num_rounds": rounds},
        "rounds_asked": rounds,
        "rounds_played": rounds,
        "players": [
            {
                "name": "master_player",
                "initial_bankroll": 1000.0,
                "final_bankroll": 1000.0 + edge * 10 * rounds,
                "rounds_played": rounds,
                "total_wagered": 10.0 * rounds,
                "net_gain_loss": edge * 10 * rounds,
                "player_edge": edge,
                "average_bet": 10.0,
                "ev_per_round": edge * 10,
                "sd_per_round": 11.4,
                "ev_per_round_95ci": [edge * 10 - 1.0, edge * 10 + 1.0],
                "risk_of_ruin": 0.01,
                "n0": 1234.5,
                "score": 8.1,
                "frequencies": {"win": 0.43, "loss": 0.48, "push": 0.09, "insurance_won": None},
                "bankroll_path": [[0, 1000.0], [rounds // 2, 990.0], [rounds, 1010.0]],
                "true_count_table": [
                    {
                        "true_count": -1,
                        "rounds": 100,
                        "net": -20.0,
                        "wagered": 1000.0,
                        "ev_per_round": -0.2,
                        "sd_per_round": 11.0,
                        "edge": -0.02,
                    },
                    {
                        "true_count": 0,
                        "rounds": 300,
                        "net": 0.0,
                        "wagered": 3000.0,
                        "ev_per_round": 0.0,
                        "sd_per_round": 11.0,
                        "edge": 0.0,
                    },
                    {
                        "true_count": 2,
                        "rounds": 100,
                        "net": 30.0,
                        "wagered": 2000.0,
                        "ev_per_round": 0.3,
                        "sd_per_round": 22.0,
                        "edge": 0.015,
                    },
                ],
            }
        ],
    }


def _job(owner, master_config, status=JobStatus.COMPLETE, edge=0.01) -> SimulationJob:
    job = submit_job(owner, master_config)
    now = timezone.now()
    SimulationJob.objects.filter(id=job.id).update(
        status=status,
        rounds_done=job.rounds_total if status == JobStatus.COMPLETE else 0,
        started_at=now - timedelta(seconds=3),
        finished_at=now if status != JobStatus.RUNNING else None,
        heartbeat_at=now,
        result_data=_result(edge, job.rounds_total) if status == JobStatus.COMPLETE else None,
    )
    return SimulationJob.objects.get(id=job.id)


class TestWhoGetsIn:
    @pytest.mark.parametrize("page", PAGES)
    def test_an_anonymous_visitor_gets_the_login_page(self, client, page):
        response = client.get(page, follow=True)
        assert response.redirect_chain[-1][0].startswith("/dashboard/login/?next=")
        assert b"Log in" in response.content

    @pytest.mark.parametrize("page", PAGES)
    def test_a_user_who_is_not_staff_gets_the_login_page(self, client, alice, page):
        client.force_login(alice)
        response = client.get(page, follow=True)
        assert response.redirect_chain[-1][0].startswith("/dashboard/login/")
        assert b"not a staff account" in response.content

    def test_a_job_page_is_never_shown_to_a_user_who_is_not_staff(
        self, client, alice, master_config
    ):
        job = _job(alice, master_config)
        client.force_login(alice)  # her own job, but the dashboard is for staff
        for url in (f"/dashboard/jobs/{job.id}/", f"/dashboard/jobs/{job.id}/results.json"):
            response = client.get(url)
            assert response.status_code == 302 and "/dashboard/login/" in response["Location"]

    @pytest.mark.parametrize("page", PAGES)
    def test_staff_get_the_pages(self, staff_client, page):
        assert staff_client.get(page).status_code == 200

    def test_staff_log_in_with_the_form_and_land_on_the_runner(self, client, staff):
        response = client.post(
            "/dashboard/login/", {"username": "stella", "password": "stella-password-123"}
        )
        assert response.status_code == 302 and response["Location"] == "/dashboard/"

    def test_the_right_password_of_a_user_who_is_not_staff_does_not_log_in(self, client, alice):
        response = client.post(
            "/dashboard/login/", {"username": "alice", "password": "alice-password-123"}
        )
        assert response.status_code == 200
        assert b"Enter the username and password of a staff account" in response.content
        assert "_auth_user_id" not in client.session

    def test_logout_is_a_post_with_csrf(self, staff):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(staff)
        page = client.get("/dashboard/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert client.post("/dashboard/logout/").status_code == 403  # no token
        assert client.post("/dashboard/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
        assert client.get("/dashboard/").status_code == 302

    def test_the_home_page_links_to_the_dashboard(self, client):
        assert b'href="/dashboard/"' in client.get("/").content


class TestRunnerWithoutJavaScript:
    def test_it_opens_with_the_master_simulation_and_the_three_buttons(self, staff_client):
        page = staff_client.get("/dashboard/").content.decode()
        assert "master_betting_strategy" in page
        for button in ("Load master simulation", "Validate", "Submit"):
            assert f">{button}</button>" in page
        assert 'id="profile"' in page and "vegas_6d_s17_das" in page  # the picker

    def test_validate_shows_the_normalised_config(self, staff_client, master_config):
        page = staff_client.post(
            "/dashboard/", {"config": json.dumps(master_config), "action": "validate"}
        ).content.decode()
        assert "Valid. The engine will run this" in page
        assert "reshuffle_penetration" in page  # the casino's rules, resolved

    def test_validate_lists_each_problem_with_its_path(self, staff_client, master_config):
        master_config["num_rounds"] = -5
        master_config["casino"] = "no_such_casino"
        page = staff_client.post(
            "/dashboard/", {"config": json.dumps(master_config), "action": "validate"}
        ).content.decode()
        assert "<code>num_rounds</code>" in page and "<code>casino</code>" in page

    def test_a_syntax_error_names_its_line_and_column(self, staff_client):
        page = staff_client.post(
            "/dashboard/", {"config": '{\n  "casino": "x",\n  oops\n}', "action": "validate"}
        ).content.decode()
        assert "JSON syntax error at line 3, column 3" in page

    @pytest.mark.parametrize("action", ["validate", "submit", "insert"])
    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            ("[" * 100_000 + "]" * 100_000, "the document is nested too deeply"),
            ('{"num_rounds": ' + "9" * 5_000 + "}", "a number has more than 4,300 digits"),
        ],
    )
    def test_a_text_no_decoder_follows_is_the_forms_error_not_a_500(
        self, staff_client, action, text, shown
    ):
        response = staff_client.post(
            "/dashboard/", {"config": text, "action": action, "profile": "casinos:ko"}
        )
        assert response.status_code == 200
        assert f"JSON syntax error: {shown}" in response.content.decode()
        assert not SimulationJob.objects.exists()

    @pytest.mark.parametrize("action", ["validate", "submit"])
    def test_nesting_past_the_limit_names_its_path(self, staff_client, master_config, action):
        master_config["notes"] = json.loads("[" * 40 + "]" * 40)
        page = staff_client.post(
            "/dashboard/", {"config": json.dumps(master_config), "action": action}
        ).content.decode()
        assert "nested deeper than 32 levels" in page
        assert not SimulationJob.objects.exists()

    def test_submit_creates_the_job_and_opens_its_page(self, staff_client, staff, master_config):
        response = staff_client.post(
            "/dashboard/", {"config": json.dumps(master_config), "action": "submit"}
        )
        job = SimulationJob.objects.get()
        assert (job.owner, job.request_data) == (staff, master_config)
        assert response.status_code == 302 and response["Location"] == f"/dashboard/jobs/{job.id}/"

    def test_a_bad_config_is_not_submitted(self, staff_client, master_config):
        master_config["num_rounds"] = "lots"
        page = staff_client.post(
            "/dashboard/", {"config": json.dumps(master_config), "action": "submit"}
        ).content.decode()
        assert "<code>num_rounds</code>" in page
        assert not SimulationJob.objects.exists()

    def test_insert_writes_the_profile_data_into_the_config(self, staff_client, master_config):
        import jost_engine

        page = staff_client.post(
            "/dashboard/",
            {
                "config": json.dumps(master_config),
                "action": "insert",
                "profile": "counting_systems:zen",
                "seat": "1",
            },
        ).context
        config = json.loads(page["config_text"])
        zen = jost_engine.defaults()["counting_systems"]["zen"]
        assert config["players"][0]["counting_strategy"] == zen
        assert config["casino"] == master_config["casino"]

    def test_inserting_a_casino_replaces_the_casino(self, staff_client, master_config):
        context = staff_client.post(
            "/dashboard/",
            {
                "config": json.dumps(master_config),
                "action": "insert",
                "profile": "casinos:single_deck_6to5",
            },
        ).context
        assert json.loads(context["config_text"])["casino"]["name"] == "single_deck_6to5"

    def test_the_picker_offers_the_progressions_and_inserts_their_rules(
        self, staff_client, master_config
    ):
        import jost_engine

        page = staff_client.get("/dashboard/").content.decode()
        for name in ("martingale", "paroli", "dalembert", "oscars_grind", "one_three_two_six"):
            assert f'value="betting_strategies:{name}"' in page
        context = staff_client.post(
            "/dashboard/",
            {
                "config": json.dumps(master_config),
                "action": "insert",
                "profile": "betting_strategies:count_paroli",
                "seat": "1",
            },
        ).context
        config = json.loads(context["config_text"])
        betting = config["players"][0]["betting_strategy"]
        assert (
            betting["bet_rules"]
            == jost_engine.defaults()["betting_strategies"]["count_paroli"]["bet_rules"]
        )
        assert jost_engine.normalize_config(config).players[0].betting.rules


class TestJobPage:
    def test_it_shows_the_summary_tables_and_both_charts(self, staff_client, alice, master_config):
        job = _job(alice, master_config, edge=0.0123)
        page = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        assert "alice" in page and "COMPLETE" in page
        assert "+1.230%" in page  # the edge
        for label in ("Net", "Wagered", "Average bet", "SD per round", "Risk of ruin", "SCORE"):
            assert f"<dt>{label}</dt>" in page
        assert page.count("<svg") == 2
        assert "<polyline" in page  # the bankroll path
        assert page.count('class="errorbar"') == 3  # one per true-count row
        assert "Outcome frequencies" in page and "True-count table" in page
        assert "Config as sent" in page and "Config as normalised" in page

    def test_an_unfinished_job_naming_a_saved_profile_shows_the_config_it_runs(
        self, staff_client, alice, master_config
    ):
        Profile.objects.create(
            owner=alice,
            profile_type="casino",
            name="alices table",
            data={"parent": "master_casino", "deck_count": 2},
        )
        job = submit_job(alice, {**master_config, "casino": "alices table"})
        page = staff_client.get(f"/dashboard/jobs/{job.id}/")
        normalized = page.context["normalized_text"]
        assert "The engine refuses" not in normalized
        # What the worker runs: the profile as it was at submit, resolved into the config.
        assert json.loads(normalized) == job.resolved_config
        assert json.loads(normalized)["casino"]["deck_count"] == 2
        Profile.objects.filter(owner=alice).update(data={"deck_count": 8})
        page = staff_client.get(f"/dashboard/jobs/{job.id}/")
        assert json.loads(page.context["normalized_text"])["casino"]["deck_count"] == 2

    def test_the_raw_results_download(self, staff_client, alice, master_config):
        job = _job(alice, master_config)
        response = staff_client.get(f"/dashboard/jobs/{job.id}/results.json")
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        assert response.json() == job.result_data

    def test_a_running_job_shows_progress_and_a_cancel_form(
        self, staff_client, alice, master_config
    ):
        job = _job(alice, master_config, status=JobStatus.RUNNING)
        page = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        assert "<progress" in page
        assert f'action="/dashboard/jobs/{job.id}/cancel/"' in page
        assert "reload the page" in page  # what a visitor without JavaScript is told

    def test_staff_cancel_anyones_job_from_its_page(self, staff_client, alice, master_config):
        job = _job(alice, master_config, status=JobStatus.RUNNING)
        response = staff_client.post(f"/dashboard/jobs/{job.id}/cancel/", follow=True)
        job.refresh_from_db()
        assert job.status == JobStatus.CANCELLED
        assert b"Job cancelled." in response.content

    def test_cancelling_a_finished_job_says_why(self, staff_client, alice, master_config):
        job = _job(alice, master_config)
        response = staff_client.post(f"/dashboard/jobs/{job.id}/cancel/", follow=True)
        assert b"only a PENDING or RUNNING job can be cancelled" in response.content
        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETE

    def test_the_status_endpoint_it_polls(self, staff_client, alice, master_config):
        job = _job(alice, master_config, status=JobStatus.RUNNING)
        body = staff_client.get(f"/dashboard/jobs/{job.id}/status.json").json()
        assert body["status"] == "RUNNING"
        assert {"rounds_done", "rounds_total", "fraction", "rate", "eta_seconds"} <= set(
            body["progress"]
        )

    def test_an_unknown_job_is_404(self, staff_client):
        assert staff_client.get(f"/dashboard/jobs/{uuid.uuid4()}/").status_code == 404


class TestJobHistory:
    def test_staff_see_every_users_jobs_newest_first(self, staff_client, alice, bob, master_config):
        older = _job(alice, master_config, edge=0.015)
        newer = _job(bob, master_config, status=JobStatus.FAILED)
        rows = staff_client.get("/dashboard/jobs/").context["rows"]
        assert [row["job"].id for row in rows] == [newer.id, older.id]
        assert rows[1]["edge"] == "+1.500%"  # extracted by the database
        assert rows[0]["edge"] == "\N{EN DASH}"

    def test_filter_by_status_and_owner(self, staff_client, alice, bob, master_config):
        alices = _job(alice, master_config)
        _job(alice, master_config, status=JobStatus.FAILED)
        _job(bob, master_config)
        rows = staff_client.get("/dashboard/jobs/?status=COMPLETE&owner=alice").context["rows"]
        assert [row["job"].id for row in rows] == [alices.id]

    def test_it_pages_25_at_a_time_keeping_the_filters(self, staff_client, alice, master_config):
        for _ in range(27):
            _job(alice, master_config)
        first = staff_client.get("/dashboard/jobs/?owner=alice")
        assert len(first.context["rows"]) == 25
        assert "owner=alice&amp;page=2" in first.content.decode()
        second = staff_client.get("/dashboard/jobs/?owner=alice&page=2")
        assert len(second.context["rows"]) == 2

    def test_rows_link_to_their_job_pages(self, staff_client, alice, master_config):
        job = _job(alice, master_config)
        assert (
            f'href="/dashboard/jobs/{job.id}/"'
            in staff_client.get("/dashboard/jobs/").content.decode()
        )

    def test_the_result_documents_are_not_loaded(self, staff_client, alice, master_config):
        _job(alice, master_config)
        response = staff_client.get("/dashboard/jobs/")
        (row,) = response.context["rows"]
        # The documents were never read (the first player's edge is read in the database);
        # the SQL alone cannot tell, as the edge's JSON path names the column on SQLite.
        deferred = row["job"].get_deferred_fields()
        assert {"result_data", "request_data", "resolved_config"} <= deferred

    def test_the_query_count_does_not_grow_with_the_jobs(
        self, staff_client, alice, bob, master_config
    ):
        _job(alice, master_config)
        with CaptureQueriesContext(connection) as one:
            staff_client.get("/dashboard/jobs/")
        for i in range(29):
            _job(alice if i % 2 else bob, master_config)
        with CaptureQueriesContext(connection) as thirty:
            staff_client.get("/dashboard/jobs/")
        assert len(thirty) == len(one), [q["sql"] for q in thirty]


class TestFrequencyRows:
    def test_a_spanish_21_result_adds_its_bonus_rows_after_the_common_ones(self):
        from simulator.dashboard.present import BLANK, FREQUENCY_ORDER, frequency_rows

        common = {"win": 0.4, "loss": 0.5}
        spanish = {**common, "five_card_21": 0.0025, "777_spades": 0.0001}
        rows = frequency_rows([{"frequencies": common}, {"frequencies": spanish}])
        assert [name for name, _ in rows[: len(FREQUENCY_ORDER)]] == [
            name.replace("_", " ") for name in FREQUENCY_ORDER
        ]
        assert rows[len(FREQUENCY_ORDER) :] == [
            ("five card 21", [BLANK, "0.25%"]),
            ("777 spades", [BLANK, "0.01%"]),
        ]
