"""The log line formats (service/logs.py) and LOG_FORMAT's setting, in this process; the
lines of real web and worker processes are tests/ops/test_logs.py's."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from service.logs import ContextFilter, JsonFormatter, TextFormatter, bound
from tests.ops.test_settings import PRODUCTION, _env, _manage, _settings


def _record(message: str = "Shard %d stored", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "simulator.services.shards", logging.INFO, __file__, 1, message, args or (3,), None
    )
    record.__dict__.update(extra)
    ContextFilter().filter(record)
    return record


class TestJsonFormatter:
    def test_a_line_is_one_json_object_with_the_bound_ids_and_the_host(self):
        with bound(request_id="req-1", user_id=7, job_id="job-9", shard=3):
            line = JsonFormatter().format(_record())
        assert "\n" not in line
        doc = json.loads(line)
        assert doc["level"] == "INFO" and doc["logger"] == "simulator.services.shards"
        assert doc["message"] == "Shard 3 stored"
        assert doc["time"].endswith("+00:00")
        assert (doc["request_id"], doc["user_id"], doc["job_id"], doc["shard"]) == (
            "req-1",
            7,
            "job-9",
            3,
        )
        assert doc["host"] == socket.gethostname()

    def test_ids_not_bound_are_left_out_and_extra_fields_kept(self):
        doc = json.loads(JsonFormatter().format(_record(status=429)))
        assert "request_id" not in doc and "job_id" not in doc and doc["status"] == 429

    def test_a_traceback_stays_inside_the_one_line(self):
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            record = _record()
            record.exc_info = __import__("sys").exc_info()
        line = JsonFormatter().format(record)
        assert "\n" not in line and "ValueError: bad" in json.loads(line)["exc_info"]

    def test_a_binding_ends_with_its_block(self):
        with bound(job_id="job-1"):
            pass
        assert "job_id" not in json.loads(JsonFormatter().format(_record()))

    def test_text_puts_the_ids_in_brackets(self):
        with bound(job_id="job-1", shard=0):
            line = TextFormatter().format(_record())
        assert line.endswith("Shard 3 stored [job_id=job-1 shard=0]")


class TestRequestId:
    def test_a_sane_x_request_id_is_sent_back(self, client):
        assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"

    @pytest.mark.parametrize("given", ["", "two words", "x" * 129, "<script>", "-leading"])
    def test_anything_else_is_replaced_by_a_new_one(self, client, given):
        answer = client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
        assert answer != given and len(answer) == 32


@pytest.mark.slow  # a fresh Python per test: settings are read at import
class TestLogFormatSetting:
    def test_json_with_debug_off_and_text_with_debug_on(self):
        assert _settings(_env(**PRODUCTION), "LOG_FORMAT") == {"LOG_FORMAT": "json"}
        assert _settings(_env(DEBUG="true"), "LOG_FORMAT") == {"LOG_FORMAT": "text"}

    def test_an_unknown_format_stops_start_up_naming_the_variable(self):
        done = _manage(_env(**PRODUCTION, LOG_FORMAT="xml"), "check")
        assert done.returncode != 0 and "LOG_FORMAT='xml': use one of json, text" in done.stderr
