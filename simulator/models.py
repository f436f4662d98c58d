"""The job ledger: the database row, not the broker, is the truth about a job."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import DurationField, F, Q, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Greatest, Now


class JobStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    COMPLETE = "COMPLETE", "Complete"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


# A job or a shard in one of these is queued or running; in one of FINISHED it has
# stopped for good, and cancelling it changes nothing.
ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)
FINISHED = (JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED)


def ago(seconds: float) -> CombinedExpression:
    """`seconds` before now by the database's clock, which also wrote the times compared
    with it (Now()), so workers on hosts whose clocks disagree still agree on what is old."""
    return Now() - Value(timedelta(seconds=seconds), output_field=DurationField())


def stale_cutoff() -> CombinedExpression:
    """A heartbeat (or a merge) older than this lost its worker."""
    return ago(settings.JOB_STALE_AFTER)


def _stale() -> Q:
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale_cutoff()) | Q(heartbeat_at__isnull=True)
    )


_Claimed = TypeVar("_Claimed", bound="Claimable")


class ClaimQuerySet(models.QuerySet[_Claimed]):
    """The claim protocol, the same for a job and for a shard: every move is one
    conditional UPDATE, so of two workers handed the same message (a redelivery after a
    crash, a duplicate from the sweep) exactly one moves the row, and a worker taken for
    dead that comes back matches nothing. Filter to the one row first; each move returns
    whether it matched."""

    def stale(self) -> Self:
        """RUNNING with a heartbeat older than JOB_STALE_AFTER: its worker is taken for
        dead. A RUNNING row with no heartbeat at all predates heartbeats and counts too."""
        return self.filter(_stale())

    def worn_out(self) -> Self:
        """Stale, and its worker died JOB_MAX_ATTEMPTS times already: not run again, so
        work that kills its worker (out of memory, a crash in native code) cannot take
        down one worker after another forever."""
        return self.filter(_stale(), attempts__gte=settings.JOB_MAX_ATTEMPTS)

    def claimable(self) -> Self:
        """PENDING, or stale with attempts left: a crash must not lose the work."""
        # One condition on the row's own columns, never a subquery on its id: PostgreSQL
        # re-checks only those on a row a concurrent claim just updated, so with a
        # subquery both claims would win.
        return self.filter(
            Q(status=JobStatus.PENDING) | (_stale() & Q(attempts__lt=settings.JOB_MAX_ATTEMPTS))
        )

    def claim(self, worker: str, **also: Any) -> uuid.UUID | None:
        """RUNNING under a new claim token for `worker` (the task's host and process, for
        the admin and an operator's `ps`), its progress and heartbeat started afresh; the
        token, or None when nothing matched (another worker won, or the row stopped). The
        new token makes the previous holder's late writes match nothing."""
        token = uuid.uuid4()
        claimed = self.update(
            status=JobStatus.RUNNING,
            claim=token,
            claimed_by=worker[:255],
            attempts=F("attempts") + 1,
            heartbeat_at=Now(),
            started_at=Now(),
            rounds_done=0,
            **also,
        )
        return token if claimed == 1 else None

    def held(self, pk: Any, claim: uuid.UUID) -> Self:
        """The row only while `claim` still holds it: every write of its holder goes
        through this, so a holder whose claim was taken over or cancelled writes nothing."""
        return self.filter(pk=pk, status=JobStatus.RUNNING, claim=claim)

    def beat(self, **progress: Any) -> bool:
        """The heartbeat, with progress when given; False when the claim was lost."""
        return self.update(heartbeat_at=Now(), **progress) == 1

    def finish(self, status: JobStatus, **fields: Any) -> bool:
        """Ended with `status` (and `fields`, the result or the error) now."""
        return self.update(status=status, finished_at=Now(), **fields) == 1

    def give_back(self, **also: Any) -> bool:
        """Back to PENDING under no claim, this attempt not counted: the database failed,
        not the work, so the retry claims it at once instead of waiting for the
        heartbeat to go stale."""
        return (
            self.update(
                status=JobStatus.PENDING,
                claim=None,
                heartbeat_at=None,
                rounds_done=0,
                attempts=Greatest(F("attempts") - 1, 0),
                **also,
            )
            == 1
        )


class Claimable(models.Model):
    """What a worker claims, runs under a heartbeat and finishes: a job, or a shard of a
    split job. The fields of the claim protocol (ClaimQuerySet), written once for both."""

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    # Set by the conditional UPDATE that moves the row to RUNNING. Only the worker holding
    # `claim` may record progress or finish it, so a worker that was taken for dead and
    # comes back cannot overwrite the result of the one that reclaimed it. heartbeat_at
    # is refreshed while it runs; older than JOB_STALE_AFTER, the claim is up for grabs
    # again.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Progress while RUNNING: rounds played so far.
    rounds_done = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        abstract = True


class JobKind(models.TextChoices):
    SIMULATION = "simulation", "Simulation"
    # An index generator job (jost_engine.indices): request_data is an index request, its
    # shards deal shoes (rounds_total, rounds_done and JobShard.rounds count shoes), the
    # stored shard stats are IndexSums.to_dict() and the result is index_results().
    INDICES = "indices", "Index generator"


class SimulationJob(Claimable):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # db_default too: during a deploy the previous release's web process, which does not
    # know this column, still inserts jobs after the release phase has added it.
    kind = models.CharField(
        max_length=16,
        choices=JobKind.choices,
        default=JobKind.SIMULATION,
        db_default=JobKind.SIMULATION,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="simulation_jobs"
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
    # Progress while RUNNING: rounds_done (a split job's: of its stored shards) out of these.
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
    # The id of the request that submitted it (X-Request-ID, or the one made for it): the
    # worker's log lines for the job and its shards carry it too, so one search finds the
    # job's whole story from the submit on.
    request_id = models.CharField(max_length=128, blank=True, default="", db_default="")
    # What a person should know about how the result was reached, a list of sentences:
    # e.g. shards stored by another release's engine in a format this one does not read,
    # dealt again from their seeds (services.shards._deal_again). Copied into the result's
    # "notes" at the merge. Null (not a NOT NULL default) so the previous release's code,
    # which does not know the column, can still insert rows during a deploy.
    notes = models.JSONField(null=True, blank=True)
    # Its owner was in the PRIORITY_GROUP group at submit: the job and every shard of it go
    # to the priority queue, whatever the group says later, so the sweep's re-sends keep
    # the queue the job was given. The database's own default too: the previous
    # release's web processes, which run during a deploy's release phase, insert rows
    # without it.
    priority = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_newest")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class JobShard(Claimable):
    """One shard of a split job: its own Celery task, claim, heartbeat and stored partial
    statistics. (job, index) is unique, so a shard is stored at most once whatever the
    retries; the job's result is the merge of every shard's stats in index order."""

    job = models.ForeignKey(SimulationJob, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    # jost_engine.ShardSpec: rounds in all, and which sessions (sessions jobs only).
    rounds = models.BigIntegerField()
    first_session = models.BigIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=1)
    # When its message last went to the broker; null while it waits for a place in the
    # job's window of queued shards (JOB_SHARD_WINDOW).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # jost_engine.Stats.to_dict() of the shard, written once with status COMPLETE.
    stats = models.JSONField(null=True, blank=True)
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
