"""A split job's shards as its page shows them: one row per shard (index, state, worker,
attempts, run time, rounds or shoes) with a stuck or retried shard marked, and the counts
over all of them, so an operator sees at a glance which shard holds a job up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from simulator import selectors
from simulator.dashboard import present
from simulator.models import FINISHED, JobShard, JobStatus, SimulationJob


@dataclass(frozen=True)
class ShardRow:
    index: int
    status: str
    # "stuck" (RUNNING, its heartbeat stale: its worker is taken for dead) or "retried"
    # (claimed more than once: a worker died or was stopped under it), or "".
    mark: str
    mark_text: str
    worker: str
    attempts: int
    run_time: str
    rounds: str


def _seconds(value: float | None) -> str:
    return present.BLANK if value is None else present.format_duration(timedelta(seconds=value))


def run_time(shard: Any) -> str:
    """Wall (and engine) seconds once stored; since its claim while it runs (a shard read
    through selectors.with_shard_state)."""
    if shard.status == JobStatus.COMPLETE and shard.wall_seconds is not None:
        text = _seconds(shard.wall_seconds)
        if shard.engine_seconds is not None:
            text += f" (engine {_seconds(shard.engine_seconds)})"
        return text
    if shard.status == JobStatus.RUNNING and shard.running_for is not None:
        return f"{present.format_duration(shard.running_for)} so far"
    return present.BLANK


def mark(shard: Any) -> tuple[str, str]:
    """("stuck" or "retried" or "", the words shown) for a shard read through
    selectors.with_shard_state."""
    if shard.stuck:
        # Taken for dead: the sweep deals it again, or fails the job once it is worn out
        # (JOB_MAX_ATTEMPTS). A row from before heartbeats has none at all.
        if shard.silent_for is None:
            return "stuck", "stuck: no heartbeat"
        return "stuck", f"stuck: no heartbeat for {present.format_duration(shard.silent_for)}"
    if shard.attempts > 1:
        return "retried", f"retried: attempt {shard.attempts}"
    return "", ""


def row(shard: JobShard, unit: str) -> ShardRow:
    shown, text = mark(shard)
    return ShardRow(
        index=shard.index,
        status=shard.status,
        mark=shown,
        mark_text=text,
        worker=shard.claimed_by or present.BLANK,
        attempts=shard.attempts,
        run_time=run_time(shard),
        rounds=f"{shard.rounds_done:,} of {shard.rounds:,} {unit}",
    )


def context(job: SimulationJob, unit: str) -> dict[str, Any]:
    """What templates/dashboard/_shards.html shows of `job`: nothing for a job run whole
    (no shards)."""
    if not job.shards_total:
        return {"shards": None}
    counts = selectors.shard_counts(job)
    listed = [row(shard, unit) for shard in selectors.job_shards(job)[: selectors.SHARD_ROWS]]
    return {
        "shards": {
            "rows": listed,
            "counts": counts,
            "total": job.shards_total,
            "unlisted": max(counts["total"] - len(listed), 0),
            "unit": unit,
            "live": job.status not in FINISHED,
        }
    }
