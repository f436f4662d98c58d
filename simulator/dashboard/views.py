"""The developer dashboard: thin views over the same services and selectors as the API.

Every page needs a staff user; anyone else is sent to the dashboard's login page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import jost_engine
from simulator import selectors
from simulator.api.serializers import JobStatusSerializer, config_errors, progress_of
from simulator.dashboard import charts, indices, present, runner, shards
from simulator.models import FINISHED, JobStatus, SimulationJob
from simulator.services import jobs, submit

View = Callable[..., HttpResponse]
staff_required: Callable[[View], View] = staff_member_required(login_url="dashboard:login")
HISTORY_PAGE_SIZE = 25


def _staff(request: HttpRequest) -> User:
    """The signed-in staff user (staff_required let the request in) as the user object
    itself, not request.user's lazy proxy: the services lock and query by its class."""
    user = get_user(request)
    assert isinstance(user, User)
    return user


def _job_or_404(job_id: UUID) -> SimulationJob:
    job = selectors.any_job(job_id)
    if job is None:
        raise Http404("No such job.")
    return job


@staff_required
@require_http_methods(["GET", "POST"])
def runner_page(request: HttpRequest) -> HttpResponse:
    """GET: the master simulation in the editor. POST (the form without JavaScript, or
    Insert with it): validate, submit, or insert a profile into the text sent."""
    context: dict[str, Any] = {"config_text": runner.master_text(), "seat": 1}
    if request.method == "POST":
        context.update(_run_action(request))
        if "redirect" in context:
            return redirect(context["redirect"])
    context["profile_choices"] = runner.profile_choices()
    context["master_config"] = runner.master_config()
    context["recent_jobs"] = selectors.jobs_for(_staff(request)).only(
        "id", "kind", "status", "rounds_total", "created_at"
    )[:5]
    return render(request, "dashboard/runner.html", context)


def _run_action(request: HttpRequest) -> dict[str, Any]:
    text = request.POST.get("config", "")
    action = request.POST.get("action", "")
    try:
        seat = int(request.POST.get("seat") or 1)
    except ValueError:
        seat = 1
    out: dict[str, Any] = {"config_text": text, "seat": seat, "action": action}
    config, syntax = runner.parse(text)
    if syntax is not None:
        out["syntax_error"] = syntax
        return out
    if action == "insert":
        try:
            out["config_text"] = runner.pretty(
                runner.insert_profile(config, request.POST.get("profile", ""), seat)
            )
        except ValueError as exc:
            out["action_error"] = str(exc)
        return out
    user = _staff(request)
    try:
        if action == "submit":
            job = submit.submit_job(user, config)
            messages.success(request, "Job submitted.")
            out["redirect"] = reverse("dashboard:job", args=[job.id])
        else:
            # The same check as POST /api/validate/ and as submit.
            normalized = submit.validate_config(user, config)
            out["normalized_text"] = runner.pretty(jost_engine.config_to_dict(normalized))
    except jost_engine.ConfigError as exc:
        out["config_errors"] = config_errors(exc)["errors"]
    except submit.QuotaExceeded as exc:
        out["action_error"] = str(exc)
    return out


