"""The dashboard's Optimal bets (/dashboard/jobs/<id>/optimal-bets/) through Django's test
client: a plain GET or POST form whose answer is jost_engine.optimal_bets's for the job's
true-count table, drawn as a table, a chart and a betting_strategy; every bad input the
form's error naming its field, never a 500; staff only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import jost_engine
from jost_engine import run_simulation_from_config
from simulator.models import JobStatus, SimulationJob
from simulator.services.submit import submit_job
from tests.dashboard.test_no_server_errors import HOSTILE
from tests.helpers import load_master_config

LIMITS: dict[str, Any] = {
    "seat": "0",
    "bankroll": "20000",
    "min_bet": "10",
    "max_bet": "300",
    "max_spread": "12",
    "unit": "5",
    "sizing": "kelly",
    "kelly_fraction": "0.5",
    "risk_of_ruin": "0.05",
    "rounds_per_hour": "100",
}


@pytest.fixture(scope="module")
def counting() -> dict[str, Any]:
    """A per-count run (one unit flat while counting Hi-Lo), long enough that the high
    counts' edges are positive."""
    config = load_master_config(num_rounds=60_000)
    config["players"][0]["analysis"] = "per_count"
    return run_simulation_from_config(config)


@pytest.fixture(scope="module")
def flat() -> dict[str, Any]:
    config = load_master_config(num_rounds=500)
    config["players"][0]["betting_strategy"] = {"name": "flat", "min_bet": 10}
    return run_simulation_from_config(config)


def _complete(owner, document: dict[str, Any]) -> SimulationJob:
    job = submit_job(owner, load_master_config(num_rounds=500))
    SimulationJob.objects.filter(id=job.id).update(status=JobStatus.COMPLETE, result_data=document)
    job.refresh_from_db()
    return job


@pytest.fixture
def counting_job(alice, counting) -> SimulationJob:
    return _complete(alice, counting)


def _url(job: SimulationJob) -> str:
    return f"/dashboard/jobs/{job.id}/optimal-bets/"


