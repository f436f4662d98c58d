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
    # The config exactly as the client sent it: what a person reads back (the contract's
    # "config"), names of profiles and all.
    request_data = models.JSONField()
    # The same config with every profile name replaced by the data it named at submit
    # (the caller's saved profile, or the shipped default): what the worker runs, so
    # editing or deleting a profile later never changes a job. Null on rows older than
    # profiles, which run request_data.
    resolved_config = models.JSONField(null=True, blank=True)
    # The name a person gives the job (the config's top-level "name"), for finding it.
    name = models.CharField(max_length=100, blank=True, default="")
    result_data = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # Progress while RUNNING: rounds simulated so far out of rounds asked.
    rounds_done = models.BigIntegerField(default=0)
    rounds_total = models.BigIntegerField(default=0)
    # The seed the job runs with: the config's, or one drawn at submit when it has none, so
    # a job reclaimed after a crash reruns to the very result the first run would have given.
    seed = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the job's id last went to the broker. The sweep sends a PENDING job again when
    # Redis holds no message for it and this (or, never sent, created_at) is older than
    # JOB_LOST_MESSAGE_GRACE, or whatever the broker says once it is older than
    # JOB_REQUEUE_AFTER; a stale RUNNING one at most once per JOB_STALE_AFTER.
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
    # The broker did not take the job's (or one of its shards') message when it was sent:
    # the next sweep sends it at once instead of waiting JOB_REQUEUE_AFTER.
    send_failed = models.BooleanField(default=False)
    # A split job (stop_when_broke false, or sessions): its JobShard rows, each
    # shard_rounds rounds at most (0 shards: one task runs the whole job).
    shards_total = models.PositiveIntegerField(default=0)
    shard_rounds = models.BigIntegerField(null=True, blank=True)
    # Set by the conditional UPDATE that lets exactly one worker merge the shards once the
    # last one is stored; a merge whose worker died is retried by the sweep once stale.
    merge_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_newest")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class JobShard(models.Model):
    """One shard of a split job: its own Celery task, claim, heartbeat and stored partial
    statistics. (job, index) is unique, so a shard is stored at most once whatever the
    retries; the job's result is the merge of every shard's stats in index order."""

    job = models.ForeignKey(SimulationJob, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    # jost_engine.ShardSpec: rounds in all, and which sessions (sessions jobs only).
    rounds = models.BigIntegerField()
    first_session = models.BigIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    # When its message last went to the broker; null while it waits for a place in the
    # job's window of queued shards (JOB_SHARD_WINDOW).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    rounds_done = models.BigIntegerField(default=0)
    # jost_engine.Stats.to_dict() of the shard, written once with status COMPLETE.
    stats = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds inside the engine, and from claim to store: what the benchmark compares.
    engine_seconds = models.FloatField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="shard_unique_index_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.index} ({self.status})"


class ProfileType(models.TextChoices):
    CASINO = "casino", "Casino"
    PLAYER = "player", "Player"
    PLAYING_STRATEGY = "playing_strategy", "Playing strategy"
    BETTING_STRATEGY = "betting_strategy", "Betting strategy"
    COUNTING_SYSTEM = "counting_system", "Counting system"


class Profile(models.Model):
    """A profile a user saved: a config names it like a shipped default, and the user's
    own profile of that type and name wins over the default."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profiles"
    )
    profile_type = models.CharField(max_length=32, choices=ProfileType.choices)
    name = models.CharField(max_length=100)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["profile_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "profile_type", "name"], name="profile_unique_name_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_type} {self.name}"


class IdempotencyKey(models.Model):
    """The first answer to a submit that carried an `Idempotency-Key`: a repeat of the
    same key and body gets this answer again instead of a second job. The unique
    constraint, not a read before the write, is what stops two concurrent repeats from
    both creating a job."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # sha256 of the endpoint and the canonical JSON of the body: the same key with a
    # different request is refused (422), never answered with another request's job.
    fingerprint = models.CharField(max_length=64)
    job = models.ForeignKey(SimulationJob, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField()
    # Text, not jsonb (which reorders keys): the repeat gets the very same bytes.
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.job_id}"
