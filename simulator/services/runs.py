"""What a worker's run of a job and of a shard share: how a delivery ended (Outcome), the
heartbeat thread, the lost claim that stops a run, the message a failed job shows, and
the engine's output made storable as JSON."""

from __future__ import annotations

import contextvars
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db import connection

import jost_engine
from simulator.models import JobStatus, SimulationJob
from simulator.services.database import reset_connection

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """How one delivery of a job or a shard ended: what its task returns. A str, so it
    travels as Celery's result and compares equal to the JobStatus of the same name."""

    # The job's final status, recorded by this delivery.
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    # A shard's statistics stored; its job waits for other shards.
    STORED = "STORED"
    # Nothing to do: finished already, cancelled, unknown, or a shard stored or running
    # elsewhere.
    SKIPPED = "SKIPPED"
    # Another worker holds a live claim on the job: try again in retry_in seconds.
    BUSY = "BUSY"
    # This worker's claim was taken over while it ran: its result was dropped.
    LOST = "LOST"


@dataclass(frozen=True)
class RunOutcome:
    """How one delivery ended, and for BUSY when to deliver it again."""

    status: Outcome
    retry_in: float | None = None


class ClaimLost(Exception):
    """Raised from the progress callback, through the engine, when the row no longer
    carries this worker's claim: the rest of the run would be thrown away, so it stops."""


class Heartbeat:
    """Calls `beat()` every `interval` seconds from a thread of its own while the engine
    runs. The round loops release the GIL (nogil) and a numba compile spends its time in
    LLVM, so the beat keeps coming however long a chunk or a compile takes: a live task
    never looks stale, and a dead one goes stale after JOB_STALE_AFTER whatever it ran.

    A failed beat is logged, not raised: the progress write between chunks is what
    notices a lost claim and stops the run.
    """

    def __init__(self, beat: Callable[[], object], interval: float) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        # In a copy of the caller's context: its log lines carry the job and shard ids.
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._run,), name="heartbeat", daemon=True
        )

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    self._beat()
                except Exception:
                    logger.warning("A heartbeat write failed; trying again", exc_info=True)
                    # A dropped connection stays broken for good: the next beat opens
                    # a new one.
                    reset_connection()
        finally:
            # This thread's own database connection, opened by its first beat.
            connection.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def is_cancelled(job_id: UUID) -> bool:
    return SimulationJob.objects.filter(id=job_id, status=JobStatus.CANCELLED).exists()


def describe_failure(exc: BaseException) -> str:
    """A message a person can act on: the bad fields of a config, or what broke."""
    if isinstance(exc, jost_engine.ConfigError):
        problems = getattr(exc, "problems", None) or [("", str(exc))]
        lines = "; ".join(f"{path or '(config)'}: {reason}" for path, reason in problems)
        return f"The simulation config is invalid. Fix these fields and submit again: {lines}"
    return (
        f"The engine stopped with {type(exc).__name__}: {exc}. The config passed "
        "validation, so this is a fault in the engine: report it with this job's id."
    )


def json_safe(value: Any) -> Any:
    """The engine's output as plain JSON: numpy scalars and arrays become Python numbers
    and lists; NaN and infinities (which PostgreSQL's jsonb rejects) become null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_safe(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)
