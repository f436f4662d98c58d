"""POST /api/optimal-bets/: the ramp a counting run's true-count table calls for, for a
bankroll, table limits, a spread, a chip unit and a Kelly fraction or a target risk
(jost_engine.optimal_bets; formulas in docs/RESULTS.md, "Optimal bets")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import jost_engine
from simulator import selectors
from simulator.api import schema
from simulator.api.errors import invalid, invalid_body
from simulator.models import JobStatus

INVALID_DETAIL = "The optimal-bets request is invalid."


class CountRowSerializer(serializers.Serializer):
    true_count = serializers.IntegerField(help_text="the whole true count k: counts in [k, k + 1)")
    frequency = serializers.FloatField(help_text="share of the rounds at this count (>= 0)")
    flat_edge = serializers.FloatField(help_text="the edge per unit bet at this count")
    flat_sd = serializers.FloatField(help_text="the SD per unit bet at this count (> 0)")


class OptimalBetsRequestSerializer(serializers.Serializer):
    job = serializers.UUIDField(
        required=False, help_text="a COMPLETE job of the caller's whose seat counted"
    )
    seat = serializers.IntegerField(required=False, default=0, help_text="the job's player index")
    table = CountRowSerializer(
        many=True, required=False, help_text="the true-count table itself (instead of job)"
    )
    bankroll = serializers.FloatField(help_text="money, > 0")
    min_bet = serializers.FloatField(help_text="the table minimum, a multiple of unit")
    max_bet = serializers.FloatField(help_text="the table maximum, >= min_bet")
    max_spread = serializers.FloatField(help_text="largest bet / bottom bet, >= 1")
    unit = serializers.FloatField(help_text="the chip: every bet a multiple of it")
    kelly_fraction = serializers.FloatField(
        required=False, allow_null=True, help_text="1 full Kelly, 0.5 half...; or risk_of_ruin"
    )
    risk_of_ruin = serializers.FloatField(
        required=False, allow_null=True, help_text="a target risk of ruin, 0..1; or kelly_fraction"
    )
    rounds_per_hour = serializers.FloatField(required=False, default=100.0)
    wong_out = serializers.BooleanField(
        required=False, default=False, help_text="leave the table at the counts not worth a bet"
    )


class RampRowSerializer(serializers.Serializer):
    true_count = serializers.IntegerField()
    bet = serializers.FloatField(allow_null=True, help_text="null: wonged out (not played)")
    bet_before_rounding = serializers.FloatField(allow_null=True)
    kelly_bet = serializers.FloatField(help_text="the proportional bet k * edge / variance")
    frequency = serializers.FloatField()
    flat_edge = serializers.FloatField()


class OptimalBetsSerializer(serializers.Serializer):
    betting_strategy = serializers.DictField(help_text="paste into a player's config unchanged")
    ramp = RampRowSerializer(many=True)
    ev_per_round = serializers.FloatField()
    sd_per_round = serializers.FloatField()
    win_per_hour = serializers.FloatField()
    sd_per_hour = serializers.FloatField()
    di = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    n0 = serializers.FloatField(allow_null=True)
    risk_of_ruin = serializers.FloatField(allow_null=True)
    risk_of_ruin_before_rounding = serializers.FloatField(allow_null=True)
    certainty_equivalent = serializers.FloatField(help_text="money per round")
    certainty_equivalent_per_hour = serializers.FloatField()
    kelly_fraction = serializers.FloatField(help_text="given, or the one a target risk stands for")
    wong_out = serializers.IntegerField(allow_null=True)
    played_frequency = serializers.FloatField()
    bankroll = serializers.FloatField()
    rounds_per_hour = serializers.FloatField()
    notes = serializers.ListField(child=serializers.CharField())


# A Hi-Lo 6-deck table, rounded from a per-count run (the docs' example; the answer below is
# computed from it, so the two always agree).
EXAMPLE_TABLE: list[dict[str, Any]] = [
    {"true_count": c, "frequency": f, "flat_edge": e, "flat_sd": 1.15}
    for c, f, e in [
        (-2, 0.25, -0.012), (-1, 0.19, -0.007), (0, 0.27, -0.001), (1, 0.12, 0.002),
        (2, 0.07, 0.008), (3, 0.05, 0.012), (4, 0.05, 0.017),
    ]
]  # fmt: skip
EXAMPLE_LIMITS: dict[str, Any] = {
    "bankroll": 10000,
    "min_bet": 10,
    "max_bet": 500,
    "max_spread": 12,
    "unit": 5,
    "kelly_fraction": 0.5,
    "rounds_per_hour": 100,
    "wong_out": False,
}
EXAMPLE_ANSWER = jost_engine.optimal_bets(
    [jost_engine.CountRow(**row) for row in EXAMPLE_TABLE], **EXAMPLE_LIMITS
)
REQUEST_EXAMPLES = [
    OpenApiExample(
        "From a job",
        value={"job": "3f1e2d4c-5b6a-4789-8abc-def012345678", "seat": 0, **EXAMPLE_LIMITS},
        request_only=True,
    ),
    OpenApiExample(
        "From a table, for a 5% risk",
        value={
            "table": EXAMPLE_TABLE,
            **EXAMPLE_LIMITS,
            "kelly_fraction": None,
            "risk_of_ruin": 0.05,
            "bankroll": 30000,
        },
        request_only=True,
    ),
    OpenApiExample("The ramp", value=EXAMPLE_ANSWER, response_only=True, status_codes=["200"]),
]


def _flat(errors: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """A serializer's nested errors as (JSON path, reason): table[2].flat_sd."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            at = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
            yield from _flat(value, at)
    elif isinstance(errors, list):
        if all(isinstance(e, (dict, list)) for e in errors):
            for i, value in enumerate(errors):
                if value:
                    yield from _flat(value, f"{path}[{i}]")
        else:
            for reason in errors:
                yield path or "(body)", str(reason)
    else:
        yield path or "(body)", str(errors)


