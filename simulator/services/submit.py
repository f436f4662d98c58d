"""A job comes in: its config (or an index job's request) checked against the engine and
the service's own bounds, the owner's quota, the row (and a split job's shard rows)
stored and queued once committed; and, under an Idempotency-Key, the same answer to a
repeat of one request."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

import jost_engine
from jost_engine import indices
from service.logs import bound, current_request_id
from simulator import metrics
from simulator.inputs import json_problems
from simulator.models import ACTIVE, IdempotencyKey, JobKind, JobShard, SimulationJob
from simulator.profiles import resolver_for
from simulator.selectors import has_priority
from simulator.services.broker import enqueue_job, queue_of
from simulator.services.indices import validate_index_request
from simulator.services.runs import json_safe
from simulator.services.shards import dispatch_shards

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    """The owner already has as many active (PENDING or RUNNING) jobs as
    JOB_MAX_ACTIVE_PER_USER allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You have {limit} active (PENDING or RUNNING) jobs, the most allowed "
            f"(JOB_MAX_ACTIVE_PER_USER={limit}). Wait for one to finish, or cancel one."
        )
        self.limit = limit


def validate_config(owner: User, config: Any) -> jost_engine.Config:
    """The normalised config, with names resolved against `owner`'s saved profiles and
    then the shipped defaults, or jost_engine.ConfigError naming every problem.

    The service's own bounds come first (what can be stored and served back, the size of
    a job), so the engine only ever sees values it can check.
    """
    problems = json_problems(config)
    if isinstance(config, dict) and "name" in config and not isinstance(config["name"], str):
        problems.append(("name", "not a string"))
    if problems:
        raise jost_engine.ConfigError(problems)
    try:
        normalized = jost_engine.normalize_config(config, resolve=resolver_for(owner))
    except jost_engine.ConfigError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # The boundary checks above should leave nothing for the engine to trip on; if
        # something slips through, the client still gets a 400, and the log the details.
        logger.exception("The engine could not validate a config")
        raise jost_engine.ConfigError(
            [("(config)", f"cannot be read ({type(exc).__name__}); check its numbers")]
        ) from exc
    if normalized.total_rounds > settings.JOB_MAX_ROUNDS:
        where = "num_rounds" if normalized.sessions is None else "sessions"
        raise jost_engine.ConfigError(
            [
                (
                    where,
                    f"at most {settings.JOB_MAX_ROUNDS} rounds per job (JOB_MAX_ROUNDS), "
                    f"got {normalized.total_rounds}",
                )
            ]
        )
    cost = jost_engine.footprint(normalized, settings.JOB_SHARD_ROUNDS)
    _check_fits_time_limit(normalized, cost)
    _check_fits_memory(normalized, cost)
    return normalized


def _check_fits_time_limit(config: jost_engine.Config, cost: jost_engine.Footprint) -> None:
    """An unsplit job runs as one task, and so does each session of a job with sessions:
    one that could not finish within the soft time limit at the engine's measured speed
    would hold a worker for an hour and then FAIL, so it is refused now, saying how many
    rounds fit and how to split it. The spots are the most a round can deal (a
    spots_ramp at its widest): a counter who spreads to 7 spots plays 7 at high counts."""
    if config.splittable and config.sessions is None:
        return  # shards of JOB_SHARD_ROUNDS rounds: the operator's choice fits the limit
    # Four fifths of the limit: room for set-up and a machine slower than the one measured.
    seconds = 0.8 * settings.CELERY_TASK_SOFT_TIME_LIMIT
    fit = int(seconds * settings.ENGINE_SPOT_ROUNDS_PER_SECOND / cost.spots)
    if config.num_rounds > fit:
        what = "in one sequence" if config.sessions is None else "per session"
        advice = (
            'split the job over every worker with "stop_when_broke": false or "sessions": K'
            if config.sessions is None
            else "ask for more sessions of fewer rounds"
        )
        raise jost_engine.ConfigError(
            [
                (
                    "num_rounds",
                    f"{config.num_rounds} rounds of {cost.spots} spot(s) {what} would run "
                    f"past the time limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s "
                    f"(CELERY_TASK_SOFT_TIME_LIMIT) at the engine's speed "
                    f"({settings.ENGINE_SPOT_ROUNDS_PER_SECOND} spot-rounds a second): at "
                    f"most {fit} rounds fit. Ask for fewer, or {advice}",
                )
            ]
        )


