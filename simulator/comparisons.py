"""Runs side by side for the API and the dashboard: the `jobs` parameter read and checked,
and the comparison of the jobs it names (jost_engine.compare)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

import jost_engine
from jost_engine.compare import MAX_RUNS, MIN_RUNS
from simulator.models import JobStatus, SimulationJob

FIELD = "jobs"
REQUIRED = f"required: {MIN_RUNS} to {MAX_RUNS} job ids separated by commas"


class ComparisonInvalid(Exception):
    """The jobs cannot be compared; `problems` holds ("jobs", reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(reason for _, reason in problems))


def parse_job_ids(values: Iterable[str]) -> list[UUID]:
    """The ids of `?jobs=a,b,c` (the parameter given once with commas, or repeated, as a
    plain HTML form of checkboxes sends it), in order: 2 to 6 distinct UUIDs, or
    ComparisonInvalid naming `jobs` with every reason."""
    pieces = [piece.strip() for value in values for piece in value.split(",")]
    pieces = [piece for piece in pieces if piece]
    if not pieces:
        raise ComparisonInvalid([(FIELD, REQUIRED)])
    if not MIN_RUNS <= len(pieces) <= MAX_RUNS:
        # Checked before each id is read: a query of thousands is answered in one line.
        raise ComparisonInvalid([(FIELD, f"{MIN_RUNS} to {MAX_RUNS} jobs, not {len(pieces)}")])
    ids: list[UUID] = []
    problems: list[tuple[str, str]] = []
    for piece in pieces:
        try:
            job_id = UUID(piece)
        except ValueError:
            shown = piece if len(piece) <= 40 else piece[:40] + "..."
            problems.append((FIELD, f"{shown!r} is not a job id (a UUID)"))
            continue
        if job_id in ids:
            problems.append((FIELD, f"{job_id} is named more than once"))
        else:
            ids.append(job_id)
    if problems:
        raise ComparisonInvalid(problems)
    return ids


def jobs_to_compare(
    ids: Sequence[UUID], lookup: Callable[[UUID], SimulationJob | None]
) -> list[SimulationJob] | None:
    """The jobs by id through `lookup` (the caller's own for the API, anyone's for staff),
    None when any is not found (a 404: another user's job is not found either), or
    ComparisonInvalid naming `jobs` for every one that is not COMPLETE. Not-found is
    decided first, so a 400 never tells the status of a job the caller may not see."""
    jobs = [lookup(job_id) for job_id in ids]
    if any(job is None for job in jobs):
        return None
    found = [job for job in jobs if job is not None]
    problems = [
        (FIELD, f"job {job.id} is {job.status}, not COMPLETE")
        for job in found
        if job.status != JobStatus.COMPLETE or not isinstance(job.result_data, dict)
    ]
    if problems:
        raise ComparisonInvalid(problems)
    return found


def compare_jobs(jobs: Sequence[SimulationJob], labels: Sequence[str]) -> dict[str, Any]:
    """jost_engine.compare_results over the jobs' results, each compared by the config it
    ran (the normalised config the results carry; for a document without one, the config
    resolved at submit)."""
    # jobs_to_compare let through only jobs whose results are a document.
    documents: list[dict[str, Any]] = [
        job.result_data if isinstance(job.result_data, dict) else {} for job in jobs
    ]
    configs = [
        doc.get("config") if isinstance(doc.get("config"), dict) else job.resolved_config
        for job, doc in zip(jobs, documents, strict=True)
    ]
    try:
        return jost_engine.compare_results(documents, configs=configs, labels=labels)
    except jost_engine.ConfigError as exc:
        raise ComparisonInvalid([(FIELD, reason) for _, reason in exc.problems]) from None
