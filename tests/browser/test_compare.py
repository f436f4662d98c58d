"""Runs side by side in a real browser (Chromium) against the Procfile's web and worker:
two jobs run from the dashboard, ticked in the Job History, compared."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import STAFF_PASSWORD, log_in
from tests.browser.test_content_security_policy import watch_violations
from tests.helpers import load_master_config

pytestmark = pytest.mark.browser

# The first job in a fresh worker may compile the engine's kernel (numba) before it runs.
JOB_TIMEOUT_MS = 300_000


def expect() -> Any:
    from playwright.sync_api import expect

    return expect


def run_job(page: Any, web: str, name: str, h17: bool) -> str:
    """Submit the master simulation (a Hi-Lo ramp, so a true-count table) from the runner
    as `name` with H17 or S17, wait until it is COMPLETE and return its id."""
    config = load_master_config(num_rounds=20_000)
    config.update(name=name, seed=7 if h17 else 8)
    config["casino"] = {"parent": "master_casino", "hit_on_soft_17": h17}
    page.goto(f"{web}/dashboard/")
    page.get_by_label("Simulation config (JSON)").fill(json.dumps(config, indent=2))
    page.get_by_role("button", name="Submit", exact=True).click()
    submitted = page.locator("#runner-output code")
    expect()(submitted).to_have_text(re.compile(r"[0-9a-f-]{36}"))
    expect()(page.locator('#live-status [data-field="status"]')).to_have_text(
        "COMPLETE", timeout=JOB_TIMEOUT_MS
    )
    return submitted.inner_text()


def tick_and_compare(page: Any, web: str, *job_ids: str, screenshot: Path | None = None) -> None:
    page.goto(f"{web}/dashboard/jobs/")
    for job_id in job_ids:
        page.get_by_label(f"compare job {job_id}").check()
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_url(re.compile(r".*/dashboard/compare/\?jobs=.*"))


class TestCompare:
    def test_two_ticked_jobs_are_compared_side_by_side_with_overlaid_charts(
        self, page, browser, web, celery_worker, staff, screenshots
    ):
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        s17 = run_job(page, web, "S17", h17=False)
        h17 = run_job(page, web, "H17", h17=True)

        tick_and_compare(page, web, s17, h17, screenshot=screenshots / "history-ticked.png")
        expect()(page.get_by_role("heading", name="Compare jobs")).to_be_visible()
        # The history lists the newest first, so the H17 job is the base.
        table = page.locator("#seat-0 table")
        heads = table.locator("thead tr").first.locator("th").all_inner_texts()
        assert heads[:3] == ["Figure", "#1 H17", "#2 S17"], heads
        assert heads[3] == "#2 S17 \N{MINUS SIGN} #1", heads
        ev = table.locator("tbody tr", has_text="EV per unit")
        cells = ev.locator("td").all_inner_texts()
        assert len(cells) == 5  # two values, then difference, SE, z
        assert all(re.fullmatch(r"[+-]?\d+\.\d{4}", cell) for cell in cells[:4]), cells
        assert re.fullmatch(r"[+-]\d+\.\d\d", cells[4]), cells

        differences = page.locator("#config-differences")
        row = differences.locator("tbody tr", has_text="casino.hit_on_soft_17")
        assert row.locator("td").all_inner_texts() == ["true", "false"]

        bankroll = page.locator("#bankroll-chart")
        expect()(bankroll.locator("svg.plot")).to_be_visible()
        expect()(bankroll.locator("polyline")).to_have_count(2)
        assert bankroll.locator(".legend li").all_inner_texts() == [
            "#1 H17: master_player",
            "#2 S17: master_player",
        ]
        ev_chart = page.locator("#ev-chart")
        expect()(ev_chart.locator("svg.plot")).to_be_visible()
        assert ev_chart.locator("g.series").count() == 2
        assert ev_chart.locator("g.series").nth(1).locator("circle").count() >= 5
        expect()(ev_chart.locator(".legend li")).to_have_count(2)

        link = page.get_by_role("link", name="Download the table as CSV")
        with page.expect_download() as download:
            link.click()
        with open(download.value.path()) as handle:
            header = handle.readline().strip().split(",")
        assert header[3:5] == ["#1 H17", "#2 S17"]

        page.screenshot(path=str(screenshots / "compare.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=str(screenshots / "compare-phone.png"), full_page=True)
        # Nothing wider than the phone's screen but what scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert violations == []

        # The same ticks with scripts off: the history's form is a plain GET form.
        context = browser.new_context(java_script_enabled=False)
        try:
            plain = context.new_page()
            log_in(plain, web, "stella", STAFF_PASSWORD)
            tick_and_compare(plain, web, s17, h17)
            expect()(plain.locator("#config-differences")).to_contain_text("casino.hit_on_soft_17")
        finally:
            context.close()
