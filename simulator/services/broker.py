"""The broker: sending a job's or a shard's task message (a dead broker costs seconds,
never a submit), and reading which messages Redis still holds (what the sweep sends
again)."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.db.models.functions import Now

from simulator.models import SimulationJob

logger = logging.getLogger(__name__)


# The version of what a task message's arguments mean, sent in the message's headers.
# A header, not an argument: during a deploy the new web process sends to workers of the
# previous release, which ignore a header they do not know but would fail a task on an
# argument their function does not take. Every version keeps the row's id as the first
# argument (the sweep's lost_messages reads it too) and may add only keyword arguments
# with defaults, which the tasks accept and ignore when they come from a later release.
# No header at all: release-16's messages, the same single argument.
MESSAGE_FORMAT = 1
MESSAGE_FORMAT_HEADER = "jost_message_format"
_HEADERS = {MESSAGE_FORMAT_HEADER: MESSAGE_FORMAT}

# One retry, at once: a broker that is down costs a short wait, not Celery's retry loop.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def queue_of(priority: bool) -> str:
    """The queue a job's messages (its own, or every shard's) go to: the priority queue
    for a job whose owner had priority at submit (SimulationJob.priority), the default
    queue for everyone else's. The urgent queue is never a job's own: only the sweep
    moves work there (simulator.services.sweep.promote_waiting)."""
    return settings.PRIORITY_QUEUE if priority else settings.DEFAULT_QUEUE


def send_task(task_name: str, arg: str, *, queue: str, pooled: bool = False) -> None:
    """Send one task message to `queue`, or raise: a connection of our own with a short
    timeout, rather than the app's pool, so a dead broker costs BROKER_CHECK_TIMEOUT
    seconds, not Celery's retry loop. `pooled`: the app's kept connection, for a worker
    topping up a window between two shards (a new connection per send cost about 2% of a
    shard)."""
    from service.celery import app

    if pooled:
        app.send_task(
            task_name,
            args=[arg],
            headers=_HEADERS,
            queue=queue,
            retry=True,
            retry_policy=_RETRY_POLICY,
        )
        return
    with app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
    ) as conn:
        app.send_task(
            task_name,
            args=[arg],
            headers=_HEADERS,
            queue=queue,
            connection=conn,
            retry=True,
            retry_policy=_RETRY_POLICY,
        )


def enqueue_job(job_id: UUID, *, queue: str | None = None) -> bool:
    """Send the job's id to the broker: to `queue`, or by default to the job's own
    (queue_of: what the job was given at submit, so a re-send by the sweep keeps it). A
    broker that is down is logged, not raised: the job stays PENDING with send_failed
    set, the client still gets its 202, and the next sweep sends it (at once, not after
    JOB_REQUEUE_AFTER).

    Sending the same job twice is harmless: the worker's claim decides who runs it.
    """
    if queue is None:
        priority = SimulationJob.objects.filter(id=job_id).values_list("priority", flat=True)
        queue = queue_of(bool(priority.first()))
    try:
        send_task("simulator.run_simulation_job", str(job_id), queue=queue)
    except Exception as exc:  # the broker being down must never turn a submit into a 500
        log_unsent(f"Job {job_id} stays PENDING", exc)
        SimulationJob.objects.filter(id=job_id).update(send_failed=True)
        return False
    SimulationJob.objects.filter(id=job_id).update(enqueued_at=Now(), send_failed=False)
    return True


def log_unsent(what: str, exc: BaseException) -> None:
    logger.error(
        "%s: the broker at %s did not take it (%s: %s); the next sweep sends it again",
        what,
        _redacted(settings.CELERY_BROKER_URL),
        type(exc).__name__,
        exc,
    )


def _redacted(url: str) -> str:
    """The broker URL without its password, fit for a log line."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


# A message moves from a queue's list to the "unacked" hash when a worker takes it (BRPOP,
# then HSET): a read of both can miss one caught between. What looks lost is read again
# after this pause, by when any message in flight has landed.
_IN_FLIGHT_PAUSE = 0.25


