"""The periodic sweep (Celery beat every JOB_SWEEP_INTERVAL seconds, and `manage.py
sweep_jobs`): what lost its message or its worker is sent again, what killed its worker
too often is failed, split jobs' windows are topped up and their stored shards merged,
and old Idempotency-Keys are forgotten. Everything it sends is safe to send twice: the
worker's conditional claim decides who runs it."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now

from simulator import metrics
from simulator.models import ACTIVE, JobShard, JobStatus, SimulationJob, ago, stale_cutoff
from simulator.services.broker import enqueue_job, log_unsent, lost_messages, send_task
from simulator.services.jobs import fail_abandoned_jobs
from simulator.services.shards import dispatch_shards, fail_split_job, merge_shards, put_back
from simulator.services.submit import purge_idempotency_keys

logger = logging.getLogger(__name__)


def sweep() -> dict[str, Any]:
    """Everything the periodic sweep does, run by Celery beat every JOB_SWEEP_INTERVAL
    seconds and by `manage.py sweep_jobs`: the unsplit jobs (`jobs`: ids by kind, as
    sweep_jobs returns them), the split jobs' shards (`shards`: counts, as sweep_shards
    returns them), the work of users without priority that waited too long, moved ahead
    (`promoted`: counts, as promote_waiting returns them) and the Idempotency-Keys past
    IDEMPOTENCY_KEY_TTL, forgotten so the table stays small (`idempotency_keys_purged`)."""
    # Promotion first: the re-sends below start a message's wait again.
    promoted = promote_waiting()
    return {
        "jobs": sweep_jobs(),
        "shards": sweep_shards(),
        "promoted": promoted,
        "idempotency_keys_purged": purge_idempotency_keys(),
    }


def promote_waiting() -> dict[str, int]:
    """Send to the urgent queue, which workers serve before every other, the work of users
    without priority that has waited JOB_PRIORITY_MAX_WAIT seconds since it was sent: a
    PENDING unsplit job, or a sent and still PENDING shard of an active split job.

    Workers serve the priority queue strictly before the default one, so while priority
    work keeps coming the default queue would never be served: this is what bounds the
    wait (docs/OPERATIONS.md, Priorities). Its message in the default queue stays there, a
    duplicate the worker's claim turns away once the urgent copy has run. The send marks
    it sent now, so it is moved again only after another JOB_PRIORITY_MAX_WAIT. Priority
    work is never moved: it waits behind priority work only, first come first served, and
    moved it could crowd out the very work the urgent queue is there for.

    Returns how many jobs and shards were moved."""
    waited = _older_than("enqueued_at", settings.JOB_PRIORITY_MAX_WAIT)
    counts = {"jobs_promoted": 0, "shards_promoted": 0}
    job_ids = (
        SimulationJob.objects.filter(
            waited, status=JobStatus.PENDING, shards_total=0, priority=False, send_failed=False
        )
        .order_by("enqueued_at")
        .values_list("id", flat=True)
    )
    for job_id in job_ids:
        if not enqueue_job(job_id, queue=settings.URGENT_QUEUE):
            return counts  # the broker is down: the next sweep tries again
        counts["jobs_promoted"] += 1
    shards = (
        JobShard.objects.filter(
            waited, status=JobStatus.PENDING, job__priority=False, job__status__in=ACTIVE
        )
        .order_by("enqueued_at", "index")
        .values_list("id", "job_id", "index")
    )
    for pk, job_id, index in shards:
        try:
            send_task("simulator.run_job_shard", str(pk), queue=settings.URGENT_QUEUE)
        except Exception as exc:  # the broker is down: the next sweep tries again
            log_unsent(f"Shard {index} of job {job_id} waits in its own queue", exc)
            break
        JobShard.objects.filter(id=pk, status=JobStatus.PENDING).update(enqueued_at=Now())
        counts["shards_promoted"] += 1
    if any(counts.values()):
        logger.info(
            "Sweep: %d job(s) and %d shard(s) of users without priority waited %g s or "
            "more; sent to the %s queue",
            counts["jobs_promoted"],
            counts["shards_promoted"],
            settings.JOB_PRIORITY_MAX_WAIT,
            settings.URGENT_QUEUE,
        )
    return counts


def _older_than(field: str, seconds: float) -> Q:
    """`field` (a time the database wrote) more than `seconds` ago, by the database's clock."""
    return Q(**{f"{field}__lt": ago(seconds)})


