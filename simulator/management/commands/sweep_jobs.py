"""`python manage.py sweep_jobs`: what Celery beat runs every JOB_SWEEP_INTERVAL seconds,
for an operator who wants it now (after a broker outage, or with no beat running).

Re-enqueues PENDING jobs not sent for JOB_REQUEUE_AFTER seconds and RUNNING jobs whose
heartbeat is older than JOB_STALE_AFTER (or fails them, once their worker died
JOB_MAX_ATTEMPTS times). Running it twice, or beside beat, is harmless:
the worker's claim decides who runs a job.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from simulator import services


class Command(BaseCommand):
    help = "Re-enqueue jobs that lost their message (PENDING) or their worker (stale RUNNING)."

    def handle(self, *args: object, **options: object) -> None:
        sent = services.sweep_jobs()
        for kind, label in (("pending", "PENDING"), ("stale", "stale RUNNING")):
            for job_id in sent[kind]:
                self.stdout.write(f"re-enqueued {label} job {job_id}")
        for job_id in sent["failed"]:
            self.stdout.write(f"failed job {job_id}: its worker died too often")
        self.stdout.write(
            f"{len(sent['pending'])} PENDING and {len(sent['stale'])} stale "
            "RUNNING job(s) re-enqueued"
        )
        if sent["unsent"]:
            raise CommandError(
                f"{len(sent['unsent'])} job(s) not re-enqueued: the broker did "
                "not answer; run it again once the broker is up"
            )
