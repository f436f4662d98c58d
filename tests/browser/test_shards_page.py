"""A running split job's page in Chromium, against the Procfile's web process: its shards
are listed and the list follows the rows as workers change them (the page's script
fetches it again; no reload), with no console error and no Content-Security-Policy
violation. The rows are written here, as workers write them, so each change is known."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import STAFF_PASSWORD, log_in, make_user
from tests.browser.test_content_security_policy import watch_violations
from tests.browser.test_indices_page import console_errors

pytestmark = pytest.mark.browser

# The script refreshes the list every 2 s; a loaded machine gets ten times that.
UPDATE_TIMEOUT_MS = 20_000


def expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def running_split_job(transactional_db, django_user_model) -> Any:
    """Alice's split job of four shards, committed where the live web process reads it:
    shard 0 stored, 1 running on host-a, 2 and 3 waiting."""
    from simulator.models import JobShard, JobStatus, SimulationJob

    alice = make_user(django_user_model, "alice", "alice-password-123", is_staff=False)
    now = timezone.now()
    job = SimulationJob.objects.create(
        owner=alice,
        status=JobStatus.RUNNING,
        request_data={"num_rounds": 4_000_000, "stop_when_broke": False},
        rounds_total=4_000_000,
        rounds_done=1_000_000,
        shards_total=4,
        shard_rounds=1_000_000,
        started_at=now,
        heartbeat_at=now,
    )
    for index in range(4):
        JobShard.objects.create(job=job, index=index, rounds=1_000_000)
    JobShard.objects.filter(job=job, index=0).update(
        status=JobStatus.COMPLETE,
        claimed_by="w0@host-a:10:11",
        attempts=1,
        rounds_done=1_000_000,
        started_at=now - timedelta(seconds=3),
        finished_at=now,
        wall_seconds=3.0,
        engine_seconds=2.75,
    )
    JobShard.objects.filter(job=job, index=1).update(
        status=JobStatus.RUNNING,
        claimed_by="w0@host-a:10:12",
        attempts=1,
        rounds_done=200_000,
        started_at=now,
        heartbeat_at=now,
    )
    return job


def test_a_running_split_jobs_page_follows_its_shards_without_an_error(
    page, web, staff, running_split_job
):
    from simulator.models import JobShard, JobStatus

    violations = watch_violations(page)
    errors = console_errors(page)
    log_in(page, web, "stella", STAFF_PASSWORD)
    page.goto(f"{web}/dashboard/jobs/{running_split_job.id}/")

    shards = page.locator("#shards")
    expect()(shards.get_by_role("heading", name="Shards")).to_be_visible()
    expect()(shards.locator("tbody tr")).to_have_count(4)
    expect()(shards.locator('[data-count="complete"]')).to_have_text("1 of 4 shards complete")
    expect()(shards.locator('tr[data-shard="1"]')).to_have_attribute("data-status", "RUNNING")
    expect()(shards.locator('tr[data-shard="1"] [data-field="worker"]')).to_have_text(
        "w0@host-a:10:12"
    )
    # Marked so the reload below would be noticed: the list must change in place.
    page.evaluate("window.notReloaded = true")

    # Shard 1 is stored; a second worker on host-b takes shard 2; shard 3's first worker
    # died, so it waits for its second attempt.
    now = timezone.now()
    JobShard.objects.filter(job=running_split_job, index=1).update(
        status=JobStatus.COMPLETE, rounds_done=1_000_000, finished_at=now, wall_seconds=2.0
    )
    JobShard.objects.filter(job=running_split_job, index=2).update(
        status=JobStatus.RUNNING,
        claimed_by="w1@host-b:20:21",
        attempts=1,
        rounds_done=300_000,
        started_at=now,
        heartbeat_at=now,
    )
    JobShard.objects.filter(job=running_split_job, index=3).update(attempts=2)

    expect()(shards.locator('[data-count="complete"]')).to_have_text(
        "2 of 4 shards complete", timeout=UPDATE_TIMEOUT_MS
    )
    row = page.locator('#shards tr[data-shard="2"]')
    expect()(row).to_have_attribute("data-status", "RUNNING", timeout=UPDATE_TIMEOUT_MS)
    expect()(row.locator('[data-field="worker"]')).to_have_text("w1@host-b:20:21")
    expect()(row.locator('[data-field="rounds"]')).to_have_text("300,000 of 1,000,000 rounds")
    retried = page.locator('#shards tr[data-shard="3"]')
    expect()(retried).to_have_attribute("data-mark", "retried")
    expect()(retried.locator(".shard-mark")).to_have_text("retried: attempt 2")
    assert page.evaluate("window.notReloaded") is True
    assert violations == []
    assert errors == []
