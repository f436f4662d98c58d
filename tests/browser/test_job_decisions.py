"""From numbers to decisions in a real browser (Chromium) against the Procfile's web and
worker: a counting job run from the dashboard, its risk panel, and its Optimal bets."""

from __future__ import annotations

import json
import re
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


def run_counting_job(page: Any, web: str) -> str:
    """Submit a per-count run (one unit flat while counting Hi-Lo: the run optimal bets
    read) from the runner, wait until it is COMPLETE and return its id."""
    config = load_master_config(num_rounds=200_000)
    config["name"] = "per-count"
    config["players"][0]["analysis"] = "per_count"
    page.goto(f"{web}/dashboard/")
    page.get_by_label("Simulation config (JSON)").fill(json.dumps(config, indent=2))
    page.get_by_role("button", name="Submit", exact=True).click()
    submitted = page.locator("#runner-output code")
    expect()(submitted).to_have_text(re.compile(r"[0-9a-f-]{36}"))
    expect()(page.locator('#live-status [data-field="status"]')).to_have_text(
        "COMPLETE", timeout=JOB_TIMEOUT_MS
    )
    return submitted.inner_text()


def fill_limits(page: Any, **values: str) -> None:
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Find the optimal bets").click()


class TestJobDecisions:
    def test_a_counting_jobs_page_has_a_risk_panel_and_leads_to_optimal_bets(
        self, page, browser, web, celery_worker, staff, screenshots
    ):
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        job = run_counting_job(page, web)

        page.goto(f"{web}/dashboard/jobs/{job}/")
        panel = page.locator("#risk-panel")
        expect()(panel).to_be_visible()
        figures = panel.locator(".risks dd").all_inner_texts()
        assert len(figures) == 4, figures
        assert all(re.fullmatch(r"[<>]? ?[\d.e+-]+%", text) for text in figures[:2]), figures
        assert all(re.fullmatch(r"[\d,]+\.\d\d|none: .*", text) for text in figures[2:]), figures
        expect()(panel.get_by_text("Chance of being behind after 100 hours")).to_be_visible()
        page.screenshot(path=str(screenshots / "job-risk-panel.png"), full_page=True)

        page.get_by_role("link", name="Optimal bets", exact=True).click()
        expect()(page.get_by_role("heading", name="Optimal bets", exact=True)).to_be_visible()
        fill_limits(
            page,
            **{
                "Bankroll": "20000",
                "Table minimum": "10",
                "Table maximum": "300",
                "Largest spread (top bet / bottom bet)": "12",
                "Bet unit (chip)": "5",
            },
        )
        table = page.locator("#ramp-table table")
        expect()(table).to_be_visible()
        bets = table.locator("tbody tr td:last-child").all_inner_texts()
        assert len(bets) >= 5, bets
        amounts = [float(b.replace(",", "")) for b in bets]
        assert min(amounts) == 10 and max(amounts) <= 120  # the spread of 12 over 10
        assert all(a % 5 == 0 for a in amounts), amounts  # the unit
        chart = page.locator("#ramp-chart")
        expect()(chart.locator("svg.plot")).to_be_visible()
        assert chart.locator("g.series").count() == 2
        assert chart.locator(".legend li").all_inner_texts() == [
            "Bet (left axis)",
            "Flat edge (right axis)",
        ]
        # The betting_strategy to paste bets what the table says at every count: the tier
        # of the highest threshold at or below it, times the bottom bet.
        strategy = json.loads(page.locator("#strategy-json").input_value())
        counts = [int(c) for c in table.locator("tbody th").all_inner_texts()]
        tiers = sorted((float(k), m) for k, m in strategy["bet_ramp"].items())
        pasted = [strategy["min_bet"] * [m for k, m in tiers if k <= c][-1] for c in counts]
        assert pasted == pytest.approx(amounts), (pasted, amounts)
        expect()(page.locator("#optimal-bets-figures")).to_contain_text("SCORE")
        page.screenshot(path=str(screenshots / "optimal-bets.png"), full_page=True)

        # A bad input: the form's error names the field, the page still stands.
        fill_limits(page, Bankroll="0")
        problems = page.locator("#optimal-bets-problems")
        expect()(problems).to_contain_text("bankroll")
        expect()(page.locator("#ramp-table")).to_have_count(0)
        page.screenshot(path=str(screenshots / "optimal-bets-error.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        fill_limits(page, Bankroll="20000")
        expect()(page.locator("#ramp-table table")).to_be_visible()
        page.screenshot(path=str(screenshots / "optimal-bets-phone.png"), full_page=True)
        # Nothing wider than the phone's screen but what scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert violations == []

        # With scripts off the form is a plain form: a target risk instead of Kelly.
        context = browser.new_context(java_script_enabled=False)
        try:
            plain = context.new_page()
            log_in(plain, web, "stella", STAFF_PASSWORD)
            plain.goto(f"{web}/dashboard/jobs/{job}/optimal-bets/")
            plain.get_by_label("a target risk of ruin").check()
            fill_limits(plain, **{"Bankroll": "20000", "Target risk of ruin (0.05 for 5%)": "0.2"})
            expect()(plain.locator("#ramp-table table")).to_be_visible()
            expect()(plain.locator("#ramp-chart svg.plot")).to_be_visible()
        finally:
            context.close()
