"""Reads. Every lookup of a job goes through the caller, so another user's job is simply
not found (a 404, never a 403 that would confirm it exists)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Field,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Now
from rest_framework.authtoken.models import Token

import jost_engine
from simulator import inputs
from simulator.db import prepared_cursor
from simulator.models import (
    ClaimQuerySet,
    JobShard,
    JobStatus,
    Profile,
    ProfileType,
    SimulationJob,
    stale_cutoff,
)


def jobs_for(user: User) -> ClaimQuerySet[SimulationJob]:
    """The user's jobs, newest first."""
    return SimulationJob.objects.filter(owner=user).order_by("-created_at", "-id")


def job_for(user: User, job_id: UUID) -> SimulationJob | None:
    # One row by primary key: no ORDER BY, no LIMIT to plan (the status poll's query).
    try:
        return SimulationJob.objects.get(owner=user, id=job_id)
    except SimulationJob.DoesNotExist:
        return None


def has_priority(user: User) -> bool:
    """Whether the user's jobs run first: a member of the PRIORITY_GROUP group, which an
    operator sets on the user's page in the admin (a group, not a field: no migration of
    the user model, and the admin's own widget)."""
    return user.groups.filter(name=settings.PRIORITY_GROUP).exists()


# What JobStatusSerializer reads of a job.
STATUS_FIELDS = (
    "id",
    "status",
    "error",
    "rounds_done",
    "rounds_total",
    "started_at",
    "heartbeat_at",
    "finished_at",
)


def _column(model: type[Model], name: str) -> str:
    column = getattr(model._meta.get_field(name), "column", None)
    assert isinstance(column, str), f"{model.__name__}.{name} has no column"
    return connection.ops.quote_name(column)


@cache
def _token_user_and_job_sql() -> str:
    # Table and column names from the models' own metadata; the user's columns in the
    # model's field order, so that User.from_db takes them as they come.
    table = connection.ops.quote_name
    user_columns = ", ".join(f"u.{_column(User, field.name)}" for field in _user_fields())
    job_columns = ", ".join(f"j.{_column(SimulationJob, field.name)}" for field in _job_fields())
    return (
        f"SELECT {user_columns}, {job_columns} FROM {table(Token._meta.db_table)} t"
        f" JOIN {table(User._meta.db_table)} u"
        f" ON u.{_column(User, 'id')} = t.{_column(Token, 'user')}"
        f" LEFT JOIN {table(SimulationJob._meta.db_table)} j"
        f" ON j.{_column(SimulationJob, 'owner')} = u.{_column(User, 'id')}"
        f" AND j.{_column(SimulationJob, 'id')} = %s"
        f" WHERE t.{_column(Token, 'key')} = %s"
    )


@cache
def _user_fields() -> list[Field[Any, Any]]:
    return list(User._meta.concrete_fields)


@cache
def _user_attnames() -> list[str]:
    return [field.attname for field in _user_fields()]


@cache
def _job_fields() -> list[Field[Any, Any]]:
    # In the model's field order, as Model.from_db takes a subset of the columns.
    return [f for f in SimulationJob._meta.concrete_fields if f.name in STATUS_FIELDS]


@cache
def _job_attnames() -> list[str]:
    return [field.attname for field in _job_fields()]


Converter = tuple[int, Any, list[Any]]  # (column index, column expression, converters)


def _converters(
    db: BaseDatabaseWrapper, model: type[Model], fields: list[Field[Any, Any]]
) -> list[Converter]:
    """The fields that need converting from what this database returns to what the ORM
    gives, with their converters (SQLite returns a UUID as hex text, a datetime as a
    string and a boolean as an integer; PostgreSQL needs none for these fields). Kept per
    connection: they are the connection's own methods, and each thread has its own."""
    key = (model, tuple(field.name for field in fields))
    cached = _converter_cache.setdefault(db, {})
    if key not in cached:
        found = []
        for i, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            converters = [*db.ops.get_db_converters(column), *field.get_db_converters(db)]
            if converters:
                found.append((i, column, converters))
        cached[key] = found
    return cached[key]


_converter_cache: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[Any, list[Converter]]] = (
    weakref.WeakKeyDictionary()
)


def _from_db(
    db: BaseDatabaseWrapper, model: type[Model], fields: list[Field[Any, Any]], row: Sequence[Any]
) -> list[Any]:
    """A row's columns as the ORM would give them."""
    values = list(row)
    for i, column, converters in _converters(db, model, fields):
        if values[i] is not None:
            for convert in converters:
                values[i] = convert(values[i], column, db)
    return values