def _check_fits_memory(config: jost_engine.Config, cost: jost_engine.Footprint) -> None:
    """A shard (or the merge of the shards) that needs more memory than a worker allows
    would be killed for it and retried until the job FAILED; refuse it now, naming the
    field that asks for the memory and what fits."""
    limit_mb = settings.JOB_SHARD_MAX_MEMORY_MB
    limit = limit_mb * 2**20
    if cost.memory_bytes <= limit:
        return
    field = cost.memory_field
    need = f"needs about {math.ceil(cost.memory_bytes / 2**20)} MB"
    allowed = f"a worker allows {limit_mb} MB (JOB_SHARD_MAX_MEMORY_MB)"
    if field == "sessions":
        fit = cost.sessions_within(limit)
        players = len(config.players)
        sessions = config.sessions or 0
        reason = (
            f"{sessions} sessions of {players} player(s) keep {sessions * players} "
            f"final bankrolls, which {need} to merge; {allowed}: at most {fit} sessions fit "
            f"with {players} player(s)"
        )
    elif field == "log_hands":
        reason = f"the hand history {need}; {allowed}: run without it (log_hands: false)"
    else:
        reason = f"{need} for this field; {allowed}: use fewer entries"
    raise jost_engine.ConfigError([(field, reason)])


def submit_job(owner: User, config: Any) -> SimulationJob:
    """Validate `config`, store it as a PENDING job and queue it once the row is committed.

    Raises jost_engine.ConfigError (with every bad field) before anything is stored, so a
    bad config never becomes a job, and QuotaExceeded when the owner has too many
    active jobs. The job keeps the config as sent and, to run, the config with every
    profile resolved now: a profile edited later never changes it.
    """
    normalized = validate_config(owner, config)
    specs = (
        jost_engine.plan_shards(normalized, settings.JOB_SHARD_ROUNDS)
        if normalized.splittable
        else []
    )
    return _store_job(
        owner,
        [
            JobShard(
                index=spec.index,
                rounds=spec.rounds,
                first_session=spec.first_session,
                sessions=spec.sessions,
            )
            for spec in specs
        ],
        request_data=config,
        resolved_config=json_safe(jost_engine.config_to_dict(normalized)),
        name=_name_of(config),
        rounds_total=int(normalized.total_rounds),
        seed=normalized.seed if normalized.seed is not None else secrets.randbits(63),
        shard_rounds=settings.JOB_SHARD_ROUNDS if specs else None,
    )


def submit_index_job(owner: User, raw: Any) -> SimulationJob:
    """Validate an index request (jost_engine.indices) and store it as a PENDING index job
    of JOB_SHARD_SHOES-shoe shards, queued once committed: a split job whose rounds are
    shoes. As submit_job: ConfigError before anything is stored, QuotaExceeded over the
    owner's limit. The job runs the request as resolved now, with its seed (the
    request's, or one drawn here, so a shard dealt again deals the same shoes)."""
    request = validate_index_request(owner, raw)
    # The engine reads an absent seed as 0; a job without one gets its own, as a config's.
    asked = raw.get("seed") if isinstance(raw, dict) else None
    seed = request.seed if asked is not None else secrets.randbits(63)
    request = dataclasses.replace(request, seed=seed)
    specs = indices.plan_index_shards(request, settings.JOB_SHARD_SHOES)
    return _store_job(
        owner,
        [JobShard(index=spec.index, rounds=spec.shoes) for spec in specs],
        kind=JobKind.INDICES,
        request_data=raw,
        resolved_config=json_safe(indices.index_request_to_dict(request)),
        name=_name_of(raw),
        rounds_total=request.shoes,
        seed=seed,
        shard_rounds=settings.JOB_SHARD_SHOES,
    )


def _name_of(config: Any) -> str:
    return config.get("name", "").strip() if isinstance(config, dict) else ""


