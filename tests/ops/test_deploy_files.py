"""The files a platform or an IDE reads: Procfile, gunicorn.conf.py, .idx/dev.nix, .ci/run."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess

import pytest

from tests.integration.processes import REPO, VENV_BIN


def _procfile() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return {name.strip(): cmd.strip() for name, _, cmd in (line.partition(":") for line in lines)}


def _check_gunicorn_config(**values: str) -> subprocess.CompletedProcess:
    """`gunicorn --check-config service.wsgi` as the Procfile's web line runs it, with
    `values` added to a development environment (the app must load for the check)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "GUNICORN_"))
        and k not in {"WEB_CONCURRENCY", "PORT", "FORWARDED_ALLOW_IPS"}
    }
    env.update(DJANGO_SETTINGS_MODULE="service.settings", DEBUG="true", SECRET_KEY="x" * 50)
    env.update(values)
    return subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "service.wsgi"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestProcfile:
    def test_web_is_gunicorn_on_the_wsgi_app(self):
        assert _procfile()["web"].endswith(" && exec gunicorn service.wsgi")

    def test_worker_is_celery_with_sigterm_remapped_for_a_warm_requeue(self):
        worker = _procfile()["worker"]
        assert " && REMAP_SIGTERM=SIGQUIT exec celery -A service worker" in worker

    @pytest.mark.parametrize("kind", ["web", "worker"])
    def test_web_and_worker_make_one_metrics_directory_for_their_processes(self, kind):
        # prometheus-client's multiprocess mode: every gunicorn and Celery process of the
        # host writes its counters there, and /metrics adds them up.
        assert _procfile()[kind].startswith(
            'export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/jost-metrics}"'
            ' && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && '
        )

    def test_beat_is_its_own_process_type_and_no_worker_embeds_one(self):
        # The sweep must be sent by one scheduler, whatever the number of workers: beat runs
        # as a process type of its own, never as `worker -B` (every scaled worker would then
        # be a scheduler too).
        assert _procfile()["beat"] == "celery -A service beat --loglevel=info"
        worker = _procfile()["worker"].split()
        assert "-B" not in worker and "--beat" not in worker

    def test_release_migrates(self):
        assert _procfile()["release"] == "python manage.py migrate --noinput"


class TestGunicornConfig:
    def test_it_binds_port_on_every_interface_with_web_concurrency_workers(self, monkeypatch):
        monkeypatch.setenv("PORT", "5123")
        monkeypatch.setenv("WEB_CONCURRENCY", "3")
        conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
        assert conf["bind"] == ["0.0.0.0:5123"] and conf["workers"] == 3

    @pytest.mark.parametrize(
        "name, value, says",
        [
            ("GUNICORN_TIMEOUT", "soon", "GUNICORN_TIMEOUT='soon': expected a whole number"),
            ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY=0: must be at least 1"),
            ("PORT", "http", "PORT='http': expected a whole number"),
            ("GUNICORN_LOG_LEVEL", "loud", "GUNICORN_LOG_LEVEL='loud': use one of"),
            ("WEB_HEADER_TIMEOUT", "soon", "WEB_HEADER_TIMEOUT='soon': expected a number"),
            ("WEB_BODY_TIMEOUT", "0", "WEB_BODY_TIMEOUT=0.0: must be at least 0.5"),
            ("GUNICORN_WORKER_CONNECTIONS", "0", "GUNICORN_WORKER_CONNECTIONS=0: must be at"),
        ],
    )
    @pytest.mark.slow  # gunicorn --check-config: a fresh Python
    def test_gunicorn_refuses_a_wrong_value_naming_the_variable(self, name, value, says):
        done = _check_gunicorn_config(**{name: value})
        assert done.returncode != 0
        assert says in done.stdout + done.stderr

    @pytest.mark.slow
    def test_a_word_for_web_concurrency_stops_gunicorn_naming_the_variable(self):
        # gunicorn itself reads WEB_CONCURRENCY with a bare int() when it is imported, before
        # gunicorn.conf.py runs: its traceback is what names the variable.
        done = _check_gunicorn_config(WEB_CONCURRENCY="two")
        assert done.returncode != 0
        assert "WEB_CONCURRENCY" in done.stdout + done.stderr

    @pytest.mark.slow
    def test_gunicorn_accepts_the_defaults_and_good_values(self):
        assert _check_gunicorn_config().returncode == 0
        done = _check_gunicorn_config(
            WEB_CONCURRENCY="3", GUNICORN_TIMEOUT="60", GUNICORN_LOG_LEVEL="WARNING", PORT="5123"
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def test_web_runs_the_buffering_worker_with_no_control_socket(self):
        # The worker that reads requests whole in its event loop (service/web_worker.py); and
        # no control socket at gunicorn's one fixed path per user, which a second instance
        # on the host would take over.
        conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
        assert conf["worker_class"] == "service.web_worker.BufferingWorker"
        assert conf["control_socket_disable"] is True


class TestDevNix:
    def test_it_lists_python_311_redis_and_postgresql_and_a_preview(self):
        text = (REPO / ".idx" / "dev.nix").read_text()
        for package in ("pkgs.python311", "pkgs.redis", "pkgs.postgresql"):
            assert package in text
        assert "previews" in text and "start-dev.sh" in text

    @pytest.mark.slow
    def test_it_is_a_valid_nix_expression(self):
        nix = shutil.which("nix-instantiate")
        if nix is None:
            pytest.skip(
                "nix-instantiate not installed (apt-get install nix-bin; scripts/test.sh "
                "installs it when run as root)"
            )
        done = subprocess.run(
            [nix, "--parse", str(REPO / ".idx" / "dev.nix")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


class TestCi:
    def test_ci_runs_the_readmes_test_command(self):
        # The README's "Test it" block holds one command; CI must run that very script.
        readme = (REPO / "README.md").read_text()
        block = readme.split("Test it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
        command = block.strip().splitlines()[0].split()[0]
        script = (REPO / command).resolve()
        assert script.is_file() and os.access(script, os.X_OK), command
        ci = (REPO / ".ci" / "run").read_text()
        assert any(
            (REPO / word).resolve() == script
            for line in ci.splitlines()
            if not line.lstrip().startswith("#")
            for word in line.split()
        ), f".ci/run does not run {command}"