def _rows(user: User, data: dict[str, Any]) -> list[jost_engine.CountRow]:
    has_job, has_table = data.get("job") is not None, data.get("table") is not None
    if has_job == has_table:
        raise invalid(INVALID_DETAIL, [("job", "give exactly one of job (with seat) and table")])
    if has_table:
        return [jost_engine.CountRow(**row) for row in data["table"]]
    job = selectors.jobs_for(user).filter(id=data["job"]).first()
    if job is None:
        raise Http404("No such job.")
    if job.status != JobStatus.COMPLETE or not job.result_data:
        raise invalid(
            INVALID_DETAIL, [("job", f"is {job.status}: only a COMPLETE job has a table")]
        )
    return jost_engine.per_count_rows(job.result_data, data["seat"])


class OptimalBetsView(APIView):
    """POST /api/optimal-bets/: the growth-maximising ramp for the caller's constraints,
    from one of the caller's counting jobs or from a table given inline."""

    @extend_schema(
        summary="Optimal bets from a counting run's true-count table",
        description=(
            "The Kelly bet at each true count (bankroll x kelly_fraction x edge / variance), "
            "or, for a target risk_of_ruin, the N0-minimising shape within the spread scaled "
            "so that the risk of ruin exp(-2 ev bankroll / var) meets the target; clipped to "
            "min_bet, max_bet and max_spread, rounded to the unit. With it the ramp's EV and "
            "SD per round and per hour, DI, SCORE, N0, risk of ruin and certainty "
            "equivalent, from the table, and the ramp as a betting_strategy to paste into a "
            "config. The job must be COMPLETE and its seat must have counted (a ramp, or "
            '"analysis": "per_count"). docs/RESULTS.md, "Optimal bets".'
        ),
        request=OptimalBetsRequestSerializer,
        examples=REQUEST_EXAMPLES,
        responses={
            200: OptimalBetsSerializer,
            400: OpenApiResponse(
                schema.InvalidSerializer,
                description="A bad field, named",
                examples=[
                    OpenApiExample(
                        "A spread under 1",
                        value={
                            "detail": INVALID_DETAIL,
                            "errors": [{"path": "max_spread", "reason": "must be 1..10000"}],
                        },
                    )
                ],
            ),
            404: schema.NOT_FOUND,
            **schema.COMMON,
        },
    )
    def post(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated
        body = OptimalBetsRequestSerializer(data=request.data)
        if not body.is_valid():
            raise invalid(INVALID_DETAIL, list(_flat(body.errors)))
        data = dict(body.validated_data)
        try:
            rows = _rows(user, data)
            answer = jost_engine.optimal_bets(
                rows,
                bankroll=data["bankroll"],
                min_bet=data["min_bet"],
                max_bet=data["max_bet"],
                max_spread=data["max_spread"],
                unit=data["unit"],
                kelly_fraction=data.get("kelly_fraction"),
                risk_of_ruin=data.get("risk_of_ruin"),
                rounds_per_hour=data["rounds_per_hour"],
                wong_out=data["wong_out"],
            )
        except jost_engine.ConfigError as exc:
            return Response(
                invalid_body(INVALID_DETAIL, exc.problems), status=status.HTTP_400_BAD_REQUEST
            )
        return Response(answer)
