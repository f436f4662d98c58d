"""The job page of an index generator job (SimulationJob.kind INDICES) through Django's test
client: each play's index, interval and curve as the engine's result has them, the
deviations list to copy and download, a play with no index, a running job's progress in
shoes, escaping, who may see it, and the lists of jobs naming the kind."""

from __future__ import annotations

import copy
import html
import json
import re
import uuid

import pytest

from simulator.dashboard import charts
from simulator.dashboard.present import BLANK
from simulator.models import JobStatus
from simulator.services.submit import submit_job
from tests.index_jobs import NEVER_CHANGES_REQUEST, index_result, make_index_job


@pytest.fixture
def result() -> dict:
    return index_result("page")


@pytest.fixture
def index_job(alice, result):
    return make_index_job(alice, result=result)


def _page(client, job) -> str:
    response = client.get(f"/dashboard/jobs/{job.id}/")
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, n: int) -> str:
    return page.split(f'<tr data-play="play-{n}">')[1].split("</tr>")[0]


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">(.*?)</td>', row, re.S)
    assert found, name
    return html.unescape(found.group(1)).strip()


def _chart(page: str, n: int) -> str:
    return page.split(f'id="play-{n}"')[1].split("</section>")[0]


def _signed(value: float, digits: int) -> str:
    return charts.signed(value, digits)


