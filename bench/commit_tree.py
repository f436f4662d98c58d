"""A commit's files beside this checkout, for the benches that compare two trees."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def export_tree(commit: str, into: Path, *paths: str) -> Path:
    """COMMIT's files (all, or only `paths`) in the directory into/COMMIT, by `git archive`:
    no worktree is registered and nothing in this checkout changes."""
    tree = into / commit
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, *paths],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree
