"""Profiles by name, inline, or overlaid on a parent: the context every section parses in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jost_engine import profiles
from jost_engine.config.fields import Problems, join_path, plain_entries
from jost_engine.config.types import Resolver


class Context:
    def __init__(self, resolve: Resolver | None, problems: Problems) -> None:
        self.resolve = resolve
        self.problems = problems

    def lookup(self, kind: str, name: str, path: str) -> Mapping[str, Any] | None:
        # The caller's own profiles (the service's saved ones) shadow the shipped ones.
        found: Any = None
        if self.resolve is not None:
            found = self.resolve(kind, name)
        if found is None:
            found = profiles.default_profile(kind, name)
        if found is None:
            available = ", ".join(profiles.default_names(kind)) or "none"
            saved = " or one of your saved profiles" if self.resolve is not None else ""
            label = kind.replace("_", " ")
            self.problems.add(path, f"unknown {label} {name!r}; available: {available}{saved}")
            return None
        if not isinstance(found, Mapping):
            self.problems.add(path, f"{kind.replace('_', ' ')} {name!r} is not an object")
            return None
        return found

    def flatten(
        self,
        kind: str,
        raw: Any,
        path: str,
        links: tuple[str, ...] = ("parent",),
        seen: tuple[str, ...] = (),
    ) -> tuple[dict[str, tuple[Any, str]], str | None] | None:
        """A profile given by name or inline, with its parent chain overlaid.

        Returns (fields with the path each came from, the name it was looked up by), or
        None when it cannot be found. The child's fields win over its parent's.
        """
        looked_up: str | None = None
        if isinstance(raw, str):
            if raw in seen:
                chain = " -> ".join((*seen, raw))
                self.problems.add(path, f"profile cycle: {chain}")
                return None
            found = self.lookup(kind, raw, path)
            if found is None:
                return None
            looked_up, data, seen = raw, found, (*seen, raw)
        elif isinstance(raw, Mapping):
            data = raw
        else:
            self.problems.add(path, "expected a profile name or an object")
            return None

        entries: dict[str, tuple[Any, str]] = {}
        own = plain_entries(data, path)
        for link in links:
            if link not in own:
                continue
            parent_raw = own.pop(link)[0]
            parent = self.flatten(kind, parent_raw, join_path(path, link), links, seen)
            if parent is not None:
                for key, (value, _) in parent[0].items():
                    # Inherited fields are reported at the child's path: that is where
                    # the user can override them.
                    entries[key] = (value, join_path(path, key))
        entries.update(own)
        return entries, looked_up