class TestTheResultAsTheEngineGaveIt:
    def test_the_fixture_is_the_engines_answer_for_the_three_plays(self, result):
        # What the page is checked against: insurance, 16 v 10 and 11 v A each cross
        # zero on this seed, so each has an index, an interval and a deviation.
        plays = result["indices"]
        assert [(p["hand"], p["vs"], p["actions"]) for p in plays] == [
            ("insurance", "A", ["decline", "insure"]),
            ("16", "10", ["H", "S"]),
            ("11", "A", ["H", "D"]),
        ]
        assert all(p["index"] is not None and p["interval"] is not None for p in plays)
        assert len(result["deviations"]) == 3
        # Insurance near the published Hi-Lo +3 for a shoe, within what 3,000 shoes tell.
        assert 2.0 <= plays[0]["index"] <= 3.5

    def test_the_title_and_heading_say_it_is_an_index_generator_job(self, staff_client, index_job):
        page = _page(staff_client, index_job)
        assert f"<title>Index generator job {index_job.id} · JOST Cloud</title>" in page
        assert "<h1>Index generator job" in page
        assert "Rounds played" not in page  # a simulation's figures are not offered

    def test_each_play_shows_its_index_rounded_index_interval_and_direction(
        self, staff_client, index_job, result
    ):
        page = _page(staff_client, index_job)
        for n, play in enumerate(result["indices"], start=1):
            row = _row(page, n)
            low, high = play["interval"]
            assert _cell(row, "index") == _signed(play["index"], 1)
            assert _cell(row, "index_rounded") == _signed(play["index_rounded"], 1)
            assert _cell(row, "interval") == f"[{_signed(low, 2)}, {_signed(high, 2)}]"
            direction = {"at_or_above": "at or above", "below": "below"}[play["when"]]
            assert _cell(row, "when") == f"{play['actions'][1]} {direction}"
            assert f"{play['actions'][0]} → {play['actions'][1]}" in html.unescape(row)
            assert _cell(row, "note") == ""

    def test_figures_are_written_signed_to_their_places(self, staff_client, alice, result):
        result["indices"][1].update(index=0.8, interval=[-0.5, 2.2])
        row = _row(_page(staff_client, make_index_job(alice, result=result)), 2)
        assert _cell(row, "index") == "+0.8"
        assert _cell(row, "interval") == "[-0.50, +2.20]"

    def test_each_play_has_its_curve_with_95_bars_the_zero_line_and_its_index(
        self, staff_client, index_job, result
    ):
        page = _page(staff_client, index_job)
        assert page.count('<svg class="plot"') == len(result["indices"])
        for n, play in enumerate(result["indices"], start=1):
            chart = _chart(page, n)
            assert chart.startswith(' data-has-index="1"')
            # One point with its bar per bucket of the curve, the zero line, one marker.
            assert chart.count('<g class="mark">') == len(play["curve"])
            assert chart.count('class="reference"') == 1
            assert chart.count('class="index-marker"') == 1
            assert f"index {_signed(play['index'], 1)}" in chart
            assert 'class="interval-band"' in chart

    def test_the_marker_sits_between_the_buckets_either_side_of_the_index(self, result):
        # Pixel for pixel: the marker is drawn at the index on the same scale as the points.
        play = result["indices"][1]
        chart = charts.index_curve_chart(play)
        assert chart is not None and chart.marker is not None
        points = sorted(
            (row["mean_count"], mark["x"])
            for row, mark in zip(play["curve"], chart.series[0].marks, strict=True)
        )
        below = max(x for count, x in points if count <= play["index"])
        above = min(x for count, x in points if count > play["index"])
        assert below <= chart.marker.x <= above
        # The bars are the buckets' +/-1.96 SE: the widest bar belongs to the largest SE.
        heights = [m["y_low"] - m["y_high"] for m in chart.series[0].marks]
        ses = [row["se"] for row in play["curve"]]
        assert heights.index(max(heights)) == ses.index(max(ses))

    def test_the_deviations_box_parses_back_to_the_results_deviations(
        self, staff_client, index_job, result
    ):
        page = _page(staff_client, index_job)
        box = re.search(r'<textarea id="deviations-json" readonly[^>]*>(.*?)<', page, re.S)
        assert box is not None
        text = html.unescape(box.group(1))
        assert json.loads(text) == result["deviations"]
        # One deviation a line, its keys in reading order (PostgreSQL's jsonb keeps none).
        sixteen = result["deviations"][1]
        assert text.splitlines()[2] == (
            '  {"hand": "16", "vs": "10", "action": "S", "when": "at_or_above", '
            f'"index": {json.dumps(sixteen["index"])}}},'
        )
        # The Copy button waits for its script, which the page carries with its nonce.
        assert re.search(r'<button type="button" data-copy="deviations-json"[^>]* hidden>', page)
        assert re.search(r'<script nonce="[^"]+">/\* The Copy buttons', page)

    def test_the_deviations_download_is_the_list_unchanged(self, staff_client, index_job, result):
        page = _page(staff_client, index_job)
        url = f"/dashboard/jobs/{index_job.id}/deviations.json"
        assert f'href="{url}" download' in page
        response = staff_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert f'filename="jost-deviations-{index_job.id}.json"' in response["Content-Disposition"]
        assert json.loads(response.content) == result["deviations"]

    def test_the_request_is_summarised_and_shown_as_sent_and_normalised(
        self, staff_client, index_job
    ):
        page = html.unescape(_page(staff_client, index_job))
        assert "custom casino: 6 decks S17 DAS LS 75% penetration" in page
        assert "hilo (true count, exact deck estimation, rounding none)" in page
        assert "3,000 of 3,000" in page
        assert "Request as sent" in page and '"allow_late_surrender": true' in page
        assert '"reshuffle_penetration": 0.75' in page  # the normalised request, written out

    def test_gain_and_risk_averse_columns_appear_only_when_the_result_has_them(
        self, staff_client, alice, result
    ):
        # A result made before the engine wrote gains has neither column.
        older = copy.deepcopy(result)
        for play in older["indices"]:
            del play["gain_per_100"], play["gain_per_100_se"], play["risk_averse"]
        plain = _page(staff_client, make_index_job(alice, result=older))
        assert "Gain per 100 rounds" not in plain and "Risk-averse index" not in plain
        # The engine's own: gains, and no risk-averse index without a bankroll.
        assert all(p["risk_averse"] is None for p in result["indices"])
        current = _page(staff_client, make_index_job(alice, result=result))
        assert "Gain per 100 rounds" in current and "Risk-averse index" not in current
        result["indices"][1]["gain_per_100"] = 0.4215
        result["indices"][1]["risk_averse"] = {
            "index": 1.4,
            "index_rounded": 1.0,
            "interval": [0.61, 2.2],
            "when": "at_or_above",
            "note": None,
        }
        result["indices"][2]["risk_averse"] = None
        result["risk_averse_deviations"] = [{"hand": "16", "vs": "10", "index": 1.0}]
        page = _page(staff_client, make_index_job(alice, result=result))
        row = _row(page, 2)
        assert _cell(row, "gain_per_100") == "+0.42"
        assert _cell(row, "risk_averse") == "+1.4 (rounded +1.0) [+0.61, +2.20], at or above"
        assert _cell(_row(page, 3), "risk_averse") == BLANK
        box = re.search(r'id="risk-averse-deviations-json"[^>]*>(.*?)</textarea>', page, re.S)
        assert box and json.loads(html.unescape(box.group(1))) == result["risk_averse_deviations"]


class TestAPlayWithNoIndex:
    def test_it_shows_the_engines_note_instead_of_a_marker(self, staff_client, alice):
        result = index_result("never")
        never, crossing = result["indices"]
        assert never["index"] is None and never["never_changes"] and never["better"] == "S"
        assert crossing["index"] is not None  # the other play of the job still has one
        page = _page(staff_client, make_index_job(alice, NEVER_CHANGES_REQUEST, result))
        row = _row(page, 1)
        assert _cell(row, "index") == BLANK and _cell(row, "interval") == BLANK
        assert _cell(row, "note") == f"{never['note']}: S is always better"
        chart = _chart(page, 1)
        assert 'class="index-marker"' not in chart and 'class="interval-band"' not in chart
        assert chart.count('<g class="mark">') == len(never["curve"])  # the curve is drawn
        assert f'<p class="index-note">{html.escape(never["note"])}: S is always better' in chart
        assert _chart(page, 2).count('class="index-marker"') == 1
        # Only the play that changes is offered to copy.
        box = re.search(r'id="deviations-json"[^>]*>(.*?)</textarea>', page, re.S)
        assert box and json.loads(html.unescape(box.group(1))) == result["deviations"]
        assert [d["hand"] for d in result["deviations"]] == ["12"]

    def test_an_unresolved_crossing_says_to_deal_more_shoes(self, staff_client, alice, result):
        play = result["indices"][1]
        play.update(index=None, index_rounded=None, interval=None, when=None)
        play["note"] = "no crossing resolved: deal more shoes"
        page = _page(staff_client, make_index_job(alice, result=result))
        assert _cell(_row(page, 2), "note") == "no crossing resolved: deal more shoes"
        assert 'class="index-marker"' not in _chart(page, 2)


