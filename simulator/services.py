"""Writes. Every change of a job's state is a conditional UPDATE, so two workers handed the
same message (a redelivery after a crash) cannot both move a job forward."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Now
from django.utils import timezone

import jost_engine
from simulator import selectors
from simulator.inputs import json_problems
from simulator.models import (
    ACTIVE,
    IdempotencyKey,
    JobShard,
    JobStatus,
    SimulationJob,
    ago,
    stale_cutoff,
)
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
    if normalized.total_rounds > settings.JOB_MAX_ROUNDS:
        where = "num_rounds" if normalized.sessions is None else "sessions"
        raise jost_engine.ConfigError(
            [
                (
                    where,
                    f"at most {settings.JOB_MAX_ROUNDS} rounds per job (JOB_MAX_ROUNDS), "
                    f"got {normalized.total_rounds}",
                )
            ]
        )
    cost = jost_engine.footprint(normalized, settings.JOB_SHARD_ROUNDS)
    _check_fits_time_limit(normalized, cost)
    _check_fits_memory(normalized, cost)
    return normalized


def _check_fits_time_limit(config: jost_engine.Config, cost: jost_engine.Footprint) -> None:
    """An unsplit job runs as one task, and so does each session of a job with sessions:
    one that could not finish within the soft time limit at the engine's measured speed
    would hold a worker for an hour and then FAIL, so it is refused now, saying how many
    rounds fit and how to split it. The spots are the most a round can deal (a
    spots_ramp at its widest): a counter who spreads to 7 spots plays 7 at high counts."""
    if config.splittable and config.sessions is None:
        return  # shards of JOB_SHARD_ROUNDS rounds: the operator's choice fits the limit
    # Four fifths of the limit: room for set-up and a machine slower than the one measured.
    seconds = 0.8 * settings.CELERY_TASK_SOFT_TIME_LIMIT
    fit = int(seconds * settings.ENGINE_SPOT_ROUNDS_PER_SECOND / cost.spots)
    if config.num_rounds > fit:
        what = "in one sequence" if config.sessions is None else "per session"
        advice = (
            'split the job over every worker with "stop_when_broke": false or "sessions": K'
            if config.sessions is None
            else "ask for more sessions of fewer rounds"
        )
        raise jost_engine.ConfigError(
            [
                (
                    "num_rounds",
                    f"{config.num_rounds} rounds of {cost.spots} spot(s) {what} would run "
                    f"past the time limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s "
                    f"(CELERY_TASK_SOFT_TIME_LIMIT) at the engine's speed "
                    f"({settings.ENGINE_SPOT_ROUNDS_PER_SECOND} spot-rounds a second): at "
                    f"most {fit} rounds fit. Ask for fewer, or {advice}",
                )
            ]
        )


def _check_fits_memory(config: jost_engine.Config, cost: jost_engine.Footprint) -> None:
    """A shard (or the merge of the shards) that needs more memory than a worker allows
    would be killed for it and retried until the job FAILED; refuse it now, naming the
    field that asks for the memory and what fits."""
    limit_mb = settings.JOB_SHARD_MAX_MEMORY_MB
    limit = limit_mb * 2**20
    if cost.memory_bytes <= limit:
        return
    field = cost.memory_field
    need = f"needs about {math.ceil(cost.memory_bytes / 2**20)} MB"
    allowed = f"a worker allows {limit_mb} MB (JOB_SHARD_MAX_MEMORY_MB)"
    if field == "sessions":
        fit = cost.sessions_within(limit)
        players = len(config.players)
        sessions = config.sessions or 0
        reason = (
            f"{sessions} sessions of {players} player(s) keep {sessions * players} "
            f"final bankrolls, which {need} to merge; {allowed}: at most {fit} sessions fit "
            f"with {players} player(s)"
        )
    elif field == "log_hands":
        reason = f"the hand history {need}; {allowed}: run without it (log_hands: false)"
    else:
        reason = f"{need} for this field; {allowed}: use fewer entries"
    raise jost_engine.ConfigError([(field, reason)])


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
        active = SimulationJob.objects.filter(owner=owner, status__in=ACTIVE).count()
        if active >= settings.JOB_MAX_ACTIVE_PER_USER:
            raise QuotaExceeded(settings.JOB_MAX_ACTIVE_PER_USER)
        specs = (
            jost_engine.plan_shards(normalized, settings.JOB_SHARD_ROUNDS)
            if normalized.splittable
            else []
        )
        job = SimulationJob.objects.create(
            owner=owner,
            request_data=config,
            resolved_config=resolved,
            name=config.get("name", "").strip() if isinstance(config, dict) else "",
            rounds_total=int(normalized.total_rounds),
            seed=normalized.seed if normalized.seed is not None else secrets.randbits(63),
            shards_total=len(specs),
            shard_rounds=settings.JOB_SHARD_ROUNDS if specs else None,
        )
        JobShard.objects.bulk_create(
            JobShard(
                job=job,
                index=spec.index,
                rounds=spec.rounds,
                first_session=spec.first_session,
                sessions=spec.sessions,
            )
            for spec in specs
        )
        # A worker must never look for a row that is not committed yet.
        if specs:
            transaction.on_commit(lambda: dispatch_shards(job.id))
        else:
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


# One retry, at once: a broker that is down costs a short wait, not Celery's retry loop.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def _send(task_name: str, arg: str, *, pooled: bool = False) -> None:
    """Send one task message, or raise: a connection of our own with a short timeout,
    rather than the app's pool, so a dead broker costs BROKER_CHECK_TIMEOUT seconds, not
    Celery's retry loop. `pooled`: the app's kept connection, for a worker topping up a
    window between two shards (a new connection per send cost about 2% of a shard)."""
    from service.celery import app

    if pooled:
        app.send_task(task_name, args=[arg], retry=True, retry_policy=_RETRY_POLICY)
        return
    with app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
    ) as conn:
        app.send_task(
            task_name, args=[arg], connection=conn, retry=True, retry_policy=_RETRY_POLICY
        )


def enqueue_job(job_id: UUID) -> bool:
    """Send the job's id to the broker. A broker that is down is logged, not raised: the
    job stays PENDING with send_failed set, the client still gets its 202, and the next
    sweep sends it (at once, not after JOB_REQUEUE_AFTER).

    Sending the same job twice is harmless: the worker's claim decides who runs it.
    """
    try:
        _send("simulator.run_simulation_job", str(job_id))
    except Exception as exc:  # the broker being down must never turn a submit into a 500
        _log_unsent(f"Job {job_id} stays PENDING", exc)
        SimulationJob.objects.filter(id=job_id).update(send_failed=True)
        return False
    SimulationJob.objects.filter(id=job_id).update(enqueued_at=Now(), send_failed=False)
    return True


def _log_unsent(what: str, exc: BaseException) -> None:
    logger.error(
        "%s: the broker at %s did not take it (%s: %s); the next sweep sends it again",
        what,
        _redacted(settings.CELERY_BROKER_URL),
        type(exc).__name__,
        exc,
    )


def fail_abandoned_jobs(job_id: UUID | None = None) -> list[UUID]:
    """FAILED for every stale RUNNING job (or just `job_id`) whose worker already died
    JOB_MAX_ATTEMPTS times: a job that kills its worker (out of memory, a crash in native
    code) must not take down one worker after another forever."""
    jobs = SimulationJob.objects.worn_out().filter(shards_total=0)
    if job_id is not None:
        jobs = jobs.filter(id=job_id)
    error = (
        f"The worker running this job stopped {settings.JOB_MAX_ATTEMPTS} times without "
        "finishing it (killed, out of memory, or crashed), so it is not run again. Ask for "
        "fewer rounds or a smaller table; if it persists, report it with this job's id."
    )
    failed = []
    for stale_id in jobs.values_list("id", flat=True):
        # Conditional again: a worker's heartbeat may have landed since the SELECT.
        worn_out = SimulationJob.objects.worn_out().filter(id=stale_id)
        if worn_out.finish(JobStatus.FAILED, claim=None, error=error):
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
    # A split job runs as its shards (run_shard), never as one task.
    jobs = SimulationJob.objects.claimable().filter(id=job_id, shards_total=0)
    return jobs.claim(worker, error="")


def record_progress(
    job_id: UUID, claim: UUID, rounds_done: int, rounds_total: int | None = None
) -> bool:
    """Progress and heartbeat in one write; False when the claim was lost."""
    fields: dict[str, Any] = {"rounds_done": int(rounds_done)}
    if rounds_total:
        fields["rounds_total"] = int(rounds_total)
    return SimulationJob.objects.held(job_id, claim).beat(**fields)


def complete_job(job_id: UUID, claim: UUID, result: dict[str, Any]) -> bool:
    result = json_safe(result)
    rounds = result.get("rounds_played") if isinstance(result, dict) else None
    fields: dict[str, Any] = {"result_data": result}
    if isinstance(rounds, int):
        fields["rounds_done"] = rounds
    return SimulationJob.objects.held(job_id, claim).finish(JobStatus.COMPLETE, **fields)


def fail_job(job_id: UUID, claim: UUID, error: str) -> bool:
    return SimulationJob.objects.held(job_id, claim).finish(JobStatus.FAILED, error=error)


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
    cancelled = jobs.filter(id=job_id, status__in=ACTIVE).finish(JobStatus.CANCELLED, claim=None)
    if cancelled:
        stop_shards(job_id)
    job = jobs.filter(id=job_id).first()
    if job is None:
        return None
    if not cancelled:
        raise JobNotCancellable(job)
    logger.info("Job %s cancelled by %s", job_id, user)
    return job


def _is_cancelled(job_id: UUID) -> bool:
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.CANCELLED).exists()


class Outcome(StrEnum):
    """How one delivery of a job or a shard ended: what its task returns. A str, so it
    travels as Celery's result and compares equal to the JobStatus of the same name."""

    # The job's final status, recorded by this delivery.
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    # A shard's statistics stored; its job waits for other shards.
    STORED = "STORED"
    # Nothing to do: finished already, cancelled, unknown, or a shard stored or running
    # elsewhere.
    SKIPPED = "SKIPPED"
    # Another worker holds a live claim on the job: try again in retry_in seconds.
    BUSY = "BUSY"
    # This worker's claim was taken over while it ran: its result was dropped.
    LOST = "LOST"


