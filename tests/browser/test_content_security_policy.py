"""Every page a browser opens (the dashboard, the admin, the API docs, the browsable API)
works under the Content-Security-Policy, and Chromium reports no violation of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.conftest import STAFF_PASSWORD, log_in, make_user

pytestmark = pytest.mark.browser

JOB_TIMEOUT_MS = 300_000
# Chromium fires this event for each thing the policy blocks; the listener is installed
# through the DevTools protocol (add_init_script), which the policy does not govern.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def expect() -> Any:
    from playwright.sync_api import expect

    return expect


def watch_violations(page: Any) -> list[str]:
    """Every CSP violation the page reports from now on (Chromium's own console line, or
    the event's), as text."""
    found: list[str] = []

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            found.append(message.text)

    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", on_console)
    return found


def open_page(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.fixture
def superuser(staff) -> Any:
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


@pytest.fixture
def alice_job_live(transactional_db, django_user_model, master_config) -> Any:
    """A finished job of alice's, committed where the live web process reads it."""
    from simulator.models import JobStatus, SimulationJob

    alice = make_user(django_user_model, "alice", "alice-password-123", is_staff=False)
    return SimulationJob.objects.create(
        owner=alice, status=JobStatus.CANCELLED, request_data=master_config, rounds_total=500
    )


class TestNoViolation:
    def test_the_dashboard_runs_a_job_with_its_charts_and_no_violation(
        self, page, web, celery_worker, superuser
    ):
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        expect()(page.get_by_role("heading", name="Raw JSON Runner")).to_be_visible()
        # Two players, so the charts draw a legend; short, so it finishes quickly.
        page.get_by_label("Profile").select_option("simulations:rich_and_poor_h17")
        page.get_by_role("button", name="Insert").click()
        editor = page.get_by_label("Simulation config (JSON)")
        config = json.loads(editor.input_value())
        config["num_rounds"] = 20_000
        editor.fill(json.dumps(config, indent=2))
        # The page's script validates through the API (fetch) and shows the answer.
        page.get_by_role("button", name="Validate").click()
        expect()(page.locator("#runner-output")).to_contain_text("Valid.")
        page.get_by_role("button", name="Submit", exact=True).click()
        panel = page.locator("#live-status")
        expect()(panel.locator('[data-field="status"]')).to_have_text(
            "COMPLETE", timeout=JOB_TIMEOUT_MS
        )
        page.get_by_role("link", name="Open the job page").click()
        page.wait_for_url(re.compile(r".*/dashboard/jobs/[0-9a-f-]{36}/$"))
        # The styles applied (the inline stylesheet ran): the topbar is laid out as flex.
        topbar = page.locator("header.topbar")
        assert topbar.evaluate("e => getComputedStyle(e).display") == "flex"
        # The series colours reach the chart (SVG attributes, not style="").
        legend = page.locator("#bankroll-chart ul.legend li")
        expect()(legend).to_have_count(2)
        line = page.locator("#bankroll-chart g.series polyline").first
        assert line.evaluate("e => getComputedStyle(e).stroke") != "none"
        swatch = legend.first.locator("rect")
        assert swatch.evaluate("e => getComputedStyle(e).fill").startswith("rgb(")
        page.goto(f"{web}/dashboard/jobs/")
        expect()(page.locator("table.history tbody tr")).to_have_count(1)
        assert violations == []

    def test_the_admin_runs_with_no_violation(self, page, web, superuser, alice_job_live):
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        open_page(page, f"{web}/admin/")
        expect()(page.locator("#site-name")).to_be_visible()
        open_page(page, f"{web}/admin/simulator/simulationjob/")
        expect()(page.locator("#result_list tbody tr")).to_have_count(1)
        # The admin's own scripts run: the action checkbox selects the row.
        page.locator("#action-toggle").check()
        expect()(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
        open_page(page, f"{web}/admin/simulator/simulationjob/{alice_job_live.id}/change/")
        expect()(page.locator("#id_request_data")).to_be_visible()
        # The date widgets (calendar and clock links) are drawn by the admin's script.
        open_page(page, f"{web}/admin/simulator/simulationjob/add/")
        expect()(page.locator(".datetimeshortcuts").first).to_be_visible()
        assert violations == []

    def test_the_api_docs_render_with_no_violation(self, page, web, transactional_db):
        violations = watch_violations(page)
        open_page(page, f"{web}/api/docs/")
        # Swagger UI (its bundle and the page's nonce'd init script) drew the schema.
        expect()(page.locator(".swagger-ui .info .title")).to_contain_text("JOST Cloud API")
        expect()(page.locator(".opblock").first).to_be_visible()
        assert violations == []

    def test_the_browsable_api_renders_with_no_violation(self, page, web, superuser):
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        open_page(page, f"{web}/api/jobs/")
        expect()(page.locator(".response-info")).to_contain_text('"count"')
        assert violations == []

    def test_an_inline_script_without_the_nonce_is_blocked_and_reported(self, page, web, staff):
        # The check above can fail: a script the page did not mark is refused, and seen.
        violations = watch_violations(page)
        log_in(page, web, "stella", STAFF_PASSWORD)
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = true'; document.body.append(s); }"
        )
        expect()(page.locator("body")).to_be_visible()
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.injected === undefined")
        assert violations and "script-src" in violations[0]
