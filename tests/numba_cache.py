"""Copies of this checkout's compiled engine for the tests that run the engine from another
place: a copy of the repository (start-dev.sh), a host with a cache of its own, the
previous release's tree.

numba keeps a compiled function in an index and data file named for the function, and
loads it when the source file's contents hash to what the index recorded and the
function's bytecode is the same (numba.core.caching). Nothing in them names where the
source lies, so the files compiled here serve any copy of an unchanged source file: a
copy that starts from them compiles only what differs, seconds instead of minutes. Where
this checkout's cache is still empty (a run of a few tests), nothing is copied and the
copy compiles, as on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tests.helpers import REPO

ENGINE = REPO / "jost_engine"
_COMPILED = ("*.nbi", "*.nbc")


def _compiled_folders() -> list[tuple[Path, Path]]:
    """(source folder relative to the engine, its __pycache__) for each folder holding
    compiled functions."""
    found = []
    for cache in ENGINE.rglob("__pycache__"):
        if any(cache.glob("*.nbi")):
            found.append((cache.parent.relative_to(ENGINE), cache))
    return found


def _copy_compiled(source: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for pattern in _COMPILED:
        for path in source.glob(pattern):
            shutil.copy2(path, target / path.name)
            copied += 1
    return copied


def seed_in_tree(engine: Path) -> int:
    """Copy the compiled functions into the __pycache__ folders of `engine`, a copy of
    jost_engine/ whose processes use numba's default, in-tree cache. Returns the files
    copied."""
    return sum(
        _copy_compiled(cache, engine / relative / "__pycache__")
        for relative, cache in _compiled_folders()
    )


def seed_cache_dir(engine: Path, numba_cache_dir: Path) -> int:
    """Copy the compiled functions where a process running `engine` (a jost_engine/ folder,
    this one or another tree's) with NUMBA_CACHE_DIR=numba_cache_dir looks for them: a
    folder per source folder, named for it and the hash of its absolute path
    (numba's _UserProvidedCacheLocator). Returns the files copied."""
    copied = 0
    for relative, cache in _compiled_folders():
        source = os.path.abspath(engine / relative)
        name = f"{os.path.basename(source)}_{hashlib.sha1(source.encode()).hexdigest()}"
        copied += _copy_compiled(cache, numba_cache_dir / name)
    return copied
