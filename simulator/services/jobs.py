"""An unsplit job's life on a worker: claimed, run under a heartbeat with its progress
written, finished (COMPLETE or FAILED) under its claim, given back after a database
error, failed for good once it killed its worker too often; and cancelled by its owner.
The claim protocol itself is ClaimQuerySet (simulator/models.py), shared with shards."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F
from django.db.models.functions import Now

import jost_engine
from simulator import metrics, selectors
from simulator.models import ACTIVE, JobKind, JobStatus, SimulationJob
from simulator.services.database import DATABASE_UNREACHABLE, reset_connection
from simulator.services.runs import (
    ClaimLost,
    Heartbeat,
    Outcome,
    RunOutcome,
    describe_failure,
    is_cancelled,
    json_safe,
)
from simulator.services.shards import stop_shards

logger = logging.getLogger(__name__)


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
            metrics.job_finished(JobKind.SIMULATION, JobStatus.FAILED)
            failed.append(stale_id)
    return failed


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
        metrics.JOBS_RECLAIMED.labels(JobKind.SIMULATION).inc()
        logger.warning(
            "Job %s reclaimed (attempt %d): its previous worker stopped sending heartbeats",
            job_id,
            job.attempts,
        )
    started = time.perf_counter()
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
        if is_cancelled(job_id):
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
        # A config error's traceback says nothing a person can use; the engine's does.
        exc_info = not isinstance(exc, jost_engine.ConfigError)
        logger.warning("Job %s failed: %s", job_id, exc, exc_info=exc_info)
        return _finished(job_id, Outcome.FAILED, fail_job(job_id, claim, describe_failure(exc)))
    seconds = time.perf_counter() - started
    return _finished(
        job_id,
        Outcome.COMPLETE,
        complete_job(job_id, claim, result),
        rounds=int(result.get("rounds_played") or 0) if isinstance(result, dict) else 0,
        seconds=seconds,
    )


def _finished(
    job_id: UUID, status: Outcome, recorded: bool, *, rounds: int = 0, seconds: float | None = None
) -> RunOutcome:
    if recorded:
        # An unsplit job is always a simulation: index jobs always run as shards.
        metrics.job_finished(
            JobKind.SIMULATION, status, rounds=rounds, seconds=seconds, engine_seconds=seconds
        )
        if status == Outcome.COMPLETE:
            logger.info("Job %s COMPLETE: %d rounds in %.2f s", job_id, rounds, seconds or 0.0)
        return RunOutcome(status)
    if is_cancelled(job_id):
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
    metrics.job_finished(job.kind, JobStatus.CANCELLED)
    logger.info("Job %s cancelled by %s", job_id, user)
    return job
