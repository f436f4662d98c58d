"""Finished index generator jobs for the dashboard's tests: rows as a worker leaves them,
their results computed by the real engine (jost_engine.indices) on fixed seeds."""

from __future__ import annotations

import copy
import functools
from datetime import timedelta
from typing import Any

# Insurance, a stand and a double (11 v A: a double that 3,000 shoes resolve): one play
# of each shape the page draws. 3,000 shoes of
# 6 decks deal about 140,000 states per play (half a minute of one core the first time
# numba compiles the index kernel, then a few seconds).
PAGE_REQUEST: dict[str, Any] = {
    "casino": {"deck_count": 6, "allow_late_surrender": True},
    "plays": [
        "insurance",
        {"hand": "16", "vs": "10", "actions": ["H", "S"]},
        {"hand": "11", "vs": "A", "actions": ["H", "D"]},
    ],
    "seed": 3,
    "shoes": 3000,
}
# Standing on hard 19 against a 6 is better at every count a shoe reaches: the engine says
# the play never changes instead of inventing an index. 300 shoes are enough to be sure.
NEVER_CHANGES_REQUEST: dict[str, Any] = {
    "casino": {"deck_count": 6},
    "plays": [
        {"hand": "19", "vs": "6", "actions": ["S", "H"]},
        {"hand": "12", "vs": "3", "actions": ["H", "S"]},
    ],
    "seed": 5,
    "shoes": 300,
}


@functools.cache
def _result(key: str) -> dict[str, Any]:
    from jost_engine.indices import index_results, normalize_index_request, run_index_shard

    raw = {"page": PAGE_REQUEST, "never": NEVER_CHANGES_REQUEST}[key]
    request = normalize_index_request(raw)
    return index_results(request, run_index_shard(request, request.seed, request.shoes))


def index_result(key: str = "page") -> dict[str, Any]:
    """The result document of PAGE_REQUEST ("page") or NEVER_CHANGES_REQUEST ("never"):
    one shard of all its shoes from its seed. A fresh copy each call (a test may edit it);
    the engine runs once per process."""
    return copy.deepcopy(_result(key))


def make_index_job(
    owner: Any,
    raw: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    *,
    status: str = "COMPLETE",
    shoes_done: int | None = None,
    name: str = "",
) -> Any:
    """A SimulationJob row of kind INDICES as the index job's worker leaves it: the
    request as sent, the normalised one it ran, shoes as its progress, and the result when
    COMPLETE."""
    from django.utils import timezone

    from jost_engine.indices import index_request_to_dict, normalize_index_request
    from simulator.models import JobKind, JobStatus, SimulationJob

    raw = copy.deepcopy(PAGE_REQUEST if raw is None else raw)
    request = normalize_index_request(raw)
    now = timezone.now()
    running = status == JobStatus.RUNNING
    return SimulationJob.objects.create(
        owner=owner,
        kind=JobKind.INDICES,
        name=name,
        request_data=raw,
        resolved_config=index_request_to_dict(request),
        status=status,
        seed=request.seed,
        rounds_total=request.shoes,
        rounds_done=request.shoes if shoes_done is None else shoes_done,
        started_at=now - timedelta(seconds=30),
        heartbeat_at=now,
        finished_at=None if running else now,
        result_data=result if status == JobStatus.COMPLETE else None,
    )