def _held_at_most() -> float:
    """Seconds a live worker may hold a message of a job or shard that is still PENDING:
    it starts what it takes at once (prefetch 1), or holds it for a retry's countdown (at
    most JOB_STALE_AFTER + 1 s for a busy job, JOB_DATABASE_RETRY_MAX_DELAY after a
    database error). Twice the longer, for a loaded worker."""
    return 2 * max(settings.JOB_STALE_AFTER + 1, settings.JOB_DATABASE_RETRY_MAX_DELAY)


def lost_messages(task_name: str, ids: list[str]) -> set[str] | None:
    """Which of `ids` (the first argument of `task_name` messages: a job's or a shard's
    id) have no message on the broker: in no queue and not delivered to any worker. None
    when that cannot be told (the broker is not Redis, or did not answer): the sweep then
    goes by time alone.

    Time is the wrong signal for a message Redis lost (a restart without persistence, a
    FLUSHDB, an eviction): the lost work would wait JOB_REQUEUE_AFTER or
    JOB_SHARD_REQUEUE_AFTER for nothing. The ledger says what should be queued; Redis says
    what is; the difference is sent again at once."""
    if not ids:
        return set()
    held = _messages_on_broker()
    if held is None:
        return None
    missing = set(ids) - held.get(task_name, set())
    if missing:
        time.sleep(_IN_FLIGHT_PAUSE)
        again = _messages_on_broker()
        if again is None:
            return None
        missing -= again.get(task_name, set())
    return missing


def _messages_on_broker() -> dict[str, set[str]] | None:
    """{task name: {first argument}} of every message Redis holds for this app: ready in
    its queues' lists (each priority's list too), then delivered and not yet acknowledged
    (the transport's "unacked" hash: running, or waiting for an ETA, in some worker)
    within _held_at_most() seconds (a RUNNING job's own message is older, but a RUNNING job
    is never asked about: its heartbeat tells whether its worker lives). Read
    in that order, so a message moving from one to the other is seen in one of them
    unless it moves during both reads (lost_messages reads twice). None when the broker
    is not Redis or cannot be read."""
    from service.celery import app

    if urlsplit(settings.CELERY_BROKER_URL).scheme not in {"redis", "rediss", "redis+socket"}:
        return None
    try:
        with app.connection_for_read(
            settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_CHECK_TIMEOUT
        ) as conn:
            channel: Any = conn.default_channel
            client = channel.client
            lists = [
                channel._q_for_pri(queue, priority)
                for queue in app.amqp.queues
                for priority in channel.priority_steps
            ]
            pipe = client.pipeline(transaction=False)
            for key in lists:
                pipe.lrange(key, 0, -1)
            raws = [raw for ready in pipe.execute() for raw in ready]
            # Delivered, and when: a message a worker took more than _held_at_most() ago
            # and has still not started is held by a worker that died (Redis gives it
            # back only after the visibility timeout): it counts as lost.
            delivered = client.hgetall(channel.unacked_key)
            since = dict(client.zrange(channel.unacked_index_key, 0, -1, withscores=True))
            recent = time.time() - _held_at_most()
            raws += [raw for tag, raw in delivered.items() if since.get(tag, recent) >= recent]
    except Exception as exc:  # a broker that is down: the time-based rules still apply
        logger.warning(
            "Sweep: could not read the broker's queues (%s: %s)", type(exc).__name__, exc
        )
        return None
    held: dict[str, set[str]] = {}
    for raw in raws:
        found = _task_and_first_arg(raw)
        if found is not None:
            held.setdefault(found[0], set()).add(found[1])
    return held


def _task_and_first_arg(raw: bytes | str) -> tuple[str, str] | None:
    """The task name and first argument of one message as kombu's Redis transport stores it
    (a JSON message, or in the unacked hash [message, exchange, routing key]; Celery's
    protocol 2: the name in the headers, the body [args, kwargs, embed], base64 by
    default). None for anything else."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):
            message = message[0]
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return str(message["headers"]["task"]), str(args[0])
    except (ValueError, TypeError, KeyError, IndexError):
        return None
