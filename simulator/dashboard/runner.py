"""The Raw JSON Runner's work on the text of a config, with or without JavaScript: parse it
(naming the line and column of a syntax error) and insert a shipped profile into it."""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass
from typing import Any

import jost_engine

# Where a profile of each kind goes: the config itself, the table, or one seat's field.
# A seat's counting system sits under "counting_strategy", as in the shipped players.
SEAT_FIELDS = {
    "playing_strategies": "playing_strategy",
    "betting_strategies": "betting_strategy",
    "counting_systems": "counting_strategy",
}
KIND_LABELS = {
    "simulations": "Simulations (replace the whole config)",
    "casinos": "Casinos (replace the casino)",
    "players": "Players (add a seat)",
    "playing_strategies": "Playing strategies (for the seat chosen)",
    "betting_strategies": "Betting strategies (for the seat chosen)",
    "counting_systems": "Counting systems (for the seat chosen)",
}


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    # Where the decoder stopped; None for a document it cannot follow to any one place.
    line: int | None = None
    column: int | None = None


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2)


def master_config() -> dict[str, Any]:
    """The master simulation the engine ships (a fresh copy)."""
    config = jost_engine.default_profile("simulation", "master_simulation")
    assert config is not None, "the engine ships master_simulation"
    return config


def master_text() -> str:
    """The master simulation, as the runner first shows it."""
    return pretty(master_config())


def parse(text: str) -> tuple[Any, SyntaxProblem | None]:
    """The JSON document in `text`, or the problem that stops it being read: whatever the
    text, a problem to show, never an exception (the API's parser refuses the same)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, SyntaxProblem(exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        # Deeper than Python's decoder can follow (about 1,000 levels).
        return None, SyntaxProblem("the document is nested too deeply")
    except ValueError:
        # Python's int() refuses a string of more digits than this (CVE-2020-10735).
        limit = sys.get_int_max_str_digits()
        return None, SyntaxProblem(f"a number has more than {limit:,} digits")


def profile_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker's groups: (label, [(value "kind:name", name)]) for every shipped profile."""
    shipped = jost_engine.defaults()
    return [
        (label, [(f"{kind}:{name}", name) for name in sorted(shipped.get(kind, {}))])
        for kind, label in KIND_LABELS.items()
        if shipped.get(kind)
    ]


def insert_profile(config: Any, choice: str, seat: int) -> Any:
    """`config` with the shipped profile `choice` ("kind:name") written into it: its data,
    not its name, so the runner shows what it holds and it can be edited in place.
    `seat` (from 1) is the player a strategy or counting system goes to. Raises ValueError
    saying what is wrong."""
    kind, _, name = choice.partition(":")
    shipped = jost_engine.defaults()
    if kind not in KIND_LABELS or name not in shipped.get(kind, {}):
        raise ValueError(f"There is no shipped profile {choice!r}.")
    data = copy.deepcopy(shipped[kind][name])
    if kind == "simulations":
        return data
    if not isinstance(config, dict):
        raise ValueError("The config must be a JSON object to insert a profile into it.")
    config = copy.deepcopy(config)
    if kind == "casinos":
        config["casino"] = data
        return config
    players = config.setdefault("players", [])
    if not isinstance(players, list):
        raise ValueError('"players" must be a list to insert a profile into it.')
    if kind == "players":
        players.append(data)
        return config
    if not 1 <= seat <= len(players) or not isinstance(players[seat - 1], dict):
        raise ValueError(f"There is no player {seat} to give the {name!r} profile to.")
    players[seat - 1][SEAT_FIELDS[kind]] = data
    return config
