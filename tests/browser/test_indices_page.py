"""An index generator job's page in a real browser (Chromium) against the Procfile's web
process: a curve per play with its index marker, and the Copy button putting the
deviations list on the clipboard, under the Content-Security-Policy with no console
error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.dashboard.charts import signed
from tests.browser.conftest import STAFF_PASSWORD, log_in, make_user
from tests.index_jobs import index_result, make_index_job

pytestmark = pytest.mark.browser


def expect() -> Any:
    from playwright.sync_api import expect

    return expect


def console_errors(page: Any) -> list[str]:
    """Every console error (a CSP violation is one) and uncaught exception from now on,
    but for the 404 of the /favicon.ico that Chromium asks for by itself (no page links
    one)."""
    found: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            found.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


@pytest.fixture
def result() -> dict:
    return index_result("page")


@pytest.fixture
def alice_index_job(transactional_db, django_user_model, result) -> Any:
    """A finished index job of alice's, committed where the live web process reads it."""
    alice = make_user(django_user_model, "alice", "alice-password-123", is_staff=False)
    return make_index_job(alice, result=result, name="6D S17 LS <check>")


class TestIndexJobPage:
    def test_it_draws_a_curve_per_play_with_its_marker_and_copies_the_deviations(
        self, page, web, staff, alice_index_job, result, screenshots
    ):
        errors = console_errors(page)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web)
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.goto(f"{web}/dashboard/jobs/{alice_index_job.id}/")
        assert page.title() == "Index generator job 6D S17 LS <check> · JOST Cloud"

        plays = result["indices"]
        charts = page.locator("#index-plays section.index-play")
        expect()(charts).to_have_count(len(plays))
        for n, play in enumerate(plays):
            chart = charts.nth(n)
            expect()(chart.locator("svg.plot")).to_be_visible()
            expect()(chart.locator("svg.plot g.mark")).to_have_count(len(play["curve"]))
            marker = chart.locator("g.index-marker")
            expect()(marker).to_have_count(1)
            # Drawn, and in the colour the stylesheet gives it (no inline style needed).
            line = marker.locator("line")
            assert line.evaluate("e => e.getBoundingClientRect().height") > 100
            assert line.evaluate("e => getComputedStyle(e).stroke") == "rgb(213, 94, 0)"
            expect()(marker.locator("text")).to_have_text(
                f"index {play['index']:+.1f}".replace("+0.0", "0.0")
            )

        table = page.locator("#index-table tbody tr")
        expect()(table).to_have_count(len(plays))
        expect()(table.nth(1).locator('[data-field="index"]')).to_have_text(
            signed(plays[1]["index"], 1)
        )

        # The script revealed the button; a click puts the list on the clipboard.
        copy = page.get_by_role("button", name="Copy")
        expect()(copy).to_be_visible()
        copy.click()
        expect()(page.locator("#deviations-copied")).to_have_text("Copied.")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert json.loads(copied) == result["deviations"]
        page.screenshot(path=str(screenshots / "index-job.png"), full_page=True)

        # The download link gives the same list.
        with page.expect_download() as download:
            page.get_by_role("link", name="deviations.json").click()
        assert json.loads(Path(download.value.path()).read_text()) == result["deviations"]
        assert errors == []
