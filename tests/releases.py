"""The previous release, which the deploy tests run against: the last one RELEASES.txt
lists whose commit HEAD contains."""

from __future__ import annotations

import shutil
import subprocess
from typing import NamedTuple

import pytest

from tests.helpers import REPO


class Release(NamedTuple):
    name: str
    commit: str


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


def listed_releases() -> list[Release]:
    releases = []
    for line in (REPO / "RELEASES.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, commit = line.split()
            releases.append(Release(name, commit))
    return releases


def previous_release() -> Release:
    """The newest listed release HEAD contains; skips, saying why, where git or the
    history is missing (a shallow clone or an archive)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the previous release's code cannot be read")
    if _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout: the previous release's code cannot be read")
    for release in reversed(listed_releases()):
        if _git("merge-base", "--is-ancestor", release.commit, "HEAD").returncode == 0:
            return release
    pytest.skip("no release in RELEASES.txt is in this clone's history (a shallow clone?)")
