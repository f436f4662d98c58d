"""Celery tasks: thin wrappers over simulator.services. Messages carry the job id only;
the row holds the config and receives the result."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task

from simulator import services


@shared_task(name="simulator.run_simulation_job")
def run_simulation_job(job_id: str) -> str:
    return services.run_job(UUID(job_id))
