"""Celery tasks: thin wrappers over simulator.services. Messages carry the job id only;
the row holds the config and receives the result."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any
from uuid import UUID

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from service.logs import bound
from simulator import selectors
from simulator.services.broker import MESSAGE_FORMAT, MESSAGE_FORMAT_HEADER
from simulator.services.database import DATABASE_UNREACHABLE, reset_connection
from simulator.services.jobs import run_job
from simulator.services.runs import Outcome
from simulator.services.shards import run_shard
from simulator.services.sweep import sweep

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="simulator.run_simulation_job")
def run_simulation_job(self: Task, job_id: str, **later: Any) -> str:
    _read_message_format(self, later)
    # The limits travel in the message (set by the sender from its settings), so the
    # request, not this worker's settings, says which one applies.
    timelimit = getattr(self.request, "timelimit", None) or (None, None)
    # host:pid of the process that runs it, for the admin and for an operator's `ps`.
    worker = f"{self.request.hostname or socket.gethostname()}:{os.getpid()}"
    try:
        # The job's lines carry its id, its owner's and its submit's request id.
        with bound(**selectors.log_context_of_job(job_id)):
            outcome = run_job(UUID(job_id), soft_time_limit=timelimit[1], worker=worker)
    except DATABASE_UNREACHABLE as exc:
        _retry_after_database_error(self, exc)
        raise
    if outcome.status == Outcome.BUSY:
        # Another worker holds a live claim. Not dropped: if that worker died, this
        # delivery reclaims the job once its heartbeat is stale; if it lives, the retry
        # finds the job finished and stops. Bounded; past the bound the sweep takes over.
        try:
            raise self.retry(countdown=outcome.retry_in, max_retries=settings.JOB_BUSY_MAX_RETRIES)
        except MaxRetriesExceededError:
            logger.warning(
                "Job %s: still running elsewhere after %d retries; leaving it "
                "to its worker and to the sweep",
                job_id,
                self.request.retries,
            )
    return outcome.status


@shared_task(bind=True, name="simulator.run_job_shard")
def run_job_shard(self: Task, shard_id: str, **later: Any) -> str:
    _read_message_format(self, later)
    timelimit = getattr(self.request, "timelimit", None) or (None, None)
    # host:worker pid:pool child pid: a worker that is stopping puts back exactly the
    # shards its own pool runs (release_worker_shards in simulator/services/shards.py,
    # called from service/celery.py).
    worker = f"{self.request.hostname or socket.gethostname()}:{os.getppid()}:{os.getpid()}"
    try:
        with bound(**selectors.log_context_of_shard(shard_id)):
            return run_shard(int(shard_id), soft_time_limit=timelimit[1], worker=worker).status
    except DATABASE_UNREACHABLE as exc:
        _retry_after_database_error(self, exc)
        raise


def _read_message_format(task: Task, later: dict[str, Any]) -> int | None:
    """The message's format version (simulator.services.broker.MESSAGE_FORMAT): None for
    release-16's messages, which carry none and the same single argument, so they run as
    they are. A later release's message also runs: its first argument is still the row's
    id, and the keyword arguments it may add (`later`) are what this release does not
    know; they are logged, not refused, so a message sent across a deploy is never lost."""
    # A worker puts a message's own headers on the request; an eager apply() keeps them
    # in request.headers.
    version = getattr(task.request, MESSAGE_FORMAT_HEADER, None)
    if version is None:
        version = (getattr(task.request, "headers", None) or {}).get(MESSAGE_FORMAT_HEADER)
    if (version is not None and version != MESSAGE_FORMAT) or later:
        logger.warning(
            "%s%s: a message of format %r (this worker's is %d); running it on its id%s",
            task.name,
            task.request.args,
            version,
            MESSAGE_FORMAT,
            f", ignoring {sorted(later)}" if later else "",
        )
    return version


def _retry_after_database_error(task: Task, exc: Exception) -> None:
    """The database was unreachable (refused, restarting, the connection dropped): the
    delivery comes back after 1, 2, 4, then every JOB_DATABASE_RETRY_MAX_DELAY seconds.

    Raised as is, the error would end the task: its message acknowledged (late
    acknowledgement acks a failure too), the job left PENDING or RUNNING for the
    time-based sweep to find minutes later. The retry is a new message sent before this
    one is acknowledged, so the job always has one; the claim was given back first where
    the database let it (give_back_job, give_back_shard), so the retry claims it at once. The
    worker's broken connection is dropped here, so the retry opens a fresh one. Raises
    Celery's Retry; returns only when the retries are spent (the caller re-raises)."""
    reset_connection()
    delay = min(2.0**task.request.retries, settings.JOB_DATABASE_RETRY_MAX_DELAY)
    logger.warning(
        "%s%s: the database is unreachable (%s: %s); retrying in %g s",
        task.name,
        task.request.args,
        type(exc).__name__,
        exc,
        delay,
    )
    try:
        task.retry(countdown=delay, max_retries=settings.JOB_DATABASE_MAX_RETRIES)
    except MaxRetriesExceededError:
        logger.error(
            "%s%s: the database stayed unreachable for %d retries; leaving it to the sweep",
            task.name,
            task.request.args,
            task.request.retries,
        )


@shared_task(name="simulator.sweep_jobs")
def sweep_jobs() -> dict[str, int]:
    swept = sweep()
    return {
        **{kind: len(ids) for kind, ids in swept["jobs"].items()},
        **swept["shards"],
        **swept["promoted"],
        "idempotency_keys_purged": swept["idempotency_keys_purged"],
    }