def token_user_and_job(token_key: str, job_id: UUID) -> tuple[User | None, SimulationJob | None]:
    """The user a token belongs to and, when it is theirs, the job's status columns, in
    one query: what every poll of GET /api/status/<id>/ needs (see
    simulator.api.authentication). (None, None) for an unknown token; (user, None) when
    the user has no such job.

    Written in SQL on a plain cursor, prepared on PostgreSQL (simulator/db.py). Measured
    in-process on PostgreSQL, the same join through the ORM (a FilteredRelation) took
    1.4 ms, most of it compiling the query; as a RawQuerySet 0.74 ms, most of it the raw
    query set's own machinery; on a plain cursor 0.33 ms, most of it PostgreSQL planning
    the statement; prepared, 0.10 ms.
    """
    db = connections[DEFAULT_DB_ALIAS]  # this thread's, looked up once
    # The id as this database stores it (a uuid on PostgreSQL, 32 hex characters on SQLite):
    # a raw query's parameters are not adapted by the field.
    stored_id = SimulationJob._meta.pk.get_db_prep_value(job_id, db)
    with prepared_cursor(db) as cursor:
        cursor.execute(_token_user_and_job_sql(), [stored_id, token_key])
        row = cursor.fetchone()
    if row is None:
        return None, None
    user_fields, job_fields = _user_fields(), _job_fields()
    n = len(user_fields)
    user = User.from_db(db.alias, _user_attnames(), _from_db(db, User, user_fields, row[:n]))
    values = _from_db(db, SimulationJob, job_fields, row[n:])
    if values[_job_attnames().index("id")] is None:  # the LEFT JOIN found no such job
        return user, None
    # The job with the status columns read and the rest deferred (the status serializer
    # reads only those), its owner the user just built.
    job = SimulationJob.from_db(db.alias, _job_attnames(), values)
    job.owner = user
    return user, job


def job_list_for(
    user: User,
    *,
    status: str | None = None,
    kind: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    name: str | None = None,
) -> QuerySet[SimulationJob]:
    """The user's jobs for the list, newest first, filtered. The big JSON columns (the
    config, the results) are not read: the list shows neither, and a results document
    can be megabytes. One query for the page, one for the count, whatever the size."""
    jobs = jobs_for(user).defer("request_data", "resolved_config", "result_data")
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    if created_after is not None:
        jobs = jobs.filter(created_at__gte=created_after)
    if created_before is not None:
        jobs = jobs.filter(created_at__lt=created_before)
    if name:
        jobs = jobs.filter(name__icontains=name)
    return jobs


def profiles_for(user: User, profile_type: str | None = None) -> QuerySet[Profile]:
    """The user's saved profiles by type and name. Another user's are never included."""
    profiles = Profile.objects.filter(owner=user).order_by("profile_type", "name", "id")
    if profile_type:
        profiles = profiles.filter(profile_type=profile_type)
    return profiles


def profile_for(user: User, profile_id: int) -> Profile | None:
    if profile_id > inputs.MAX_INTEGER:
        return None  # past any id, and past what the database's integer can compare
    return Profile.objects.filter(owner=user, id=profile_id).first()


# The job history reads these columns only: result_data can be megabytes per row (a hand
# history), so the first player's edge is extracted by the database instead.
HISTORY_FIELDS = (
    "id",
    "kind",
    "owner__username",
    "status",
    "rounds_done",
    "rounds_total",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "shards_total",
)


def _shards_complete() -> Subquery:
    """A split job's COMPLETE shards, counted per job in a subquery (not a join and
    GROUP BY over the page's columns); None for a job with no shards."""
    return Subquery(
        JobShard.objects.filter(job=OuterRef("pk"), status=JobStatus.COMPLETE)
        .order_by()
        .values("job")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def job_history(status: str = "", owner: str = "") -> QuerySet[SimulationJob]:
    """Every user's jobs, newest first, for staff: filtered by status and by owner's
    username when given, with `first_edge` (the first player's player_edge, as text, or
    None) annotated from result_data in the database, and `shards_complete` (of
    shards_total) for a split job."""
    jobs = (
        SimulationJob.objects.select_related("owner")
        .only(*HISTORY_FIELDS)
        .annotate(
            first_edge=KT("result_data__players__0__player_edge"),
            shards_complete=Coalesce(_shards_complete(), Value(0)),
        )
        .order_by("-created_at", "-id")
    )
    if status:
        jobs = jobs.filter(status=status)
    if owner:
        jobs = jobs.filter(owner__username=owner)
    return jobs


# A split job's page lists this many of its shards at most (an index job of JOB_MAX_SHOES
# can have thousands); the counts above the list cover every shard, and the admin lists
# them all.
SHARD_ROWS = 200


def _stuck() -> Q:
    """RUNNING with a heartbeat older than JOB_STALE_AFTER, by the database's clock (as
    ClaimQuerySet.stale()): its worker is taken for dead and the sweep will deal it again."""
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale_cutoff()) | Q(heartbeat_at__isnull=True)
    )


