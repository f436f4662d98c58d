"""Settings come from the environment, fail loudly when wrong, and pass Django's deployment
checks with production values. Settings are read at import, so most tests start a fresh
Python with the environment under test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from service.env import env_bool, env_float, env_int, env_list, env_str
from tests.integration.processes import REPO

PRODUCTION = {
    "SECRET_KEY": "pr0duction-Secret-key-that-is-long-and-random-0123456789-ABCDEFGHIJ",
    "ALLOWED_HOSTS": "jost.example.com",
    "DATABASE_URL": "postgres://jost:pw@db.example.com:5432/jost",
    "CELERY_BROKER_URL": "redis://broker.example.com:6379/0",
    "SECURE_HSTS_PRELOAD": "true",
}


def _env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "SECURE_", "CELERY_"))
        and k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "ALLOWED_HOSTS"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "service.settings"
    env.update(values)
    return env


def _settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # a fresh Python per test: settings are read at import
class TestProductionSettings:
    def test_without_secret_key_and_debug_off_it_refuses_to_start(self):
        done = _manage(_env(), "check")
        assert done.returncode != 0
        assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY is required" in done.stderr

    def test_debug_is_off_by_default(self):
        assert _settings(_env(SECRET_KEY="x" * 60), "DEBUG") == {"DEBUG": False}

    def test_check_deploy_is_clean_with_production_values(self):
        done = _manage(_env(**PRODUCTION), "check", "--deploy", "--fail-level", "WARNING")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no issues" in done.stdout

    def test_production_defaults_are_the_secure_ones(self):
        values = _settings(
            _env(**PRODUCTION),
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "ALLOWED_HOSTS",
        )
        assert values == {
            "SECURE_SSL_REDIRECT": True,
            "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True,
            "SECURE_HSTS_SECONDS": 31_536_000,
            "ALLOWED_HOSTS": ["jost.example.com"],
        }

    def test_a_misspelt_boolean_stops_start_up_naming_the_variable(self):
        done = _manage(_env(**PRODUCTION, DEBUG="ture"), "check")
        assert done.returncode != 0 and "DEBUG='ture'" in done.stderr

    def test_time_limits_must_leave_room_for_the_soft_one(self):
        done = _manage(
            _env(**PRODUCTION, CELERY_TASK_SOFT_TIME_LIMIT="100", CELERY_TASK_TIME_LIMIT="50"),
            "check",
        )
        assert done.returncode != 0 and "CELERY_TASK_TIME_LIMIT=50" in done.stderr


@pytest.mark.slow
class TestDatabaseSettings:
    def test_database_url_selects_postgres(self):
        values = _settings(_env(**PRODUCTION), "DATABASES")["DATABASES"]["default"]
        assert values["ENGINE"] == "service.postgresql"  # Django's, health-checked cheaply
        assert (values["NAME"], values["HOST"], values["PORT"]) == ("jost", "db.example.com", 5432)

    def test_default_sqlite_runs_in_wal_mode_with_a_busy_timeout(self, tmp_path):
        env = _env(SECRET_KEY="x" * 60, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
        code = (
            "import django; django.setup(); from django.db import connection as c; "
            "cur = c.cursor(); cur.execute('PRAGMA journal_mode'); print(cur.fetchone()[0]); "
            "cur.execute('PRAGMA busy_timeout'); print(cur.fetchone()[0]); "
            "print(c.transaction_mode)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["wal", "20000", "IMMEDIATE"]

    def test_without_database_url_it_is_sqlite_in_the_project_folder(self):
        db = _settings(_env(SECRET_KEY="x" * 60), "DATABASES")["DATABASES"]["default"]
        assert db["ENGINE"] == "django.db.backends.sqlite3"
        assert db["NAME"] == str(REPO / "db.sqlite3")
        assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


class TestBrokerSettings:
    @pytest.mark.slow
    def test_the_default_broker_is_local_redis(self):
        values = _settings(_env(SECRET_KEY="x" * 60), "CELERY_BROKER_URL")
        assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"

    def test_celery_is_json_only_late_ack_prefetch_one_without_result_backend(self):
        from service.celery import app

        conf = app.conf
        assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
        assert conf.task_acks_late and conf.task_reject_on_worker_lost
        assert conf.worker_prefetch_multiplier == 1
        assert conf.result_backend is None and conf.task_ignore_result
        assert 0 < conf.task_soft_time_limit < conf.task_time_limit

    @pytest.mark.slow
    def test_task_events_are_off_unless_asked_and_then_sent_and_sent_on(self):
        # Off by default: nobody reads them unless Flower or `celery events` runs.
        names = ("CELERY_WORKER_SEND_TASK_EVENTS", "CELERY_TASK_SEND_SENT_EVENT")
        assert _settings(_env(SECRET_KEY="x" * 60), *names) == dict.fromkeys(names, False)
        on = _env(SECRET_KEY="x" * 60, CELERY_WORKER_SEND_TASK_EVENTS="true")
        assert _settings(on, *names) == dict.fromkeys(names, True)
        # The "sent" event alone can be turned off again (it costs the web a publish).
        quiet = {**on, "CELERY_TASK_SEND_SENT_EVENT": "false"}
        assert _settings(quiet, *names) == dict(zip(names, (True, False), strict=True))

    def test_a_misspelt_task_events_switch_stops_start_up_naming_it(self):
        env = _env(SECRET_KEY="x" * 60, CELERY_WORKER_SEND_TASK_EVENTS="ture")
        done = _manage(env, "check")
        assert done.returncode != 0 and "CELERY_WORKER_SEND_TASK_EVENTS" in done.stderr

    @pytest.mark.slow
    def test_a_rabbitmq_url_is_accepted_and_checked(self):
        values = _settings(
            _env(SECRET_KEY="x" * 60, CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//"),
            "CELERY_BROKER_URL",
            "CELERY_BROKER_TRANSPORT_OPTIONS",
        )
        assert values["CELERY_BROKER_URL"].startswith("amqp://")
        # Redis-only transport options must not be handed to the AMQP transport.
        assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] is None

    @pytest.mark.processes
    def test_healthz_sees_a_running_rabbitmq(self, settings):
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", 5672)) != 0:
                pytest.skip("no RabbitMQ on 127.0.0.1:5672")
        from simulator.health import check_broker

        settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
        assert check_broker() is None


class TestJobRecoverySettings:
    @pytest.mark.slow
    def test_the_defaults_leave_a_live_job_far_from_stale(self):
        values = _settings(
            _env(**PRODUCTION),
            "JOB_HEARTBEAT_INTERVAL",
            "JOB_STALE_AFTER",
            "JOB_REQUEUE_AFTER",
            "JOB_SWEEP_INTERVAL",
            "JOB_BUSY_MAX_RETRIES",
            "JOB_MAX_ATTEMPTS",
        )
        assert values == {
            # A heartbeat every 2 s from its own thread, stale after five missed, swept
            # every 5 s: a dead worker's work runs again within 15 s (issue 9).
            "JOB_HEARTBEAT_INTERVAL": 2.0,
            "JOB_STALE_AFTER": 10.0,
            "JOB_REQUEUE_AFTER": 300.0,
            "JOB_SWEEP_INTERVAL": 5.0,
            "JOB_MAX_ATTEMPTS": 5,
            # enough 10 s waits to outlast the 3660 s hard time limit
            "JOB_BUSY_MAX_RETRIES": 368,
        }

    @pytest.mark.slow
    def test_beat_sends_the_sweep_every_sweep_interval(self):
        values = _settings(_env(**PRODUCTION, JOB_SWEEP_INTERVAL="15"), "CELERY_BEAT_SCHEDULE")
        entry = values["CELERY_BEAT_SCHEDULE"]["sweep-jobs"]
        assert entry["task"] == "simulator.sweep_jobs" and entry["schedule"] == 15.0

    @pytest.mark.slow
    def test_a_stale_threshold_close_to_the_heartbeat_interval_stops_start_up(self):
        done = _manage(
            _env(**PRODUCTION, JOB_HEARTBEAT_INTERVAL="30", JOB_STALE_AFTER="60"), "check"
        )
        assert done.returncode != 0
        assert "ImproperlyConfigured" in done.stderr and "JOB_STALE_AFTER=60" in done.stderr

    @pytest.mark.slow
    def test_a_stale_threshold_shorter_than_a_chunk_stops_start_up(self):
        # 10,000,000 rounds a chunk may take 100 s at the slowest assumed engine speed.
        done = _manage(_env(**PRODUCTION, JOB_CHUNK_ROUNDS="10000000"), "check")
        assert done.returncode != 0 and "JOB_STALE_AFTER=10" in done.stderr
        assert "JOB_CHUNK_ROUNDS" in done.stderr

    @pytest.mark.slow
    def test_small_values_that_keep_the_margin_are_accepted(self):
        values = _settings(
            _env(
                **PRODUCTION,
                JOB_STALE_AFTER="3",
                JOB_HEARTBEAT_INTERVAL="0.5",
                JOB_CHUNK_ROUNDS="20000",
            ),
            "JOB_STALE_AFTER",
        )
        assert values == {"JOB_STALE_AFTER": 3.0}

    def test_the_rule_is_three_times_the_interval_plus_one_chunk(self):
        from service.settings import check_job_recovery_settings

        check_job_recovery_settings(stale_after=33, heartbeat_interval=10, chunk_seconds=1)
        with pytest.raises(ImproperlyConfigured, match="at least 3 x 11 = 33 s"):
            check_job_recovery_settings(stale_after=32.9, heartbeat_interval=10, chunk_seconds=1)


class TestTimeBudget:
    """heartbeat < stale threshold < soft time limit < hard time limit < visibility timeout,
    checked when the settings load, naming the variable out of order."""

    @pytest.mark.parametrize(
        ("values", "named"),
        [
            (
                {"JOB_STALE_AFTER": "4000", "CELERY_TASK_SOFT_TIME_LIMIT": "3600"},
                "CELERY_TASK_SOFT_TIME_LIMIT=3600 must be above JOB_STALE_AFTER=4000",
            ),
            (
                {"CELERY_TASK_SOFT_TIME_LIMIT": "600", "CELERY_VISIBILITY_TIMEOUT": "600"},
                "CELERY_VISIBILITY_TIMEOUT=600 must be above CELERY_TASK_TIME_LIMIT=660",
            ),
            (
                {"JOB_HEARTBEAT_INTERVAL": "0.5", "JOB_STALE_AFTER": "0.4"},
                "JOB_STALE_AFTER",
            ),
        ],
    )
    @pytest.mark.slow
    def test_a_budget_out_of_order_stops_start_up_naming_the_variable(self, values, named):
        done = _manage(_env(**PRODUCTION, **values), "check")
        assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr
        assert named in done.stderr

    @pytest.mark.slow
    def test_the_defaults_are_in_order_and_redis_gets_the_visibility_timeout(self):
        values = _settings(
            _env(**PRODUCTION),
            "JOB_HEARTBEAT_INTERVAL",
            "JOB_STALE_AFTER",
            "CELERY_TASK_SOFT_TIME_LIMIT",
            "CELERY_TASK_TIME_LIMIT",
            "CELERY_VISIBILITY_TIMEOUT",
            "CELERY_BROKER_TRANSPORT_OPTIONS",
        )
        budget = [
            values[name]
            for name in (
                "JOB_HEARTBEAT_INTERVAL",
                "JOB_STALE_AFTER",
                "CELERY_TASK_SOFT_TIME_LIMIT",
                "CELERY_TASK_TIME_LIMIT",
                "CELERY_VISIBILITY_TIMEOUT",
            )
        ]
        assert budget == sorted(set(budget))
        assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == budget[-1]

    def test_check_time_budget_accepts_an_ordered_budget(self):
        from service.settings import check_time_budget

        check_time_budget([("A", 1), ("B", 2), ("C", 3)])
        with pytest.raises(ImproperlyConfigured, match="C=2 must be above B=2"):
            check_time_budget([("A", 1), ("B", 2), ("C", 2)])


class TestEnvHelpers:
    def test_env_bool_reads_true_and_false_and_refuses_anything_else(self, monkeypatch):
        monkeypatch.setenv("FLAG", "True")
        assert env_bool("FLAG", False) is True
        monkeypatch.setenv("FLAG", "0")
        assert env_bool("FLAG", True) is False
        monkeypatch.setenv("FLAG", "maybe")
        with pytest.raises(ImproperlyConfigured, match="FLAG='maybe'"):
            env_bool("FLAG", False)

    def test_a_blank_value_means_the_default(self, monkeypatch):
        monkeypatch.setenv("BLANK", "  ")
        assert env_bool("BLANK", True) is True
        assert env_int("BLANK", 3) == 3
        assert env_str("BLANK", "d") == "d"

    def test_env_int_and_env_float_refuse_words_and_out_of_range(self, monkeypatch):
        monkeypatch.setenv("N", "two")
        with pytest.raises(ImproperlyConfigured, match="N='two'"):
            env_int("N", 1)
        monkeypatch.setenv("N", "-1")
        with pytest.raises(ImproperlyConfigured, match="at least 0"):
            env_int("N", 1, minimum=0)
        monkeypatch.setenv("N", "0.5")
        assert env_float("N", 1.0) == 0.5

    def test_env_list_splits_on_commas_and_drops_blanks(self, monkeypatch):
        monkeypatch.setenv("HOSTS", "a.example.com, b.example.com,")
        assert env_list("HOSTS", []) == ["a.example.com", "b.example.com"]
        monkeypatch.delenv("HOSTS")
        assert env_list("HOSTS", ["localhost"]) == ["localhost"]


@pytest.mark.processes
class TestRabbitMq:
    def test_a_job_is_enqueued_through_rabbitmq(self, settings, db):
        # db: enqueue_job records when the job was sent (enqueued_at) on its row.
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", 5672)) != 0:
                pytest.skip("no RabbitMQ on 127.0.0.1:5672")
        import uuid

        from kombu import Connection

        from simulator.services.broker import enqueue_job

        url = "amqp://guest:guest@127.0.0.1:5672//"
        settings.CELERY_BROKER_URL = url
        job_id = uuid.uuid4()
        assert enqueue_job(job_id) is True
        # Take our message back off the queue, so no worker ever sees it.
        with Connection(url) as connection:
            queue = connection.SimpleQueue("celery")
            try:
                for _ in range(100):
                    message = queue.get(timeout=5)
                    message.ack()
                    if str(job_id) in json.dumps(message.payload):
                        break
                else:
                    pytest.fail("the message never reached RabbitMQ's celery queue")
            finally:
                queue.close()


@pytest.mark.slow
class TestLoginLimits:
    def test_the_defaults_are_10_a_minute_per_address_and_20_an_hour_per_username(self):
        values = _settings(_env(**PRODUCTION), "LOGIN_FAILURE_RATES", "AUTHENTICATION_BACKENDS")
        assert values == {
            "LOGIN_FAILURE_RATES": {"address": "10/minute", "username": "20/hour"},
            "AUTHENTICATION_BACKENDS": ["simulator.password_guard.GuardedModelBackend"],
        }

    def test_none_turns_a_limit_off(self):
        env = _env(**PRODUCTION, THROTTLE_LOGIN_USERNAME_RATE="none")
        assert _settings(env, "LOGIN_FAILURE_RATES")["LOGIN_FAILURE_RATES"]["username"] is None

    def test_a_bad_rate_stops_start_up_naming_the_variable(self):
        done = _manage(_env(**PRODUCTION, THROTTLE_LOGIN_ADDRESS_RATE="10 a minute"), "check")
        assert done.returncode != 0 and "THROTTLE_LOGIN_ADDRESS_RATE='10 a minute'" in done.stderr

    def test_the_old_name_stops_start_up_naming_the_new_one(self):
        done = _manage(_env(**PRODUCTION, THROTTLE_TOKEN_FAILURE_RATE="5/minute"), "check")
        assert done.returncode != 0 and "THROTTLE_LOGIN_ADDRESS_RATE" in done.stderr
