"""The dashboard's comparison of 2 to 6 jobs (anyone's, for staff): the table per seat with
each later job's difference from the first, its SE and z, the configs' differences by
path, the bankroll paths and the EV by true count overlaid, and the table as CSV."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

import jost_engine
from simulator import comparisons, selectors
from simulator.dashboard import charts
from simulator.dashboard.present import BLANK
from simulator.dashboard.views import staff_required
from simulator.models import SimulationJob

Format = Callable[[float, bool], str]  # (value, signed) -> text


def _money(value: float, signed: bool) -> str:
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def _units(value: float, signed: bool) -> str:
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _percent(value: float, signed: bool) -> str:
    return f"{value * 100:+.3f}%" if signed else f"{value * 100:.3f}%"


def _one_decimal(value: float, signed: bool) -> str:
    return f"{value:+,.1f}" if signed else f"{value:,.1f}"


def _whole(value: float, signed: bool) -> str:
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def _probability(value: float, signed: bool) -> str:
    return f"{value:+.3g}" if signed else f"{value:.3g}"


FORMATS: dict[str, Format] = {
    "ev_per_round": _money,
    "ev_per_unit": _units,
    "player_edge": _percent,
    "flat_edge": _percent,
    "sd_per_round": _money,
    "di": _one_decimal,
    "score": _one_decimal,
    "n0": _whole,
    "risk_of_ruin": _probability,
    "win_per_hour": _money,
    "sd_per_hour": _money,
}


def _text(metric: str, value: float | None, signed: bool = False) -> str:
    return BLANK if value is None else FORMATS.get(metric, _units)(value, signed)


def label(index: int, job: SimulationJob) -> str:
    """#1, #2, ... and the job's name, else the start of its id: short enough for a column
    head and a legend, and distinct."""
    return f"#{index + 1} {job.name or str(job.id)[:8]}"


def table_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """Per seat, its figures as text: each job's value, then per later job the difference
    from the first, its SE and z (a dash where there is none)."""
    seats = []
    for seat in comparison["seats"]:
        rows = []
        for row in seat["rows"]:
            metric = row["metric"]
            differences = []
            for diff in row["differences"][1:]:
                if diff is None:
                    differences.append((BLANK, BLANK, BLANK, False))
                    continue
                z = diff["z"]
                differences.append(
                    (
                        _text(metric, diff["difference"], signed=True),
                        _text(metric, diff["standard_error"]),
                        BLANK if z is None else f"{z:+.2f}",
                        z is not None and abs(z) >= 2,  # marked: unlikely to be chance alone
                    )
                )
            rows.append(
                {
                    "label": row["label"],
                    "values": [_text(metric, v) for v in row["values"]],
                    "differences": differences,
                }
            )
        names = " / ".join(dict.fromkeys(str(n) for n in seat["names"] if n is not None))
        seats.append({"seat": seat["seat"], "names": names, "rows": rows})
    return seats


def _shown(present: bool, value: Any) -> str:
    return json.dumps(value) if present else "(absent)"


def config_rows(comparison: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (d["path"], [_shown(p, v) for p, v in zip(d["present"], d["values"], strict=True)])
        for d in comparison["config_differences"]
    ]


def _overlaid(jobs: list[SimulationJob], labels: list[str]) -> list[dict[str, Any]]:
    """Every job's players as one list, each named for its job, for the job page's charts
    to draw as one chart."""
    players = []
    for job, name in zip(jobs, labels, strict=True):
        for player in (job.result_data or {}).get("players") or []:
            if isinstance(player, dict):
                players.append({**player, "name": f"{name}: {player.get('name')}"})
    return players


def _compared(request: HttpRequest) -> tuple[list[SimulationJob], list[str], dict[str, Any]]:
    ids = comparisons.parse_job_ids(request.GET.getlist("jobs"))
    jobs = comparisons.jobs_to_compare(ids, selectors.any_job)
    if jobs is None:
        raise Http404("No such job.")
    labels = [label(i, job) for i, job in enumerate(jobs)]
    return jobs, labels, comparisons.compare_jobs(jobs, labels)


@staff_required
@require_GET
def compare_page(request: HttpRequest) -> HttpResponse:
    try:
        jobs, labels, comparison = _compared(request)
    except comparisons.ComparisonInvalid as exc:
        return render(
            request,
            "dashboard/compare.html",
            {"problems": [reason for _, reason in exc.problems]},
            status=400,
        )
    players = _overlaid(jobs, labels)
    bankroll = charts.bankroll_chart(players)
    if bankroll is not None:
        bankroll.title = "Bankroll paths"
    query = urlencode({"jobs": ",".join(str(job.id) for job in jobs)})
    return render(
        request,
        "dashboard/compare.html",
        {
            "jobs": list(zip(jobs, labels, strict=True)),
            "later_labels": labels[1:],
            "seats": table_rows(comparison),
            "config_rows": config_rows(comparison),
            "bankroll_chart": bankroll,
            "ev_chart": charts.ev_by_count_chart(players),
            "csv_url": f"{reverse('dashboard:compare-csv')}?{query}",
        },
    )


@staff_required
@require_GET
def compare_csv(request: HttpRequest) -> HttpResponse:
    try:
        _, _, comparison = _compared(request)
    except comparisons.ComparisonInvalid as exc:
        text = "\n".join(f"jobs: {reason}" for _, reason in exc.problems)
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        jost_engine.comparison_csv(comparison), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="jost-comparison.csv"'
    return response
