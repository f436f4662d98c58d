"""The job ledger: the database row, not the broker, is the truth about a job."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    COMPLETE = "COMPLETE", "Complete"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


class SimulationJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="simulation_jobs"
    )
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    # The config exactly as the client sent it: what the engine runs and what a person
    # reads back when a job fails.
    request_data = models.JSONField()
    result_data = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # Progress while RUNNING: rounds simulated so far out of rounds asked.
    rounds_done = models.BigIntegerField(default=0)
    rounds_total = models.BigIntegerField(default=0)
    # The seed the job runs with: the config's, or one drawn at submit when it has none, so
    # a job reclaimed after a crash reruns to the very result the first run would have given.
    seed = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the job's id last went to the broker; the sweep re-enqueues a PENDING job only
    # when this (or, never sent, created_at) is older than JOB_REQUEUE_AFTER.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The claim: set by the conditional UPDATE that moves the job to RUNNING. Only the
    # worker holding `claim` may record progress or finish the job, so a worker that was
    # taken for dead and comes back cannot overwrite the result of the one that reclaimed
    # it. heartbeat_at is refreshed while the job runs; older than JOB_STALE_AFTER, the
    # claim is up for grabs again.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_newest")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"
