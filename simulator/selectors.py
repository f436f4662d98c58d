"""Reads. Every lookup of a job goes through the caller, so another user's job is simply
not found (a 404, never a 403 that would confirm it exists)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from simulator.models import SimulationJob


def jobs_for(user: AbstractBaseUser) -> QuerySet[SimulationJob]:
    """The user's jobs, newest first."""
    return SimulationJob.objects.filter(owner=user).order_by("-created_at", "-id")


def job_for(user: AbstractBaseUser, job_id: UUID) -> SimulationJob | None:
    return jobs_for(user).filter(id=job_id).first()
