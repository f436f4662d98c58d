"""Issue 20's games and bets through the dashboard in Chromium: a Spanish 21 casino with a
progression, picked and submitted in the Raw JSON Runner, run by the Procfile's worker,
its bonuses and capped bets on the job page and in the results."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import STAFF_PASSWORD, log_in
from tests.browser.test_dashboard import JOB_TIMEOUT_MS, expect, set_config, submit_and_get_id

pytestmark = pytest.mark.browser

ROUNDS = 20_000


def test_a_spanish_21_job_with_a_martingale_runs_from_the_runner_and_shows_its_bonuses(
    page, web, celery_worker, staff, screenshots
):
    log_in(page, web, "stella", STAFF_PASSWORD)
    set_config(
        page,
        {
            "casino": "spanish21_6d_h17",
            "num_rounds": ROUNDS,
            "seed": 21,
            "stop_when_broke": False,
            "players": [
                {
                    "bankroll": 1_000_000,
                    "playing_strategy": "perfect_h17_basic_strategy",
                    "betting_strategy": "martingale",
                }
            ],
        },
    )
    job_id = submit_and_get_id(page)
    panel = page.locator("#live-status")
    expect()(panel.locator('[data-field="status"]')).to_have_text(
        "COMPLETE", timeout=JOB_TIMEOUT_MS
    )

    page.get_by_role("link", name="Open the job page").click()
    page.wait_for_url(f"**/dashboard/jobs/{job_id}/")
    heading = page.get_by_role("heading", name="Outcome frequencies")
    frequencies = page.locator("section", has=heading)
    five_card = frequencies.get_by_role("row", name=re.compile(r"^five card 21 "))
    expect()(five_card).to_contain_text(re.compile(r"\d+\.\d\d%"))
    page.screenshot(path=str(screenshots / "spanish21-job.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="raw results JSON").click()
    with open(download.value.path()) as handle:
        results = json.load(handle)
    assert results["rounds_played"] == ROUNDS
    player = results["players"][0]
    # The Spanish game's own counters, and the progression's at the table's limit.
    assert player["counts"]["five_card_21"] > 0
    assert player["counts"]["bets_capped"] > 0
    assert player["average_bet"] > 10