@dataclass(frozen=True)
class RunOutcome:
    """How one delivery ended, and for BUSY when to deliver it again."""

    status: Outcome
    retry_in: float | None = None


class ClaimLost(Exception):
    """Raised from the progress callback, through the engine, when the job's row no longer
    carries this worker's claim: the rest of the run would be thrown away, so it stops."""


# The database is unreachable (refused, restarting, the connection dropped by the server):
# not the job's fault, and not for good. A delivery that meets one gives its claim back and
# is retried by its task (simulator/tasks.py), instead of failing the job or losing the
# message. Other database errors (a constraint, a value jsonb refuses) are faults of their
# own and end the job as before.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def reset_connection() -> None:
    """Drop this thread's database connection, whatever state it is in. Django replaces a
    broken connection only between requests (and Celery between tasks); within a run it
    would answer every later query with "the connection is closed", so the give-back
    after an error needs a fresh one."""
    with contextlib.suppress(Exception):
        connection.close()


def give_back_job(job_id: UUID, claim: UUID) -> bool:
    """After a database error mid-run, the job back to PENDING under no claim, this attempt
    not counted (the database failed, not the job), so the task's retry claims it at once
    instead of waiting JOB_STALE_AFTER for the heartbeat to go stale. Best effort: with the
    database still down nothing is written, the job goes stale, and the retry (or the
    sweep) reclaims it then. True when the job was given back."""
    reset_connection()
    try:
        return SimulationJob.objects.held(job_id, claim).give_back(claimed_by="")
    except DATABASE_UNREACHABLE:
        reset_connection()
        return False


