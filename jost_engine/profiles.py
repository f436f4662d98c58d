"""Named profiles: the defaults shipped in data/defaults/, and the resolver over them.

Every shipped profile is one JSON file, `data/defaults/<folder>/<name>.json`, written in
one of the dialects JOST's own data used (so that loading them proves those dialects
work). The file's stem is the profile's name. Files are read once per process and
handed out as deep copies, so a caller that edits what it got cannot change the defaults.

A config names a profile by kind (the singular spelling `Resolver` uses) and name:
"casino", "player", "playing_strategy", "betting_strategy", "counting_system", plus
"simulation" for the shipped example configs.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

DEFAULTS_DIR = Path(__file__).resolve().parent / "data" / "defaults"

# Resolver kind -> folder under data/defaults/ (JOST's folder names).
KIND_FOLDERS: dict[str, str] = {
    "casino": "casinos",
    "player": "players",
    "playing_strategy": "playing_strategies",
    "betting_strategy": "betting_strategies",
    "counting_system": "counting_systems",
    "simulation": "simulations",
}


@functools.cache
def _shipped() -> dict[str, dict[str, dict[str, Any]]]:
    # Read every file once: the service asks for defaults on every request and the
    # normaliser on every name, and the files never change while the process runs.
    shipped: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, folder in KIND_FOLDERS.items():
        profiles: dict[str, dict[str, Any]] = {}
        for path in sorted((DEFAULTS_DIR / folder).glob("*.json")):
            with path.open(encoding="utf-8") as handle:
                profiles[path.stem] = json.load(handle)
        shipped[kind] = profiles
    return shipped


def loose_name(name: str) -> str:
    # "Hi-Lo", "hi_lo" and "HILO" all name the same system.
    return re.sub(r"[^a-z0-9]", "", name.lower())


def default_names(kind: str) -> list[str]:
    """Names of the shipped profiles of one kind, sorted."""
    return sorted(_shipped().get(kind, {}))


def default_profile(kind: str, name: str) -> dict[str, Any] | None:
    """The shipped profile `name` of `kind` as a fresh dict, or None.

    This is the engine's own `Resolver`. An exact name wins; otherwise a name that
    differs only in case and punctuation ("Hi-Lo" for "hilo") or ends in ".json" (JOST's
    interfaces sent file names) still finds its profile.
    """
    profiles = _shipped().get(kind, {})
    if not isinstance(name, str):
        return None
    found = profiles.get(name)
    if found is None:
        stem = name[:-5] if name.endswith(".json") else name
        wanted = loose_name(stem)
        matches = [n for n in profiles if loose_name(n) == wanted]
        if len(matches) == 1:
            found = profiles[matches[0]]
    return copy.deepcopy(found) if found is not None else None


def defaults() -> dict[str, dict[str, dict[str, Any]]]:
    """Every shipped profile by folder name ("casinos", "players", ...) and name.

    Plain JSON-safe dicts, exactly as shipped (not normalised), which is what
    `/api/defaults/` serves and what a client may copy, edit and save as its own.
    """
    return {KIND_FOLDERS[kind]: copy.deepcopy(profiles) for kind, profiles in _shipped().items()}
