"""Celery tasks: thin wrappers over simulator.services. Messages carry the job id only;
the row holds the config and receives the result."""

from __future__ import annotations

import logging
import os
import socket
from uuid import UUID

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from simulator import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="simulator.run_simulation_job")
def run_simulation_job(self: Task, job_id: str) -> str:
    # The limits travel in the message (set by the sender from its settings), so the
    # request, not this worker's settings, says which one applies.
    timelimit = getattr(self.request, "timelimit", None) or (None, None)
    # host:pid of the process that runs it, for the admin and for an operator's `ps`.
    worker = f"{self.request.hostname or socket.gethostname()}:{os.getpid()}"
    outcome = services.run_job(UUID(job_id), soft_time_limit=timelimit[1], worker=worker)
    if outcome.status == services.BUSY:
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
def run_job_shard(self: Task, shard_id: str) -> str:
    timelimit = getattr(self.request, "timelimit", None) or (None, None)
    # host:worker pid:pool child pid: a worker that is stopping puts back exactly the
    # shards its own pool runs (services.release_worker_shards, service/celery.py).
    worker = f"{self.request.hostname or socket.gethostname()}:{os.getppid()}:{os.getpid()}"
    return services.run_shard(int(shard_id), soft_time_limit=timelimit[1], worker=worker).status


@shared_task(name="simulator.sweep_jobs")
def sweep_jobs() -> dict[str, int]:
    swept = services.sweep()
    return {
        **{kind: len(ids) for kind, ids in swept["jobs"].items()},
        **swept["shards"],
        "idempotency_keys_purged": swept["idempotency_keys_purged"],
    }