def _store_job(owner: User, shards: list[JobShard], **fields: Any) -> SimulationJob:
    """The job's row and its shard rows (none: one task runs it), under the owner's quota,
    queued once committed."""
    with transaction.atomic():
        # Submits of one user take turns (the lock on their user row), so two at once
        # cannot both see room under the quota.
        # owner.__class__, not type(owner): a session-authenticated request's user is a
        # lazy proxy (SimpleLazyObject), whose type has no manager.
        owner.__class__.objects.select_for_update().filter(pk=owner.pk).exists()
        active = SimulationJob.objects.filter(owner=owner, status__in=ACTIVE).count()
        if active >= settings.JOB_MAX_ACTIVE_PER_USER:
            raise QuotaExceeded(settings.JOB_MAX_ACTIVE_PER_USER)
        job = SimulationJob.objects.create(
            owner=owner,
            shards_total=len(shards),
            request_id=current_request_id() or "",
            priority=has_priority(owner),
            **fields,
        )
        for shard in shards:
            shard.job = job
        JobShard.objects.bulk_create(shards)
        # A worker must never look for a row that is not committed yet; and a submit
        # rolled back (over the quota) is not counted as submitted.
        transaction.on_commit(lambda: _committed(job, len(shards)))
    return job


def _committed(job: SimulationJob, shards: int) -> None:
    """Once the job's rows are committed: count it, then send it (or its first shards)."""
    metrics.JOBS_SUBMITTED.labels(job.kind).inc()
    if shards:
        metrics.SHARDS_SUBMITTED.labels(job.kind).inc(shards)
    with bound(job_id=job.id, user_id=job.owner_id):
        logger.info("Job submitted: %s, %d shard(s)", job.kind, shards)
    if shards:
        dispatch_shards(job.id)
    else:
        enqueue_job(job.id, queue=queue_of(job.priority))


@dataclass(frozen=True)
class Answer:
    """An HTTP answer to a submit: what an Idempotency-Key replays."""

    status: int
    body: dict[str, Any]
    job: SimulationJob


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""


def request_fingerprint(endpoint: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


def _replay(owner: User, key: str, fingerprint: str) -> Answer | None:
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    stored = IdempotencyKey.objects.filter(owner=owner, key=key).select_related("job").first()
    if stored is None:
        return None
    if stored.created_at < cutoff:
        # Expired: the key may name a new request now.
        stored.delete()
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {key!r} was already used with a different request "
            f"(to another endpoint, or with another body) for job {stored.job_id}. Use a "
            "new key for a new request."
        )
    return Answer(stored.response_status, json.loads(stored.response_body), stored.job)


def submit_job_once(
    owner: User,
    config: Any,
    *,
    key: str,
    endpoint: str,
    answer: Callable[[SimulationJob], tuple[int, dict[str, Any]]],
    submit: Callable[[User, Any], SimulationJob] = submit_job,
) -> Answer:
    """`submit` (submit_job, or submit_index_job) under an Idempotency-Key: the first
    request with the key creates the job and stores `answer(job)`; every repeat with the
    same request gets that stored answer (the same status and body) and no new job. A
    repeat with another request is IdempotencyKeyReused. Keys are kept
    IDEMPOTENCY_KEY_TTL seconds (24 h by default)."""
    problems = json_problems(config)
    if problems:
        # Not fingerprinted: a document too deep or too odd to canonicalise is refused.
        raise jost_engine.ConfigError(problems)
    fingerprint = request_fingerprint(endpoint, config)
    found = _replay(owner, key, fingerprint)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            job = submit(owner, config)
            status_code, body = answer(job)
            IdempotencyKey.objects.create(
                owner=owner,
                key=key,
                fingerprint=fingerprint,
                job=job,
                response_status=status_code,
                response_body=json.dumps(body),
            )
    except IntegrityError:
        # A concurrent request with the same key committed first; this one's job was
        # rolled back with the key (and its enqueue with it), so there is one job.
        found = _replay(owner, key, fingerprint)
        if found is None:
            raise
        return found
    return Answer(status_code, body, job)


def purge_idempotency_keys() -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL; the number deleted."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
