"""The dashboard's comparison page (/dashboard/compare/) and the Job History's ticks that
lead to it, through Django's test client: staff only, anyone's jobs, real results."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pytest

from simulator.models import JobStatus, SimulationJob
from simulator.services.submit import submit_job
from tests.helpers import load_master_config, s17_and_h17_results


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    return s17_and_h17_results()


def _complete(owner, document: dict[str, Any], name: str) -> SimulationJob:
    job = submit_job(owner, {**load_master_config(num_rounds=500), "name": name})
    SimulationJob.objects.filter(id=job.id).update(status=JobStatus.COMPLETE, result_data=document)
    job.refresh_from_db()
    return job


@pytest.fixture
def two_jobs(alice, bob, documents) -> list[SimulationJob]:
    """One job of alice's and one of bob's: staff compare anyone's."""
    return [_complete(alice, documents[0], "S17"), _complete(bob, documents[1], "H17")]


def _url(*jobs: SimulationJob) -> str:
    return "/dashboard/compare/?jobs=" + ",".join(str(job.id) for job in jobs)


class TestComparePage:
    def test_staff_see_two_users_jobs_side_by_side(self, staff_client, two_jobs, documents):
        response = staff_client.get(_url(*two_jobs))
        assert response.status_code == 200
        html = response.content.decode()
        assert "#1 S17" in html and "#2 H17" in html
        for job in two_jobs:
            assert f"/dashboard/jobs/{job.id}/" in html
        seat = response.context["seats"][0]
        ev = next(r for r in seat["rows"] if r["label"] == "EV per unit")
        s17, h17 = (doc["players"][0]["ev_per_unit"] for doc in documents)
        assert ev["values"] == [f"{s17:.4f}", f"{h17:.4f}"]
        difference, se, z, _ = ev["differences"][0]
        assert difference == f"{h17 - s17:+.4f}"
        assert se != "\N{EN DASH}" and z != "\N{EN DASH}"

    def test_the_config_differences_are_listed_by_path(self, staff_client, two_jobs):
        response = staff_client.get(_url(*two_jobs))
        rows = dict(response.context["config_rows"])
        assert rows["casino.hit_on_soft_17"] == ["false", "true"]
        assert "<code>casino.hit_on_soft_17</code>" in response.content.decode()

    def test_the_charts_overlay_every_job_with_a_legend_naming_each(self, staff_client, two_jobs):
        html = staff_client.get(_url(*two_jobs)).content.decode()
        for chart in ("bankroll-chart", "ev-chart"):
            section = html.split(f'id="{chart}"')[1].split("</section>")[0]
            assert 'data-series="2"' in section
            legend = re.findall(r"</svg>([^<]+)</li>", section)
            assert legend == ["#1 S17: master_player", "#2 H17: master_player"]
        bankroll = html.split('id="bankroll-chart"')[1].split("</section>")[0]
        assert bankroll.count("<polyline") == 2

    def test_it_links_the_csv_which_holds_the_table(self, staff_client, two_jobs):
        response = staff_client.get(_url(*two_jobs))
        csv_url = response.context["csv_url"]
        assert csv_url in response.content.decode().replace("&amp;", "&")
        download = staff_client.get(csv_url)
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert rows[0][3:5] == ["#1 S17", "#2 H17"]
        assert {row[2] for row in rows[1:]} >= {"ev_per_round", "flat_edge", "score", "n0"}

    def test_the_page_has_no_inline_style_or_script_without_the_nonce(self, staff_client, two_jobs):
        html = staff_client.get(_url(*two_jobs)).content.decode()
        assert " style=" not in html
        assert all("nonce=" in tag for tag in re.findall(r"<(?:script|style)\b[^>]*>", html))


class TestFromTheHistory:
    def test_complete_jobs_have_a_box_to_tick_and_a_compare_button(
        self, staff_client, two_jobs, alice
    ):
        pending = submit_job(alice, load_master_config(num_rounds=500))
        html = staff_client.get("/dashboard/jobs/").content.decode()
        assert '<form id="compare-form" method="get" action="/dashboard/compare/">' in html
        for job in two_jobs:
            assert f'name="jobs" value="{job.id}"' in html
        assert f'value="{pending.id}"' not in html
        assert re.search(r'<button type="submit"[^>]*>Compare</button>', html)

    def test_the_forms_repeated_parameter_is_read_in_order(self, staff_client, two_jobs):
        a, b = two_jobs
        response = staff_client.get("/dashboard/compare/", {"jobs": [str(b.id), str(a.id)]})
        assert response.status_code == 200
        assert [job.id for job, _ in response.context["jobs"]] == [b.id, a.id]


class TestBadInput:
    def test_one_ticked_job_is_a_400_saying_why(self, staff_client, two_jobs):
        response = staff_client.get(_url(two_jobs[0]))
        assert response.status_code == 400
        assert response.context["problems"] == ["2 to 6 jobs, not 1"]
        assert "2 to 6 jobs, not 1" in response.content.decode()

    def test_nothing_ticked_is_a_400_saying_why(self, staff_client, db):
        response = staff_client.get("/dashboard/compare/")
        assert response.status_code == 400
        assert response.context["problems"] == ["required: 2 to 6 job ids separated by commas"]

    def test_an_unfinished_job_is_a_400_naming_it(self, staff_client, two_jobs):
        SimulationJob.objects.filter(id=two_jobs[1].id).update(status=JobStatus.RUNNING)
        response = staff_client.get(_url(*two_jobs))
        assert response.status_code == 400
        assert response.context["problems"] == [f"job {two_jobs[1].id} is RUNNING, not COMPLETE"]

    def test_an_unknown_job_is_a_404(self, staff_client, two_jobs):
        response = staff_client.get(f"{_url(two_jobs[0])},{uuid.uuid4()}")
        assert response.status_code == 404

    def test_a_bad_csv_request_is_a_400_naming_jobs(self, staff_client, two_jobs):
        response = staff_client.get(f"/dashboard/compare/comparison.csv?jobs={two_jobs[0].id}")
        assert response.status_code == 400
        assert response.content.decode() == "jobs: 2 to 6 jobs, not 1"


class TestWhoGetsIn:
    @pytest.mark.parametrize("path", ["/dashboard/compare/", "/dashboard/compare/comparison.csv"])
    def test_a_user_who_is_not_staff_is_sent_to_the_login_page(self, client, alice, two_jobs, path):
        client.force_login(alice)
        response = client.get(f"{path}?jobs={two_jobs[0].id},{two_jobs[1].id}")
        assert response.status_code == 302
        assert "/dashboard/login/" in response["Location"]


HOSTILE = ["\x00", "a\x00b", "9" * 5_000, "," * 10_000, "{}", "%", " "]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_jobs_value_is_a_400_never_a_500(staff_client, value):
    for path in ("/dashboard/compare/", "/dashboard/compare/comparison.csv"):
        assert staff_client.get(path, {"jobs": value}).status_code == 400, (path, value[:20])