def sweep_jobs() -> dict[str, list[UUID]]:
    """Send to the broker again every job that has no live message or no live worker:

    - PENDING whose message is in none of Redis's queues nor its delivered-unacknowledged
      messages (see lost_messages; the broker restarted without persistence, was
      flushed, evicted it, or the worker that took it died before starting it), once it
      is JOB_LOST_MESSAGE_GRACE old: at once;
    - PENDING, last sent (or submitted, if never sent) more than JOB_REQUEUE_AFTER ago:
      the fallback where the broker cannot be read (RabbitMQ, whose durable queue keeps
      messages and gives a dead consumer's back at once);
    - PENDING whose last send the broker refused (send_failed): at once;
    - RUNNING with a heartbeat older than JOB_STALE_AFTER: its worker died, so at once,
      and again at most once per JOB_STALE_AFTER while it stays stale, so sweeps do not
      pile up copies (unless it died JOB_MAX_ATTEMPTS times already: that job is FAILED
      instead, see fail_abandoned_jobs). A killed worker's message may come back too
      (Redis hands it out again after CELERY_VISIBILITY_TIMEOUT): two deliveries, one
      claim.

    Sending a job twice is harmless by construction: the worker's conditional claim
    decides who runs it, and a delivery that finds it finished stops.
    Run by Celery beat every JOB_SWEEP_INTERVAL seconds, and by `manage.py sweep_jobs`.
    Returns the ids sent, by kind, those left for the next sweep ("unsent") and those
    failed for having killed their worker too often ("failed").
    """
    not_sent_lately = Q(enqueued_at__isnull=True) & _older_than(
        "created_at", settings.JOB_REQUEUE_AFTER
    ) | _older_than("enqueued_at", settings.JOB_REQUEUE_AFTER)
    abandoned = fail_abandoned_jobs()
    # Split jobs are run by their shards (sweep_shards), never sent whole.
    unsplit = SimulationJob.objects.filter(shards_total=0)
    pending = unsplit.filter(status=JobStatus.PENDING)
    past_grace = Q(enqueued_at__isnull=True) & _older_than(
        "created_at", settings.JOB_LOST_MESSAGE_GRACE
    ) | _older_than("enqueued_at", settings.JOB_LOST_MESSAGE_GRACE)
    lost = lost_messages(
        "simulator.run_simulation_job",
        [str(pk) for pk in pending.filter(past_grace).values_list("id", flat=True)],
    )
    found = {
        "pending": list(
            # The broker refused the last send: send now, it may well be back.
            pending.filter(not_sent_lately | Q(send_failed=True) | Q(id__in=lost or []))
            .order_by("created_at")
            .values_list("id", flat=True)
        ),
        "stale": list(
            unsplit.stale()
            .filter(
                Q(enqueued_at__isnull=True) | _older_than("enqueued_at", settings.JOB_STALE_AFTER)
            )
            .order_by("created_at")
            .values_list("id", flat=True)
        ),
    }
    sent: dict[str, list[UUID]] = {"pending": [], "stale": [], "unsent": [], "failed": abandoned}
    for kind, ids in found.items():
        for job_id in ids:
            # Once the broker failed, the next sweep tries again: no use waiting out one
            # connection timeout per job now.
            if sent["unsent"] or not enqueue_job(job_id):
                sent["unsent"].append(job_id)
            else:
                sent[kind].append(job_id)
    if any(sent.values()):
        logger.warning(
            "Sweep: %d PENDING and %d stale RUNNING job(s) re-enqueued, %d left "
            "for the next sweep (broker down), %d failed (worker died too often)",
            len(sent["pending"]),
            len(sent["stale"]),
            len(sent["unsent"]),
            len(sent["failed"]),
        )
    return sent


def sweep_shards() -> dict[str, int]:
    """The split jobs' part of the sweep:

    - a RUNNING shard whose heartbeat is older than JOB_STALE_AFTER lost its worker: it
      goes back to PENDING, first in its job's queue (or, when its worker died
      JOB_MAX_ATTEMPTS times, its job is FAILED saying so);
    - a shard sent and never started whose message Redis no longer holds (lost_messages)
      is sent again at once; where the broker cannot be read, one sent more than
      JOB_SHARD_REQUEUE_AFTER ago (the fallback);
    - every active split job's window is topped up (a send the broker refused is retried
      here), and a job whose shards are all stored but not merged (its merger died) is
      merged.
    Returns how many of each.
    """
    counts = {"shards_requeued": 0, "shards_resent": 0, "shards_sent": 0, "merged": 0}
    counts["split_failed"] = 0
    for job_id in JobShard.objects.worn_out().values_list("job_id", flat=True).distinct():
        counts["split_failed"] += fail_split_job(
            job_id,
            f"A worker running a shard of this job stopped {settings.JOB_MAX_ATTEMPTS} times "
            "without finishing it (killed, out of memory, or crashed), so it is not run "
            "again. If it persists, report it with this job's id.",
        )
    counts["shards_requeued"] = put_back(JobShard.objects.stale())
    if counts["shards_requeued"]:
        metrics.SHARDS_RECLAIMED.inc(counts["shards_requeued"])
    sent = JobShard.objects.filter(
        status=JobStatus.PENDING, enqueued_at__isnull=False, job__status__in=ACTIVE
    )
    lost = lost_messages(
        "simulator.run_job_shard",
        [
            str(pk)
            for pk in sent.filter(
                _older_than("enqueued_at", settings.JOB_LOST_MESSAGE_GRACE)
            ).values_list("id", flat=True)
        ],
    )
    counts["shards_resent"] = JobShard.objects.filter(
        _older_than("enqueued_at", settings.JOB_SHARD_REQUEUE_AFTER)
        | Q(id__in=[int(pk) for pk in lost or []]),
        status=JobStatus.PENDING,
    ).update(enqueued_at=None)
    # A merge started longer ago than a heartbeat goes stale never finished: retry it.
    SimulationJob.objects.filter(
        status=JobStatus.RUNNING, merge_started_at__lt=stale_cutoff()
    ).update(merge_started_at=None)
    for job_id in SimulationJob.objects.filter(status__in=ACTIVE, shards_total__gt=0).values_list(
        "id", flat=True
    ):
        counts["shards_sent"] += len(dispatch_shards(job_id))
        counts["merged"] += merge_shards(job_id)
    if counts["shards_requeued"] or counts["shards_resent"] or counts["split_failed"]:
        logger.warning("Sweep of split jobs: %s", counts)
    return counts
