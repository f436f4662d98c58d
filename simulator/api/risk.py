"""POST /api/risk/: what a game's EV and SD per round mean for a bankroll and a trip
(jost_engine.risk; docs/RESULTS.md, "Risk"), from the numbers or from a completed job."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import jost_engine
from simulator import selectors
from simulator.api import schema
from simulator.api.errors import invalid, invalid_body
from simulator.api.throttles import ReadThrottle
from simulator.models import JobStatus, SimulationJob

DETAIL = "The risk request is invalid."
# The engine's money bound (docs/CONFIG.md, Bounds): a bankroll, a goal, an EV or an SD
# beyond it is no game the engine could have played.
MONEY_MAX = 1e12


class StrictFloatField(serializers.FloatField):
    """A JSON number only: DRF's FloatField would take "1.5" and true as numbers."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class RiskRequestSerializer(serializers.Serializer):
    ev_per_round = StrictFloatField(
        required=False,
        min_value=-MONEY_MAX,
        max_value=MONEY_MAX,
        help_text="EV per round in money (with sd_per_round; or give job and seat).",
    )
    sd_per_round = StrictFloatField(
        required=False,
        min_value=0,
        max_value=MONEY_MAX,
        help_text="SD per round in money, more than 0.",
    )
    job = serializers.UUIDField(
        required=False,
        help_text="One of the caller's COMPLETE jobs: its seat's EV and SD per round are used.",
    )
    seat = serializers.IntegerField(
        required=False, min_value=0, max_value=6, help_text="The player's seat in job (0)."
    )
    bankroll = StrictFloatField(
        min_value=0, max_value=MONEY_MAX, help_text="Money at the start, more than 0."
    )
    rounds = serializers.IntegerField(
        required=False, min_value=1, max_value=10**10, help_text="A trip of this many rounds."
    )
    hours = StrictFloatField(
        required=False,
        min_value=0,
        max_value=10**8,
        help_text="A trip of this many hours (not with rounds).",
    )
    goal = StrictFloatField(
        required=False,
        min_value=0,
        max_value=MONEY_MAX,
        help_text="A bankroll to reach before ruin, more than bankroll.",
    )
    rounds_per_hour = StrictFloatField(
        required=False,
        min_value=0,
        max_value=10_000,
        help_text="The pace for hours (default: the job's, or 100).",
    )


class BankrollForRiskSerializer(serializers.Serializer):
    risk_of_ruin = serializers.FloatField()
    bankroll = serializers.FloatField(allow_null=True, help_text="null when EV <= 0")


class RiskInputsSerializer(serializers.Serializer):
    ev_per_round = serializers.FloatField()
    sd_per_round = serializers.FloatField()
    bankroll = serializers.FloatField()
    rounds = serializers.FloatField(allow_null=True, help_text="the trip in rounds")
    goal = serializers.FloatField(allow_null=True)
    rounds_per_hour = serializers.FloatField()


def _probability(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, min_value=0, max_value=1, help_text=help_text)


class RiskSerializer(serializers.Serializer):
    risk_of_ruin = serializers.FloatField(help_text="ruin in play without end")
    trip_ruin = _probability("ruin within the trip; null without rounds or hours")
    goal_before_ruin = _probability("the goal reached before ruin; null without a goal")
    chance_of_loss = _probability("behind at the end of the trip; null without one")
    bankroll_for_risk = BankrollForRiskSerializer(many=True)
    n0 = serializers.FloatField(allow_null=True, help_text="rounds; null when EV = 0")
    n0_hours = serializers.FloatField(allow_null=True)
    hours_to_double = serializers.FloatField(allow_null=True, help_text="null when EV <= 0")
    certainty_equivalent = serializers.FloatField(help_text="money per round")
    inputs = RiskInputsSerializer(help_text="the figures the answer was computed from")


EXAMPLE_ANSWER = {
    "risk_of_ruin": 0.2204,
    "trip_ruin": 0.0027,
    "goal_before_ruin": 0.8194,
    "chance_of_loss": 0.3917,
    "bankroll_for_risk": [
        {"risk_of_ruin": 0.01, "bankroll": 304.5},
        {"risk_of_ruin": 0.05, "bankroll": 198.1},
        {"risk_of_ruin": 0.135, "bankroll": 132.4},
    ],
    "n0": 13225.0,
    "n0_hours": 132.25,
    "hours_to_double": 100.0,
    "certainty_equivalent": 0.0034,
    "inputs": {
        "ev_per_round": 0.01,
        "sd_per_round": 1.15,
        "bankroll": 100,
        "rounds": 1000,
        "goal": 200,
        "rounds_per_hour": 100,
    },
}


