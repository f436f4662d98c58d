"""Writes. Every change of a job's state is a conditional UPDATE, so two workers handed the
same message (a redelivery after a crash) cannot both move a job forward."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import DurationField, F, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Now
from django.utils import timezone

import jost_engine
from simulator import selectors
from simulator.inputs import json_problems
from simulator.models import IdempotencyKey, JobStatus, SimulationJob
from simulator.profiles import resolver_for

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    """The owner already has as many active (PENDING or RUNNING) jobs as
    JOB_MAX_ACTIVE_PER_USER allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You have {limit} active (PENDING or RUNNING) jobs, the most allowed "
            f"(JOB_MAX_ACTIVE_PER_USER={limit}). Wait for one to finish, or cancel one."
        )
        self.limit = limit


def validate_config(owner: User, config: Any) -> jost_engine.Config:
    """The normalised config, with names resolved against `owner`'s saved profiles and
    then the shipped defaults, or jost_engine.ConfigError naming every problem.

    The service's own bounds come first (what can be stored and served back, the size of
    a job), so the engine only ever sees values it can check.
    """
    problems = json_problems(config)
    if isinstance(config, dict) and "name" in config and not isinstance(config["name"], str):
        problems.append(("name", "not a string"))
    if problems:
        raise jost_engine.ConfigError(problems)
    try:
        normalized = jost_engine.normalize_config(config, resolve=resolver_for(owner))
    except jost_engine.ConfigError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # The boundary checks above should leave nothing for the engine to trip on; if
        # something slips through, the client still gets a 400, and the log the details.
        logger.exception("The engine could not validate a config")
        raise jost_engine.ConfigError(
            [("(config)", f"cannot be read ({type(exc).__name__}); check its numbers")]
        ) from exc
    if normalized.num_rounds > settings.JOB_MAX_ROUNDS:
        raise jost_engine.ConfigError(
            [
                (
                    "num_rounds",
                    f"at most {settings.JOB_MAX_ROUNDS} rounds per job (JOB_MAX_ROUNDS), "
                    f"got {normalized.num_rounds}",
                )
            ]
        )
    return normalized


def submit_job(owner: User, config: Any) -> SimulationJob:
    """Validate `config`, store it as a PENDING job and queue it once the row is committed.

    Raises jost_engine.ConfigError (with every bad field) before anything is stored, so a
    bad config never becomes a job, and QuotaExceeded when the owner has too many
    active jobs. The job keeps the config as sent and, to run, the config with every
    profile resolved now: a profile edited later never changes it.
    """
    normalized = validate_config(owner, config)
    resolved = json_safe(jost_engine.config_to_dict(normalized))
    with transaction.atomic():
        # Submits of one user take turns (the lock on their user row), so two at once
        # cannot both see room under the quota.
        # owner.__class__, not type(owner): a session-authenticated request's user is a
        # lazy proxy (SimpleLazyObject), whose type has no manager.
        owner.__class__.objects.select_for_update().filter(pk=owner.pk).exists()
        active = SimulationJob.objects.filter(
            owner=owner, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        ).count()
        if active >= settings.JOB_MAX_ACTIVE_PER_USER:
            raise QuotaExceeded(settings.JOB_MAX_ACTIVE_PER_USER)
        job = SimulationJob.objects.create(
            owner=owner,
            request_data=config,
            resolved_config=resolved,
            name=config.get("name", "").strip() if isinstance(config, dict) else "",
            rounds_total=int(normalized.num_rounds),
            seed=normalized.seed if normalized.seed is not None else secrets.randbits(63),
        )
        # A worker must never look for a row that is not committed yet.
        transaction.on_commit(lambda: enqueue_job(job.id))
    return job


@dataclass(frozen=True)
class Answer:
    """An HTTP answer to a submit: what an Idempotency-Key replays."""

    status: int
    body: dict[str, Any]
    job: SimulationJob


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""


def request_fingerprint(endpoint: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


def _replay(owner: User, key: str, fingerprint: str) -> Answer | None:
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    stored = IdempotencyKey.objects.filter(owner=owner, key=key).select_related("job").first()
    if stored is None:
        return None
    if stored.created_at < cutoff:
        # Expired: the key may name a new request now.
        stored.delete()
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {key!r} was already used with a different request "
            f"(to another endpoint, or with another body) for job {stored.job_id}. Use a "
            "new key for a new request."
        )
    return Answer(stored.response_status, json.loads(stored.response_body), stored.job)