def _expected(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    limits = {
        "bankroll": 20000.0,
        "min_bet": 10.0,
        "max_bet": 300.0,
        "max_spread": 12.0,
        "unit": 5.0,
        "kelly_fraction": 0.5,
        "risk_of_ruin": None,
        "rounds_per_hour": 100.0,
        "wong_out": False,
        **changes,
    }
    return jost_engine.optimal_bets(jost_engine.per_count_rows(document, 0), **limits)


class TestTheForm:
    def test_it_starts_from_the_seats_own_bankroll_and_bottom_bet(self, staff_client, counting_job):
        response = staff_client.get(_url(counting_job))
        assert response.status_code == 200
        form = response.context["form"]
        assert not form.is_bound
        player = counting_job.result_data["players"][0]
        assert form.initial["bankroll"] == player["initial_bankroll"]
        assert form.initial["min_bet"] == 10  # the master ramp's
        assert "answer" not in response.context
        html = response.content.decode()
        assert '<form method="get"' in html
        assert 'id="ramp-chart"' not in html

    def test_the_job_page_of_a_counting_run_links_to_it(self, staff_client, counting_job):
        html = staff_client.get(f"/dashboard/jobs/{counting_job.id}/").content.decode()
        assert f'href="{_url(counting_job)}"' in html
        assert f'href="{_url(counting_job)}?seat=0"' in html


class TestTheAnswer:
    def test_a_get_shows_the_engines_ramp_as_table_chart_and_strategy(
        self, staff_client, counting_job, counting
    ):
        response = staff_client.get(_url(counting_job), LIMITS)
        assert response.status_code == 200
        expected = _expected(counting)
        assert response.context["answer"] == expected
        html = response.content.decode()
        table = html[html.index('id="ramp-table"') :]
        table = table[: table.index("</table>")]
        rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table)
        assert len(rows) == len(expected["ramp"])
        for row, (count, cells) in zip(expected["ramp"], rows, strict=True):
            assert count == (f"{row['true_count']:+d}" if row["true_count"] else "0")
            assert cells.endswith(f"<td>{row['bet']:,.2f}</td>")
        chart = html[html.index('id="ramp-chart"') :]
        assert chart.count('<g class="series"') == 2
        assert "Bet (left axis)" in chart and "Flat edge (right axis)" in chart
        assert chart.count('<g class="mark">') == 2 * len(expected["ramp"])
        strategy = re.search(r'<textarea id="strategy-json"[^>]*>(.*?)</textarea>', html, re.S)
        assert strategy is not None
        assert json.loads(strategy.group(1).replace("&quot;", '"')) == expected["betting_strategy"]
        for label, value in response.context["figures"]:
            assert f"<dt>{label}</dt><dd>{value}</dd>" in html
        assert ("SCORE", f"{expected['score']:,.2f}") in response.context["figures"]
        assert ("Win per hour", f"{expected['win_per_hour']:,.2f}") in response.context["figures"]

    def test_a_post_gives_the_same_answer(self, staff_client, counting_job, counting):
        response = staff_client.post(_url(counting_job), LIMITS)
        assert response.status_code == 200
        assert response.context["answer"] == _expected(counting)

    def test_a_target_risk_sizes_the_ramp_to_it(self, staff_client, counting_job, counting):
        response = staff_client.get(
            _url(counting_job), {**LIMITS, "sizing": "risk", "risk_of_ruin": "0.1"}
        )
        assert response.status_code == 200
        answer = response.context["answer"]
        assert answer == _expected(counting, kelly_fraction=None, risk_of_ruin=0.1)
        assert answer["risk_of_ruin_before_rounding"] == pytest.approx(0.1, rel=1e-6)

    def test_wonging_out_leaves_the_low_counts(self, staff_client, counting_job, counting):
        response = staff_client.get(_url(counting_job), {**LIMITS, "wong_out": "on"})
        answer = response.context["answer"]
        assert answer == _expected(counting, wong_out=True)
        assert answer["wong_out"] is not None
        assert "leave (wong out)" in response.content.decode()


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"bankroll": "0"}, "bankroll"),
            ({"bankroll": "lots"}, "bankroll"),
            ({"max_spread": "0.5"}, "max_spread"),
            ({"min_bet": "400"}, "min_bet"),
            ({"min_bet": "12"}, "min_bet"),  # not a multiple of the unit
            ({"unit": "-5"}, "unit"),
            ({"kelly_fraction": ""}, "kelly_fraction"),
            ({"kelly_fraction": "50"}, "kelly_fraction"),
            ({"sizing": "risk", "risk_of_ruin": "1.5"}, "risk_of_ruin"),
            ({"sizing": "risk", "risk_of_ruin": "1e-300"}, "risk_of_ruin"),  # out of reach
            ({"rounds_per_hour": "nan"}, "rounds_per_hour"),
            ({"seat": "3"}, "seat"),
        ],
    )
    def test_it_is_the_forms_error_naming_the_field(
        self, staff_client, counting_job, changes, field
    ):
        response = staff_client.get(_url(counting_job), {**LIMITS, **changes})
        assert response.status_code == 400
        assert "answer" not in response.context
        assert field in response.context["form"].errors
        assert any(name == field for name, _ in response.context["problems"])
        html = response.content.decode()
        assert f"<li><code>{field}</code> " in html
        assert 'class="field invalid"' in html or field == "seat" or "sizing" in changes

    def test_a_job_that_did_not_count_has_no_form(self, staff_client, alice, flat):
        job = _complete(alice, flat)
        response = staff_client.get(_url(job), LIMITS)
        assert response.status_code == 404
        assert "No seat of this job counted" in response.content.decode()
        page = staff_client.get(f"/dashboard/jobs/{job.id}/").content.decode()
        assert f"/dashboard/jobs/{job.id}/optimal-bets/" not in page

    def test_a_job_without_results_is_not_found(self, staff_client, alice_job):
        assert staff_client.get(_url(alice_job), LIMITS).status_code == 404


class TestAccess:
    def test_someone_not_staff_gets_the_login_page(self, client, alice, counting_job):
        client.force_login(alice)
        response = client.get(_url(counting_job), LIMITS)
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/")

    def test_someone_signed_out_gets_the_login_page(self, client, counting_job):
        response = client.post(_url(counting_job), LIMITS)
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/")

    def test_the_page_carries_a_nonce_policy_and_no_inline_style(self, staff_client, counting_job):
        response = staff_client.get(_url(counting_job), LIMITS)
        policy = response["Content-Security-Policy"]
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        html = response.content.decode()
        assert " style=" not in html
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            assert f'nonce="{nonce.group(1)}"' in tag


@pytest.mark.slow  # every field, with every hostile value
def test_no_hostile_value_in_any_field_is_a_500(staff_client, counting_job):
    """Each field given each value that has been a 500 elsewhere (tests/dashboard/
    test_no_server_errors.py's): an answer or the form's error, never a server error."""
    for field in [*LIMITS, "wong_out"]:
        for value in [*HOSTILE, "1e308", "-0", "inf", "nan"]:
            response = staff_client.get(_url(counting_job), {**LIMITS, field: value})
            assert response.status_code in (200, 400), (field, value[:20])