def with_shard_state(shards: QuerySet[JobShard]) -> QuerySet[JobShard]:
    """`shards` without their stored statistics (a shard's can be megabytes), each with
    `stuck` and, by the database's clock (the one that wrote the times), `running_for`
    since its claim and `silent_for` since its last heartbeat: what the dashboard and the
    admin mark a shard by."""
    return shards.defer("stats").annotate(
        stuck=ExpressionWrapper(_stuck(), output_field=BooleanField()),
        running_for=ExpressionWrapper(Now() - F("started_at"), output_field=DurationField()),
        silent_for=ExpressionWrapper(Now() - F("heartbeat_at"), output_field=DurationField()),
    )


def stuck_shards(shards: QuerySet[JobShard]) -> QuerySet[JobShard]:
    return shards.filter(_stuck())


def job_shards(job: SimulationJob) -> QuerySet[JobShard]:
    """A split job's shards in index order for its page (with_shard_state)."""
    return with_shard_state(JobShard.objects.filter(job=job)).order_by("index")


def shard_counts(job: SimulationJob) -> dict[str, int]:
    """How many of a job's shards are in each state, and how many are stuck or were
    retried (claimed more than once), over all of them, in one query."""
    found = JobShard.objects.filter(job=job).aggregate(
        total=Count("pk"),
        stuck=Count("pk", filter=_stuck()),
        retried=Count("pk", filter=Q(attempts__gt=1)),
        **{status.lower(): Count("pk", filter=Q(status=status)) for status in JobStatus.values},
    )
    return {name: int(value or 0) for name, value in found.items()}


def job_owners() -> list[str]:
    """Usernames of everyone who has a job, for the history's owner filter."""
    return list(
        get_user_model()
        .objects.filter(simulation_jobs__isnull=False)
        .distinct()
        .order_by("username")
        .values_list("username", flat=True)
    )


def any_job(job_id: UUID) -> SimulationJob | None:
    """A job of anyone's, for staff on the dashboard."""
    return SimulationJob.objects.select_related("owner").filter(id=job_id).first()