def submit_job_once(
    owner: User,
    config: Any,
    *,
    key: str,
    endpoint: str,
    answer: Callable[[SimulationJob], tuple[int, dict[str, Any]]],
) -> Answer:
    """submit_job under an Idempotency-Key: the first request with the key creates the
    job and stores `answer(job)`; every repeat with the same request gets that stored
    answer (the same status and body) and no new job. A repeat with another request is
    IdempotencyKeyReused. Keys are kept IDEMPOTENCY_KEY_TTL seconds (24 h by default)."""
    problems = json_problems(config)
    if problems:
        # Not fingerprinted: a document too deep or too odd to canonicalise is refused.
        raise jost_engine.ConfigError(problems)
    fingerprint = request_fingerprint(endpoint, config)
    found = _replay(owner, key, fingerprint)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            job = submit_job(owner, config)
            status_code, body = answer(job)
            IdempotencyKey.objects.create(
                owner=owner,
                key=key,
                fingerprint=fingerprint,
                job=job,
                response_status=status_code,
                response_body=json.dumps(body),
            )
    except IntegrityError:
        # A concurrent request with the same key committed first; this one's job was
        # rolled back with the key (and its enqueue with it), so there is one job.
        found = _replay(owner, key, fingerprint)
        if found is None:
            raise
        return found
    return Answer(status_code, body, job)


def purge_idempotency_keys() -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL; the number deleted."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def enqueue_job(job_id: UUID) -> bool:
    """Send the job's id to the broker. A broker that is down is logged, not raised: the
    job stays PENDING and the client still gets its 202, and sweep_jobs sends it again.

    Sending the same job twice is harmless: the worker's claim decides who runs it.
    """
    from simulator.tasks import run_simulation_job

    try:
        # A connection of our own with a short timeout, rather than the app's pool, so a
        # dead broker costs a submit BROKER_CHECK_TIMEOUT seconds, not Celery's retry loop.
        with run_simulation_job.app.connection_for_write(
            settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
        ) as connection:
            run_simulation_job.apply_async(
                args=[str(job_id)],
                connection=connection,
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
            )
    except Exception as exc:  # the broker being down must never turn a submit into a 500
        logger.error(
            "Job %s stays PENDING: the broker at %s did not take it (%s: %s); the sweep "
            "sends it again once the broker answers",
            job_id,
            _redacted(settings.CELERY_BROKER_URL),
            type(exc).__name__,
            exc,
        )
        return False
    SimulationJob.objects.filter(id=job_id).update(enqueued_at=Now())
    return True


def _stale_cutoff() -> CombinedExpression:
    # The database's clock, for the heartbeat and for this comparison alike, so workers on
    # hosts whose clocks disagree still agree on what is stale.
    return Now() - Value(timedelta(seconds=settings.JOB_STALE_AFTER), output_field=DurationField())


def _stale_running() -> Q:
    """RUNNING with a heartbeat older than JOB_STALE_AFTER: its worker is taken for dead.
    A RUNNING row with no heartbeat at all predates heartbeats and counts as stale."""
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=_stale_cutoff()) | Q(heartbeat_at__isnull=True)
    )


def _attempts_left() -> Q:
    return Q(attempts__lt=settings.JOB_MAX_ATTEMPTS)


def fail_abandoned_jobs(job_id: UUID | None = None) -> list[UUID]:
    """FAILED for every stale RUNNING job (or just `job_id`) whose worker already died
    JOB_MAX_ATTEMPTS times: a job that kills its worker (out of memory, a crash in native
    code) must not take down one worker after another forever."""
    jobs = SimulationJob.objects.filter(_stale_running(), ~_attempts_left())
    if job_id is not None:
        jobs = jobs.filter(id=job_id)
    failed = []
    for stale_id in jobs.values_list("id", flat=True):
        # Conditional again: a worker's heartbeat may have landed since the SELECT.
        if (
            SimulationJob.objects.filter(_stale_running(), ~_attempts_left(), id=stale_id).update(
                status=JobStatus.FAILED,
                finished_at=Now(),
                claim=None,
                error=(
                    f"The worker running this job stopped {settings.JOB_MAX_ATTEMPTS} times "
                    "without finishing it (killed, out of memory, or crashed), so it is not "
                    "run again. Ask for fewer rounds or a smaller table; if it persists, "
                    "report it with this job's id."
                ),
            )
            == 1
        ):
            logger.error(
                "Job %s FAILED: its worker died %d times", stale_id, settings.JOB_MAX_ATTEMPTS
            )
            failed.append(stale_id)
    return failed