def _problems(errors: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, str(reason)) for name, reasons in errors.items() for reason in reasons]


def _seat_figures(job: SimulationJob, seat: int) -> tuple[float, float, float]:
    """The seat's EV and SD per round and its rounds an hour, from the job's results."""
    if job.status != JobStatus.COMPLETE:
        raise invalid(DETAIL, [("job", f"the job is {job.status}, not COMPLETE")])
    players = (job.result_data or {}).get("players") or []
    if seat >= len(players):
        raise invalid(DETAIL, [("seat", f"the job has {len(players)} seat(s), from 0")])
    player = players[seat]
    ev, sd = player.get("ev_per_round"), player.get("sd_per_round")
    if not isinstance(ev, int | float) or not isinstance(sd, int | float) or sd <= 0:
        reason = "the seat has no EV and SD per round (it played too few rounds to vary)"
        raise invalid(DETAIL, [("seat", reason)])
    pace = player.get("rounds_per_hour")
    return float(ev), float(sd), float(pace) if isinstance(pace, int | float) else 100.0


class RiskView(APIView):
    """POST /api/risk/: risk of ruin, trip ruin, goal before ruin, chance of loss, the
    bankroll for a risk, N0, hours to double and the certainty equivalent."""

    throttle_classes = [ReadThrottle]

    @extend_schema(
        summary="Risk and bankroll for a game's EV and SD, or a completed job's seat",
        request=RiskRequestSerializer,
        examples=[
            OpenApiExample(
                "From EV and SD",
                value={
                    "ev_per_round": 0.01,
                    "sd_per_round": 1.15,
                    "bankroll": 100,
                    "rounds": 1000,
                    "goal": 200,
                },
                request_only=True,
            ),
            OpenApiExample(
                "From a job",
                value={
                    "job": "3f1e2d4c-5b6a-4789-8abc-def012345678",
                    "seat": 0,
                    "bankroll": 10000,
                    "hours": 100,
                },
                request_only=True,
            ),
            OpenApiExample("The answer", value=EXAMPLE_ANSWER, response_only=True),
        ],
        responses={
            200: RiskSerializer,
            400: OpenApiResponse(
                schema.InvalidSerializer,
                description="A bad field, with its path and why",
                examples=[
                    OpenApiExample(
                        "A bankroll of 0",
                        value={
                            "detail": DETAIL,
                            "errors": [
                                {
                                    "path": "bankroll",
                                    "reason": "must be more than 0, got 0.0",
                                }
                            ],
                        },
                    )
                ],
            ),
            404: schema.NOT_FOUND,
            **schema.COMMON,
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise invalid(DETAIL, [("(body)", "must be a JSON object")])
        query = RiskRequestSerializer(data=request.data)
        if not query.is_valid():
            raise invalid(DETAIL, _problems(query.errors))
        data = query.validated_data
        by_numbers = "ev_per_round" in data or "sd_per_round" in data
        if "job" in data:
            if by_numbers:
                reason = "give job and seat, or ev_per_round and sd_per_round, not both"
                raise invalid(DETAIL, [("job", reason)])
            user = request.user
            assert isinstance(user, User)  # every view requires authentication
            job = selectors.job_for(user, data["job"])
            if job is None:
                return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
            ev, sd, pace = _seat_figures(job, data.get("seat", 0))
        else:
            for field in ("ev_per_round", "sd_per_round"):
                if field not in data:
                    reason = "required, or give job and seat"
                    raise invalid(DETAIL, [(field, reason)])
            if "seat" in data:
                raise invalid(DETAIL, [("seat", "only with job")])
            ev, sd, pace = data["ev_per_round"], data["sd_per_round"], 100.0
        pace = data.get("rounds_per_hour", pace)
        try:
            report = jost_engine.risk_report(
                ev_per_round=ev,
                sd_per_round=sd,
                bankroll=data["bankroll"],
                rounds=data.get("rounds"),
                hours=data.get("hours"),
                goal=data.get("goal"),
                rounds_per_hour=pace,
            )
        except jost_engine.ConfigError as exc:
            return Response(invalid_body(DETAIL, exc.problems), status=status.HTTP_400_BAD_REQUEST)
        hours = data.get("hours")
        report["inputs"] = {
            "ev_per_round": ev,
            "sd_per_round": sd,
            "bankroll": data["bankroll"],
            "rounds": data.get("rounds", None if hours is None else hours * pace),
            "goal": data.get("goal"),
            "rounds_per_hour": pace,
        }
        return Response(report)
