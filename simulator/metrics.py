"""Prometheus metrics: what the web processes and the workers count, what /metrics reads
from the database and the broker when it is scraped, and the /metrics view itself.

Counters and histograms live in the process that saw the event (a gunicorn worker, a
Celery pool child). With PROMETHEUS_MULTIPROC_DIR set (the Procfile and start-dev.sh set
it), prometheus-client writes each process's values to files in that directory and
/metrics adds up every process's files, so one scrape sees the whole host. Gauges that
would need every process to agree (jobs by status, queue depth, rounds per second) are
not counted at all: they are read at scrape time from the database and the broker, the
ledger and the queue themselves. docs/OPERATIONS.md lists every metric.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Made by the Procfile's line already; made here too, since a value written to a
    # directory that is not there would fail the task or request that counted it.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Seconds: a job of a million rounds plays in about a second, a long one in an hour.
_RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
# Seconds: a status poll answers in milliseconds, a submit that validates a full table in
# tens of them.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

JOBS_SUBMITTED = Counter(
    "jost_jobs_submitted", "Jobs accepted (202) by the API or the dashboard.", ["kind"]
)
JOBS_FINISHED = Counter(
    "jost_jobs_finished",
    "Jobs that ended: status COMPLETE, FAILED or CANCELLED.",
    ["kind", "status"],
)
JOBS_RECLAIMED = Counter(
    "jost_jobs_reclaimed",
    "Unsplit jobs sent again by the sweep after their worker's heartbeat went stale.",
    ["kind"],
)
SHARDS_SUBMITTED = Counter(
    "jost_shards_submitted", "Shards created for split jobs at submit.", ["kind"]
)
SHARDS_FINISHED = Counter("jost_shards_finished", "Shards whose statistics were stored.", ["kind"])
SHARDS_FAILED = Counter(
    "jost_shards_failed",
    "Shards that failed their job (an engine fault, a time limit).",
    ["kind"],
)
SHARDS_RECLAIMED = Counter(
    "jost_shards_reclaimed",
    "Shards put back to PENDING by the sweep after their worker's heartbeat went stale.",
)
ROUNDS_PLAYED = Counter(
    "jost_rounds_played",
    "Rounds played by finished jobs and stored shards (for index jobs: shoes dealt).",
    ["kind"],
)
ENGINE_SECONDS = Counter(
    "jost_engine_seconds",
    "Seconds the engine ran for those rounds: rate(rounds) / rate(seconds) is the speed "
    "of one core.",
    ["kind"],
)
JOB_RUN_SECONDS = Histogram(
    "jost_job_run_seconds",
    "From a job's start (its first claim) to its COMPLETE result.",
    ["kind"],
    buckets=_RUN_BUCKETS,
)
SHARD_RUN_SECONDS = Histogram(
    "jost_shard_run_seconds",
    "One shard's run on a worker, from its claim to its stored statistics.",
    ["kind"],
    buckets=_RUN_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "jost_http_requests", "HTTP requests answered, by view and status.", ["view", "status"]
)
HTTP_SECONDS = Histogram(
    "jost_http_request_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=_HTTP_BUCKETS,
)
HTTP_REFUSED = Counter(
    "jost_http_refused",
    "Requests refused before their work was done (429 throttled or over quota, 413, 503), "
    "by reason.",
    ["reason"],
)

# The attribute of a Django request that says why it was refused (note_refusal).
_REFUSAL = "_jost_refusal"


def note_refusal(request: Any, reason: str) -> None:
    """Say why `request` (Django's or DRF's) is being refused; the middleware counts it
    under this reason when its answer goes out (429s without one count as "throttled")."""
    setattr(getattr(request, "_request", request), _REFUSAL, reason)


def refusal_of(request: HttpRequest, status: int) -> str | None:
    """The reason a response of `status` was a refusal, or None when it was not one."""
    noted = getattr(request, _REFUSAL, None)
    if noted:
        return str(noted)
    return {
        429: "throttled",
        413: "body_too_large",
        411: "length_required",
        503: "unavailable",
    }.get(status)


def job_finished(
    kind: str,
    status: str,
    *,
    rounds: int = 0,
    seconds: float | None = None,
    engine_seconds: float | None = None,
) -> None:
    """Count a job that ended with `status`; a COMPLETE one adds its run time and, when it
    ran as one task, its rounds (a split job's rounds are counted shard by shard)."""
    JOBS_FINISHED.labels(kind, status).inc()
    if rounds:
        ROUNDS_PLAYED.labels(kind).inc(rounds)
    if engine_seconds:
        ENGINE_SECONDS.labels(kind).inc(engine_seconds)
    if seconds is not None and status == "COMPLETE":
        JOB_RUN_SECONDS.labels(kind).observe(max(seconds, 0.0))


class DatabaseCollector(Collector):
    """Read at scrape time from the ledger: jobs and shards by status, and the fleet's
    rounds a second now (the rounds of RUNNING jobs over the time they have run)."""

    def collect(self) -> Iterator[Metric]:
        from simulator.models import JobShard, JobStatus, SimulationJob

        jobs = GaugeMetricFamily(
            "jost_jobs",
            "Jobs by status and kind, read from the database.",
            labels=["status", "kind"],
        )
        shards = GaugeMetricFamily(
            "jost_shards",
            "Shards by status and job kind, read from the database.",
            labels=["status", "kind"],
        )
        speed = GaugeMetricFamily(
            "jost_rounds_per_second",
            "Rounds a second of the RUNNING jobs (shoes for index jobs): the rounds each has "
            "played over the time since it started, added up.",
            labels=["kind"],
        )
        try:
            counts = {
                (row["status"], row["kind"]): row["n"]
                for row in SimulationJob.objects.values("status", "kind").annotate(n=Count("id"))
            }
            shard_counts = {
                (row["status"], row["job__kind"]): row["n"]
                for row in JobShard.objects.values("status", "job__kind").annotate(n=Count("id"))
            }
            now = timezone.now()
            running = SimulationJob.objects.filter(
                status=JobStatus.RUNNING, started_at__isnull=False, rounds_done__gt=0
            ).values_list("kind", "rounds_done", "started_at")
            rates: dict[str, float] = {}
            for kind, done, started in running:
                if started is None:
                    continue
                seconds = (now - started).total_seconds()
                if seconds > 0:
                    rates[kind] = rates.get(kind, 0.0) + done / seconds
        except Exception:  # a database that is down must not turn the scrape into a 500
            logger.warning("/metrics: the database could not be read", exc_info=True)
            return
        kinds = sorted({"simulation", "indices"} | {k for _, k in counts} | set(rates))
        for status in JobStatus.values:
            for kind in kinds:
                jobs.add_metric([status, kind], counts.get((status, kind), 0))
                shards.add_metric([status, kind], shard_counts.get((status, kind), 0))
        for kind in kinds:
            speed.add_metric([kind], rates.get(kind, 0.0))
        yield jobs
        yield shards
        yield speed


class QueueCollector(Collector):
    """Messages waiting in each of the workers' queues, asked of the broker at scrape time
    under a short timeout (BROKER_CHECK_TIMEOUT): the number to autoscale workers on."""

    def collect(self) -> Iterator[Metric]:
        from service.celery import app

        depth = GaugeMetricFamily(
            "jost_queue_depth", "Messages waiting in the broker, by queue.", labels=["queue"]
        )
        up = GaugeMetricFamily("jost_broker_up", "1 when the broker answered this scrape.")
        # Every queue a worker serves (urgent, priority, the default), declared or not yet.
        names = sorted(set(app.amqp.queues) | set(settings.JOB_QUEUES))
        try:
            with app.connection_for_read(
                settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
            ) as conn:
                conn.ensure_connection(max_retries=1, timeout=settings.BROKER_CHECK_TIMEOUT)
                channel = conn.default_channel
                for name in names:
                    try:
                        waiting = channel.queue_declare(queue=name, passive=True).message_count
                    except Exception:  # a queue nobody declared yet holds nothing
                        waiting = 0
                    depth.add_metric([name], waiting)
        except Exception as exc:
            logger.warning("/metrics: the broker did not answer (%s: %s)", type(exc).__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield depth
        yield up


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape() -> bytes:
    """The text format for one scrape: every process's counters (their files, in
    multiprocess mode; this process's alone otherwise) and what is read now."""
    registry = CollectorRegistry()
    directory = _multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector())
    registry.register(QueueCollector())
    return generate_latest(registry)


class _Forward(Collector):
    """The default registry's metrics inside another registry (single-process mode)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


def mark_process_dead(pid: int) -> None:
    """A process of the host exited: its live gauges go (its counters stay, so the sums
    never go backwards). Called from gunicorn's child_exit and Celery's pool."""
    directory = _multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)


def clear_directory(directory: str) -> int:
    """Remove the values files a previous run left (start-dev.sh, before it starts
    anything): counters start again from zero, which Prometheus reads as a restart."""
    removed = 0
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)
        removed += 1
    return removed


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: 404 while METRICS_TOKEN is unset (nothing to find), 401 without
    `Authorization: Bearer <METRICS_TOKEN>`, else the Prometheus text format."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: METRICS_TOKEN is not set.")
    given = request.headers.get("Authorization", "")
    scheme, _, presented = given.partition(" ")
    # compare_digest: the time taken says nothing of how much of the token was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        response = HttpResponse(
            "Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