def claim_job(job_id: UUID, worker: str = "") -> UUID | None:
    """Take the job for this worker; returns the claim token, or None if another holds it.

    Redelivery after a crash, a duplicate from the sweep, or two workers handed the same
    message: only the one whose UPDATE matched may run the job. A RUNNING job whose
    heartbeat went stale is claimable again: its worker died, and a crash must not lose
    the job. The new claim token makes the old worker's late writes match nothing.
    """
    token = uuid.uuid4()
    claimed = SimulationJob.objects.filter(
        Q(status=JobStatus.PENDING) | (_stale_running() & _attempts_left()), id=job_id
    ).update(
        status=JobStatus.RUNNING,
        claim=token,
        claimed_by=worker[:255],
        attempts=F("attempts") + 1,
        heartbeat_at=Now(),
        started_at=Now(),
        rounds_done=0,
        error="",
    )
    return token if claimed == 1 else None


def _held(job_id: UUID, claim: UUID) -> QuerySet[SimulationJob]:
    """The job's row only while `claim` still holds it."""
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING, claim=claim)


def record_progress(
    job_id: UUID, claim: UUID, rounds_done: int, rounds_total: int | None = None
) -> bool:
    """Progress and heartbeat in one write; False when the claim was lost."""
    fields: dict[str, Any] = {"rounds_done": int(rounds_done), "heartbeat_at": Now()}
    if rounds_total:
        fields["rounds_total"] = int(rounds_total)
    return _held(job_id, claim).update(**fields) == 1


def complete_job(job_id: UUID, claim: UUID, result: dict[str, Any]) -> bool:
    result = json_safe(result)
    rounds = result.get("rounds_played") if isinstance(result, dict) else None
    fields: dict[str, Any] = {
        "status": JobStatus.COMPLETE,
        "result_data": result,
        "finished_at": Now(),
    }
    if isinstance(rounds, int):
        fields["rounds_done"] = rounds
    return _held(job_id, claim).update(**fields) == 1


def fail_job(job_id: UUID, claim: UUID, error: str) -> bool:
    return _held(job_id, claim).update(status=JobStatus.FAILED, error=error, finished_at=Now()) == 1


# A job in one of these has stopped for good; cancelling it changes nothing.
FINISHED = (JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED)


class JobNotCancellable(Exception):
    """The job has finished already (COMPLETE, FAILED or CANCELLED)."""

    def __init__(self, job: SimulationJob) -> None:
        self.job = job
        super().__init__(
            f"Job {job.id} is {job.status} already: only a PENDING or RUNNING job can be cancelled."
        )


def cancel_job(user: User, job_id: UUID, *, any_owner: bool = False) -> SimulationJob | None:
    """Cancel a PENDING or RUNNING job of `user`'s (of anyone's with `any_owner`, for staff
    on the dashboard); returns the job, or None when the user has no such job.

    One conditional UPDATE decides, so a cancel racing the worker's claim or its result
    has exactly one winner. A PENDING job never runs: claim_job takes only PENDING (or
    stale RUNNING) jobs. A RUNNING job keeps the rounds it reported; its worker's next
    progress write finds the row no longer RUNNING, raises ClaimLost, and run_job records
    nothing more. Raises JobNotCancellable for a job that has finished.
    """
    jobs = SimulationJob.objects.all() if any_owner else selectors.jobs_for(user)
    cancelled = jobs.filter(id=job_id, status__in=[JobStatus.PENDING, JobStatus.RUNNING]).update(
        status=JobStatus.CANCELLED, finished_at=Now(), claim=None
    )
    job = jobs.filter(id=job_id).first()
    if job is None:
        return None
    if not cancelled:
        raise JobNotCancellable(job)
    logger.info("Job %s cancelled by %s", job_id, user)
    return job


def _is_cancelled(job_id: UUID) -> bool:
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.CANCELLED).exists()


@dataclass(frozen=True)
class RunOutcome:
    """How one delivery of a job ended. status is the job's final status, or
    SKIPPED (finished already, cancelled or unknown: nothing to do), BUSY (another worker
    holds a live claim: try again in retry_in seconds) or LOST (this worker's claim was
    taken over while it ran: its result was dropped)."""

    status: str
    retry_in: float | None = None


SKIPPED, BUSY, LOST = "SKIPPED", "BUSY", "LOST"


