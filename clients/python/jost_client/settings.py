"""Where the `jost` command keeps its login: $XDG_CONFIG_HOME/jost/config.json (else
~/.config/jost/), readable by its owner alone (mode 600), since it holds the token.
JOST_URL and JOST_TOKEN override what is stored."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jost"


def config_path() -> Path:
    return config_dir() / "config.json"


@dataclass(frozen=True)
class Login:
    url: str | None
    token: str | None
    username: str | None
    source: str  # where the token came from: "JOST_TOKEN", the file's path, or "none"


def load() -> Login:
    stored: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except ValueError:
            stored = {}
    url = os.environ.get("JOST_URL") or stored.get("url")
    token = os.environ.get("JOST_TOKEN") or stored.get("token")
    source = "JOST_TOKEN" if os.environ.get("JOST_TOKEN") else (str(path) if token else "none")
    # The stored user name belongs to the stored token only: a JOST_TOKEN of someone else
    # must not be shown as the stored user's.
    username = stored.get("username") if token == stored.get("token") else None
    return Login(url, token, username, source)


def save(url: str, token: str, username: str) -> Path:
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_path()
    # Created with mode 600 from the start: the token is never readable by others, not
    # even for the moment between writing and a chmod.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": url, "token": token, "username": username}, out, indent=2)
    os.chmod(path, 0o600)  # a file that existed keeps its old mode through os.open
    return path
