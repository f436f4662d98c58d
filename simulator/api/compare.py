"""GET /api/compare/?jobs=<id>,<id>,...: 2 to 6 of the caller's COMPLETE jobs side by
side (jost_engine.compare), as JSON or, with ?format=csv or Accept: text/csv, as CSV."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import jost_engine
from simulator import comparisons, selectors
from simulator.api import schema
from simulator.api.errors import invalid
from simulator.api.parsers import SafeJSONRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return jost_engine.comparison_csv(data).encode("utf-8")


FIRST = "3f1e2a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
SECOND = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
EV_ROW = {
    "metric": "ev_per_unit",
    "label": "EV per unit",
    "unit": "units",
    "values": [-0.00412, -0.00618],
    "standard_errors": [0.00115, 0.00116],
    "differences": [
        None,
        {"difference": -0.00206, "standard_error": 0.001633, "z": -1.261},
    ],
}
EXAMPLE = {
    "jobs": [{"job_id": FIRST, "name": "6 decks S17"}, {"job_id": SECOND, "name": "6 decks H17"}],
    "runs": [{"label": FIRST}, {"label": SECOND}],
    "metrics": [{"key": "ev_per_unit", "label": "EV per unit", "unit": "units"}],
    "seats": [{"seat": 0, "names": ["master_player", "master_player"], "rows": [EV_ROW]}],
    "config_differences": [
        {
            "path": "casino.hit_on_soft_17",
            "values": [False, True],
            "present": [True, True],
            "text": "casino.hit_on_soft_17: false vs true",
        },
        {
            "path": "seed",
            "values": [1, 2],
            "present": [True, True],
            "text": "seed: 1 vs 2",
        },
    ],
}
CSV_EXAMPLE = (
    f"seat,player,metric,{FIRST},{SECOND},{SECOND} - {FIRST},SE ({SECOND}),z ({SECOND})\r\n"
    "0,master_player,ev_per_unit,-0.00412,-0.00618,-0.00206,0.001633,-1.261\r\n"
)
ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "metric": {"type": "string", "description": "the results field (docs/RESULTS.md)"},
        "label": {"type": "string"},
        "unit": {"type": "string"},
        "values": {
            "type": "array",
            "items": {"type": ["number", "null"]},
            "description": "one per job, in the order asked; null where the seat has none",
        },
        "standard_errors": {
            "type": "array",
            "items": {"type": ["number", "null"]},
            "description": "SD / sqrt(rounds) for a mean (the edge's: the EV's over the "
            "average wagered per round); null for SD, DI, SCORE, N0, risk of ruin",
        },
        "differences": {
            "type": "array",
            "description": "null for the first job; for each later one its value less the "
            "first's, the SE sqrt(se1^2 + se2^2) and z = difference / SE",
            "items": {
                "type": ["object", "null"],
                "properties": {
                    "difference": {"type": "number"},
                    "standard_error": {"type": ["number", "null"]},
                    "z": {"type": ["number", "null"]},
                },
            },
        },
    },
}
COMPARISON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "jobs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"job_id": {"type": "string"}, "name": {"type": "string"}},
            },
        },
        "runs": {"type": "array", "items": {"type": "object"}, "description": "the CSV labels"},
        "metrics": {"type": "array", "items": {"type": "object"}},
        "seats": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "seat": {"type": "integer"},
                    "names": {"type": "array", "items": {"type": ["string", "null"]}},
                    "rows": {"type": "array", "items": ROW_SCHEMA},
                },
            },
        },
        "config_differences": {
            "type": "array",
            "description": "every leaf of the normalised configs where the jobs differ, "
            "by JSON path",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "values": {"type": "array", "items": {}},
                    "present": {"type": "array", "items": {"type": "boolean"}},
                    "text": {"type": "string"},
                },
            },
        },
    },
}
JOBS = OpenApiParameter(
    "jobs",
    str,
    OpenApiParameter.QUERY,
    required=True,
    description="2 to 6 ids of the caller's COMPLETE jobs, separated by commas; the first "
    "is the one the others are compared with",
    examples=[OpenApiExample("Two jobs", value=f"{FIRST},{SECOND}")],
)
FORMAT = OpenApiParameter(
    "format",
    str,
    OpenApiParameter.QUERY,
    required=False,
    enum=["json", "csv"],
    description="csv for the table as CSV (as does Accept: text/csv)",
)
INVALID_JOBS = OpenApiResponse(
    schema.InvalidSerializer,
    description="`jobs` is missing, names fewer than 2 or more than 6 jobs, a malformed "
    "or repeated id, or a job that is not COMPLETE",
    examples=[
        OpenApiExample(
            "A job still running",
            value={
                "detail": "These jobs cannot be compared.",
                "errors": [{"path": "jobs", "reason": f"job {SECOND} is RUNNING, not COMPLETE"}],
            },
        ),
        OpenApiExample(
            "One job",
            value={
                "detail": "These jobs cannot be compared.",
                "errors": [{"path": "jobs", "reason": "2 to 6 jobs, not 1"}],
            },
        ),
    ],
)


class CompareView(APIView):
    """The caller's jobs side by side, per seat, each later job's difference from the
    first with its standard error and z, and where their configs differ."""

    renderer_classes = [SafeJSONRenderer, CSVRenderer, BrowsableAPIRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # An error is JSON whatever format was asked for: a CSV renderer has no table to
        # write for a 400 or a 404.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = SafeJSONRenderer()
        self.request.accepted_media_type = SafeJSONRenderer.media_type
        return response

    @extend_schema(
        summary="Compare 2 to 6 of the caller's complete jobs",
        parameters=[JOBS, FORMAT],
        responses={
            (200, "application/json"): OpenApiResponse(
                COMPARISON_SCHEMA,
                description="The jobs side by side",
                examples=[OpenApiExample("S17 against H17", value=EXAMPLE)],
            ),
            (200, "text/csv"): OpenApiResponse(
                {"type": "string"},
                description="The table as CSV: seat, player, metric, each job's value, then "
                "for every later job its difference, SE and z",
                examples=[OpenApiExample("S17 against H17", value=CSV_EXAMPLE)],
            ),
            400: INVALID_JOBS,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)  # every API view requires authentication
        try:
            ids = comparisons.parse_job_ids(request.query_params.getlist("jobs"))
            jobs = comparisons.jobs_to_compare(ids, lambda job_id: selectors.job_for(user, job_id))
            if jobs is None:
                raise Http404("No such job.")
            body = comparisons.compare_jobs(jobs, [str(job.id) for job in jobs])
        except comparisons.ComparisonInvalid as exc:
            raise invalid("These jobs cannot be compared.", exc.problems) from None
        body = {"jobs": [{"job_id": str(job.id), "name": job.name} for job in jobs], **body}
        response = Response(body)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = 'attachment; filename="jost-comparison.csv"'
        return response
