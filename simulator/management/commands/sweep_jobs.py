"""`python manage.py sweep_jobs`: the sweep Celery beat runs every JOB_SWEEP_INTERVAL
seconds (simulator.services.sweep), for an operator who wants it now (after a broker outage, or with
no beat running).

Re-enqueues PENDING jobs whose message Redis lost (or, by time, not sent for
JOB_REQUEUE_AFTER seconds) and RUNNING jobs whose heartbeat is older than JOB_STALE_AFTER
(or fails them, once their worker died JOB_MAX_ATTEMPTS times); does the same for split
jobs' shards, tops up their windows and merges what is stored; moves the work of users
without priority that waited JOB_PRIORITY_MAX_WAIT seconds to the urgent queue; forgets
Idempotency-Keys past IDEMPOTENCY_KEY_TTL. Running it twice, or beside beat, is harmless:
the worker's claim decides who runs a job or a shard.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from simulator.services.sweep import sweep


class Command(BaseCommand):
    help = (
        "Re-enqueue jobs and shards that lost their message (PENDING) or their worker "
        "(stale RUNNING), as Celery beat does."
    )

    def handle(self, *args: object, **options: object) -> None:
        swept = sweep()
        sent = swept["jobs"]
        for kind, label in (("pending", "PENDING"), ("stale", "stale RUNNING")):
            for job_id in sent[kind]:
                self.stdout.write(f"re-enqueued {label} job {job_id}")
        for job_id in sent["failed"]:
            self.stdout.write(f"failed job {job_id}: its worker died too often")
        self.stdout.write(
            f"{len(sent['pending'])} PENDING and {len(sent['stale'])} stale "
            "RUNNING job(s) re-enqueued"
        )
        shards = ", ".join(f"{kind} {n}" for kind, n in swept["shards"].items())
        self.stdout.write(f"split jobs: {shards}")
        promoted = swept["promoted"]
        self.stdout.write(
            f"moved to the urgent queue after waiting: {promoted['jobs_promoted']} job(s), "
            f"{promoted['shards_promoted']} shard(s)"
        )
        self.stdout.write(f"idempotency keys purged: {swept['idempotency_keys_purged']}")
        if sent["unsent"]:
            raise CommandError(
                f"{len(sent['unsent'])} job(s) not re-enqueued: the broker did "
                "not answer; run it again once the broker is up"
            )
