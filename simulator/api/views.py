"""Thin views: parse, call a service or a selector, answer."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import jost_engine
from simulator import selectors, services
from simulator.api.serializers import (
    JobDetailSerializer,
    JobListSerializer,
    JobResultSerializer,
    JobStatusSerializer,
    config_errors,
)
from simulator.models import SimulationJob


def _own_job(request: Request, job_id: UUID) -> SimulationJob:
    job = selectors.job_for(request.user, job_id)
    if job is None:
        raise Http404("No such job.")
    return job


class SubmitView(APIView):
    """POST /api/submit/ with a simulation config as the body."""

    # A config is a JSON document; a form post would arrive as flat strings.
    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        try:
            job = services.submit_job(request.user, request.data)
        except jost_engine.ConfigError as exc:
            return Response(config_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"message": "Simulation job accepted.", "job_id": str(job.id)},
            status=status.HTTP_202_ACCEPTED,
        )


class ValidateView(APIView):
    """POST /api/validate/ with a config: 200 with the config as the engine will run it
    (normalised: every profile resolved, every default filled in), or the 400 that
    /api/submit/ would answer. Nothing is stored."""

    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        try:
            normalized = jost_engine.normalize_config(request.data)
        except jost_engine.ConfigError as exc:
            return Response(config_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(jost_engine.config_to_dict(normalized))


class CancelView(APIView):
    """POST /api/jobs/<id>/cancel/: the owner's PENDING or RUNNING job becomes CANCELLED
    (200 with its status); a finished job is a 409 saying why."""

    def post(self, request: Request, job_id: UUID) -> Response:
        try:
            job = services.cancel_job(request.user, job_id)
        except services.JobNotCancellable as exc:
            return Response(
                {"detail": str(exc), "status": exc.job.status}, status=status.HTTP_409_CONFLICT
            )
        if job is None:
            raise Http404("No such job.")
        return Response(JobStatusSerializer(job).data)


class DefaultsView(APIView):
    """GET /api/defaults/: every profile the engine ships, by kind and name, so a client
    can offer them (and submit them by name) without copies of its own."""

    def get(self, request: Request) -> Response:
        return Response(jost_engine.defaults())


class StatusView(APIView):
    def get(self, request: Request, job_id: UUID) -> Response:
        return Response(JobStatusSerializer(_own_job(request, job_id)).data)


class ResultsView(APIView):
    def get(self, request: Request, job_id: UUID) -> Response:
        return Response(JobResultSerializer(_own_job(request, job_id)).data)


class JobListView(generics.ListAPIView):
    serializer_class = JobListSerializer

    def get_queryset(self):
        return selectors.jobs_for(self.request.user)


class JobDetailView(generics.RetrieveAPIView):
    serializer_class = JobDetailSerializer
    lookup_url_kwarg = "job_id"

    def get_object(self) -> SimulationJob:
        return _own_job(self.request, self.kwargs["job_id"])