class ClaimLost(Exception):
    """Raised from the progress callback, through the engine, when the job's row no longer
    carries this worker's claim: the rest of the run would be thrown away, so it stops."""


def run_job(job_id: UUID, soft_time_limit: float | None = None, worker: str = "") -> RunOutcome:
    """Claim the job, run it through the engine and record how it ended.

    Never raises for an engine fault: a bad job fails itself, not the worker.
    """
    claim = claim_job(job_id, worker)
    if claim is None:
        if fail_abandoned_jobs(job_id):
            return RunOutcome(JobStatus.FAILED)
        return _not_claimed(job_id)
    job = SimulationJob.objects.only("request_data", "resolved_config", "attempts", "seed").get(
        id=job_id
    )
    if job.attempts > 1:
        logger.warning(
            "Job %s reclaimed (attempt %d): its previous worker stopped sending heartbeats",
            job_id,
            job.attempts,
        )
    try:
        result = jost_engine.run_simulation_from_config(
            # The config as resolved at submit (rows older than profiles have none): the
            # profiles it named may have changed since, the job must not.
            job.resolved_config if job.resolved_config is not None else job.request_data,
            progress=_progress_reporter(job_id, claim),
            chunk=settings.JOB_CHUNK_ROUNDS,
            seed=job.seed,
        )
    except ClaimLost:
        if _is_cancelled(job_id):
            # Not a fault: the owner cancelled it, and cancel_job already recorded that
            # (keeping the rounds reported so far). This worker is free for the next job.
            logger.info("Job %s cancelled while running; stopped at its progress report", job_id)
            return RunOutcome(JobStatus.CANCELLED)
        logger.warning(
            "Job %s: this worker lost its claim while running (another worker "
            "reclaimed it); stopped without recording anything",
            job_id,
        )
        return RunOutcome(LOST)
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        return _finished(
            job_id,
            JobStatus.FAILED,
            fail_job(
                job_id,
                claim,
                (
                    f"The job ran past the time limit of {limit:g} s "
                    "(CELERY_TASK_SOFT_TIME_LIMIT). "
                    "Ask for fewer rounds, or have the operator raise the limit."
                ),
            ),
        )
    except Exception as exc:
        logger.warning("Job %s failed: %s", job_id, exc, exc_info=not _is_config_error(exc))
        return _finished(job_id, JobStatus.FAILED, fail_job(job_id, claim, describe_failure(exc)))
    return _finished(job_id, JobStatus.COMPLETE, complete_job(job_id, claim, result))


def _finished(job_id: UUID, status: str, recorded: bool) -> RunOutcome:
    if recorded:
        return RunOutcome(status)
    if _is_cancelled(job_id):
        # Cancelled after the last progress report but before the result was written:
        # the cancel stands, the result is dropped.
        logger.info("Job %s was cancelled as it finished; its result was dropped", job_id)
        return RunOutcome(JobStatus.CANCELLED)
    # Our heartbeat went stale and another worker reclaimed the job: its run is the one
    # that counts (a config with a seed gives it the very same result).
    logger.warning(
        "Job %s ended %s here, but this worker no longer held its claim; the result was dropped",
        job_id,
        status,
    )
    return RunOutcome(LOST)


def _not_claimed(job_id: UUID) -> RunOutcome:
    """Why a claim failed, and whether this delivery should come back later."""
    job = (
        SimulationJob.objects.filter(id=job_id)
        .annotate(age=Now() - F("heartbeat_at"))
        .only("status")
        .first()
    )
    if job is None or job.status != JobStatus.RUNNING:
        logger.info("Job %s not run: it is %s", job_id, "unknown" if job is None else job.status)
        return RunOutcome(SKIPPED)
    # RUNNING with a fresh heartbeat: a duplicate message, or a redelivery right after
    # the worker running it died. Dropping this delivery could lose the job, so it comes
    # back just after the heartbeat would go stale: by then the job is finished (stop),
    # still beating (come back again), or stale (reclaim it).
    age = job.age.total_seconds() if job.age is not None else 0.0
    retry_in = max(settings.JOB_STALE_AFTER - age, 0.0) + 1.0
    logger.info(
        "Job %s is running elsewhere (heartbeat %.1f s ago); trying again in %.1f s",
        job_id,
        age,
        retry_in,
    )
    return RunOutcome(BUSY, retry_in=retry_in)