def engine_info() -> dict[str, Any]:
    """What GET /api/engine/ answers: the engine's version, every casino rule with its
    default and range, the counting systems and strategies shipped, the config's other
    options, and the limits this server enforces, so a client can build its forms."""
    from jost_engine import config as engine_config
    from jost_engine.config.betting import bet_rule_conditions
    from jost_engine.config.charts import preset_names
    from jost_engine.config.fields import MAX_MONEY, MAX_SESSIONS
    from jost_engine.config.players import ANALYSES
    from jost_engine.config.rules import MAX_REDOUBLES, RESCUE_FORFEITS
    from jost_engine.config.types import SPANISH_FIELDS

    defaults = jost_engine.defaults()
    blank = jost_engine.config_to_dict(
        jost_engine.normalize_config({"casino": {}, "num_rounds": 1, "players": [{}]})
    )
    ranges: dict[str, dict[str, Any]] = {
        "deck_count": {"minimum": 0, "maximum": engine_config.MAX_DECKS, "note": "0: infinite"},
        "allow_resplit_to_hands": {"minimum": 1, "maximum": engine_config.MAX_SPLIT_HANDS},
        "reshuffle_penetration": {"minimum": 0, "maximum": 1, "exclusive_minimum": True},
        "blackjack_payout": {"examples": ["3:2", "6:5", "1:1", 1.5]},
        "double_down_restrictions": {"examples": [["any"], [9, 10, 11], ["10-11"]]},
    }
    # Spanish 21's rules (docs/CONFIG.md), each at the common game's default, which a
    # common casino leaves out of its canonical form: read from a Spanish one.
    spanish = jost_engine.config_to_dict(
        jost_engine.normalize_config(
            {
                "casino": {"deck": "spanish"},
                "num_rounds": 1,
                "players": [{"playing_strategy": "perfect_h17_basic_strategy"}],
            }
        )
    )["casino"]
    casino = {
        **blank["casino"],
        **{name: spanish[name] for name in SPANISH_FIELDS},
        "deck": "standard",
    }
    bonus = {"minimum": 1, "maximum": 3, "examples": ["3:2", "2:1", "3:1"], "note": "1: none"}
    ranges.update(
        {
            "deck": {"values": ["standard", "spanish"]},
            "max_redoubles": {"minimum": 0, "maximum": MAX_REDOUBLES},
            "rescue_forfeits": {"values": list(RESCUE_FORFEITS)},
            "super_bonus": {"minimum": 0, "maximum": MAX_MONEY, "note": "money; 0: not paid"},
            "envy_bonus": {"minimum": 0, "maximum": MAX_MONEY, "note": "money; 0: not paid"},
            **{
                name: bonus
                for name in SPANISH_FIELDS
                if name.startswith("bonus_") and name != "bonus_after_double"
            },
        }
    )
    rules = {
        name: {"type": type(value).__name__, "default": value, **ranges.get(name, {})}
        for name, value in casino.items()
        if name != "name"
    }
    player = blank["players"][0]
    return {
        "version": jost_engine.__version__,
        "profile_types": [choice for choice, _ in ProfileType.choices],
        "rules": rules,
        "counting_systems": {
            name: {"tags": profile.get("tags"), "description": profile.get("description", "")}
            for name, profile in defaults["counting_systems"].items()
        },
        "playing_strategies": ["auto", *defaults["playing_strategies"]],
        "betting_strategies": list(defaults["betting_strategies"]),
        "options": {
            "num_rounds": {
                "minimum": 1,
                "maximum": min(engine_config.MAX_ROUNDS, settings.JOB_MAX_ROUNDS),
            },
            "seed": {"minimum": 0, "maximum": 2**63 - 1, "default": None},
            "log_hands": {"default": False},
            "players": {"minimum": 1, "maximum": engine_config.MAX_SEATS},
            "bankroll": {"default": player["bankroll"]},
            "min_bet": {"default": player["betting_strategy"]["min_bet"]},
            "counting_strategy": {"default": player["counting_strategy"]["name"]},
            "playing_strategy": {"default": "auto"},
            "name": {"max_length": inputs.MAX_NAME_LENGTH},
            "description": {"max_length": inputs.MAX_TEXT_LENGTH},
            "stop_when_broke": {"default": True},
            "sessions": {"minimum": 1, "maximum": MAX_SESSIONS, "default": None},
            "rounds_per_hour": {"default": 100},
            # On a player: a flat counting run for optimal bets (docs/CONFIG.md).
            "analysis": {"values": list(ANALYSES), "default": None},
            # On a counting system (docs/CONFIG.md, "Counting systems").
            "deck_estimation": {"values": ["exact", "half", "whole"], "default": "exact"},
            "true_count_rounding": {
                "values": ["none", "floor", "truncate", "round"],
                "default": "none",
            },
            # On a betting strategy (docs/CONFIG.md, "Betting strategies").
            "ramp_count": {"values": ["true", "running"]},
            "betting_strategy_fields": [
                "bet_ramp",
                "spots_ramp",
                "max_bet",
                "wong_in",
                "wong_out",
                "bet_rules",
                "bet_steps",
            ],
            # Betting by rules (docs/CONFIG.md, "Betting by rules"): what a rule may say.
            "bet_rules": {
                "conditions": [*bet_rule_conditions(), "step"],
                "last_result": list(engine_config.BET_RESULTS),
                "actions": list(engine_config.BET_ACTIONS),
                "action_options": ["cycle_target"],
            },
            # On a playing strategy: index plays, a shipped preset or custom plays.
            "deviations": {"presets": preset_names()},
        },
        "limits": {
            "JOB_MAX_ROUNDS": settings.JOB_MAX_ROUNDS,
            # An index job's (POST /api/indices/): shoes in all, and per shard.
            "JOB_MAX_SHOES": settings.JOB_MAX_SHOES,
            "JOB_SHARD_SHOES": settings.JOB_SHARD_SHOES,
            "JOB_MAX_ACTIVE_PER_USER": settings.JOB_MAX_ACTIVE_PER_USER,
            "REQUEST_MAX_BYTES": settings.REQUEST_MAX_BYTES,
            "CONFIG_MAX_DEPTH": inputs.MAX_DEPTH,
            "IDEMPOTENCY_KEY_TTL": settings.IDEMPOTENCY_KEY_TTL,
            "THROTTLE_RATES": dict(settings.THROTTLE_RATES),
        },
    }


def log_context_of_job(job_id: str) -> dict[str, Any]:
    """What a worker's log lines about the job carry (service.logs.bound): the job's id,
    its owner's and the id of the request that submitted it."""
    row = SimulationJob.objects.filter(id=job_id).values("owner_id", "request_id").first()
    context: dict[str, Any] = {"job_id": job_id}
    if row is not None:
        context.update(user_id=row["owner_id"], request_id=row["request_id"] or None)
    return context


def log_context_of_shard(shard_id: str) -> dict[str, Any]:
    """As log_context_of_job, for one shard: its job's, with the shard's index."""
    from simulator.models import JobShard

    row = (
        JobShard.objects.filter(id=shard_id)
        .values("index", "job_id", "job__owner_id", "job__request_id")
        .first()
    )
    if row is None:
        return {}
    return {
        "job_id": row["job_id"],
        "shard": row["index"],
        "user_id": row["job__owner_id"],
        "request_id": row["job__request_id"] or None,
    }
