"""The dashboard in a real browser (Chromium) against the Procfile's web and worker."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import STAFF_PASSWORD, log_in, make_user

pytestmark = pytest.mark.browser

# The first job in a fresh worker may compile the engine's kernel (numba) before it runs.
JOB_TIMEOUT_MS = 300_000


def expect():
    from playwright.sync_api import expect

    return expect


def set_config(page, config: dict | str) -> None:
    text = config if isinstance(config, str) else json.dumps(config, indent=2)
    page.get_by_label("Simulation config (JSON)").fill(text)


def submit_and_get_id(page) -> str:
    page.get_by_role("button", name="Submit", exact=True).click()
    submitted = page.locator("#runner-output code")
    expect()(submitted).to_have_text(re.compile(r"[0-9a-f-]{36}"))
    return submitted.inner_text()


class TestRunner:
    def test_staff_run_the_master_simulation_and_read_its_page(
        self, page, web, celery_worker, staff, screenshots
    ):
        log_in(page, web, "stella", STAFF_PASSWORD)
        expect()(page.get_by_role("heading", name="Raw JSON Runner")).to_be_visible()
        set_config(page, "{}")
        page.get_by_role("button", name="Load master simulation").click()
        assert (
            json.loads(page.get_by_label("Simulation config (JSON)").input_value())["casino"]
            == "master_casino"
        )

        job_id = submit_and_get_id(page)
        panel = page.locator("#live-status")
        expect()(panel.get_by_role("progressbar")).to_be_visible()
        expect()(panel.locator('[data-field="status"]')).to_have_text(
            "COMPLETE", timeout=JOB_TIMEOUT_MS
        )
        expect()(panel.locator('[data-field="rounds"]')).to_have_text("100,000 of 100,000 rounds")
        page.screenshot(path=str(screenshots / "runner.png"), full_page=True)

        page.get_by_role("link", name="Open the job page").click()
        page.wait_for_url(f"**/dashboard/jobs/{job_id}/")
        summary = page.locator("#summary")
        expect()(summary).to_contain_text("Edge (95% interval)")
        expect()(summary).to_contain_text("SCORE")  # the master player counts
        bankroll = page.locator("#bankroll-chart svg")
        expect()(bankroll).to_be_visible()
        points = bankroll.locator("polyline").get_attribute("points").split()
        assert len(points) == 1000  # the engine's bankroll_path, every point drawn
        ev = page.locator("#ev-chart svg")
        expect()(ev).to_be_visible()
        assert ev.locator("circle").count() >= 5  # one per true count seen
        assert ev.locator("line.errorbar").count() == ev.locator("circle").count()
        expect()(page.get_by_role("link", name="raw results JSON")).to_be_visible()
        page.screenshot(path=str(screenshots / "job.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=str(screenshots / "job-phone.png"), full_page=True)
        # Nothing wider than the phone's screen but what scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1280, "height": 900})

        with page.expect_download() as download:
            page.get_by_role("link", name="raw results JSON").click()
        with open(download.value.path()) as handle:
            assert json.load(handle)["rounds_played"] == 100_000

    def test_a_bad_config_shows_each_problem_with_its_path(self, page, web, staff, screenshots):
        log_in(page, web, "stella", STAFF_PASSWORD)
        set_config(
            page,
            {
                "casino": "no_such_casino",
                "num_rounds": -5,
                "players": [{"profile": "master_player", "betting_strategy": {"bet_ramp": 3}}],
            },
        )
        page.get_by_role("button", name="Validate").click()
        problems = page.locator("#runner-output ul.problems li")
        expect()(problems.first).to_be_visible()
        paths = problems.locator("code").all_inner_texts()
        assert "casino" in paths and "num_rounds" in paths, paths
        assert any(path.startswith("players[0].betting_strategy") for path in paths), paths
        page.screenshot(path=str(screenshots / "runner-problems.png"), full_page=True)

    def test_a_json_syntax_error_names_its_line_and_column(self, page, web, staff):
        log_in(page, web, "stella", STAFF_PASSWORD)
        set_config(page, '{\n  "casino": "master_casino",\n  "num_rounds": 10,,\n}')
        page.get_by_role("button", name="Validate").click()
        expect()(page.locator('#runner-output [data-kind="syntax"]')).to_contain_text(
            "line 3, column 20"
        )

    def test_validate_shows_the_normalised_config(self, page, web, staff):
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.get_by_role("button", name="Validate").click()
        expect()(page.locator("#runner-output")).to_contain_text("Valid.")
        expect()(page.locator("#runner-output pre")).to_contain_text('"reshuffle_penetration"')

    def test_the_picker_inserts_a_default_profile(self, page, web, staff):
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.get_by_label("Profile").select_option("casinos:single_deck_6to5")
        page.get_by_role("button", name="Insert").click()
        config = json.loads(page.get_by_label("Simulation config (JSON)").input_value())
        assert config["casino"]["name"] == "single_deck_6to5"


class TestCancel:
    def test_a_long_job_cancelled_from_its_page_ends_cancelled_and_the_worker_goes_on(
        self, page, web, celery_worker, staff, screenshots
    ):
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.get_by_role("button", name="Load master simulation").click()
        config = json.loads(page.get_by_label("Simulation config (JSON)").input_value())
        config["num_rounds"] = 500_000_000  # only the cancel ends it
        set_config(page, config)
        job_id = submit_and_get_id(page)

        page.goto(f"{web}/dashboard/jobs/{job_id}/")
        status = page.locator('#live-status [data-field="status"]')
        expect()(status).to_have_text("RUNNING", timeout=JOB_TIMEOUT_MS)
        expect()(page.locator('#live-status [data-field="rate"]')).to_contain_text(
            "rounds/s", timeout=JOB_TIMEOUT_MS
        )
        expect()(page.locator('#live-status [data-field="eta"]')).to_contain_text("left")
        # The script refreshes the status, so the page does not ask for a reload.
        expect()(page.locator('#live-status [data-field="no-script"]')).to_be_hidden()
        page.screenshot(path=str(screenshots / "job-running.png"), full_page=True)
        page.get_by_role("button", name="Cancel").click()
        expect()(page.locator(".message")).to_have_text("Job cancelled.")
        expect()(page.locator(".facts")).to_contain_text("CANCELLED")
        expect()(page.get_by_role("button", name="Cancel")).to_be_hidden()

        # The worker is free again: the next job runs to the end.
        page.goto(f"{web}/dashboard/")
        set_config(page, {**config, "num_rounds": 5000})
        submit_and_get_id(page)
        expect()(page.locator('#live-status [data-field="status"]')).to_have_text(
            "COMPLETE", timeout=JOB_TIMEOUT_MS
        )
        page.goto(f"{web}/dashboard/jobs/?status=CANCELLED")
        expect()(page.locator("table.history tbody tr")).to_have_count(1)


class TestWhoGetsIn:
    def test_an_anonymous_visitor_gets_the_login_page(self, page, web, transactional_db):
        for path in ("/dashboard/", "/dashboard/jobs/"):
            page.goto(f"{web}{path}")
            expect()(page.get_by_role("heading", name="Log in")).to_be_visible()
            assert "/dashboard/login/" in page.url
            expect()(page.locator("textarea")).to_have_count(0)

    def test_a_user_who_is_not_staff_gets_the_login_page(
        self, page, web, transactional_db, django_user_model
    ):
        make_user(django_user_model, "alice", "alice-password-123", is_staff=False)
        log_in(page, web, "alice", "alice-password-123")
        expect()(page.locator("ul.problems")).to_contain_text(
            "Enter the username and password of a staff account"
        )
        page.goto(f"{web}/dashboard/jobs/")
        expect()(page.get_by_role("heading", name="Log in")).to_be_visible()

    def test_logout_returns_to_the_login_page(self, page, web, staff):
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.get_by_role("button", name="Log out").click()
        expect()(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.goto(f"{web}/dashboard/")
        expect()(page.get_by_role("heading", name="Log in")).to_be_visible()


class TestWithoutJavaScript:
    def test_validate_and_submit_work_as_plain_forms(self, browser, web, staff):
        context = browser.new_context(java_script_enabled=False)
        try:
            page = context.new_page()
            log_in(page, web, "stella", STAFF_PASSWORD)
            page.get_by_role("button", name="Validate").click()
            expect()(page.locator("#runner-output")).to_contain_text("Valid.")
            page.get_by_role("button", name="Submit", exact=True).click()
            page.wait_for_url(re.compile(r".*/dashboard/jobs/[0-9a-f-]{36}/$"))
            expect()(page.locator("body")).to_contain_text("reload the page")
        finally:
            context.close()
