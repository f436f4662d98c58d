"""Writes. Every change of a job's state is a conditional UPDATE, so two workers handed the
same message (a redelivery after a crash) cannot both move a job forward."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable
from uuid import UUID

import jost_engine
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from simulator.models import JobStatus, SimulationJob

logger = logging.getLogger(__name__)


def submit_job(owner: AbstractBaseUser, config: Any) -> SimulationJob:
    """Validate `config`, store it as a PENDING job and queue it once the row is committed.

    Raises jost_engine.ConfigError (with every bad field) before anything is stored, so a
    bad config never becomes a job.
    """
    normalized = jost_engine.normalize_config(config)
    with transaction.atomic():
        job = SimulationJob.objects.create(
            owner=owner,
            request_data=config,
            rounds_total=int(normalized.num_rounds),
        )
        # A worker must never look for a row that is not committed yet.
        transaction.on_commit(lambda: enqueue_job(job.id))
    return job


def enqueue_job(job_id: UUID) -> bool:
    """Send the job's id to the broker. A broker that is down is logged, not raised: the
    job stays PENDING and the client still gets its 202 (a periodic sweep re-enqueues
    such jobs once it lands; until then an operator re-runs enqueue_job)."""
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
            "Job %s stays PENDING: the broker at %s did not take it (%s: %s)",
            job_id, _redacted(settings.CELERY_BROKER_URL), type(exc).__name__, exc,
        )
        return False
    return True


def claim_job(job_id: UUID) -> bool:
    # Redelivery after a crash can hand the same job to two workers; only the one whose
    # UPDATE matched may run it.
    claimed = SimulationJob.objects.filter(id=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), error=""
    )
    return claimed == 1


def record_progress(job_id: UUID, rounds_done: int, rounds_total: int | None = None) -> None:
    fields: dict[str, Any] = {"rounds_done": int(rounds_done)}
    if rounds_total:
        fields["rounds_total"] = int(rounds_total)
    SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).update(**fields)


def complete_job(job_id: UUID, result: dict[str, Any]) -> bool:
    result = json_safe(result)
    rounds = result.get("rounds_played") if isinstance(result, dict) else None
    fields: dict[str, Any] = {"status": JobStatus.COMPLETE, "result_data": result,
                              "finished_at": timezone.now()}
    if isinstance(rounds, int):
        fields["rounds_done"] = rounds
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).update(**fields) == 1


def fail_job(job_id: UUID, error: str) -> bool:
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error=error, finished_at=timezone.now()
    ) == 1


def run_job(job_id: UUID, soft_time_limit: float | None = None) -> str:
    """Claim the job, run it through the engine and record how it ended.

    Returns the job's final status, or "SKIPPED" when another delivery already claimed it
    (or it is unknown, or cancelled). Never raises for an engine fault: a bad job fails
    itself, not the worker.
    """
    if not claim_job(job_id):
        logger.info("Job %s not run: it is not PENDING (already claimed, done or unknown)",
                    job_id)
        return "SKIPPED"
    job = SimulationJob.objects.only("request_data", "rounds_total").get(id=job_id)
    try:
        result = jost_engine.run_simulation_from_config(
            job.request_data, progress=_progress_reporter(job_id),
            chunk=settings.JOB_CHUNK_ROUNDS,
        )
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        fail_job(job_id, (
            f"The job ran past the time limit of {limit:g} s (CELERY_TASK_SOFT_TIME_LIMIT). "
            "Ask for fewer rounds, or have the operator raise the limit."
        ))
        return JobStatus.FAILED
    except Exception as exc:
        logger.warning("Job %s failed: %s", job_id, exc, exc_info=not _is_config_error(exc))
        fail_job(job_id, describe_failure(exc))
        return JobStatus.FAILED
    if not complete_job(job_id, result):
        logger.warning("Job %s finished but was no longer RUNNING; result dropped", job_id)
        return "SKIPPED"
    return JobStatus.COMPLETE


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


def _progress_reporter(job_id: UUID) -> Callable[..., None]:
    """A progress callback for the engine that writes to the row at most once every
    JOB_PROGRESS_INTERVAL seconds: the engine may call it thousands of times."""
    interval = settings.JOB_PROGRESS_INTERVAL
    last = [0.0]

    def report(rounds_done: int, rounds_total: int | None = None, *_: Any, **__: Any) -> None:
        now = time.monotonic()
        if now - last[0] < interval:
            return
        last[0] = now
        record_progress(job_id, rounds_done, rounds_total)

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