class TestARunningIndexJob:
    def test_it_shows_its_progress_in_shoes_and_no_results(self, staff_client, alice):
        job = make_index_job(alice, status=JobStatus.RUNNING, shoes_done=1250)
        page = _page(staff_client, job)
        assert 'data-unit="shoes"' in page and ">Shoes dealt</label>" in page
        assert '<span data-field="rounds">1,250 of 3,000 shoes</span>' in page
        assert re.search(r'<span data-field="rate">[\d,]+ shoes/s</span>', page)
        assert 'id="index-table"' not in page and 'id="deviations-json"' not in page
        assert staff_client.get(f"/dashboard/jobs/{job.id}/deviations.json").status_code == 404

    def test_the_status_json_it_polls_counts_the_same_shoes(self, staff_client, alice):
        job = make_index_job(alice, status=JobStatus.RUNNING, shoes_done=1250)
        body = staff_client.get(f"/dashboard/jobs/{job.id}/status.json").json()
        assert body["progress"]["rounds_done"] == 1250
        assert body["progress"]["rounds_total"] == 3000


class TestEscaping:
    def test_the_requests_names_are_text_never_markup(self, staff_client, alice, result):
        evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        raw = json.loads(json.dumps(NEVER_CHANGES_REQUEST))
        raw["casino"]["name"] = evil
        job = make_index_job(alice, raw, index_result("never"), name=evil)
        page = _page(staff_client, job)
        assert "<script>alert" not in page and "<img src=x" not in page
        escaped = html.escape(evil)
        assert f"<title>Index generator job {escaped} · JOST Cloud</title>" in page
        assert f'<span class="job-name">{escaped}</span>' in page
        assert f"<dd>{escaped}: 6 decks S17 DAS" in page  # the casino's name in the summary


class TestWhoSeesIt:
    # The dashboard is for staff: a user who is not (the owner included) is sent to log in
    # and sees nothing of the job, on its page and on each of its downloads.
    @pytest.mark.parametrize("persona", ["alice", "bob", "charlie"])
    @pytest.mark.parametrize("suffix", ["", "deviations.json", "results.json", "status.json"])
    def test_a_user_who_is_not_staff_sees_nothing_of_alices_index_job(
        self, request, client, index_job, persona, suffix
    ):
        client.force_login(request.getfixturevalue(persona))
        response = client.get(f"/dashboard/jobs/{index_job.id}/{suffix}")
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"]
        assert str(index_job.id) not in response.content.decode()

    @pytest.mark.parametrize("suffix", ["", "deviations.json"])
    def test_an_unknown_job_is_a_404(self, staff_client, suffix):
        assert staff_client.get(f"/dashboard/jobs/{uuid.uuid4()}/{suffix}").status_code == 404

    def test_a_simulation_job_has_no_deviations_to_download(
        self, staff_client, alice, master_config
    ):
        job = submit_job(alice, master_config)
        assert staff_client.get(f"/dashboard/jobs/{job.id}/deviations.json").status_code == 404

    def test_an_unknown_deviations_list_is_a_404(self, staff_client, index_job):
        url = f"/dashboard/jobs/{index_job.id}/deviations.json?list=other"
        assert staff_client.get(url).status_code == 404
        # The risk-averse list exists only in a result that has one.
        url = f"/dashboard/jobs/{index_job.id}/deviations.json?list=risk_averse"
        assert staff_client.get(url).status_code == 404


class TestHistory:
    def test_it_lists_an_index_job_with_its_kind_and_shoes_and_no_compare_box(
        self, staff_client, index_job, alice, master_config
    ):
        simulation = submit_job(alice, master_config)
        page = staff_client.get("/dashboard/jobs/").content.decode()
        rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
        by_id = {re.search(r"/dashboard/jobs/([0-9a-f-]{36})/", r).group(1): r for r in rows}
        index_row, simulation_row = by_id[str(index_job.id)], by_id[str(simulation.id)]
        assert '<td data-kind="indices">Index generator</td>' in index_row
        assert '<td data-kind="simulation">Simulation</td>' in simulation_row
        assert "3,000 / 3,000 shoes" in index_row
        assert 'name="jobs"' not in index_row  # a result with no players to compare

    def test_the_runners_recent_jobs_count_an_index_jobs_shoes(self, staff_client, staff):
        make_index_job(staff, result=index_result("page"))
        page = staff_client.get("/dashboard/").content.decode()
        recent = page.split("Your recent jobs")[1].split("</ul>")[0]
        assert "index generator, 3000 shoes" in recent and "rounds" not in recent
