"""Counting systems: a name, or tags by rank or as a list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jost_engine.config.context import Context
from jost_engine.config.fields import (
    BAD,
    MAX_TAG_SCALE,
    MIN_TAG_SCALE,
    MISSING,
    Check,
    Fields,
    Problems,
    check_bool,
    check_entries,
    check_name,
    check_number,
    entry_path,
    index_path,
    is_number,
    join_path,
    plain_entries,
    rank_of,
)
from jost_engine.config.types import TAG_RANKS, CountingSystem


def check_tags(raw: Any, path: str, problems: Problems) -> Any:
    """Tags in TAG_RANKS order from a dict by rank (T/J/Q/K must agree with 10) or a list."""
    values: dict[str, tuple[Any, str]] = {}
    if not check_entries(raw, path, problems):
        return BAD
    if isinstance(raw, list):
        if len(raw) != len(TAG_RANKS):
            problems.add(
                path, f"a list of tags has {len(TAG_RANKS)} entries (2..9, 10, A), got {len(raw)}"
            )
            return BAD
        values = {rank: (raw[i], index_path(path, i)) for i, rank in enumerate(TAG_RANKS)}
    elif isinstance(raw, Mapping):
        for key, value in raw.items():
            at = entry_path(path, key)
            rank = rank_of(str(key))
            if rank is None:
                problems.add(at, "not a rank 2..9, 10 (T, J, Q, K) or A")
                continue
            if rank in values and values[rank][0] != value:
                problems.add(at, f"disagrees with {values[rank][1]}")
                continue
            values[rank] = (value, at)
        missing = [rank for rank in TAG_RANKS if rank not in values]
        if missing:
            problems.add(path, f"misses ranks {', '.join(missing)}")
            return BAD
    else:
        problems.add(path, "not an object by rank or a list of 10 tags")
        return BAD
    tags: list[float] = []
    for rank in TAG_RANKS:
        value, at = values[rank]
        if not is_number(value) or abs(value) > 10:
            problems.add(at, "not a number between -10 and 10")
            return BAD
        tags.append(float(value))
    return tuple(tags)


def counting_from(raw: Any, path: str, ctx: Context) -> CountingSystem:
    """A counting system by name ("hilo", "Hi-Lo", "ko", ...) or `{"name", "tags"}`.

    Half-point tags (Wong Halves) are stored doubled with `tag_scale` 0.5; tags in other
    fractions (no published system uses them) are refused rather than stored inexactly.
    """
    placeholder = CountingSystem(name="invalid", tags=(0,) * len(TAG_RANKS))
    flat = ctx.flatten("counting_system", raw, path)
    if flat is None:
        return placeholder
    entries, looked_up = flat
    f = Fields(entries, path, ctx.problems)
    name = f.take_one(("name",), check_name, looked_up or "custom count")
    scale = f.take_one(("tag_scale",), check_number(MIN_TAG_SCALE, MAX_TAG_SCALE), 1.0)
    tags_raw = f.take("tags")
    unbalanced = f.take_one(("unbalanced",), check_bool, False)
    irc = f.take_one(("initial_running_count",), check_initial_count, (0.0, 0.0))
    estimation = f.take_one(("deck_estimation",), check_choice(DECK_ESTIMATIONS), "exact")
    rounding = f.take_one(("true_count_rounding",), check_choice(TC_ROUNDINGS), "none")
    f.finish()
    if unbalanced is False and f.has("initial_running_count") and irc is not BAD:
        ctx.problems.add(
            f.path_of("initial_running_count"),
            "only an unbalanced system starts from an initial running count (set unbalanced: true)",
        )
        irc = BAD
    if tags_raw is MISSING:
        ctx.problems.add(join_path(path, "tags"), "required")
        return placeholder
    tags = check_tags(tags_raw, f.path_of("tags"), ctx.problems)
    if BAD in (name, scale, tags, unbalanced, irc, estimation, rounding):
        return placeholder
    if any(t != int(t) for t in tags):
        if any(2 * t != int(2 * t) for t in tags):
            ctx.problems.add(f.path_of("tags"), "tags must be whole or half numbers")
            return placeholder
        tags = tuple(2 * t for t in tags)
        scale = scale / 2
    return CountingSystem(
        name=name,
        tags=tuple(int(t) for t in tags),
        tag_scale=scale,
        unbalanced=unbalanced,
        initial_running_count=irc[0],
        initial_running_count_per_deck=irc[1],
        deck_estimation=estimation,
        true_count_rounding=rounding,
    )


DECK_ESTIMATIONS = ("exact", "half", "whole")
TC_ROUNDINGS = ("none", "floor", "truncate", "round")
# A running count past this is no count a shoe of 8 decks can reach with tags of at most
# 10: a typo, refused rather than run.
_MAX_INITIAL_COUNT = 10_000


def check_choice(choices: tuple[str, ...]) -> Check:
    """One of `choices`, case-insensitive."""

    def check(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        problems.add(path, f"not one of {', '.join(repr(c) for c in choices)}")
        return BAD

    return check


def check_initial_count(value: Any, path: str, problems: Problems) -> Any:
    """`initial_running_count`: a number, or `{"per_deck": n}` (n x decks) with an optional
    `"base"` added (KO: `{"per_deck": -4, "base": 4}`, 4 - 4 x decks). (base, per_deck)."""
    if is_number(value):
        if abs(value) > _MAX_INITIAL_COUNT:
            problems.add(path, f"must be -{_MAX_INITIAL_COUNT}..{_MAX_INITIAL_COUNT}")
            return BAD
        return (float(value), 0.0)
    if not isinstance(value, Mapping):
        problems.add(path, 'not a number or {"per_deck": n, "base": b}')
        return BAD
    f = Fields(plain_entries(value, path), path, problems)
    parts = []
    for field_name in ("base", "per_deck"):
        raw = f.take(field_name)
        if raw is MISSING:
            if field_name == "per_deck":
                problems.add(join_path(path, field_name), "required")
                return BAD
            parts.append(0.0)
        elif not is_number(raw) or abs(raw) > _MAX_INITIAL_COUNT:
            problems.add(
                f.path_of(field_name),
                f"not a number between -{_MAX_INITIAL_COUNT} and {_MAX_INITIAL_COUNT}",
            )
            return BAD
        else:
            parts.append(float(raw))
    f.finish()
    return (parts[0], parts[1])