def sweep_jobs() -> dict[str, list[UUID]]:
    """Send to the broker again every job that has no live message or no live worker:

    - PENDING, last sent (or submitted, if never sent) more than JOB_REQUEUE_AFTER ago:
      the broker was down at submit, or lost the message;
    - RUNNING with a heartbeat older than JOB_STALE_AFTER: its worker died (unless it
      died JOB_MAX_ATTEMPTS times already: that job is FAILED instead, see
      fail_abandoned_jobs).

    Sending a job twice is harmless by construction: the worker's conditional claim
    decides who runs it, and a delivery that finds it finished stops. A job just sent is
    left alone for JOB_REQUEUE_AFTER, so sweeps during a long queue do not pile up copies.
    Run by Celery beat every JOB_SWEEP_INTERVAL seconds, and by `manage.py sweep_jobs`.
    Returns the ids sent, by kind, those left for the next sweep ("unsent") and those
    failed for having killed their worker too often ("failed").
    """
    requeue_cutoff = Now() - Value(
        timedelta(seconds=settings.JOB_REQUEUE_AFTER), output_field=DurationField()
    )
    not_sent_lately = Q(enqueued_at__isnull=True, created_at__lt=requeue_cutoff) | Q(
        enqueued_at__lt=requeue_cutoff
    )
    abandoned = fail_abandoned_jobs()
    found = {
        "pending": list(
            SimulationJob.objects.filter(not_sent_lately, status=JobStatus.PENDING)
            .order_by("created_at")
            .values_list("id", flat=True)
        ),
        "stale": list(
            SimulationJob.objects.filter(not_sent_lately, _stale_running())
            .order_by("created_at")
            .values_list("id", flat=True)
        ),
    }
    sent: dict[str, list[UUID]] = {"pending": [], "stale": [], "unsent": [], "failed": abandoned}
    for kind, ids in found.items():
        for job_id in ids:
            # Once the broker failed, the next sweep tries again: no use waiting out one
            # connection timeout per job now.
            if sent["unsent"] or not enqueue_job(job_id):
                sent["unsent"].append(job_id)
            else:
                sent[kind].append(job_id)
    if any(sent.values()):
        logger.warning(
            "Sweep: %d PENDING and %d stale RUNNING job(s) re-enqueued, %d left "
            "for the next sweep (broker down), %d failed (worker died too often)",
            len(sent["pending"]),
            len(sent["stale"]),
            len(sent["unsent"]),
            len(sent["failed"]),
        )
    return sent


def describe_failure(exc: BaseException) -> str:
    """A message a person can act on: the bad fields of a config, or what broke."""
    if _is_config_error(exc):
        problems = getattr(exc, "problems", None) or [("", str(exc))]
        lines = "; ".join(f"{path or '(config)'}: {reason}" for path, reason in problems)
        return f"The simulation config is invalid. Fix these fields and submit again: {lines}"
    return (
        f"The engine stopped with {type(exc).__name__}: {exc}. The config passed "
        "validation, so this is a fault in the engine: report it with this job's id."
    )


def _is_config_error(exc: BaseException) -> bool:
    return isinstance(exc, jost_engine.ConfigError)


def _progress_reporter(job_id: UUID, claim: UUID) -> Callable[..., None]:
    """A progress callback for the engine. It writes progress and the heartbeat to the row
    at most once every JOB_PROGRESS_INTERVAL seconds (the engine may call it thousands of
    times), and at least once every JOB_HEARTBEAT_INTERVAL seconds whenever the engine
    reports, so a live job never looks stale."""
    interval = min(settings.JOB_PROGRESS_INTERVAL, settings.JOB_HEARTBEAT_INTERVAL)
    last = [0.0]

    def report(rounds_done: int, rounds_total: int | None = None, *_: Any, **__: Any) -> None:
        now = time.monotonic()
        if now - last[0] < interval:
            return
        last[0] = now
        if not record_progress(job_id, claim, rounds_done, rounds_total):
            # Reclaimed by another worker after our heartbeat went stale (this one was
            # paused or cut off for JOB_STALE_AFTER): stop instead of finishing for nothing.
            raise ClaimLost(job_id)

    return report


def json_safe(value: Any) -> Any:
    """The engine's result as plain JSON: numpy scalars and arrays become Python numbers
    and lists; NaN and infinities (which PostgreSQL's jsonb rejects) become null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_safe(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _redacted(url: str) -> str:
    """The broker URL without its password, fit for a log line."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def token_for(user: User) -> str:
    """The user's API token, created on first use."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return token.key
