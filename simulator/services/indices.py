"""Index jobs (SimulationJob.kind INDICES): an index request checked as a config is, and
what a worker does with one shard of it and with the stored shards at the merge. The
rest of an index job's life (its shard rows, the window, claims, heartbeats, cancel,
the sweep) is a split simulation job's, in simulator.services.shards and submit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from jost_engine import indices
from jost_engine.config import ConfigError
from simulator.inputs import json_problems
from simulator.models import JobShard, SimulationJob
from simulator.profiles import resolver_for

logger = logging.getLogger(__name__)


def validate_index_request(owner: User, raw: Any) -> indices.IndexRequest:
    """The normalised index request, with names resolved against `owner`'s saved profiles
    and then the shipped defaults (as a config's are), or ConfigError naming every
    problem with its path. The service's own bounds come first, as for a config."""
    problems = json_problems(raw)
    if isinstance(raw, dict) and "name" in raw and not isinstance(raw["name"], str):
        problems.append(("name", "not a string"))
    if problems:
        raise ConfigError(problems)
    try:
        request = indices.normalize_index_request(raw, resolve=resolver_for(owner))
    except ConfigError as exc:
        # A preset reports each of its plays' problem at the preset's path: one is enough.
        raise ConfigError(list(dict.fromkeys(exc.problems))) from None
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # As for a config: whatever slips past the checks is still a 400, its detail logged.
        logger.exception("The engine could not validate an index request")
        raise ConfigError(
            [("(request)", f"cannot be read ({type(exc).__name__}); check its numbers")]
        ) from exc
    if request.shoes > settings.JOB_MAX_SHOES:
        raise ConfigError(
            [
                (
                    "shoes",
                    f"at most {settings.JOB_MAX_SHOES} shoes per job (JOB_MAX_SHOES), "
                    f"got {request.shoes}",
                )
            ]
        )
    return request


# Normalised once per process and job: the shards of a job mostly land on the same few
# workers, and normalising resolves the casino's "auto" chart.
_requests: dict[Any, indices.IndexRequest] = {}


def job_request(job: SimulationJob) -> indices.IndexRequest:
    """The request the job runs: as resolved at submit (index_request_to_dict, names
    written out and the seed in), so an edited profile never changes a job."""
    request = _requests.get(job.id)
    if request is None:
        if len(_requests) > 64:
            _requests.clear()
        request = _requests[job.id] = indices.normalize_index_request(job.resolved_config)
    return request


def shard_spec(shard: JobShard) -> indices.IndexShard:
    return indices.IndexShard(index=shard.index, shoes=int(shard.rounds))


def run_shard(
    job: SimulationJob, shard: JobShard, progress: Callable[[int], None]
) -> indices.IndexSums:
    """Deal the shard's shoes from its own seed (drawn from the job's), reporting shoes
    done to `progress` (which stops the shard by raising) every JOB_CHUNK_SHOES."""
    return indices.run_index_shard_spec(
        job_request(job),
        int(job.seed or 0),
        shard_spec(shard),
        progress,
        chunk=settings.JOB_CHUNK_SHOES,
    )


def read_sums(stats: Any) -> indices.IndexSums:
    """A stored shard's sums; ValueError when another engine version wrote them."""
    if not isinstance(stats, dict):
        raise ValueError("no index sums stored")
    return indices.IndexSums.from_dict(stats)


def result(job: SimulationJob, parts: list[indices.IndexSums]) -> dict[str, Any]:
    """The result document of the job from its shards' sums in index order."""
    return indices.index_results(job_request(job), indices.merge(parts))
