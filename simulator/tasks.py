"""Celery tasks: thin wrappers over simulator.services. Messages carry the job id only;
the row holds the config and receives the result."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task

from simulator import services


@shared_task(bind=True, name="simulator.run_simulation_job")
def run_simulation_job(self, job_id: str) -> str:
    # The limits travel in the message (set by the sender from its settings), so the
    # request, not this worker's settings, says which one applies.
    timelimit = getattr(self.request, "timelimit", None) or (None, None)
    return services.run_job(UUID(job_id), soft_time_limit=timelimit[1])
