"""The production URLs plus /bench/bare-json: the cheapest Django JSON answer the same
server can give, the baseline bench/service_status_rps.py measures /api/status/ against.
Only service.settings_bench loads this module."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from service.urls import urlpatterns as production_urlpatterns


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"job_id": "00000000-0000-0000-0000-000000000000", "status": "COMPLETE"})


urlpatterns = [path("bench/bare-json", bare_json), *production_urlpatterns]
