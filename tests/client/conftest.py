"""The client's tests: `jost` run as a user runs it (a fresh Python, `python -m jost_client`,
the console script's code) against the live stack (tests/live_stack.py: the Procfile's
web and a real worker), with its config directory in a tmp dir (XDG_CONFIG_HOME)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

CLIENT_SRC = REPO / "clients" / "python"
PASSWORD = "{}-password-123"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def jost_env(config_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOST_", "PYTEST"))}
    # The package from this checkout, installed (scripts/test.sh) or not.
    env["PYTHONPATH"] = os.pathsep.join([str(CLIENT_SRC), str(REPO)])
    env["XDG_CONFIG_HOME"] = str(config_home)
    env.update(extra)
    return env


def jost_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jost_client", *args]


class Jost:
    """`jost ...` as one user: their own config directory, logged in or not."""

    def __init__(self, config_home: Path, url: str | None, **extra_env: str) -> None:
        self.config_home = config_home
        self.url = url
        self.extra_env = extra_env

    def env(self, **extra: str) -> dict[str, str]:
        return jost_env(self.config_home, **{**self.extra_env, **extra})

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 400) -> Ran:
        done = subprocess.run(
            jost_command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.config_home,
            timeout=timeout,
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    def login(self, username: str) -> Ran:
        assert self.url
        ran = self("login", self.url, "--username", username, stdin=PASSWORD.format(username))
        assert ran.code == 0, ran
        return ran

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            jost_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.config_home,
            start_new_session=True,
        )


def interrupt(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the process."""
    proc.send_signal(signal.SIGINT)


@pytest.fixture
def users(transactional_db, django_user_model) -> Callable[[str], Any]:
    """users("alice"): a user whose password is PASSWORD.format(name), committed so the
    live processes see it."""

    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    def make(name: str) -> Any:
        # Hashed as the web process checks it: the tests' own settings hash with MD5,
        # which the production settings do not accept (few iterations: it is a test).
        hasher = PBKDF2PasswordHasher()
        user = django_user_model(username=name)
        user.password = hasher.encode(PASSWORD.format(name), hasher.salt(), iterations=1000)
        user.save()
        return user

    return make


@pytest.fixture
def jost_as(tmp_path, web) -> Callable[[str], Jost]:
    """jost_as("alice"): alice's `jost`, logged in to the live web process."""

    def make(name: str) -> Jost:
        home = tmp_path / f"{name}-config"
        home.mkdir()
        jost = Jost(home, web)
        jost.login(name)
        return jost

    return make


def write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)
