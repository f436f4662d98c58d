"""The queues workers serve, in the order they serve them, are the same in the settings,
the Procfile and start-dev.sh; Redis is told to serve them in that order; and a wait
bound that the sweep's re-sends would reset stops start-up naming both variables."""

from __future__ import annotations

import re
import shlex

import pytest
from django.conf import settings

from tests.integration.processes import REPO
from tests.ops.test_settings import PRODUCTION, _env, _manage, _settings


def _queues_option(command: str) -> list[str]:
    words = shlex.split(command)
    return words[words.index("-Q") + 1].split(",")


class TestQueues:
    def test_the_order_is_urgent_then_priority_then_celery(self):
        assert settings.JOB_QUEUES == ("urgent", "priority", "celery")
        assert settings.CELERY_TASK_DEFAULT_QUEUE == "celery"

    def test_the_procfiles_worker_consumes_every_queue_in_that_order(self):
        procfile = (REPO / "Procfile").read_text()
        worker = next(line for line in procfile.splitlines() if line.startswith("worker:"))
        assert _queues_option(worker.partition(":")[2]) == list(settings.JOB_QUEUES)

    def test_start_dev_starts_its_worker_on_the_same_queues(self):
        script = (REPO / "start-dev.sh").read_text().replace("\\\n", " ")
        worker = re.search(r"^start_bg worker .*$", script, re.MULTILINE)
        assert worker is not None
        assert _queues_option(worker.group(0)) == list(settings.JOB_QUEUES)

    def test_the_app_declares_them_in_that_order_each_with_its_own_exchange(self):
        from service.celery import app

        queues = list(app.amqp.queues.values())
        assert [q.name for q in queues] == list(settings.JOB_QUEUES)
        assert all(q.exchange.name == q.routing_key == q.name for q in queues)

    def test_redis_pops_the_first_queue_that_holds_a_message(self):
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"


@pytest.mark.slow
class TestTheWaitBound:
    def test_the_default_is_30_seconds(self):
        assert _settings(_env(**PRODUCTION), "JOB_PRIORITY_MAX_WAIT") == {
            "JOB_PRIORITY_MAX_WAIT": 30.0
        }

    @pytest.mark.parametrize(
        "values, named",
        [
            ({"JOB_PRIORITY_MAX_WAIT": "60"}, "JOB_SHARD_REQUEUE_AFTER=60"),
            (
                {"JOB_PRIORITY_MAX_WAIT": "400", "JOB_SHARD_REQUEUE_AFTER": "500"},
                "JOB_REQUEUE_AFTER=300",
            ),
        ],
    )
    def test_one_the_sweeps_re_sends_would_reset_stops_start_up(self, values, named):
        done = _manage(_env(**PRODUCTION, **values), "check")
        assert done.returncode != 0
        assert named in done.stderr and "JOB_PRIORITY_MAX_WAIT" in done.stderr
