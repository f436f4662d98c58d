"""start-dev.sh brings the whole stack up in a copy of the repository, a second run starts
no second copy, and stop-dev.sh leaves no process of it behind (and is safe to re-run).

The copy reuses this checkout's .venv through a symlink so the test does not spend minutes
installing; start-dev.sh itself creates .venv when there is none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.integration.processes import REPO, VENV_BIN, free_port

pytestmark = pytest.mark.integration

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


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    copy = tmp_path / "jost"
    shutil.copytree(REPO, copy, ignore=SKIP, symlinks=True)
    (copy / ".venv").symlink_to(VENV_BIN.parent)
    yield copy
    # Whatever happened, nothing started in the copy outlives the test.
    subprocess.run(["bash", str(copy / "stop-dev.sh")], capture_output=True, timeout=60)


def test_start_dev_serves_and_stop_dev_leaves_nothing_running(repo_copy):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it as root)")
    port, redis_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_")) and k not in {"DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        {
            "PORT": str(port),
            "DEV_REDIS_PORT": str(redis_port),
            # Nothing answers there, so start-dev.sh starts (and must later stop) a Redis
            # of its own.
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
            "WEB_CONCURRENCY": "1",
            "HEALTH_TIMEOUT": "90",
        }
    )

    first = _run(repo_copy / "start-dev.sh", env)
    assert first.returncode == 0, first.stdout + first.stderr
    token = re.search(r"API token: (\w+)", first.stdout).group(1)
    assert f"http://127.0.0.1:{port}/api/submit/" in first.stdout
    assert f'"Authorization: Token {token}"' in first.stdout

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        assert response.status == 200
        assert json.load(response)["status"] == "ok"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/jobs/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    run = repo_copy / "var" / "run"
    leaders = {
        name: int((run / f"{name}.pid").read_text()) for name in ("redis", "worker", "beat", "web")
    }

    second = _run(repo_copy / "start-dev.sh", env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already running" in second.stdout
    assert {name: int((run / f"{name}.pid").read_text()) for name in leaders} == leaders

    started = _pids_in_groups(list(leaders.values()))
    assert set(leaders.values()) <= started

    stopped = _run(repo_copy / "stop-dev.sh", env, timeout=90)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    left = [pid for pid in started if _alive(pid)]
    assert left == [], f"still running after stop-dev.sh: {left}"
    assert [pid for pid in _processes_in(repo_copy) if _alive(pid)] == []
    assert not list(run.glob("*.pid"))

    again = _run(repo_copy / "stop-dev.sh", env, timeout=30)
    assert again.returncode == 0, again.stdout + again.stderr
