"""The job page's risk panel (/dashboard/jobs/<id>/, under the summary) through Django's
test client: per seat, ruin within a trip of the run's own length, the chance of being
behind after 100 hours and the bankrolls for 5% and 13.5%, each the engine's own figure
(jost_engine.risk) for that seat's EV, SD, bankroll and rounds per hour."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils.html import escape

import jost_engine
from jost_engine import run_simulation_from_config
from simulator.models import JobStatus, SimulationJob
from simulator.services.submit import submit_job
from tests.helpers import load_master_config


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """Two seats (a counter and a flat bettor with a smaller bankroll) at 150 rounds an
    hour, so the panel must read each seat's own numbers and the config's pace."""
    config = load_master_config(num_rounds=4000)
    config["rounds_per_hour"] = 150
    flat = {**config["players"][0], "name": "flat", "bankroll": 2000}
    flat["betting_strategy"] = {"name": "flat", "min_bet": 10, "bet_ramp": {"-Infinity": 1}}
    config["players"] = [config["players"][0], flat]
    return run_simulation_from_config(config)


@pytest.fixture
def complete_job(alice, document) -> SimulationJob:
    job = submit_job(alice, load_master_config(num_rounds=500))
    SimulationJob.objects.filter(id=job.id).update(status=JobStatus.COMPLETE, result_data=document)
    job.refresh_from_db()
    return job


def _panel(client, job: SimulationJob) -> tuple[str, list[dict[str, Any]]]:
    response = client.get(f"/dashboard/jobs/{job.id}/")
    assert response.status_code == 200
    return response.content.decode(), response.context["risk_panels"]


class TestRiskPanel:
    def test_each_figure_is_the_engines_for_that_seats_numbers(
        self, client, staff, complete_job, document
    ):
        client.force_login(staff)
        _, panels = _panel(client, complete_job)
        assert len(panels) == 2
        for player, panel in zip(document["players"], panels, strict=True):
            ev, sd = player["ev_per_round"], player["sd_per_round"]
            bankroll, rounds = player["initial_bankroll"], player["rounds_played"]
            assert player["rounds_per_hour"] == 150
            values = {row["key"]: row["value"] for row in panel["rows"]}
            assert values == {
                "trip_ruin": jost_engine.trip_ruin(ev, sd, bankroll, rounds),
                "chance_of_loss": jost_engine.chance_of_loss(ev, sd, 100 * 150, bankroll=bankroll),
                "bankroll_for_0.05": jost_engine.bankroll_for_risk(ev, sd, 0.05),
                "bankroll_for_0.135": jost_engine.bankroll_for_risk(ev, sd, 0.135),
            }
        # The seats differ (bankroll 2,000 against the counter's), so neither panel is the
        # other's copied.
        assert panels[0]["rows"][0]["value"] != panels[1]["rows"][0]["value"]

    def test_the_panel_sits_under_the_summary_with_labels_a_player_reads(
        self, client, staff, complete_job, document
    ):
        client.force_login(staff)
        html, panels = _panel(client, complete_job)
        assert (
            html.index('id="summary"')
            < html.index('id="risk-panel"')
            < html.index('id="bankroll-chart"')
        )
        rounds = document["players"][0]["rounds_played"]
        trip = panels[0]["rows"][0]
        assert trip["label"] == (
            "Chance of going broke within a trip as long as this run "
            f"({rounds:,} rounds, {rounds / 150:,.1f} h)"
        )
        assert panels[0]["rows"][1]["label"] == (
            "Chance of being behind after 100 hours (15,000 rounds)"
        )
        for panel in panels:
            for row in panel["rows"]:
                none = ' class="none"' if row["value"] is None else ""
                shown = f"<dt>{escape(row['label'])}</dt><dd{none}>{escape(row['text'])}</dd>"
                assert shown in html
                if row["key"].startswith("bankroll_for") and row["value"] is not None:
                    assert row["text"] == f"{row['value']:,.2f}"
                elif row["key"] in ("trip_ruin", "chance_of_loss"):
                    assert re.fullmatch(r"[<>]? ?[\d.e+-]+%", row["text"]), row["text"]
        assert 'docs/RESULTS.md, section "Risk"' in html

    def test_a_seat_without_an_edge_is_told_no_bankroll_is_enough(self, client, staff, alice):
        document = run_simulation_from_config(load_master_config(num_rounds=300))
        player = document["players"][0]
        player.update(ev_per_round=-0.5, sd_per_round=11.0)
        job = submit_job(alice, load_master_config(num_rounds=300))
        SimulationJob.objects.filter(id=job.id).update(
            status=JobStatus.COMPLETE, result_data=document
        )
        client.force_login(staff)
        html, panels = _panel(client, job)
        needed = [r for r in panels[0]["rows"] if r["key"].startswith("bankroll_for")]
        assert [r["value"] for r in needed] == [None, None]
        assert "none: without an edge every bankroll is lost in the long run" in html

    def test_a_seat_with_no_sd_has_a_reason_instead_of_figures(self, client, staff, alice):
        document = run_simulation_from_config(load_master_config(num_rounds=300))
        document["players"][0]["sd_per_round"] = None
        job = submit_job(alice, load_master_config(num_rounds=300))
        SimulationJob.objects.filter(id=job.id).update(
            status=JobStatus.COMPLETE, result_data=document
        )
        client.force_login(staff)
        html, panels = _panel(client, job)
        assert panels[0]["rows"] == []
        assert "too few rounds for an SD" in html

    def test_a_job_still_running_has_no_panel(self, client, staff, alice_job):
        client.force_login(staff)
        response = client.get(f"/dashboard/jobs/{alice_job.id}/")
        assert response.status_code == 200
        assert 'id="risk-panel"' not in response.content.decode()
