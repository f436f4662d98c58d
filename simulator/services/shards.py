"""Split jobs: a job played as shards (stop_when_broke false, or sessions; and every
index job, whose shards deal shoes), each its own task under its own claim
(ClaimQuerySet, simulator/models.py). A window of shards is queued at a time; a shard's
statistics are stored once; the last one stored merges the job exactly once; a failure
fails the job and stops its other shards."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Sum
from django.db.models.functions import Now
from django.utils import timezone

import jost_engine
from jost_engine.indices import IndexSums
from simulator import metrics
from simulator.models import ACTIVE, JobKind, JobShard, JobStatus, SimulationJob
from simulator.services import broker, indices
from simulator.services.database import DATABASE_UNREACHABLE, reset_connection
from simulator.services.runs import (
    ClaimLost,
    Heartbeat,
    Outcome,
    RunOutcome,
    describe_failure,
    is_cancelled,
    json_safe,
)

logger = logging.getLogger(__name__)


def dispatch_shards(job_id: UUID, *, pooled: bool = False) -> list[int]:
    """Top up the job's window: send the next shards (lowest index first) until
    JOB_SHARD_WINDOW of them wait in the broker's queue. Called at submit, whenever a
    shard starts or is stored, and by the sweep; returns the indexes sent.

    Only a window is ever queued, so another user's job submitted now waits behind at
    most JOB_SHARD_WINDOW shards of this one, not behind all of them. The job's row is
    locked while the window is counted and marked, so two workers topping up at once do
    not both fill the same places.
    """
    with transaction.atomic():
        job = (
            SimulationJob.objects.select_for_update()
            .filter(id=job_id, status__in=ACTIVE, shards_total__gt=0)
            .only("id", "priority")
            .first()
        )
        if job is None:
            return []
        queue = broker.queue_of(job.priority)
        shards = JobShard.objects.filter(job_id=job_id, status=JobStatus.PENDING)
        room = settings.JOB_SHARD_WINDOW - shards.filter(enqueued_at__isnull=False).count()
        if room <= 0:
            return []
        picked = list(
            shards.filter(enqueued_at__isnull=True)
            .order_by("index")
            .values_list("id", "index")[:room]
        )
        JobShard.objects.filter(id__in=[pk for pk, _ in picked]).update(enqueued_at=Now())
    sent = []
    for pk, index in picked:
        try:
            broker.send_task("simulator.run_job_shard", str(pk), queue=queue, pooled=pooled)
        except Exception as exc:  # a dead broker must not fail a submit or a shard
            broker.log_unsent(f"Shard {index} of job {job_id} stays PENDING", exc)
            # Back out of the window, so the next top-up (the sweep's) sends it again.
            JobShard.objects.filter(id__in=[p for p, i in picked if i >= index]).filter(
                status=JobStatus.PENDING
            ).update(enqueued_at=None)
            SimulationJob.objects.filter(id=job_id).update(send_failed=True)
            break
        sent.append(index)
    if sent:
        SimulationJob.objects.filter(id=job_id, send_failed=True).update(send_failed=False)
    return sent


def claim_shard(shard_id: int, worker: str = "") -> UUID | None:
    """Take the shard for this worker; returns the claim token, or None.

    Redelivery after a crash, a duplicate from the sweep, or two workers handed the same
    message: only the one whose UPDATE matched may run the shard, and only the holder
    of the current token may store it. A shard of a job that was cancelled or failed is
    not taken; nor one whose worker died JOB_MAX_ATTEMPTS times (the sweep fails its job).
    """
    # EXISTS, not job__status: a filter through the foreign key makes Django write
    # "WHERE id IN (SELECT ...)", and PostgreSQL then re-checks none of the shard's own
    # conditions on the row a concurrent claim just updated: both claims would win.
    job_active = Exists(SimulationJob.objects.filter(id=OuterRef("job_id"), status__in=ACTIVE))
    # attempts also bounds a PENDING shard (a job's never is): the sweep puts a dead
    # worker's shard back to PENDING with its attempts counted.
    token = (
        JobShard.objects.claimable()
        .filter(job_active, id=shard_id, attempts__lt=settings.JOB_MAX_ATTEMPTS)
        .claim(worker)
    )
    if token is None:
        return None
    # The job's first shard to start starts the job (its progress is measured from here).
    SimulationJob.objects.filter(
        status=JobStatus.PENDING, id__in=JobShard.objects.filter(id=shard_id).values("job_id")
    ).update(status=JobStatus.RUNNING, started_at=Now(), heartbeat_at=Now())
    return token


def store_shard(
    shard_id: int,
    claim: UUID,
    stats: jost_engine.Stats | IndexSums,
    *,
    engine_seconds: float | None = None,
    wall_seconds: float | None = None,
) -> bool:
    """Store the shard's statistics, once: False when this worker no longer holds the
    shard (reclaimed after its heartbeat went stale, or its job cancelled or failed).

    The shard's row and the job's progress move in one transaction, and only while the
    job is RUNNING: a shard finishing as its job is cancelled is either stored before
    the cancel or not at all.
    """
    with transaction.atomic():
        shard = JobShard.objects.held(shard_id, claim).only("job_id", "rounds").first()
        if shard is None:
            return False
        moved = SimulationJob.objects.filter(id=shard.job_id, status=JobStatus.RUNNING).update(
            rounds_done=F("rounds_done") + shard.rounds, heartbeat_at=Now()
        )
        stored = JobShard.objects.held(shard_id, claim).finish(
            JobStatus.COMPLETE,
            stats=json_safe(stats.to_dict()),
            rounds_done=shard.rounds,
            engine_seconds=engine_seconds,
            wall_seconds=wall_seconds,
            claim=None,
        )
        if not (moved == 1 and stored):
            transaction.set_rollback(True)
            return False
    return True


def merge_shards(job_id: UUID) -> bool:
    """Once every shard is stored, merge them (in index order) into the job's result and
    complete it. Exactly one caller merges: the conditional UPDATE that sets
    merge_started_at decides. True when this call completed the job."""
    all_stored = ~Exists(
        JobShard.objects.filter(job_id=OuterRef("pk")).exclude(status=JobStatus.COMPLETE)
    )
    took = SimulationJob.objects.filter(
        all_stored,
        id=job_id,
        status=JobStatus.RUNNING,
        shards_total__gt=0,
        merge_started_at__isnull=True,
    ).update(merge_started_at=Now())
    if took != 1:
        return False
    job = SimulationJob.objects.only(
        "kind",
        "notes",
        "resolved_config",
        "request_data",
        "seed",
        "shard_rounds",
        "shards_total",
        "started_at",
    ).get(id=job_id)
    rows = JobShard.objects.filter(job_id=job_id).order_by("index")
    stored = list(rows.only("id", "index", "rounds", "attempts", "stats"))
    index_job = job.kind == JobKind.INDICES
    parts: list[Any] = []
    unreadable: list[tuple[JobShard, ValueError]] = []
    for row in stored:
        if row.stats is None and not index_job:
            continue
        try:
            parts.append(indices.read_sums(row.stats) if index_job else _read_stats(row.stats))
        except ValueError as exc:
            unreadable.append((row, exc))
    if unreadable:
        return _deal_again(job_id, unreadable)
    if index_job:
        result = indices.result(job, parts)
    else:
        # The seed it ran with (drawn at submit when the config had none): what reproduces it.
        config = dataclasses.replace(_job_config(job), seed=job.seed)
        merged = jost_engine.merge(*parts)
        seconds = rows.aggregate(total=Sum("engine_seconds"))["total"]
        result = jost_engine.results(
            config,
            merged,
            seed=job.seed,
            duration=(timezone.now() - job.started_at).total_seconds() if job.started_at else None,
            play_seconds=seconds,
            shards=job.shards_total,
            shard_rounds=job.shard_rounds,
        )
    if job.notes:
        # Said where the client reads the answer, not only in a worker's log.
        result = {**result, "notes": list(job.notes)}
    done = SimulationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).finish(
        JobStatus.COMPLETE, result_data=json_safe(result), rounds_done=F("rounds_total")
    )
    if done:
        metrics.job_finished(
            job.kind,
            JobStatus.COMPLETE,
            seconds=(timezone.now() - job.started_at).total_seconds() if job.started_at else None,
        )
        logger.info("Job %s COMPLETE: %d shards merged", job_id, job.shards_total)
    return done


def _read_stats(stats: Any) -> jost_engine.Stats:
    if not isinstance(stats, dict):
        raise ValueError("no statistics stored")
    return jost_engine.Stats.from_dict(stats)


def _deal_again(job_id: UUID, unreadable: list[tuple[JobShard, ValueError]]) -> bool:
    """Shards stored by an engine that wrote its statistics in another format (a worker of
    the previous release, during a deploy) are dealt again from their own seeds rather
    than merged into the wrong fields or failing the job: back to PENDING, their shoes
    or rounds taken off the job's progress, the merge let go, so the last one stored
    again merges. A shard already run JOB_MAX_ATTEMPTS times fails the job instead: an
    engine that cannot read what it writes itself must not deal it forever. False: the
    job is not complete."""
    row, exc = unreadable[0]
    worn = [shard for shard, _ in unreadable if shard.attempts >= settings.JOB_MAX_ATTEMPTS]
    if worn:
        fail_split_job(
            job_id,
            f"Shard {worn[0].index}'s stored statistics cannot be read ({exc}), though it was "
            f"dealt {worn[0].attempts} times: report it with this job's id.",
        )
        return False
    indexes = [shard.index for shard, _ in unreadable]
    note = (
        f"Shard{'s' if len(indexes) > 1 else ''} {', '.join(map(str, indexes))} "
        f"stored statistics in a format this engine does not read ({exc}), as a worker "
        "of another release does during a deploy: dealt again from their seeds, so the "
        "result is the one an undisturbed run gives."
    )
    with transaction.atomic():
        # The job first (locked, so two notes written at once both stay): one cancelled
        # since the merge began keeps its shards as they are.
        job = (
            SimulationJob.objects.select_for_update()
            .filter(id=job_id, status=JobStatus.RUNNING)
            .only("notes")
            .first()
        )
        if job is None:
            return False
        SimulationJob.objects.filter(id=job_id).update(
            rounds_done=F("rounds_done") - sum(shard.rounds for shard, _ in unreadable),
            merge_started_at=None,
            notes=[*(job.notes or []), note],
        )
        again = JobShard.objects.filter(
            id__in=[shard.id for shard, _ in unreadable], status=JobStatus.COMPLETE
        ).update(
            status=JobStatus.PENDING,
            stats=None,
            claim=None,
            enqueued_at=None,
            rounds_done=0,
            finished_at=None,
        )
    logger.warning(
        "Job %s: %d shard(s) stored in a format this engine does not read (shard %d: %s); "
        "dealing them again from their seeds",
        job_id,
        again,
        row.index,
        exc,
    )
    dispatch_shards(job_id)
    return False


def fail_split_job(job_id: UUID, error: str) -> bool:
    """FAILED with `error`, and its shards not yet stored stop (CANCELLED)."""
    failed = SimulationJob.objects.filter(id=job_id, status__in=ACTIVE).finish(
        JobStatus.FAILED, error=error, claim=None
    )
    stop_shards(job_id)
    if failed:
        kind = SimulationJob.objects.filter(id=job_id).values_list("kind", flat=True).first()
        metrics.job_finished(kind or JobKind.SIMULATION, JobStatus.FAILED)
    return failed


def stop_shards(job_id: UUID) -> None:
    """The job's shards not yet stored stop (CANCELLED), its job having been cancelled or
    failed: queued ones are skipped when delivered, running ones stop at their next
    progress write, and none can be stored any more (store_shard needs the job RUNNING)."""
    JobShard.objects.filter(job_id=job_id, status__in=ACTIVE).update(
        status=JobStatus.CANCELLED, claim=None
    )


def put_back(shards: QuerySet[JobShard]) -> int:
    """Back to PENDING and out of the window, their claims void (their workers died or are
    stopping): the next top-up sends them first, lowest index first. Returns how many."""
    return shards.update(status=JobStatus.PENDING, claim=None, enqueued_at=None)


_configs: dict[UUID, jost_engine.Config] = {}


def _job_config(job: SimulationJob) -> jost_engine.Config:
    """The job's config as resolved at submit, normalised once per process: the shards
    of a job mostly land on the same few workers."""
    config = _configs.get(job.id)
    if config is None:
        if len(_configs) > 64:
            _configs.clear()
        raw = job.resolved_config if job.resolved_config is not None else job.request_data
        config = _configs[job.id] = jost_engine.normalize_config(raw)
    return config


def give_back_shard(shard_id: int, claim: UUID) -> bool:
    """As give_back_job, for a shard: back to PENDING, this attempt not counted, and marked
    sent (the task's retry is its message). Best effort: with the database down it goes
    stale, and the sweep puts it back."""
    reset_connection()
    try:
        return JobShard.objects.held(shard_id, claim).give_back(enqueued_at=Now())
    except DATABASE_UNREACHABLE:
        reset_connection()
        return False


def run_shard(shard_id: int, soft_time_limit: float | None = None, worker: str = "") -> RunOutcome:
    """Claim the shard, play it, store its statistics once, top up the job's window, and
    merge the job when this was the last shard. Never raises for an engine fault: the
    job fails with a message, the worker goes on. Raises DATABASE_UNREACHABLE when the
    database fails it (the shard given back first, where the database lets it), for the
    task to retry."""
    started = time.perf_counter()
    claim = claim_shard(shard_id, worker)
    if claim is None:
        logger.info("Shard %s not run: stored, running elsewhere, or its job stopped", shard_id)
        return RunOutcome(Outcome.SKIPPED)
    try:
        return _run_claimed_shard(shard_id, claim, soft_time_limit, started)
    except DATABASE_UNREACHABLE:
        logger.warning(
            "Shard %s: the database failed mid-run; %s, and the delivery is retried",
            shard_id,
            "the shard is given back" if give_back_shard(shard_id, claim) else "it goes stale",
        )
        raise


def _run_claimed_shard(
    shard_id: int, claim: UUID, soft_time_limit: float | None, started: float
) -> RunOutcome:
    shard = JobShard.objects.select_related("job").get(id=shard_id)
    job = shard.job
    if shard.attempts > 1:
        logger.warning(
            "Shard %d of job %s run again (attempt %d)", shard.index, job.id, shard.attempts
        )
    # This shard left the queue: the next one may take its place.
    dispatch_shards(job.id, pooled=True)
    try:
        with Heartbeat(
            lambda: JobShard.objects.held(shard_id, claim).beat(),
            settings.JOB_HEARTBEAT_INTERVAL,
        ):
            engine_start = time.perf_counter()
            stats = _deal(job, shard, _shard_reporter(shard_id, claim))
            engine_seconds = time.perf_counter() - engine_start
    except ClaimLost:
        logger.info(
            "Shard %d of job %s stopped: its job was cancelled or it was reclaimed",
            shard.index,
            job.id,
        )
        return _stopped(job.id)
    except SoftTimeLimitExceeded:
        limit = soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        advice = (
            "lower JOB_SHARD_SHOES, or index fewer plays"
            if job.kind == JobKind.INDICES
            else "lower JOB_SHARD_ROUNDS, or ask for shorter sessions"
        )
        metrics.SHARDS_FAILED.labels(job.kind).inc()
        fail_split_job(
            job.id,
            f"Shard {shard.index} ran past the time limit of {limit:g} s "
            f"(CELERY_TASK_SOFT_TIME_LIMIT): {advice}.",
        )
        return RunOutcome(Outcome.FAILED)
    except DATABASE_UNREACHABLE:
        raise  # the database's fault, not the config's nor the engine's
    except Exception as exc:
        logger.warning("Job %s failed in shard %d: %s", job.id, shard.index, exc, exc_info=True)
        metrics.SHARDS_FAILED.labels(job.kind).inc()
        fail_split_job(job.id, describe_failure(exc))
        return RunOutcome(Outcome.FAILED)
    wall_seconds = time.perf_counter() - started
    if not store_shard(
        shard_id, claim, stats, engine_seconds=engine_seconds, wall_seconds=wall_seconds
    ):
        return _stopped(job.id)
    metrics.SHARDS_FINISHED.labels(job.kind).inc()
    metrics.ROUNDS_PLAYED.labels(job.kind).inc(shard.rounds)
    metrics.ENGINE_SECONDS.labels(job.kind).inc(engine_seconds)
    metrics.SHARD_RUN_SECONDS.labels(job.kind).observe(wall_seconds)
    logger.info(
        "Shard %d of job %s stored: %d %s in %.2f s",
        shard.index,
        job.id,
        shard.rounds,
        "shoes" if job.kind == JobKind.INDICES else "rounds",
        wall_seconds,
    )
    if merge_shards(job.id):
        return RunOutcome(Outcome.COMPLETE)
    dispatch_shards(job.id, pooled=True)
    return RunOutcome(Outcome.STORED)


def _deal(
    job: SimulationJob, shard: JobShard, progress: Callable[[int], None]
) -> jost_engine.Stats | IndexSums:
    """The shard's statistics from its own seed: rounds played for a simulation, shoes
    dealt for an index job; progress(rounds or shoes done) may stop it by raising."""
    if job.kind == JobKind.INDICES:
        return indices.run_shard(job, shard, progress)
    spec = jost_engine.ShardSpec(
        index=shard.index,
        rounds=shard.rounds,
        first_session=shard.first_session,
        sessions=shard.sessions,
    )
    return jost_engine.run_shard_spec(_job_config(job), int(job.seed or 0), spec, progress)


def _stopped(job_id: UUID) -> RunOutcome:
    """A shard whose claim was void by the time it wrote: its job was cancelled (or
    failed), or the shard reclaimed after its heartbeat went stale."""
    return RunOutcome(Outcome.CANCELLED if is_cancelled(job_id) else Outcome.LOST)


def _shard_reporter(shard_id: int, claim: UUID) -> Callable[[int], None]:
    """Progress of a shard, written at most every JOB_PROGRESS_INTERVAL seconds; a write
    that matches nothing (the job was cancelled or failed, or the shard reclaimed) stops
    the shard."""
    last = [time.monotonic()]

    def report(rounds_done: int) -> None:
        now = time.monotonic()
        if now - last[0] < settings.JOB_PROGRESS_INTERVAL:
            return
        last[0] = now
        if not JobShard.objects.held(shard_id, claim).beat(rounds_done=rounds_done):
            raise ClaimLost(shard_id)

    return report


def release_worker_shards(claimed_by_prefix: str) -> int:
    """Put back at once every shard a worker that is shutting down (a deploy's SIGTERM)
    still runs, so the others take them now rather than after JOB_STALE_AFTER; the
    stopping worker's late store then matches nothing. Returns how many."""
    shards = JobShard.objects.filter(
        status=JobStatus.RUNNING, claimed_by__startswith=claimed_by_prefix
    )
    jobs = set(shards.values_list("job_id", flat=True))
    released = put_back(shards)
    for job_id in jobs:
        dispatch_shards(job_id)
    if released:
        logger.warning("Put back %d shard(s) of %s, which is stopping", released, claimed_by_prefix)
    return released
