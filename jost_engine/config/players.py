"""Players and the whole config: `normalize_config`, the one way into the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jost_engine.config.betting import betting_from
from jost_engine.config.charts import playing_from
from jost_engine.config.context import Context
from jost_engine.config.counting import counting_from
from jost_engine.config.fields import (
    BAD,
    DEFAULT_BANKROLL,
    DEFAULT_COUNTING,
    FLAT_RAMP,
    MAX_ROUNDS,
    MAX_SEATS,
    MAX_SESSIONS,
    MISSING,
    Fields,
    Problems,
    any_value,
    check_bool,
    check_int,
    check_money,
    check_name,
    check_number,
    index_path,
    is_number,
    join_path,
    plain_entries,
)
from jost_engine.config.rules import rules_from
from jost_engine.config.types import Config, ConfigError, Player, Resolver

MIN_ROUNDS_PER_HOUR = 1
MAX_ROUNDS_PER_HOUR = 10_000


def player_from(
    raw: Any, path: str, ctx: Context, extra: dict[str, tuple[Any, str]] | None = None
) -> tuple[Player, str | None, bool]:
    """A player by name, inline, or `{"profile": <player>, ...overrides}`.

    `extra` adds fields found elsewhere (the single-player form keeps the strategies
    beside the player). Returns the player, its name if one was given or inherited
    (None: to be numbered), and whether the name was written on this player itself.
    """
    flat = ctx.flatten("player", raw, path, links=("profile", "parent"))
    entries, looked_up = flat if flat is not None else ({}, None)
    entries.update(extra or {})
    f = Fields(entries, path, ctx.problems)
    own_name = isinstance(raw, Mapping) and "name" in raw
    name = f.take_one(("name",), check_name, looked_up)
    bankroll = f.take_one(("bankroll",), check_money, DEFAULT_BANKROLL)
    # A strategy slot left null (as form-built clients send it) takes its default.
    playing_raw = f.take("playing_strategy")
    betting_raw = f.take("betting_strategy")
    counting_raw = f.take_one(("counting_strategy", "counting_system"), any_value, MISSING)
    analysis = f.take_one(("analysis",), check_analysis, None)
    f.finish()
    playing = playing_from(
        "auto" if playing_raw in (MISSING, None) else playing_raw,
        f.path_of("playing_strategy"),
        ctx,
    )
    betting = betting_from(
        {} if betting_raw in (MISSING, None) else betting_raw, f.path_of("betting_strategy"), ctx
    )
    counting_path = f.path_of(
        "counting_system"
        if f.has("counting_system") and not f.has("counting_strategy")
        else "counting_strategy"
    )
    counting = counting_from(
        DEFAULT_COUNTING if counting_raw in (MISSING, None) else counting_raw, counting_path, ctx
    )
    if analysis == "per_count":
        # One unit flat at every count, whatever the profile's ramp says: a count's edge and
        # variance are only comparable when every count is measured on the same bet.
        betting = replace(betting, ramp=FLAT_RAMP, spots_ramp=None, wong_in=None, wong_out=None)
    player = Player(
        name=name if isinstance(name, str) else "",
        bankroll=bankroll if bankroll is not BAD else DEFAULT_BANKROLL,
        playing=playing,
        betting=betting,
        counting=counting,
        analysis=analysis if analysis is not BAD else None,
    )
    return player, (name if isinstance(name, str) else None), own_name


def _name_players(found: list[tuple[Player, str | None, bool]], problems: Problems) -> list[Player]:
    """Seat names: a name written twice is an error; one inherited twice from the same
    profile is numbered ("master_player", "master_player #2"); none is "Player <seat>"."""
    players: list[Player] = []
    taken: dict[str, int] = {}
    explicit = {name for _, name, own in found if own and name}
    for seat, (player, name, own) in enumerate(found):
        if name is None:
            name = f"Player {seat + 1}"
        if name in taken and own:
            problems.add(
                join_path(index_path("players", seat), "name"),
                f"duplicate name {name!r}, already players[{taken[name]}]",
            )
        elif name in taken or (not own and name in explicit):
            base, n = name, 2
            while f"{base} #{n}" in taken or f"{base} #{n}" in explicit:
                n += 1
            name = f"{base} #{n}"
        taken.setdefault(name, seat)
        players.append(
            Player(
                name=name,
                bankroll=player.bankroll,
                playing=player.playing,
                betting=player.betting,
                counting=player.counting,
                analysis=player.analysis,
            )
        )
    return players


def check_seed(value: Any, path: str, problems: Problems) -> Any:
    if value is None:
        return None
    if not is_number(value) or value != int(value) or not 0 <= int(value) < 2**63:
        problems.add(path, "not a whole number 0 .. 2^63-1, or null")
        return BAD
    return int(value)


def normalize_config(raw: Any, resolve: Resolver | None = None) -> Config:
    """Turn any JOST dialect into a validated Config, or raise ConfigError naming every fault.

    Top level: `casino` and `players` (profiles by name or inline; at most 7 spots in
    all; or JOST's single-player task form, `player` with `strategy`, `betting_strategy`
    and `iterations` beside it), `num_rounds` (1 .. 10^10; JOST's `iterations` too),
    `seed` (0 .. 2^63-1 or null, default null), `stop_when_broke` (default true: JOST's
    broke rule; false lets bankrolls go below zero), `sessions` (1 .. 10^6 independent
    sessions of num_rounds each, or null: one session), `rounds_per_hour` (the pace of
    the per-hour figures, more than 0 and at most 10,000, default 100), the
    hand-history flag as `log_each_hand`, `include_hand_history` or `log_hands` (default
    false). A name resolves through `resolve(kind, name)` first (the service's saved
    profiles), then the shipped defaults. Every problem is collected before raising.
    """
    problems = Problems()
    if not isinstance(raw, Mapping):
        raise ConfigError([("(config)", "expected a JSON object")])
    ctx = Context(resolve, problems)
    f = Fields(plain_entries(raw, ""), "", problems)
    # A name and the top-level title of a saved simulation describe it; they change nothing.
    f.take("name")

    casino_raw = f.take("casino")
    if casino_raw is MISSING:
        problems.add("casino", "required")
        casino_raw = {}
    rules = rules_from(casino_raw, "casino", ctx)

    num_rounds = f.take_one(("num_rounds", "iterations"), check_int(1, MAX_ROUNDS), MISSING)
    if num_rounds is MISSING:
        problems.add("num_rounds", "required")
    seed = f.take_one(("seed",), check_seed, None)
    log_hands = f.take_one(
        ("log_each_hand", "include_hand_history", "log_hands"), check_bool, False
    )
    stop_when_broke = f.take_one(("stop_when_broke",), check_bool, True)
    sessions = f.take_one(("sessions",), _check_sessions, None)
    rounds_per_hour = f.take_one(("rounds_per_hour",), _check_rounds_per_hour, 100.0)
    if sessions not in (None, BAD) and stop_when_broke is False:
        # A session is a trip that ends when the money does; without the broke rule it is
        # just more rounds, which num_rounds already asks for.
        problems.add(
            "sessions",
            "needs the broke rule: drop stop_when_broke: false, or ask for "
            "num_rounds x sessions rounds without sessions",
        )
    total = (
        sessions * num_rounds if isinstance(sessions, int) and isinstance(num_rounds, int) else 0
    )
    if total > MAX_ROUNDS:
        problems.add(
            "sessions",
            f"{sessions} sessions of {num_rounds} rounds are {total} rounds in all, "
            f"above {MAX_ROUNDS}",
        )

    players_raw = f.take("players")
    found: list[tuple[Player, str | None, bool]] = []
    if players_raw is MISSING and f.has("player"):
        # JOST's task payload: one `player` with `strategy` (its chart) and
        # `betting_strategy` beside it rather than inside.
        extra = {
            target: (f.take(key), f.path_of(key))
            for key, target in (
                ("strategy", "playing_strategy"),
                ("betting_strategy", "betting_strategy"),
                ("counting_strategy", "counting_strategy"),
            )
            if f.has(key)
        }
        found = [player_from(f.take("player"), "player", ctx, extra)]
    elif players_raw is MISSING:
        problems.add("players", "required")
    elif not isinstance(players_raw, list) or not players_raw:
        problems.add("players", "not a non-empty list")
    elif len(players_raw) > MAX_SEATS:
        problems.add("players", f"{len(players_raw)} players; a table seats at most {MAX_SEATS}")
    else:
        found = [player_from(p, index_path("players", i), ctx) for i, p in enumerate(players_raw)]
    f.finish()
    players = _name_players(found, problems)
    spots = sum(p.betting.max_spots for p in players)  # spots_ramp at its widest
    if spots > MAX_SEATS:
        problems.add("players", f"{spots} spots in all; a table has at most {MAX_SEATS}")

    if problems.items:
        raise ConfigError(problems.items)
    return Config(
        rules=rules,
        players=tuple(players),
        num_rounds=num_rounds,
        seed=seed,
        log_hands=log_hands,
        stop_when_broke=stop_when_broke,
        sessions=sessions,
        rounds_per_hour=rounds_per_hour,
    )


# Heads-up play reaches about 250 rounds an hour; 10,000 (one every 0.36 s) is far past any
# table, and at least one an hour keeps the hours a result reports (N0 in hours) finite.
_check_rounds_per_hour = check_number(MIN_ROUNDS_PER_HOUR, MAX_ROUNDS_PER_HOUR)


ANALYSES = ("per_count",)


def check_analysis(value: Any, path: str, problems: Problems) -> Any:
    """`analysis`: "per_count", or null for none."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ANALYSES:
        return value.strip().lower()
    problems.add(path, f"not one of {', '.join(repr(a) for a in ANALYSES)} or null")
    return BAD


def _check_sessions(value: Any, path: str, problems: Problems) -> Any:
    # null reads as absent: JOST's one session.
    if value is None:
        return None
    return check_int(1, MAX_SESSIONS)(value, path, problems)
