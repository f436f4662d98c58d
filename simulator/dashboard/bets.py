"""The dashboard's Optimal bets for a counting job (staff, anyone's job): a plain form
(GET or POST, so it works with scripts off) whose answer is jost_engine.optimal_bets's,
the same as POST /api/optimal-bets/ (docs/RESULTS.md, "Optimal bets"), laid out as the
ramp's table, a chart of bet over edge by count, its figures and its betting_strategy."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

import jost_engine
from simulator import selectors
from simulator.dashboard import charts
from simulator.dashboard.forms import OptimalBetsForm
from simulator.dashboard.present import BLANK, chance, money, number
from simulator.dashboard.views import staff_required
from simulator.models import JobStatus, SimulationJob

# Limits a player is offered before typing anything: a common shoe game's.
DEFAULT_MAX_BET_BOTTOMS = 50
DEFAULT_SPREAD = 12


def counting_seats(results: dict[str, Any]) -> list[tuple[int, str]]:
    """The seats whose results carry a true-count table, as form choices."""
    return [
        (i, f"{i}: {p.get('name')}")
        for i, p in enumerate(results.get("players") or [])
        if isinstance(p, dict) and p.get("true_count_table")
    ]


def initial_values(results: dict[str, Any], seat: int) -> dict[str, Any]:
    """The form's starting values from the seat as it ran: its bankroll, its ramp's bottom
    bet and rounds per hour; the rest a typical table's."""
    player = (results.get("players") or [])[seat]
    config_players = (results.get("config") or {}).get("players") or []
    strategy = config_players[seat].get("betting_strategy") if seat < len(config_players) else {}
    min_bet = strategy.get("min_bet") if isinstance(strategy, dict) else None
    if not isinstance(min_bet, (int, float)) or min_bet <= 0:
        min_bet = 10
    unit = 5 if min_bet % 5 == 0 else 1
    values = {
        "seat": seat,
        "bankroll": player.get("initial_bankroll") or 10_000,
        "min_bet": min_bet,
        "max_bet": min_bet * DEFAULT_MAX_BET_BOTTOMS,
        "max_spread": DEFAULT_SPREAD,
        "unit": unit,
        "sizing": "kelly",
        "kelly_fraction": 0.5,
        "risk_of_ruin": 0.05,
        "rounds_per_hour": player.get("rounds_per_hour") or 100,
        "wong_out": False,
    }
    # 100, not the results' 100.0: the form shows what a player would type.
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in values.items()}


def figures(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The answer's figures as (label, text) for a player."""
    wong = answer["wong_out"]
    return [
        ("EV per round", money(answer["ev_per_round"])),
        ("SD per round", money(answer["sd_per_round"])),
        ("Win per hour", money(answer["win_per_hour"])),
        ("SD per hour", money(answer["sd_per_hour"])),
        ("DI", number(answer["di"], 2)),
        ("SCORE", number(answer["score"], 2)),
        ("N0 (rounds)", number(answer["n0"], 0)),
        (
            "Risk of ruin with this bankroll",
            BLANK if answer["risk_of_ruin"] is None else chance(answer["risk_of_ruin"]),
        ),
        ("Certainty equivalent per hour", money(answer["certainty_equivalent_per_hour"])),
        ("Kelly fraction", f"{answer['kelly_fraction']:.3g}"),
        (
            "Wong out",
            "no: every count is played"
            if wong is None
            else (
                f"below true count {wong:+d} "
                f"({answer['played_frequency'] * 100:.1f}% of rounds played)"
            ),
        ),
    ]


def ramp_rows(answer: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "true_count": f"{row['true_count']:+d}" if row["true_count"] else "0",
            "frequency": f"{row['frequency'] * 100:.2f}%",
            "flat_edge": f"{row['flat_edge'] * 100:+.2f}%",
            "kelly_bet": money(row["kelly_bet"]),
            "bet": "leave (wong out)" if row["bet"] is None else money(row["bet"]),
        }
        for row in answer["ramp"]
    ]


def _problems(form: OptimalBetsForm) -> list[tuple[str, str]]:
    """Every error of the form as (field, reason), for the list above the form."""
    return [
        (field if field != "__all__" else "", str(reason))
        for field, reasons in form.errors.items()
        for reason in reasons
    ]


def _counting_job(job_id: UUID) -> tuple[SimulationJob, dict[str, Any]]:
    job = selectors.any_job(job_id)
    if job is None:
        raise Http404("No such job.")
    if job.status != JobStatus.COMPLETE or not isinstance(job.result_data, dict):
        raise Http404("This job has no results.")
    return job, job.result_data


@staff_required
@require_http_methods(["GET", "POST"])
def optimal_bets_page(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """GET without the form's fields: the form with the seat's own values. GET or POST with
    them: the answer, or the form with each bad field's error."""
    job, results = _counting_job(job_id)
    seats = counting_seats(results)
    context: dict[str, Any] = {"job": job, "seats": seats}
    if not seats:
        return render(request, "dashboard/optimal_bets.html", context, status=404)
    data = request.POST if request.method == "POST" else request.GET
    seat_choice = data.get("seat")
    first = next((i for i, _ in seats if str(i) == seat_choice), seats[0][0])
    submitted = "bankroll" in data
    form = OptimalBetsForm(
        data if submitted else None, seats=seats, initial=initial_values(results, first)
    )
    context["form"] = form
    context["seat_name"] = dict(seats)[first]
    status = 200
    if submitted and form.is_valid():
        try:
            rows = jost_engine.per_count_rows(results, form.cleaned_data["seat"])
            answer = jost_engine.optimal_bets(rows, **form.engine_arguments())
        except jost_engine.ConfigError as exc:
            for field, reason in exc.problems:
                if field in form.fields:
                    form.add_error(field, reason)
                else:
                    form.add_error(None, f"{field}: {reason}")
        else:
            text = json.dumps(answer["betting_strategy"], indent=2)
            context.update(
                {
                    "answer": answer,
                    "figures": figures(answer),
                    "ramp_rows": ramp_rows(answer),
                    "ramp_chart": charts.ramp_chart(answer["ramp"]),
                    "strategy_text": text,
                    "strategy_rows": text.count("\n") + 1,
                }
            )
    if submitted and form.errors:
        status = 400
    context["problems"] = _problems(form)
    return render(request, "dashboard/optimal_bets.html", context, status=status)
