"""What the OpenAPI schema (/api/schema/) says about bodies the views build by hand: the
config, the answers and every error body, with examples. These serializers describe; they
validate nothing (the engine validates a config, simulator.inputs what can be stored)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from jost_engine.config.counting import DECK_ESTIMATIONS, TC_ROUNDINGS
from jost_engine.config.fields import MAX_MONEY, MIN_MONEY
from simulator.models import JobStatus

# --- The config ---------------------------------------------------------------------------

# The simulation config as an object: the fields every dialect shares, each profile either
# a name (the caller's saved profile first, then a shipped default) or an object. The
# engine accepts more (aliases, JOST's older dialects; docs/CONFIG.md lists them all), so
# other fields are allowed and checked by the engine, not by the schema.
PROFILE_REF: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "maxLength": 100, "description": "a saved or shipped profile name"},
        {"type": "object", "additionalProperties": True, "description": "the profile inline"},
    ]
}
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "A simulation config in the engine's JOST format (docs/CONFIG.md). A profile is a "
        "name or an object; names resolve against the caller's saved profiles "
        "(/api/profiles/), then the shipped defaults (/api/defaults/)."
    ),
    "properties": {
        "name": {
            "type": "string",
            "maxLength": 100,
            "description": "The job's name, for finding it (GET /api/jobs/?name=).",
        },
        "description": {"type": "string", "maxLength": 2000},
        "casino": PROFILE_REF,
        "num_rounds": {
            "type": "integer",
            "minimum": 1,
            "description": "Rounds to play; at most JOB_MAX_ROUNDS (see /api/engine/).",
        },
        "seed": {
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": 2**63 - 1,
            "description": "The same seed plays the same rounds; null draws one at submit.",
        },
        "log_hands": {"type": "boolean", "description": "Keep a hand history in the results."},
        "stop_when_broke": {
            "type": "boolean",
            "default": True,
            "description": (
                "JOST's broke rule (a player who cannot cover the bet stops); false lets "
                "bankrolls go below zero, and the job is split over every worker."
            ),
        },
        "sessions": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 1_000_000,
            "description": (
                "Independent sessions of num_rounds each from the initial bankroll; the "
                "results add trip ruin and final-bankroll percentiles."
            ),
        },
        "rounds_per_hour": {
            "type": "number",
            "default": 100,
            "description": "The pace for win_per_hour and sd_per_hour.",
        },
        "players": {
            "type": "array",
            "minItems": 1,
            "maxItems": 7,
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "profile": {"type": "string", "description": "a player profile name"},
                    "name": {"type": "string", "maxLength": 100},
                    "bankroll": {"type": "number"},
                    "playing_strategy": PROFILE_REF,
                    "betting_strategy": PROFILE_REF,
                    "counting_strategy": PROFILE_REF,
                },
            },
        },
    },
    "required": ["casino", "num_rounds"],
    "additionalProperties": True,
}

CONFIG_EXAMPLE = {
    "name": "six decks, hi-lo ramp",
    "casino": "master_casino",
    "num_rounds": 100000,
    "seed": 42,
    "players": [
        {
            "profile": "master_player",
            "playing_strategy": "auto",
            "betting_strategy": "master_betting_strategy",
        }
    ],
}
CONFIG_EXAMPLES = [OpenApiExample("The master simulation", value=CONFIG_EXAMPLE)]


# --- The index request (POST /api/indices/; docs/INDICES.md) --------------------------------

INDEX_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "An index generator request (jost_engine.indices, docs/INDICES.md): the count at "
        "which each play's two actions cross, for this game and counting system. A profile "
        "is a name (the caller's saved profile first, then a shipped default) or an object."
    ),
    "properties": {
        "name": {"type": "string", "maxLength": 100, "description": "The job's name."},
        "casino": PROFILE_REF,
        "counting_strategy": {**PROFILE_REF, "description": 'As on a player (default "hilo").'},
        "deck_estimation": {
            "type": "string",
            "enum": list(DECK_ESTIMATIONS),
            "description": "How the player estimates the decks left (overrides the system's).",
        },
        "true_count_rounding": {
            "type": "string",
            "enum": list(TC_ROUNDINGS),
            "description": "How the player rounds the true count (overrides the system's).",
        },
        "plays": {
            "type": "array",
            "minItems": 1,
            "description": (
                'Presets ("illustrious18", "fab4", "insurance", "all": every chart cell '
                "where another action is within all_within of the best at a true count of "
                '0) and plays {"hand", "vs", "actions": [a, b]}, b being the index play.'
            ),
            "items": {
                "oneOf": [
                    {"type": "string", "enum": ["illustrious18", "fab4", "insurance", "all"]},
                    {
                        "type": "object",
                        "properties": {
                            "hand": {"type": "string", "description": '"16", "soft 18", "10,10"'},
                            "vs": {"type": "string", "description": 'the up card, "2".."10", "A"'},
                            "actions": {
                                "type": "array",
                                "items": {"type": "string", "enum": ["H", "S", "D", "P", "R"]},
                                "minItems": 2,
                                "maxItems": 2,
                            },
                        },
                        "required": ["hand"],
                    },
                ]
            },
        },
        "shoes": {
            "type": "integer",
            "minimum": 1,
            "default": 20000,
            "description": "Shoes to deal in all (the budget); at most JOB_MAX_SHOES.",
        },
        "seed": {
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": 2**63 - 1,
            "description": "The same seed deals the same shoes; absent or null draws one.",
        },
        "step": {
            "type": "integer",
            "minimum": 1,
            "maximum": 52,
            "default": 5,
            "description": "Cards dealt between two sampled shoe states.",
        },
        "all_within": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.05,
            "description": 'With "all": the EV per unit bet within which the runner-up '
            "action must come of the best at a true count of 0.",
        },
        "betting_strategy": {
            **PROFILE_REF,
            "description": "As on a player, one spot and no wonging: the ramp each play's "
            "gain_per_100 is stated for (default 1 unit to +1, then the true count in units "
            "up to 8; flat for an unbalanced count).",
        },
        "bankroll": {
            "type": "number",
            "minimum": MIN_MONEY,
            "maximum": MAX_MONEY,
            "description": "Money, as the ramp's min_bet: with it each play also gets its "
            "risk-averse (Kelly) index.",
        },
    },
    "required": ["casino", "plays"],
    "additionalProperties": False,
}
INDEX_REQUEST_EXAMPLE = {
    "name": "6D S17 DAS LS, Hi-Lo",
    "casino": {
        "parent": "vegas_6d_s17_das",
        "allow_late_surrender": True,
        "reshuffle_penetration": 0.8,
    },
    "counting_strategy": "hilo",
    "plays": ["illustrious18", "fab4"],
    "shoes": 200000,
    "seed": 42,
}
# Measured: insurance, 16 v 10 (H/S) and 15 v 10 (H/R) in the request's game, 40,000
# shoes, seed 17, a $10 minimum on a 1-2-4-8 ramp (+2, +3, +4) and a $10,000 bankroll;
# each curve cut to two of its half-count buckets.
INDEX_RESULTS_EXAMPLE = {
    "indices": [
        {
            "hand": "insurance",
            "vs": "A",
            "actions": ["decline", "insure"],
            "count": "true",
            "states": 1999746,
            "index": 3.1,
            "index_rounded": 3.1,
            "interval": [3.0, 3.1],
            "when": "at_or_above",
            "never_changes": False,
            "better": None,
            "note": None,
            "gain_per_100": 0.1178,
            "gain_per_100_se": 0.0006,
            "risk_averse": {
                "index": None,
                "index_rounded": None,
                "interval": None,
                "when": None,
                "note": "not computed for insurance (its covariance with the "
                "hand is not played out); the index above stands",
            },
            "curve": [
                {
                    "count": 0.0,
                    "mean_count": -0.0091,
                    "n": 269572,
                    "ev_diff": -0.03516,
                    "se": 3.6e-05,
                },
                {"count": 0.5, "mean_count": 0.5023, "n": 185435, "ev_diff": -0.02937, "se": 5e-05},
            ],
        },
        {
            "hand": "16",
            "vs": "10",
            "actions": ["H", "S"],
            "count": "true",
            "states": 2000000,
            "index": 0.6,
            "index_rounded": 0.6,
            "interval": [0.3, 1.0],
            "when": "at_or_above",
            "never_changes": False,
            "better": None,
            "note": None,
            "gain_per_100": 0.039,
            "gain_per_100_se": 0.003,
            "risk_averse": {
                "index": 0.6,
                "index_rounded": 0.6,
                "interval": [0.3, 1.0],
                "when": "at_or_above",
                "note": None,
            },
            "curve": [
                {
                    "count": 0.0,
                    "mean_count": -0.0275,
                    "n": 288546,
                    "ev_diff": -0.00433,
                    "se": 0.0019,
                },
                {
                    "count": 0.5,
                    "mean_count": 0.5014,
                    "n": 183709,
                    "ev_diff": -0.00304,
                    "se": 0.0024,
                },
            ],
        },
        {
            "hand": "15",
            "vs": "10",
            "actions": ["H", "R"],
            "count": "true",
            "states": 2000000,
            "index": -0.4,
            "index_rounded": -0.4,
            "interval": [-0.6, -0.3],
            "when": "at_or_above",
            "never_changes": False,
            "better": None,
            "note": None,
            "gain_per_100": 0.1223,
            "gain_per_100_se": 0.0028,
            "risk_averse": {
                "index": -0.4,
                "index_rounded": -0.4,
                "interval": [-0.6, -0.3],
                "when": "at_or_above",
                "note": None,
            },
            "curve": [
                {
                    "count": 0.0,
                    "mean_count": -0.0228,
                    "n": 289636,
                    "ev_diff": 0.00729,
                    "se": 0.0015,
                },
                {"count": 0.5, "mean_count": 0.5016, "n": 187619, "ev_diff": 0.01825, "se": 0.0019},
            ],
        },
    ],
    "deviations": [
        {"hand": "insurance", "index": 3.1},
        {"hand": "16", "vs": "10", "index": 0.6, "action": "S", "when": "at_or_above"},
        {"hand": "15", "vs": "10", "index": -0.4, "action": "Rh", "when": "at_or_above"},
    ],
    "gain_ramp": {
        "name": "custom betting",
        "units": [
            {"count": None, "units": 1.0},
            {"count": 2.0, "units": 2.0},
            {"count": 3.0, "units": 4.0},
            {"count": 4.0, "units": 8.0},
        ],
    },
    "risk_averse_deviations": [
        {"hand": "16", "vs": "10", "index": 0.6, "action": "S", "when": "at_or_above"},
        {"hand": "15", "vs": "10", "index": -0.4, "action": "Rh", "when": "at_or_above"},
    ],
    "bankroll": 10000.0,
}


# --- Bodies -------------------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text='JSON path of the bad field, e.g. "players[0].bankroll"')
    reason = serializers.CharField()


class InvalidSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # A field named like Serializer.errors: DRF declares fields by metaclass, the stubs
    # see an attribute.
    errors = ProblemSerializer(many=True)  # type: ignore[assignment]


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AcceptedSerializer(serializers.Serializer):
    message = serializers.CharField()
    job_id = serializers.UUIDField()


class IndexAcceptedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()


class ProgressSerializer(serializers.Serializer):
    rounds_done = serializers.IntegerField()
    rounds_total = serializers.IntegerField()
    fraction = serializers.FloatField()
    rate = serializers.FloatField(allow_null=True, help_text="rounds a second so far")
    eta_seconds = serializers.FloatField(allow_null=True)


class StatusSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = ProgressSerializer()
    error = serializers.CharField(allow_null=True)


class ResultSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    results = serializers.DictField(
        allow_null=True, help_text="The results document (docs/RESULTS.md); null until COMPLETE"
    )
    error = serializers.CharField(allow_null=True)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class EngineSerializer(serializers.Serializer):
    version = serializers.CharField()
    profile_types = serializers.ListField(child=serializers.CharField())
    rules = serializers.DictField(help_text="Every casino rule: its type, default and range")
    counting_systems = serializers.DictField(help_text="Shipped counting systems and their tags")
    playing_strategies = serializers.ListField(child=serializers.CharField())
    betting_strategies = serializers.ListField(child=serializers.CharField())
    options = serializers.DictField(help_text="Config fields beside the profiles")
    limits = serializers.DictField(help_text="Limits in force on this server")


# --- Responses ----------------------------------------------------------------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any string up to 255 printable ASCII characters. A repeat with the same key and "
        "body answers the first job's status and body again (no second job), for at least "
        "24 h; the same key with another body is a 422."
    ),
)

UNAUTHORIZED = OpenApiResponse(
    DetailSerializer,
    description="No valid token",
    examples=[
        OpenApiExample(
            "No token", value={"detail": "Authentication credentials were not provided."}
        )
    ],
)
NOT_FOUND = OpenApiResponse(
    DetailSerializer,
    description="No such id among the caller's own (another user's is a 404 too)",
    examples=[OpenApiExample("Not found", value={"detail": "Not found."})],
)
THROTTLED = OpenApiResponse(
    DetailSerializer,
    description="Too many requests, or over a quota; the Retry-After header says when to retry",
    examples=[
        OpenApiExample(
            "Throttled",
            value={"detail": "Request was throttled. Expected available in 12 seconds."},
        )
    ],
)
TOO_LARGE = OpenApiResponse(
    DetailSerializer,
    description="The body is larger than REQUEST_MAX_BYTES; nothing was read or stored",
    examples=[
        OpenApiExample(
            "Too large",
            value={
                "detail": "The request body is 3000000 bytes; the most accepted is "
                "524288 (REQUEST_MAX_BYTES).",
                "limit": 524288,
            },
        )
    ],
)
INVALID = OpenApiResponse(
    InvalidSerializer,
    description="The body is invalid: every bad field with its path and why",
    examples=[
        OpenApiExample(
            "A bad field",
            value={
                "detail": "The simulation config is invalid.",
                "errors": [{"path": "num_rounds", "reason": "not a whole number"}],
            },
        )
    ],
)
KEY_REUSED = OpenApiResponse(
    DetailSerializer,
    description="The Idempotency-Key was used before with a different request",
    examples=[
        OpenApiExample(
            "Reused key",
            value={
                "detail": "The Idempotency-Key 'k1' was already used with a different "
                "request (to another endpoint, or with another body) for job "
                "3f1e...; use a new key for a new request."
            },
        )
    ],
)
COMMON = {401: UNAUTHORIZED, 413: TOO_LARGE, 429: THROTTLED}
# What a paginated, filtered list answers besides its page.
LIST_ERRORS = {
    400: INVALID,
    401: UNAUTHORIZED,
    404: OpenApiResponse(DetailSerializer, description="No such page"),
    429: THROTTLED,
}
