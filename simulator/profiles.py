"""Writes of saved profiles, and the resolver that lets a config name them.

A profile's `data` is checked by the engine's own normaliser, by placing it where a config
would carry a profile of its type, so a saved profile is exactly as valid as the same data
written inline, and its errors carry the same reasons (with paths under `data`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

import jost_engine
from simulator.inputs import MAX_NAME_LENGTH, json_problems
from simulator.models import Profile, ProfileType

Problems = list[tuple[str, str]]
Resolver = Callable[[str, str], "Mapping[str, Any] | None"]

# Where a config carries a profile of each type. The rest of the scaffold is a shipped
# default that is always valid, so every problem found is the profile's own.
_SLOT: dict[str, str] = {
    ProfileType.CASINO: "casino",
    ProfileType.PLAYER: "players[0]",
    ProfileType.PLAYING_STRATEGY: "players[0].playing_strategy",
    ProfileType.BETTING_STRATEGY: "players[0].betting_strategy",
    ProfileType.COUNTING_SYSTEM: "players[0].counting_strategy",
}


class ProfileInvalid(ValueError):
    """The profile cannot be saved; `problems` are (path, reason) pairs."""

    def __init__(self, problems: Problems) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems


# (profile_type, name) -> the data it will hold, or None for a profile that will not exist.
Pending = Mapping[tuple[str, str], Any]


def resolver_for(owner: User, pending: Pending | None = None) -> Resolver:
    """resolve(kind, name) over `owner`'s saved profiles, for jost_engine.normalize_config:
    the owner's profile of that type and name, else None (and the engine then looks in
    its shipped defaults). Another user's profiles are never looked at.

    `pending` overlays a save not yet made, so a profile is checked against the profiles
    as they will be once it is saved: a cycle it closes (A names B, B names A) is found
    then, not when a job first names it.

    The owner's profiles are read in one query, on the first name the config uses.
    """
    cache: dict[tuple[str, str], Any] | None = None

    def resolve(kind: str, name: str) -> Mapping[str, Any] | None:
        nonlocal cache
        if cache is None:
            cache = {
                (row.profile_type, row.name): row.data
                for row in Profile.objects.filter(owner=owner).only("profile_type", "name", "data")
            }
            cache.update(pending or {})
        found = cache.get((kind, name))
        return found if isinstance(found, Mapping) else None

    return resolve


def _scaffold(profile_type: str, data: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"casino": "master_casino", "num_rounds": 1, "players": [{}]}
    if profile_type == ProfileType.CASINO:
        config["casino"] = data
    elif profile_type == ProfileType.PLAYER:
        config["players"] = [data]
    else:
        key = _SLOT[profile_type].rsplit(".", 1)[1]
        config["players"] = [{key: data}]
    return config


def profile_problems(
    owner: User, profile_type: str, data: Any, pending: Pending | None = None
) -> Problems:
    """Every reason `data` is not a valid profile of `profile_type`, with paths under
    `data` (e.g. "data.deck_count"); empty when it is valid. `pending` is the save being
    checked (resolver_for), so names resolve as they will once it is made."""
    if not isinstance(profile_type, str) or profile_type not in _SLOT:
        return [("profile_type", f"not one of {', '.join(_SLOT)}")]
    if not isinstance(data, dict):
        return [("data", "expected a JSON object")]
    problems = json_problems(data, "data")
    if problems:
        return problems
    slot = _SLOT[profile_type]
    try:
        jost_engine.normalize_config(
            _scaffold(profile_type, data), resolve=resolver_for(owner, pending)
        )
    except jost_engine.ConfigError as exc:
        found: Problems = []
        for path, reason in exc.problems:
            if path == slot or path.startswith((slot + ".", slot + "[")):
                found.append(("data" + path[len(slot) :], reason))
            else:
                # Not under the profile's slot (a whole-table rule such as too many spots
                # at the table): still the profile's doing.
                found.append(("data", f"{path}: {reason}"))
        return found
    return []


def _check_name(name: Any) -> Problems:
    if not isinstance(name, str) or not name.strip():
        return [("name", "not a non-empty string")]
    problems = json_problems(name, "name")
    if not problems and len(name) > MAX_NAME_LENGTH:
        problems.append(("name", f"longer than {MAX_NAME_LENGTH} characters"))
    return problems


def _save(profile: Profile) -> Profile:
    try:
        # A savepoint: a duplicate must not break the caller's transaction.
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise ProfileInvalid(
            [("name", f"you already have a {profile.profile_type} profile named {profile.name!r}")]
        ) from None
    return profile


def create_profile(owner: User, profile_type: str, name: Any, data: Any) -> Profile:
    """Save a new profile of `owner`'s, or raise ProfileInvalid naming every problem
    (a duplicate type and name is a problem of `name`)."""
    problems = _check_name(name)
    pending = {}
    if not problems and isinstance(profile_type, str):
        pending[(profile_type, name.strip())] = data
    problems += profile_problems(owner, profile_type, data, pending)
    if problems:
        raise ProfileInvalid(problems)
    return _save(Profile(owner=owner, profile_type=profile_type, name=name.strip(), data=data))


def update_profile(profile: Profile, changes: Mapping[str, Any]) -> Profile:
    """Apply `changes` (any of profile_type, name, data) to `profile` and save it, or
    raise ProfileInvalid. Jobs already submitted keep the data they were resolved with."""
    profile_type = changes.get("profile_type", profile.profile_type)
    name = changes.get("name", profile.name)
    data = changes.get("data", profile.data)
    problems = _check_name(name)
    # Checked against the new data (the stored row still holds the old): renamed, the
    # old name is gone; under its new type and name, the profile holds what it will.
    pending: dict[tuple[str, str], Any] = {(profile.profile_type, profile.name): None}
    if not problems and isinstance(profile_type, str):
        pending[(profile_type, name.strip())] = data
    problems += profile_problems(profile.owner, profile_type, data, pending)
    if problems:
        raise ProfileInvalid(problems)
    profile.profile_type, profile.name, profile.data = profile_type, name.strip(), data
    return _save(profile)


def delete_profile(profile: Profile) -> None:
    profile.delete()
