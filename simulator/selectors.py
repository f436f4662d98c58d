"""Reads. Every lookup of a job goes through the caller, so another user's job is simply
not found (a 404, never a 403 that would confirm it exists)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from simulator.models import SimulationJob


def jobs_for(user: AbstractBaseUser) -> QuerySet[SimulationJob]:
    """The user's jobs, newest first."""
    return SimulationJob.objects.filter(owner=user).order_by("-created_at", "-id")


def job_for(user: AbstractBaseUser, job_id: UUID) -> SimulationJob | None:
    return jobs_for(user).filter(id=job_id).first()


# The job history reads these columns only: result_data can be megabytes per row (a hand
# history), so the first player's edge is extracted by the database instead.
HISTORY_FIELDS = (
    "id",
    "owner__username",
    "status",
    "rounds_done",
    "rounds_total",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
)


def job_history(status: str = "", owner: str = "") -> QuerySet[SimulationJob]:
    """Every user's jobs, newest first, for staff: filtered by status and by owner's
    username when given, with `first_edge` (the first player's player_edge, as text, or
    None) annotated from result_data in the database."""
    jobs = (
        SimulationJob.objects.select_related("owner")
        .only(*HISTORY_FIELDS)
        .annotate(first_edge=KT("result_data__players__0__player_edge"))
        .order_by("-created_at", "-id")
    )
    if status:
        jobs = jobs.filter(status=status)
    if owner:
        jobs = jobs.filter(owner__username=owner)
    return jobs


def job_owners() -> list[str]:
    """Usernames of everyone who has a job, for the history's owner filter."""
    return list(
        get_user_model()
        .objects.filter(simulation_jobs__isnull=False)
        .distinct()
        .order_by("username")
        .values_list("username", flat=True)
    )


def any_job(job_id: UUID) -> SimulationJob | None:
    """A job of anyone's, for staff on the dashboard."""
    return SimulationJob.objects.select_related("owner").filter(id=job_id).first()