@staff_required
@require_GET
def job_page(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job_or_404(job_id)
    if indices.is_index_job(job):
        return _index_job_page(request, job)
    progress = progress_of(job)
    results = job.result_data if job.status == JobStatus.COMPLETE else None
    context: dict[str, Any] = {
        "job": job,
        "progress": progress,
        "progress_text": present.progress_text(progress),
        "finished": job.status in FINISHED,
        "duration": present.format_duration(present.duration(job)),
        "sent_text": runner.pretty(job.request_data),
        "normalized_text": _normalized_text(job, results),
        "results": results,
        **shards.context(job, "rounds"),
    }
    if results:
        players = results.get("players") or []
        counting = present.is_counting(results)
        context.update(
            {
                "rounds_played_text": (
                    f"{results.get('rounds_played', 0):,} of {results.get('rounds_asked', 0):,}"
                ),
                "counting": counting,
                "summaries": [
                    (p.get("name"), present.player_summary(p, counting)) for p in players
                ],
                "player_names": [p.get("name") for p in players],
                "frequency_rows": present.frequency_rows(players),
                "risk_panels": [present.risk_panel(p) for p in players],
                "true_count_tables": [
                    (i, p.get("name"), present.true_count_rows(p))
                    for i, p in enumerate(players)
                    if counting and p.get("true_count_table")
                ],
                "bankroll_chart": charts.bankroll_chart(players),
                "ev_chart": charts.ev_by_count_chart(players),
            }
        )
    return render(request, "dashboard/job.html", context)


def _index_job_page(request: HttpRequest, job: SimulationJob) -> HttpResponse:
    """An index generator job: its request, and once COMPLETE each play's index and curve
    and the deviations list to copy. Its progress counts shoes, not rounds."""
    progress = progress_of(job)
    result = job.result_data if job.status == JobStatus.COMPLETE else None
    normalized, normalized_text = indices.normalized_request(job)
    context: dict[str, Any] = {
        "job": job,
        "progress": progress,
        "progress_text": present.progress_text(progress, unit="shoes"),
        "unit": "shoes",
        "finished": job.status in FINISHED,
        "duration": present.format_duration(present.duration(job)),
        "facts": indices.request_facts(job, normalized),
        "sent_text": runner.pretty(job.request_data),
        "normalized_text": normalized_text,
        "result": result if isinstance(result, dict) else None,
        **shards.context(job, "shoes"),
    }
    if context["result"] is not None:
        result = context["result"]
        deviations = result.get("deviations")
        deviations = deviations if isinstance(deviations, list) else []
        risk_averse = result.get("risk_averse_deviations")
        context.update(
            {
                "plays": indices.play_rows(result),
                "columns": indices.optional_columns(result),
                "deviations_text": indices.deviations_text(deviations),
                "deviations_count": len(deviations),
                # One line a deviation, up to the Illustrious 18 and Fab 4; then it scrolls.
                "deviations_rows": min(2 + len(deviations), 24),
                "risk_averse_text": (
                    indices.deviations_text(risk_averse) if isinstance(risk_averse, list) else None
                ),
                "gain_ramp_text": (
                    indices.pretty(result["gain_ramp"]) if result.get("gain_ramp") else None
                ),
            }
        )
    return render(request, "dashboard/index_job.html", context)


@staff_required
@require_GET
def job_deviations(request: HttpRequest, job_id: UUID) -> JsonResponse:
    """A finished index job's deviations list as a download, the list exactly as the result
    holds it: what a playing strategy's `deviations` takes unchanged. ?list=risk_averse
    gives the risk-averse list when the result has one."""
    job = _job_or_404(job_id)
    which = request.GET.get("list", "")
    found = indices.deviations(job, which)
    if found is None:
        raise Http404("This job has no such deviations list.")
    response = JsonResponse(found, safe=False, json_dumps_params={"indent": 2})
    name = "deviations" if not which else f"{which.replace('_', '-')}-deviations"
    response["Content-Disposition"] = f'attachment; filename="jost-{name}-{job.id}.json"'
    return response


def _normalized_text(job: SimulationJob, results: dict[str, Any] | None) -> str:
    """The config as the engine ran it (from the results), or as it will run it: the one
    resolved at submit, which the worker runs (every profile it names, the owner's saved
    ones too, as they were then; resolving the config as sent again would know none of
    the owner's profiles). A row older than profiles has none, and runs as sent."""
    if results and isinstance(results.get("config"), dict):
        return runner.pretty(results["config"])
    if isinstance(job.resolved_config, dict):
        return runner.pretty(job.resolved_config)
    try:
        normalized = jost_engine.normalize_config(job.request_data)
    except jost_engine.ConfigError as exc:
        return "The engine refuses this config:\n" + "\n".join(
            f"{e['path'] or '(config)'}: {e['reason']}" for e in config_errors(exc)["errors"]
        )
    return runner.pretty(jost_engine.config_to_dict(normalized))


@staff_required
@require_GET
def job_status(request: HttpRequest, job_id: UUID) -> JsonResponse:
    """What the live status panel polls: /api/status/'s body, for any job (staff)."""
    return JsonResponse(JobStatusSerializer(_job_or_404(job_id)).data)


@staff_required
@require_GET
def job_shards(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The job page's shard list alone, which the page's script fetches again while the
    job runs: the same block the page was rendered with."""
    job = _job_or_404(job_id)
    unit = "shoes" if indices.is_index_job(job) else "rounds"
    return render(request, "dashboard/_shards.html", {"job": job, **shards.context(job, unit)})


@staff_required
@require_GET
def job_results(request: HttpRequest, job_id: UUID) -> JsonResponse:
    """The raw results document, as a download."""
    job = _job_or_404(job_id)
    if job.status != JobStatus.COMPLETE or job.result_data is None:
        raise Http404("This job has no results.")
    response = JsonResponse(job.result_data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="jost-results-{job.id}.json"'
    return response


@staff_required
@require_POST
def job_cancel(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """Cancel any job (staff), then back to its page, which shows how it ended."""
    try:
        job = jobs.cancel_job(_staff(request), job_id, any_owner=True)
    except jobs.JobNotCancellable as exc:
        messages.warning(request, str(exc))
    else:
        if job is None:
            raise Http404("No such job.")
        messages.success(request, "Job cancelled.")
    return redirect("dashboard:job", job_id=job_id)


@staff_required
@require_GET
def history_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in JobStatus.values else ""
    owner = request.GET.get("owner", "")
    page = Paginator(selectors.job_history(status, owner), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "job": job,
            "progress": progress_of(job),
            "edge": _edge_text(job.first_edge),  # type: ignore[attr-defined]
            # An index job's progress counts shoes dealt.
            "rounds": f"{job.rounds_done:,} / {job.rounds_total:,}"
            + (" shoes" if indices.is_index_job(job) else ""),
            "duration": present.format_duration(present.duration(job)),
            # A split job's progress in shards stored, e.g. "5 of 8 shards".
            "shards": (
                f"{job.shards_complete} of {job.shards_total} shards"  # type: ignore[attr-defined]
                if job.shards_total
                else ""
            ),
        }
        for job in page.object_list
    ]
    query = urlencode([(k, v) for k, v in (("status", status), ("owner", owner)) if v])
    return render(
        request,
        "dashboard/history.html",
        {
            "page": page,
            "rows": rows,
            "statuses": JobStatus.choices,
            "owners": selectors.job_owners(),
            "status": status,
            "owner": owner,
            "filter_query": query,
        },
    )


def _edge_text(raw: str | None) -> str:
    try:
        return f"{float(raw) * 100:+.3f}%" if raw not in (None, "", "null") else present.BLANK
    except (TypeError, ValueError):
        return present.BLANK
