"""Thin views: parse, call a service or a selector, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ParseError, UnsupportedMediaType, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

import jost_engine
from simulator import password_guard, profiles, selectors
from simulator.api import schema
from simulator.api.authentication import (
    NOT_READ,
    TokenWithJobAuthentication,
    job_read_with_token,
)
from simulator.api.errors import QuotaExceeded, invalid, invalid_body
from simulator.api.parsers import StrictJSONParser
from simulator.api.serializers import (
    JobDetailSerializer,
    JobFilterSerializer,
    JobListSerializer,
    JobResultSerializer,
    JobStatusSerializer,
    ProfileFilterSerializer,
    ProfileSerializer,
    config_errors,
)
from simulator.api.throttles import ReadThrottle, SubmitThrottle
from simulator.inputs import json_problems
from simulator.models import SimulationJob
from simulator.services import jobs, submit, tokens


def _caller(request: Request) -> User:
    # Every view here requires authentication (DEFAULT_PERMISSION_CLASSES).
    user = request.user
    assert isinstance(user, User)
    return user


def _own_job(request: Request, job_id: UUID) -> SimulationJob:
    job = selectors.job_for(_caller(request), job_id)
    if job is None:
        raise Http404("No such job.")
    return job


def _valid_query(query: serializers.Serializer) -> dict[str, Any]:
    """A list's query parameters, checked: a bad one is a 400 in the API's one error shape
    (detail, then each problem with its path and reason), as for a bad body."""
    if not query.is_valid():
        problems = [(name, str(r)) for name, reasons in query.errors.items() for r in reasons]
        raise invalid("The query is invalid.", problems)
    return dict(query.validated_data)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all(33 <= ord(c) <= 126 for c in key):
        reason = "1 to 255 printable ASCII characters without spaces"
        raise invalid("The Idempotency-Key header is invalid.", [("Idempotency-Key", reason)])
    return key


Answer = Callable[[SimulationJob], tuple[int, dict[str, Any]]]
Submit = Callable[[User, Any], SimulationJob]


def _submit(
    request: Request,
    endpoint: str,
    answer: Answer,
    store: Submit = submit.submit_job,
    errors: Callable[[jost_engine.ConfigError], dict[str, Any]] = config_errors,
) -> Response:
    """A submit through any endpoint (`store` makes the job): the job, or its first answer
    again for a repeated Idempotency-Key; every refusal as its JSON error."""
    key = _idempotency_key(request)
    try:
        if key is None:
            job = store(_caller(request), request.data)
            code, body = answer(job)
        else:
            first = submit.submit_job_once(
                _caller(request),
                request.data,
                key=key,
                endpoint=endpoint,
                answer=answer,
                submit=store,
            )
            job, code, body = first.job, first.status, first.body
    except jost_engine.ConfigError as exc:
        return Response(errors(exc), status=status.HTTP_400_BAD_REQUEST)
    except submit.QuotaExceeded as exc:
        raise QuotaExceeded(str(exc)) from None
    except submit.IdempotencyKeyReused as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = Response(body, status=code)
    if code == status.HTTP_201_CREATED:
        response["Location"] = reverse("api-job-detail", args=[job.id])
    return response


def _accepted(job: SimulationJob) -> tuple[int, dict[str, Any]]:
    return status.HTTP_202_ACCEPTED, {"message": "Simulation job accepted.", "job_id": str(job.id)}


def _created(job: SimulationJob) -> tuple[int, dict[str, Any]]:
    return status.HTTP_201_CREATED, dict(JobDetailSerializer(job).data)


SUBMIT_ERRORS = {
    400: schema.INVALID,
    **schema.COMMON,
    422: schema.KEY_REUSED,
}


class SubmitView(APIView):
    """POST /api/submit/ with a simulation config as the body."""

    throttle_classes = [SubmitThrottle]

    @extend_schema(
        summary="Submit a simulation job (JOST's contract)",
        request={"application/json": schema.CONFIG_SCHEMA},
        examples=schema.CONFIG_EXAMPLES,
        parameters=[schema.IDEMPOTENCY_KEY],
        responses={202: schema.AcceptedSerializer, **SUBMIT_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return _submit(request, "submit", _accepted)


def _index_accepted(job: SimulationJob) -> tuple[int, dict[str, Any]]:
    return status.HTTP_202_ACCEPTED, {"job_id": str(job.id)}


def _index_errors(exc: jost_engine.ConfigError) -> dict[str, Any]:
    return invalid_body("The index request is invalid.", exc.problems or [("", str(exc))])


class IndicesView(APIView):
    """POST /api/indices/ with an index request: an index job, split into shards over
    every worker like any split job; its status, cancel and results at the usual places."""

    throttle_classes = [SubmitThrottle]

    @extend_schema(
        summary="Generate index numbers for a game and a count (an index job)",
        request={"application/json": schema.INDEX_REQUEST_SCHEMA},
        examples=[
            schema.OpenApiExample(
                "Illustrious 18 and Fab 4, 6 decks S17 DAS LS, Hi-Lo",
                value=schema.INDEX_REQUEST_EXAMPLE,
                request_only=True,
            ),
            schema.OpenApiExample(
                "Accepted",
                value={"job_id": "3f1e2d4c-5b6a-4789-8abc-def012345678"},
                response_only=True,
                status_codes=["202"],
            ),
        ],
        parameters=[schema.IDEMPOTENCY_KEY],
        responses={
            202: OpenApiResponse(
                schema.IndexAcceptedSerializer,
                description=(
                    "The index job: poll /api/status/<job_id>/ (progress in shoes), then "
                    "/api/results/<job_id>/ for the result document"
                ),
            ),
            400: OpenApiResponse(
                schema.InvalidSerializer,
                description="The request is invalid: every bad field with its path and why",
                examples=[
                    schema.OpenApiExample(
                        "Surrender where the casino has none",
                        value={
                            "detail": "The index request is invalid.",
                            "errors": [
                                {
                                    "path": "plays[1].actions[1]",
                                    "reason": "this casino does not offer surrender (preset fab4)",
                                }
                            ],
                        },
                    )
                ],
            ),
            **schema.COMMON,
            422: schema.KEY_REUSED,
        },
    )
    def post(self, request: Request) -> Response:
        return _submit(request, "indices", _index_accepted, submit.submit_index_job, _index_errors)


class ValidateView(APIView):
    """POST /api/validate/ with a config: 200 with the config as the engine will run it
    (normalised: every profile resolved, every default filled in), or the 400 that
    /api/submit/ would answer. Nothing is stored."""

    @extend_schema(
        summary="Validate a config without storing it",
        request={"application/json": schema.CONFIG_SCHEMA},
        examples=schema.CONFIG_EXAMPLES,
        responses={
            200: OpenApiResponse(
                {"type": "object", "additionalProperties": True},
                description="The config as the engine will run it",
            ),
            400: schema.INVALID,
            **schema.COMMON,
        },
    )
    def post(self, request: Request) -> Response:
        try:
            # The submit's own checks: the same answer /api/submit/ would give, profiles
            # resolved against the caller's own.
            normalized = submit.validate_config(_caller(request), request.data)
        except jost_engine.ConfigError as exc:
            return Response(config_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(jost_engine.config_to_dict(normalized))


class CancelView(APIView):
    """POST /api/jobs/<id>/cancel/: the owner's PENDING or RUNNING job becomes CANCELLED
    (200 with its status); a finished job is a 409 saying why."""

    @extend_schema(
        summary="Cancel a PENDING or RUNNING job",
        request=None,
        responses={
            200: schema.StatusSerializer,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            409: OpenApiResponse(
                {
                    "type": "object",
                    "properties": {"detail": {"type": "string"}, "status": {"type": "string"}},
                },
                description="The job has finished already",
            ),
            429: schema.THROTTLED,
        },
    )
    def post(self, request: Request, job_id: UUID) -> Response:
        try:
            job = jobs.cancel_job(_caller(request), job_id)
        except jobs.JobNotCancellable as exc:
            return Response(
                {"detail": str(exc), "status": exc.job.status}, status=status.HTTP_409_CONFLICT
            )
        if job is None:
            raise Http404("No such job.")
        return Response(JobStatusSerializer(job).data)


class DefaultsView(APIView):
    """GET /api/defaults/: every profile the engine ships, by kind and name, so a client
    can offer them (and submit them by name) without copies of its own."""

    @extend_schema(
        summary="Every profile the engine ships",
        responses={
            200: OpenApiResponse(
                {
                    "type": "object",
                    "description": "folder (casinos, players, ...) -> name -> profile",
                    "additionalProperties": {"type": "object", "additionalProperties": True},
                },
                description="Every shipped profile by kind and name",
            ),
            401: schema.UNAUTHORIZED,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(jost_engine.defaults())


class EngineView(APIView):
    """GET /api/engine/: what the engine supports and the limits in force."""

    @extend_schema(
        summary="Engine version, rules, counting systems, options and limits",
        responses={200: schema.EngineSerializer, 401: schema.UNAUTHORIZED, 429: schema.THROTTLED},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.engine_info())


class StatusView(APIView):
    # Clients poll this: a token request reads its job in the token's own query.
    authentication_classes = [TokenWithJobAuthentication, SessionAuthentication]

    @extend_schema(
        summary="A job's status and progress (JOST's contract)",
        responses={
            200: schema.StatusSerializer,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request, job_id: UUID) -> Response:
        job = job_read_with_token(request)
        if job is NOT_READ:
            job = _own_job(request, job_id)
        elif job is None:
            raise Http404("No such job.")
        return Response(JobStatusSerializer(job).data)


class ResultsView(APIView):
    @extend_schema(
        summary="A job's results, null until COMPLETE (JOST's contract)",
        examples=[
            schema.OpenApiExample(
                "An index job's results (three plays, each curve cut short)",
                value={
                    "job_id": "3f1e2d4c-5b6a-4789-8abc-def012345678",
                    "status": "COMPLETE",
                    "results": schema.INDEX_RESULTS_EXAMPLE,
                    "error": None,
                },
                response_only=True,
            )
        ],
        responses={
            200: schema.ResultSerializer,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request, job_id: UUID) -> Response:
        return Response(JobResultSerializer(_own_job(request, job_id)).data)


class JobListView(generics.ListAPIView):
    """GET /api/jobs/: the caller's jobs, newest first, filtered and paginated.
    POST /api/jobs/: submit a job like /api/submit/, answered 201 with the job."""

    serializer_class = JobListSerializer

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method == "POST":
            return [SubmitThrottle()]
        return [ReadThrottle()]

    def get_queryset(self) -> Any:
        query = _valid_query(JobFilterSerializer(data=self.request.query_params))
        return selectors.job_list_for(_caller(self.request), **query)

    @extend_schema(
        summary="The caller's jobs, newest first",
        parameters=[JobFilterSerializer],
        responses={200: JobListSerializer(many=True), **schema.LIST_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Submit a simulation job",
        request={"application/json": schema.CONFIG_SCHEMA},
        examples=schema.CONFIG_EXAMPLES,
        parameters=[schema.IDEMPOTENCY_KEY],
        responses={201: JobDetailSerializer, **SUBMIT_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return _submit(request, "jobs", _created)


class JobDetailView(generics.RetrieveAPIView):
    serializer_class = JobDetailSerializer
    lookup_url_kwarg = "job_id"

    def get_object(self) -> SimulationJob:
        return _own_job(self.request, self.kwargs["job_id"])

    @extend_schema(
        summary="Everything about one job",
        responses={
            200: JobDetailSerializer,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Profiles -------------------------------------------------------------------------------

PROFILE_FIELDS = {"profile_type", "name", "data"}
# What a client read and sends back unchanged: accepted and ignored.
PROFILE_READ_ONLY = {"id", "created_at", "updated_at"}
PROFILE_WRITE = {
    "type": "object",
    "properties": {
        "profile_type": {
            "type": "string",
            "enum": ["casino", "player", "playing_strategy", "betting_strategy", "counting_system"],
        },
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "data": {
            "type": "object",
            "additionalProperties": True,
            "description": "The profile, as a config would carry it inline (see /api/defaults/)",
        },
    },
    "required": ["profile_type", "name", "data"],
}
PROFILE_EXAMPLES = [
    schema.OpenApiExample(
        "A casino",
        value={
            "profile_type": "casino",
            "name": "my 6-deck h17",
            "data": {"parent": "master_casino", "hit_on_soft_17": True},
        },
    )
]
PROFILE_INVALID = OpenApiResponse(
    schema.InvalidSerializer,
    description="Every bad field; a duplicate type and name is a problem of `name`",
    examples=[
        schema.OpenApiExample(
            "Bad data",
            value={
                "detail": "The profile is invalid.",
                "errors": [{"path": "data.deck_count", "reason": "must be 1..8, got 12"}],
            },
        )
    ],
)


def _profile_changes(request: Request, *, partial: bool) -> dict[str, Any]:
    body = request.data
    if not isinstance(body, dict):
        raise _invalid([("(body)", "expected a JSON object")])
    unknown = set(body) - PROFILE_FIELDS - PROFILE_READ_ONLY
    missing = set() if partial else PROFILE_FIELDS - set(body)
    problems = [(name, "unknown field") for name in sorted(unknown)]
    problems += [(name, "required") for name in sorted(missing)]
    if problems:
        raise _invalid(problems)
    return {name: body[name] for name in PROFILE_FIELDS if name in body}


def _invalid(problems: list[tuple[str, str]]) -> ValidationError:
    return invalid("The profile is invalid.", problems)


class ProfileListView(generics.ListAPIView):
    """GET /api/profiles/ (filter by profile_type), POST /api/profiles/."""

    serializer_class = ProfileSerializer

    def get_queryset(self) -> Any:
        query = _valid_query(ProfileFilterSerializer(data=self.request.query_params))
        return selectors.profiles_for(_caller(self.request), query.get("profile_type"))

    @extend_schema(
        summary="The caller's saved profiles",
        parameters=[ProfileFilterSerializer],
        responses={200: ProfileSerializer(many=True), **schema.LIST_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Save a profile",
        request={"application/json": PROFILE_WRITE},
        examples=PROFILE_EXAMPLES,
        responses={201: ProfileSerializer, 400: PROFILE_INVALID, **schema.COMMON},
    )
    def post(self, request: Request) -> Response:
        changes = _profile_changes(request, partial=False)
        try:
            profile = profiles.create_profile(
                _caller(request), changes["profile_type"], changes["name"], changes["data"]
            )
        except profiles.ProfileInvalid as exc:
            raise _invalid(exc.problems) from None
        return Response(
            ProfileSerializer(profile).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-profile-detail", args=[profile.id])},
        )


class ProfileDetailView(APIView):
    """GET, PUT, PATCH, DELETE /api/profiles/<id>/ for the caller's own profile."""

    def _own(self, request: Request, profile_id: int) -> Any:
        profile = selectors.profile_for(_caller(request), profile_id)
        if profile is None:
            raise Http404("No such profile.")
        return profile

    @extend_schema(
        summary="One saved profile",
        responses={
            200: ProfileSerializer,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def get(self, request: Request, profile_id: int) -> Response:
        return Response(ProfileSerializer(self._own(request, profile_id)).data)

    def _update(self, request: Request, profile_id: int, *, partial: bool) -> Response:
        profile = self._own(request, profile_id)
        changes = _profile_changes(request, partial=partial)
        try:
            profile = profiles.update_profile(profile, changes)
        except profiles.ProfileInvalid as exc:
            raise _invalid(exc.problems) from None
        return Response(ProfileSerializer(profile).data)

    @extend_schema(
        summary="Replace a profile (jobs already submitted keep what they resolved)",
        request={"application/json": PROFILE_WRITE},
        examples=PROFILE_EXAMPLES,
        responses={
            200: ProfileSerializer,
            400: PROFILE_INVALID,
            404: schema.NOT_FOUND,
            **schema.COMMON,
        },
    )
    def put(self, request: Request, profile_id: int) -> Response:
        return self._update(request, profile_id, partial=False)

    @extend_schema(
        summary="Change some fields of a profile",
        request={"application/json": {**PROFILE_WRITE, "required": []}},
        responses={
            200: ProfileSerializer,
            400: PROFILE_INVALID,
            404: schema.NOT_FOUND,
            **schema.COMMON,
        },
    )
    def patch(self, request: Request, profile_id: int) -> Response:
        return self._update(request, profile_id, partial=True)

    @extend_schema(
        summary="Delete a profile",
        responses={
            204: OpenApiResponse(description="Deleted"),
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            429: schema.THROTTLED,
        },
    )
    def delete(self, request: Request, profile_id: int) -> Response:
        profiles.delete_profile(self._own(request, profile_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Token ------------------------------------------------------------------------------------


class TokenView(ObtainAuthToken):
    """POST /api/token/: the user's token for a username and password. The password is
    checked by simulator.password_guard, which counts failures per client address and per
    username: past either limit every attempt is a 429, refused before any password is
    hashed."""

    # ObtainAuthToken's own list has DRF's plain JSONParser, to which a deeply nested body
    # is a RecursionError (a 500); the form parsers stay for clients that post a form.
    parser_classes = [StrictJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Obtain the API token",
        request=schema.TokenRequestSerializer,
        responses={
            200: schema.TokenSerializer,
            400: OpenApiResponse(
                {"type": "object", "additionalProperties": True},
                description="Wrong or missing username or password, by field",
            ),
            413: schema.TOO_LARGE,
            429: schema.THROTTLED,
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            data = request.data
        except (ParseError, UnsupportedMediaType):
            # Counted like a wrong password from this address (no username is known): a
            # body no parser reads must not be a free attempt beside the limit.
            password_guard.reserve(request, None)
            raise
        # A lone surrogate or a NUL cannot be hashed or looked up: refused unchecked.
        problems = json_problems(dict(data.items()) if hasattr(data, "items") else data)
        serializer = self.get_serializer(data=data)
        if problems or not serializer.is_valid():
            errors = serializer.errors if not problems else {"detail": "Unable to log in."}
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        token = tokens.token_for(serializer.validated_data["user"])
        password_guard.login_succeeded(request)
        return Response({"token": token})
