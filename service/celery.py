"""The Celery app. Every setting lives in settings.py under the CELERY_ prefix."""

import contextlib
import io
import logging
import os
import socket
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_shutdown, worker_shutting_down

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "service.settings")

app = Celery("service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_init.connect
def warm_up_engine(**_: Any) -> None:
    """Compile the round loops (or load them from numba's cache) in the worker's main
    process, before the pool forks: every pool child inherits them, so no task waits for
    a compile. WORKER_WARM_UP=false skips it."""
    from django.conf import settings

    if not settings.WORKER_WARM_UP:
        return
    from jost_engine.__main__ import warm_up

    # The engine's command line prints its timings; here they are log lines like the
    # rest (one JSON object a line with LOG_FORMAT=json).
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        warm_up()
    for line in printed.getvalue().splitlines():
        logger.info("Engine warm-up: %s", line)


@worker_shutting_down.connect
def release_shards(sender: Any = None, **_: Any) -> None:
    """A worker told to stop (a deploy's SIGTERM, remapped to SIGQUIT by the Procfile)
    puts back the shards its pool still runs, so other workers take them at once."""
    from simulator.services.shards import release_worker_shards

    hostname = str(sender or socket.gethostname())
    try:
        release_worker_shards(f"{hostname}:{os.getpid()}:")
    except Exception:  # a database that is down must not keep the worker from stopping
        logger.exception("Could not put back this worker's shards; the sweep will")


@worker_process_shutdown.connect
def forget_pool_process(pid: int | None = None, **_: Any) -> None:
    """A pool process exits: its live gauges leave the PROMETHEUS_MULTIPROC_DIR sums (its
    counters stay, so no sum ever goes backwards), as gunicorn.conf.py's child_exit does
    for the web processes."""
    from simulator.metrics import mark_process_dead

    mark_process_dead(pid or os.getpid())