def run_job(job_id: UUID, soft_time_limit: float | None = None, worker: str = "") -> RunOutcome:
    """Claim the job, run it through the engine and record how it ended.

    Never raises for an engine fault: a bad job fails itself, not the worker. Raises
    DATABASE_UNREACHABLE when the database fails it (the claim given back first, where
    the database lets it), for the task to retry.
    """
    claim = claim_job(job_id, worker)
    if claim is None:
        if fail_abandoned_jobs(job_id):
            return RunOutcome(Outcome.FAILED)
        return _not_claimed(job_id)
    try:
        return _run_claimed(job_id, claim, soft_time_limit)
    except DATABASE_UNREACHABLE:
        logger.warning(
            "Job %s: the database failed mid-run; %s, and the delivery is retried",
            job_id,
            "the job is given back" if give_back_job(job_id, claim) else "it goes stale",
        )
        raise


def _run_claimed(job_id: UUID, claim: UUID, soft_time_limit: float | None) -> RunOutcome:
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
        with Heartbeat(
            lambda: SimulationJob.objects.held(job_id, claim).beat(),
            settings.JOB_HEARTBEAT_INTERVAL,
        ):
            result = jost_engine.run_simulation_from_config(
                # The config as resolved at submit (rows older than profiles have none):
                # the profiles it named may have changed since, the job must not.
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
            return RunOutcome(Outcome.CANCELLED)
        logger.warning(
            "Job %s: this worker lost its claim while running (another worker "
            "reclaimed it); stopped without recording anything",
            job_id,
        )
        return RunOutcome(Outcome.LOST)
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        return _finished(
            job_id,
            Outcome.FAILED,
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
    except DATABASE_UNREACHABLE:
        # A progress write that failed: the database's fault, never the engine's (a
        # job FAILED "fault in the engine" for a dropped connection would be wrong).
        raise
    except Exception as exc:
        logger.warning("Job %s failed: %s", job_id, exc, exc_info=not _is_config_error(exc))
        return _finished(job_id, Outcome.FAILED, fail_job(job_id, claim, describe_failure(exc)))
    return _finished(job_id, Outcome.COMPLETE, complete_job(job_id, claim, result))


def _finished(job_id: UUID, status: Outcome, recorded: bool) -> RunOutcome:
    if recorded:
        return RunOutcome(status)
    if _is_cancelled(job_id):
        # Cancelled after the last progress report but before the result was written:
        # the cancel stands, the result is dropped.
        logger.info("Job %s was cancelled as it finished; its result was dropped", job_id)
        return RunOutcome(Outcome.CANCELLED)
    # Our heartbeat went stale and another worker reclaimed the job: its run is the one
    # that counts (a config with a seed gives it the very same result).
    logger.warning(
        "Job %s ended %s here, but this worker no longer held its claim; the result was dropped",
        job_id,
        status,
    )
    return RunOutcome(Outcome.LOST)


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
        return RunOutcome(Outcome.SKIPPED)
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
    return RunOutcome(Outcome.BUSY, retry_in=retry_in)


def _older_than(field: str, seconds: float) -> Q:
    """`field` (a time the database wrote) more than `seconds` ago, by the database's clock."""
    return Q(**{f"{field}__lt": ago(seconds)})


def sweep_jobs() -> dict[str, list[UUID]]:
    """Send to the broker again every job that has no live message or no live worker:

    - PENDING whose message is in none of Redis's queues nor its delivered-unacknowledged
      messages (see lost_messages; the broker restarted without persistence, was
      flushed, evicted it, or the worker that took it died before starting it), once it
      is JOB_LOST_MESSAGE_GRACE old: at once;
    - PENDING, last sent (or submitted, if never sent) more than JOB_REQUEUE_AFTER ago:
      the fallback where the broker cannot be read (RabbitMQ, whose durable queue keeps
      messages and gives a dead consumer's back at once);
    - PENDING whose last send the broker refused (send_failed): at once;
    - RUNNING with a heartbeat older than JOB_STALE_AFTER: its worker died, so at once,
      and again at most once per JOB_STALE_AFTER while it stays stale, so sweeps do not
      pile up copies (unless it died JOB_MAX_ATTEMPTS times already: that job is FAILED
      instead, see fail_abandoned_jobs). A killed worker's message may come back too
      (Redis hands it out again after CELERY_VISIBILITY_TIMEOUT): two deliveries, one
      claim.

    Sending a job twice is harmless by construction: the worker's conditional claim
    decides who runs it, and a delivery that finds it finished stops.
    Run by Celery beat every JOB_SWEEP_INTERVAL seconds, and by `manage.py sweep_jobs`.
    Returns the ids sent, by kind, those left for the next sweep ("unsent") and those
    failed for having killed their worker too often ("failed").
    """
    not_sent_lately = Q(enqueued_at__isnull=True) & _older_than(
        "created_at", settings.JOB_REQUEUE_AFTER
    ) | _older_than("enqueued_at", settings.JOB_REQUEUE_AFTER)
    abandoned = fail_abandoned_jobs()
    # Split jobs are run by their shards (sweep_shards), never sent whole.
    unsplit = SimulationJob.objects.filter(shards_total=0)
    pending = unsplit.filter(status=JobStatus.PENDING)
    past_grace = Q(enqueued_at__isnull=True) & _older_than(
        "created_at", settings.JOB_LOST_MESSAGE_GRACE
    ) | _older_than("enqueued_at", settings.JOB_LOST_MESSAGE_GRACE)
    lost = lost_messages(
        "simulator.run_simulation_job",
        [str(pk) for pk in pending.filter(past_grace).values_list("id", flat=True)],
    )
    found = {
        "pending": list(
            # The broker refused the last send: send now, it may well be back.
            pending.filter(not_sent_lately | Q(send_failed=True) | Q(id__in=lost or []))
            .order_by("created_at")
            .values_list("id", flat=True)
        ),
        "stale": list(
            unsplit.stale()
            .filter(
                Q(enqueued_at__isnull=True) | _older_than("enqueued_at", settings.JOB_STALE_AFTER)
            )
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


# ---------------------------------------------------------------------------------------
# Lost messages: what Redis holds
# ---------------------------------------------------------------------------------------
# A message moves from a queue's list to the "unacked" hash when a worker takes it (BRPOP,
# then HSET): a read of both can miss one caught between. What looks lost is read again
# after this pause, by when any message in flight has landed.
_IN_FLIGHT_PAUSE = 0.25


def _held_at_most() -> float:
    """Seconds a live worker may hold a message of a job or shard that is still PENDING:
    it starts what it takes at once (prefetch 1), or holds it for a retry's countdown (at
    most JOB_STALE_AFTER + 1 s for a busy job, JOB_DATABASE_RETRY_MAX_DELAY after a
    database error). Twice the longer, for a loaded worker."""
    return 2 * max(settings.JOB_STALE_AFTER + 1, settings.JOB_DATABASE_RETRY_MAX_DELAY)


def lost_messages(task_name: str, ids: list[str]) -> set[str] | None:
    """Which of `ids` (the first argument of `task_name` messages: a job's or a shard's
    id) have no message on the broker: in no queue and not delivered to any worker. None
    when that cannot be told (the broker is not Redis, or did not answer): the sweep then
    goes by time alone.

    Time is the wrong signal for a message Redis lost (a restart without persistence, a
    FLUSHDB, an eviction): the lost work would wait JOB_REQUEUE_AFTER or
    JOB_SHARD_REQUEUE_AFTER for nothing. The ledger says what should be queued; Redis says
    what is; the difference is sent again at once."""
    if not ids:
        return set()
    held = _messages_on_broker()
    if held is None:
        return None
    missing = set(ids) - held.get(task_name, set())
    if missing:
        time.sleep(_IN_FLIGHT_PAUSE)
        again = _messages_on_broker()
        if again is None:
            return None
        missing -= again.get(task_name, set())
    return missing


def _messages_on_broker() -> dict[str, set[str]] | None:
    """{task name: {first argument}} of every message Redis holds for this app: ready in
    its queues' lists (each priority's list too), then delivered and not yet acknowledged
    (the transport's "unacked" hash: running, or waiting for an ETA, in some worker)
    within _held_at_most() seconds (a RUNNING job's own message is older, but a RUNNING job
    is never asked about: its heartbeat tells whether its worker lives). Read
    in that order, so a message moving from one to the other is seen in one of them
    unless it moves during both reads (lost_messages reads twice). None when the broker
    is not Redis or cannot be read."""
    from service.celery import app

    if urlsplit(settings.CELERY_BROKER_URL).scheme not in {"redis", "rediss", "redis+socket"}:
        return None
    try:
        with app.connection_for_read(
            settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
        ) as conn:
            channel: Any = conn.default_channel
            client = channel.client
            lists = [
                channel._q_for_pri(queue, priority)
                for queue in app.amqp.queues
                for priority in channel.priority_steps
            ]
            pipe = client.pipeline(transaction=False)
            for key in lists:
                pipe.lrange(key, 0, -1)
            raws = [raw for ready in pipe.execute() for raw in ready]
            # Delivered, and when: a message a worker took more than _held_at_most() ago
            # and has still not started is held by a worker that died (Redis gives it
            # back only after the visibility timeout): it counts as lost.
            delivered = client.hgetall(channel.unacked_key)
            since = dict(client.zrange(channel.unacked_index_key, 0, -1, withscores=True))
            recent = time.time() - _held_at_most()
            raws += [raw for tag, raw in delivered.items() if since.get(tag, recent) >= recent]
    except Exception as exc:  # a broker that is down: the time-based rules still apply
        logger.warning(
            "Sweep: could not read the broker's queues (%s: %s)", type(exc).__name__, exc
        )
        return None
    held: dict[str, set[str]] = {}
    for raw in raws:
        found = _task_and_first_arg(raw)
        if found is not None:
            held.setdefault(found[0], set()).add(found[1])
    return held


def _task_and_first_arg(raw: bytes | str) -> tuple[str, str] | None:
    """The task name and first argument of one message as kombu's Redis transport stores it
    (a JSON message, or in the unacked hash [message, exchange, routing key]; Celery's
    protocol 2: the name in the headers, the body [args, kwargs, embed], base64 by
    default). None for anything else."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):
            message = message[0]
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return str(message["headers"]["task"]), str(args[0])
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def sweep() -> dict[str, Any]:
    """Everything the periodic sweep does, run by Celery beat every JOB_SWEEP_INTERVAL
    seconds and by `manage.py sweep_jobs`: the unsplit jobs (`jobs`: ids by kind, as
    sweep_jobs returns them), the split jobs' shards (`shards`: counts, as sweep_shards
    returns them) and the Idempotency-Keys past IDEMPOTENCY_KEY_TTL, forgotten so the
    table stays small (`idempotency_keys_purged`)."""
    return {
        "jobs": sweep_jobs(),
        "shards": sweep_shards(),
        "idempotency_keys_purged": purge_idempotency_keys(),
    }


def sweep_shards() -> dict[str, int]:
    """The split jobs' part of the sweep:

    - a RUNNING shard whose heartbeat is older than JOB_STALE_AFTER lost its worker: it
      goes back to PENDING, first in its job's queue (or, when its worker died
      JOB_MAX_ATTEMPTS times, its job is FAILED saying so);
    - a shard sent and never started whose message Redis no longer holds (lost_messages)
      is sent again at once; where the broker cannot be read, one sent more than
      JOB_SHARD_REQUEUE_AFTER ago (the fallback);
    - every active split job's window is topped up (a send the broker refused is retried
      here), and a job whose shards are all stored but not merged (its merger died) is
      merged.
    Returns how many of each.
    """
    counts = {"shards_requeued": 0, "shards_resent": 0, "shards_sent": 0, "merged": 0}
    counts["split_failed"] = 0
    for job_id in JobShard.objects.worn_out().values_list("job_id", flat=True).distinct():
        counts["split_failed"] += fail_split_job(
            job_id,
            f"A worker running a shard of this job stopped {settings.JOB_MAX_ATTEMPTS} times "
            "without finishing it (killed, out of memory, or crashed), so it is not run "
            "again. If it persists, report it with this job's id.",
        )
    counts["shards_requeued"] = put_back(JobShard.objects.stale())
    sent = JobShard.objects.filter(
        status=JobStatus.PENDING, enqueued_at__isnull=False, job__status__in=ACTIVE
    )
    lost = lost_messages(
        "simulator.run_job_shard",
        [
            str(pk)
            for pk in sent.filter(
                _older_than("enqueued_at", settings.JOB_LOST_MESSAGE_GRACE)
            ).values_list("id", flat=True)
        ],
    )
    counts["shards_resent"] = JobShard.objects.filter(
        _older_than("enqueued_at", settings.JOB_SHARD_REQUEUE_AFTER)
        | Q(id__in=[int(pk) for pk in lost or []]),
        status=JobStatus.PENDING,
    ).update(enqueued_at=None)
    # A merge started longer ago than a heartbeat goes stale never finished: retry it.
    SimulationJob.objects.filter(
        status=JobStatus.RUNNING, merge_started_at__lt=stale_cutoff()
    ).update(merge_started_at=None)
    for job_id in SimulationJob.objects.filter(status__in=ACTIVE, shards_total__gt=0).values_list(
        "id", flat=True
    ):
        counts["shards_sent"] += len(dispatch_shards(job_id))
        counts["merged"] += merge_shards(job_id)
    if counts["shards_requeued"] or counts["shards_resent"] or counts["split_failed"]:
        logger.warning("Sweep of split jobs: %s", counts)
    return counts


def release_worker_shards(claimed_by_prefix: str) -> int:
    """Put back at once every shard a worker that is shutting down (a deploy's SIGTERM)
    still runs, so the others take them now rather than after JOB_STALE_AFTER; the
    stopping worker's late store then matches nothing. Returns how many."""
    shards = JobShard.objects.filter(
        status=JobStatus.RUNNING, claimed_by__startswith=claimed_by_prefix
    )
    jobs = set(shards.values_list("job_id", flat=True))
    released = put_back(shards)
    for job_id in jobs:
        dispatch_shards(job_id)
    if released:
        logger.warning("Put back %d shard(s) of %s, which is stopping", released, claimed_by_prefix)
    return released


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
    """A progress callback for the engine. It writes progress (and the heartbeat with it)
    to the row at most once every JOB_PROGRESS_INTERVAL seconds, or the heartbeat interval
    if that is shorter: the engine may call it thousands of times. The Heartbeat thread
    keeps the job fresh between reports."""
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


# ---------------------------------------------------------------------------------------
# Heartbeat from a thread
# ---------------------------------------------------------------------------------------
class Heartbeat:
    """Calls `beat()` every `interval` seconds from a thread of its own while the engine
    runs. The round loops release the GIL (nogil) and a numba compile spends its time in
    LLVM, so the beat keeps coming however long a chunk or a compile takes: a live task
    never looks stale, and a dead one goes stale after JOB_STALE_AFTER whatever it ran.

    A failed beat is logged, not raised: the progress write between chunks is what
    notices a lost claim and stops the run.
    """

    def __init__(self, beat: Callable[[], object], interval: float) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    self._beat()
                except Exception:
                    logger.warning("A heartbeat write failed; trying again", exc_info=True)
                    # A dropped connection stays broken for good: the next beat opens
                    # a new one.
                    reset_connection()
        finally:
            # This thread's own database connection, opened by its first beat.
            connection.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------------------
# Split jobs: shards
# ---------------------------------------------------------------------------------------
# A shard in one of these will not run again.


def dispatch_shards(job_id: UUID, *, pooled: bool = False) -> list[int]:
    """Top up the job's window: send the next shards (lowest index first) until
    JOB_SHARD_WINDOW of them wait in the broker's queue. Called at submit, whenever a
    shard starts or is stored, and by the sweep; returns the indexes sent.

    Only a window is ever queued, so another user's job submitted now waits behind at
    most JOB_SHARD_WINDOW shards of this one, not behind all of them. The job's row is
    locked while the window is counted and marked, so two workers topping up at once do
    not both fill the same places.
    """
    with transaction.atomic():
        job = (
            SimulationJob.objects.select_for_update()
            .filter(id=job_id, status__in=ACTIVE, shards_total__gt=0)
            .only("id")
            .first()
        )
        if job is None:
            return []
        shards = JobShard.objects.filter(job_id=job_id, status=JobStatus.PENDING)
        room = settings.JOB_SHARD_WINDOW - shards.filter(enqueued_at__isnull=False).count()
        if room <= 0:
            return []
        picked = list(
            shards.filter(enqueued_at__isnull=True)
            .order_by("index")
            .values_list("id", "index")[:room]
        )
        JobShard.objects.filter(id__in=[pk for pk, _ in picked]).update(enqueued_at=Now())
    sent = []
    for pk, index in picked:
        try:
            _send("simulator.run_job_shard", str(pk), pooled=pooled)
        except Exception as exc:  # a dead broker must not fail a submit or a shard
            _log_unsent(f"Shard {index} of job {job_id} stays PENDING", exc)
            # Back out of the window, so the next top-up (the sweep's) sends it again.
            JobShard.objects.filter(id__in=[p for p, i in picked if i >= index]).filter(
                status=JobStatus.PENDING
            ).update(enqueued_at=None)
            SimulationJob.objects.filter(id=job_id).update(send_failed=True)
            break
        sent.append(index)
    if sent:
        SimulationJob.objects.filter(id=job_id, send_failed=True).update(send_failed=False)
    return sent


def claim_shard(shard_id: int, worker: str = "") -> UUID | None:
    """Take the shard for this worker; returns the claim token, or None.

    Redelivery after a crash, a duplicate from the sweep, or two workers handed the same
    message: only the one whose UPDATE matched may run the shard, and only the holder
    of the current token may store it. A shard of a job that was cancelled or failed is
    not taken; nor one whose worker died JOB_MAX_ATTEMPTS times (the sweep fails its job).
    """
    # EXISTS, not job__status: a filter through the foreign key makes Django write
    # "WHERE id IN (SELECT ...)", and PostgreSQL then re-checks none of the shard's own
    # conditions on the row a concurrent claim just updated: both claims would win.
    job_active = Exists(SimulationJob.objects.filter(id=OuterRef("job_id"), status__in=ACTIVE))
    # attempts also bounds a PENDING shard (a job's never is): the sweep puts a dead
    # worker's shard back to PENDING with its attempts counted.
    token = (
        JobShard.objects.claimable()
        .filter(job_active, id=shard_id, attempts__lt=settings.JOB_MAX_ATTEMPTS)
        .claim(worker)
    )
    if token is None:
        return None
    # The job's first shard to start starts the job (its progress is measured from here).
    SimulationJob.objects.filter(
        status=JobStatus.PENDING, id__in=JobShard.objects.filter(id=shard_id).values("job_id")
    ).update(status=JobStatus.RUNNING, started_at=Now(), heartbeat_at=Now())
    return token


def store_shard(
    shard_id: int,
    claim: UUID,
    stats: jost_engine.Stats,
    *,
    engine_seconds: float | None = None,
    wall_seconds: float | None = None,
) -> bool:
    """Store the shard's statistics, once: False when this worker no longer holds the
    shard (reclaimed after its heartbeat went stale, or its job cancelled or failed).

    The shard's row and the job's progress move in one transaction, and only while the
    job is RUNNING: a shard finishing as its job is cancelled is either stored before
    the cancel or not at all.
    """
    with transaction.atomic():
        shard = JobShard.objects.held(shard_id, claim).only("job_id", "rounds").first()
        if shard is None:
            return False
        moved = SimulationJob.objects.filter(id=shard.job_id, status=JobStatus.RUNNING).update(
            rounds_done=F("rounds_done") + shard.rounds, heartbeat_at=Now()
        )
        stored = JobShard.objects.held(shard_id, claim).finish(
            JobStatus.COMPLETE,
            stats=json_safe(stats.to_dict()),
            rounds_done=shard.rounds,
            engine_seconds=engine_seconds,
            wall_seconds=wall_seconds,
            claim=None,
        )
        if not (moved == 1 and stored):
            transaction.set_rollback(True)
            return False
    return True


def merge_shards(job_id: UUID) -> bool:
    """Once every shard is stored, merge them (in index order) into the job's result and
    complete it. Exactly one caller merges: the conditional UPDATE that sets
    merge_started_at decides. True when this call completed the job."""
    all_stored = ~Exists(
        JobShard.objects.filter(job_id=OuterRef("pk")).exclude(status=JobStatus.COMPLETE)
    )
    took = SimulationJob.objects.filter(
        all_stored,
        id=job_id,
        status=JobStatus.RUNNING,
        shards_total__gt=0,
        merge_started_at__isnull=True,
    ).update(merge_started_at=Now())
    if took != 1:
        return False
    job = SimulationJob.objects.only(
        "resolved_config", "request_data", "seed", "shard_rounds", "shards_total", "started_at"
    ).get(id=job_id)
    # The seed it ran with (drawn at submit when the config had none): what reproduces it.
    config = dataclasses.replace(_job_config(job), seed=job.seed)
    rows = JobShard.objects.filter(job_id=job_id).order_by("index")
    parts = [jost_engine.Stats.from_dict(row.stats) for row in rows.only("stats") if row.stats]
    merged = jost_engine.merge(*parts)
    seconds = rows.aggregate(total=Sum("engine_seconds"))["total"]
    result = jost_engine.results(
        config,
        merged,
        seed=job.seed,
        duration=(timezone.now() - job.started_at).total_seconds() if job.started_at else None,
        play_seconds=seconds,
        shards=job.shards_total,
        shard_rounds=job.shard_rounds,
    )
    done = SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).finish(
        JobStatus.COMPLETE, result_data=json_safe(result), rounds_done=F("rounds_total")
    )
    if done:
        logger.info("Job %s COMPLETE: %d shards merged", job_id, job.shards_total)
    return done


def fail_split_job(job_id: UUID, error: str) -> bool:
    """FAILED with `error`, and its shards not yet stored stop (CANCELLED)."""
    failed = SimulationJob.objects.filter(id=job_id, status__in=ACTIVE).finish(
        JobStatus.FAILED, error=error, claim=None
    )
    stop_shards(job_id)
    return failed


def stop_shards(job_id: UUID) -> None:
    """The job's shards not yet stored stop (CANCELLED), its job having been cancelled or
    failed: queued ones are skipped when delivered, running ones stop at their next
    progress write, and none can be stored any more (store_shard needs the job RUNNING)."""
    JobShard.objects.filter(job_id=job_id, status__in=ACTIVE).update(
        status=JobStatus.CANCELLED, claim=None
    )


def put_back(shards: QuerySet[JobShard]) -> int:
    """Back to PENDING and out of the window, their claims void (their workers died or are
    stopping): the next top-up sends them first, lowest index first. Returns how many."""
    return shards.update(status=JobStatus.PENDING, claim=None, enqueued_at=None)


_configs: dict[UUID, jost_engine.Config] = {}


def _job_config(job: SimulationJob) -> jost_engine.Config:
    """The job's config as resolved at submit, normalised once per process: the shards
    of a job mostly land on the same few workers."""
    config = _configs.get(job.id)
    if config is None:
        if len(_configs) > 64:
            _configs.clear()
        raw = job.resolved_config if job.resolved_config is not None else job.request_data
        config = _configs[job.id] = jost_engine.normalize_config(raw)
    return config


def give_back_shard(shard_id: int, claim: UUID) -> bool:
    """As give_back_job, for a shard: back to PENDING, this attempt not counted, and marked
    sent (the task's retry is its message). Best effort: with the database down it goes
    stale, and the sweep puts it back."""
    reset_connection()
    try:
        return JobShard.objects.held(shard_id, claim).give_back(enqueued_at=Now())
    except DATABASE_UNREACHABLE:
        reset_connection()
        return False


def run_shard(shard_id: int, soft_time_limit: float | None = None, worker: str = "") -> RunOutcome:
    """Claim the shard, play it, store its statistics once, top up the job's window, and
    merge the job when this was the last shard. Never raises for an engine fault: the
    job fails with a message, the worker goes on. Raises DATABASE_UNREACHABLE when the
    database fails it (the shard given back first, where the database lets it), for the
    task to retry."""
    started = time.perf_counter()
    claim = claim_shard(shard_id, worker)
    if claim is None:
        logger.info("Shard %s not run: stored, running elsewhere, or its job stopped", shard_id)
        return RunOutcome(Outcome.SKIPPED)
    try:
        return _run_claimed_shard(shard_id, claim, soft_time_limit, started)
    except DATABASE_UNREACHABLE:
        logger.warning(
            "Shard %s: the database failed mid-run; %s, and the delivery is retried",
            shard_id,
            "the shard is given back" if give_back_shard(shard_id, claim) else "it goes stale",
        )
        raise


def _run_claimed_shard(
    shard_id: int, claim: UUID, soft_time_limit: float | None, started: float
) -> RunOutcome:
    shard = JobShard.objects.select_related("job").get(id=shard_id)
    job = shard.job
    if shard.attempts > 1:
        logger.warning(
            "Shard %d of job %s run again (attempt %d)", shard.index, job.id, shard.attempts
        )
    # This shard left the queue: the next one may take its place.
    dispatch_shards(job.id, pooled=True)
    spec = jost_engine.ShardSpec(
        index=shard.index,
        rounds=shard.rounds,
        first_session=shard.first_session,
        sessions=shard.sessions,
    )
    try:
        config = _job_config(job)
        with Heartbeat(
            lambda: JobShard.objects.held(shard_id, claim).beat(),
            settings.JOB_HEARTBEAT_INTERVAL,
        ):
            engine_start = time.perf_counter()
            stats = jost_engine.run_shard_spec(
                config, int(job.seed or 0), spec, _shard_reporter(shard_id, claim)
            )
            engine_seconds = time.perf_counter() - engine_start
    except ClaimLost:
        logger.info(
            "Shard %d of job %s stopped: its job was cancelled or it was reclaimed",
            shard.index,
            job.id,
        )
        return _stopped(job.id)
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        fail_split_job(
            job.id,
            f"Shard {shard.index} ran past the time limit of {limit:g} s "
            "(CELERY_TASK_SOFT_TIME_LIMIT): lower JOB_SHARD_ROUNDS, or ask for shorter sessions.",
        )
        return RunOutcome(Outcome.FAILED)
    except DATABASE_UNREACHABLE:
        raise  # the database's fault, not the config's nor the engine's
    except Exception as exc:
        logger.warning("Job %s failed in shard %d: %s", job.id, shard.index, exc, exc_info=True)
        fail_split_job(job.id, describe_failure(exc))
        return RunOutcome(Outcome.FAILED)
    if not store_shard(
        shard_id,
        claim,
        stats,
        engine_seconds=engine_seconds,
        wall_seconds=time.perf_counter() - started,
    ):
        return _stopped(job.id)
    if merge_shards(job.id):
        return RunOutcome(Outcome.COMPLETE)
    dispatch_shards(job.id, pooled=True)
    return RunOutcome(Outcome.STORED)


def _stopped(job_id: UUID) -> RunOutcome:
    """A shard whose claim was void by the time it wrote: its job was cancelled (or
    failed), or the shard reclaimed after its heartbeat went stale."""
    return RunOutcome(Outcome.CANCELLED if _is_cancelled(job_id) else Outcome.LOST)


def _shard_reporter(shard_id: int, claim: UUID) -> Callable[[int], None]:
    """Progress of a shard, written at most every JOB_PROGRESS_INTERVAL seconds; a write
    that matches nothing (the job was cancelled or failed, or the shard reclaimed) stops
    the shard."""
    last = [time.monotonic()]

    def report(rounds_done: int) -> None:
        now = time.monotonic()
        if now - last[0] < settings.JOB_PROGRESS_INTERVAL:
            return
        last[0] = now
        if not JobShard.objects.held(shard_id, claim).beat(rounds_done=rounds_done):
            raise ClaimLost(shard_id)

    return report
