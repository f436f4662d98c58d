"""python -m jost_engine indices REQUEST: index numbers from the shell. Any --jobs gives the
bits of one process and of the service's index job (the same seed and shard_shoes); the
table lists every play; a bad request or flag exits 2 naming it; the bar counts shoes on
stderr; Ctrl-C and SIGTERM stop every worker and exit 130."""

from __future__ import annotations

import io
import json
import multiprocessing
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from jost_engine.__main__ import main, progress_bar
from jost_engine.indices import (
    IndexSums,
    index_results,
    merge,
    normalize_index_request,
    plan_index_shards,
    run_index_shard_spec,
)
from jost_engine.parallel import run_index_shards
from tests.engine.interrupts import assert_all_gone, interrupt_run

REPO = Path(__file__).parents[2]
# The benchmark's game (6 decks S17 DAS LS, 80%, Hi-Lo) and all 22 plays of the
# Illustrious 18 and Fab 4: 600 shoes in shards of 200 (three shards, more than two
# workers) take about half a second of one core.
REQUEST = {
    "casino": {
        "deck_count": 6,
        "hit_on_soft_17": False,
        "allow_double_after_split": True,
        "allow_late_surrender": True,
        "reshuffle_penetration": 0.8,
    },
    "counting_strategy": "hilo",
    "plays": ["illustrious18", "fab4"],
    "seed": 7,
    "shoes": 600,
}
SHARD = "200"


def write(tmp_path: Path, request: Any, name: str = "request.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(request))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    assert main(["indices", *argv]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def as_the_service_runs_it(raw: dict[str, Any], shard_shoes: int) -> dict[str, Any]:
    """Each shard dealt here from the job seed and stored as JSON, read back in index order
    and merged: what the service's index job does with the same plan."""
    request = normalize_index_request(raw)
    stored = [
        json.loads(json.dumps(run_index_shard_spec(request, request.seed, spec).to_dict()))
        for spec in plan_index_shards(request, shard_shoes)
    ]
    merged = merge([IndexSums.from_dict(part) for part in stored])
    return json.loads(json.dumps(index_results(request, merged)))


class TestTheSameBits:
    def test_jobs_2_prints_the_json_of_jobs_1(self, tmp_path, capsys):
        path = str(write(tmp_path, REQUEST))
        one, _ = run_cli(capsys, path, "--jobs", "1", "--shard-shoes", SHARD, "--format", "json")
        two, err = run_cli(capsys, path, "--jobs", "2", "--shard-shoes", SHARD, "--format", "json")
        assert err == ""
        assert two == one

    def test_the_json_is_the_merge_of_every_shard_dealt_here(self, tmp_path, capsys):
        out, _ = run_cli(
            capsys,
            str(write(tmp_path, REQUEST)),
            "--jobs",
            "2",
            "--shard-shoes",
            SHARD,
            "--format",
            "json",
        )
        doc = json.loads(out)
        assert doc == as_the_service_runs_it(REQUEST, int(SHARD))
        assert len(doc["indices"]) == 22

    def test_shoes_and_seed_flags_stand_for_the_requests_own(self, tmp_path, capsys):
        other = {**REQUEST, "seed": 3, "shoes": 400}
        flags, _ = run_cli(
            capsys,
            str(write(tmp_path, REQUEST)),
            *("--seed", "3", "--shoes", "400", "--jobs", "1", "--format", "json"),
        )
        written, _ = run_cli(
            capsys, str(write(tmp_path, other, "other.json")), "--jobs", "1", "--format", "json"
        )
        assert flags == written

    def test_spawned_workers_give_the_bits_of_forked_ones(self):
        # spawn is what macOS and Windows use: each worker receives the request and the
        # shard function by pickling, not by inheriting them.
        request = normalize_index_request(REQUEST)
        specs = plan_index_shards(request, int(SHARD))
        sums = [
            run_index_shards(request, specs, 2, context=multiprocessing.get_context(method))[0]
            for method in ("fork", "spawn")
        ]
        assert sums[0].to_dict() == sums[1].to_dict()


class TestTheTable:
    def test_it_lists_every_play_in_request_order(self, tmp_path, capsys):
        out, _ = run_cli(capsys, str(write(tmp_path, REQUEST)), "--jobs", "1")
        lines = out.splitlines()
        assert lines[0] == (
            "# 600 shoes in 1 shard of 5,000, seed 7; hilo true count (exact, none); 22 plays"
        )
        # A gain for every play with an index; no risk-averse column without a bankroll.
        assert lines[1].split() == [
            *("play", "a->b", "index", "rounded", "95%", "interval", "+/-", "when"),
            *("gain/100", "note"),
        ]
        request = normalize_index_request(REQUEST)
        rows = lines[2:]
        assert len(rows) == len(request.plays) == 22
        for row, play in zip(rows, request.plays, strict=True):
            hand = "insurance" if play.kind == "insurance" else f"{play.hand} v {play.up}"
            assert row.startswith(hand + " ")
            assert "->".join(play.actions) in row

    def test_a_play_shows_its_index_interval_and_when(self, tmp_path, capsys):
        doc = as_the_service_runs_it(REQUEST, 5_000)
        out, _ = run_cli(capsys, str(write(tmp_path, REQUEST)), "--jobs", "1")
        insurance = doc["indices"][0]
        low, high = insurance["interval"]
        row = out.splitlines()[2].split()
        assert row[:2] == ["insurance", "decline->insure"]
        assert row[2] == f"{insurance['index']:+.1f}"
        assert " ".join(row[4:6]) == f"[{low:+.2f}, {high:+.2f}]"
        assert row[7] == insurance["when"]

    def test_gain_and_risk_averse_get_columns_when_present(self, monkeypatch, tmp_path, capsys):
        # gain_per_100 and risk_averse are the result document's next fields: the table
        # grows a column for each once any play carries it.
        real = index_results

        def with_gain(request, total):
            doc = real(request, total)
            for i, play in enumerate(doc["indices"]):
                play["gain_per_100"] = 0.125 * i
                play["risk_averse"] = {"index": 1.25} if i == 1 else None
            return doc

        monkeypatch.setattr("jost_engine.__main__.index_results", with_gain)
        out, _ = run_cli(capsys, str(write(tmp_path, REQUEST)), "--jobs", "1")
        lines = out.splitlines()
        assert "gain/100" in lines[1].split() and "risk-averse" in lines[1].split()
        assert lines[3].split()[-2:] == ["0.125", "+1.2"]  # 16 v 10: no note after them

    def test_out_writes_the_file_and_nothing_to_stdout(self, tmp_path, capsys):
        target = tmp_path / "indices.json"
        path = str(write(tmp_path, REQUEST))
        out, _ = run_cli(capsys, path, "--jobs", "1", "--format", "json", "--out", str(target))
        assert out == ""
        assert json.loads(target.read_text()) == as_the_service_runs_it(REQUEST, 5_000)


class TestBadInput:
    def test_a_bad_request_exits_2_naming_every_path(self, tmp_path, capsys):
        bad = {
            **REQUEST,
            "plays": ["illustrious19", {"hand": "16", "vs": "10", "actions": ["H", "X"]}],
            "shoes": 0,
        }
        path = write(tmp_path, bad)
        assert main(["indices", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.splitlines() == [
            f"{path}: the request cannot be run:",
            "  shoes: must be 1..100000000, got 0",
            "  plays[0]: unknown preset 'illustrious19'; available: insurance, illustrious18, fab4",
            "  plays[1].actions[1]: not one of H, S, D, P, R",
        ]

    def test_a_file_that_is_not_json_exits_2(self, tmp_path, capsys):
        path = tmp_path / "request.json"
        path.write_text("{plays")
        assert main(["indices", str(path)]) == 2
        assert capsys.readouterr().err.startswith(f"{path}: not JSON: ")

    @pytest.mark.parametrize(
        ("flag", "value", "message"),
        [
            ("--shoes", "0", "--shoes: must be 1..100000000, got 0"),
            ("--seed", "-1", f"--seed: must be 0..{2**63 - 1}, got -1"),
            ("--jobs", "0", "--jobs: must be at least 1 (processes), got 0"),
            ("--shard-shoes", "0", "--shard-shoes: must be 1..100000000, got 0"),
        ],
    )
    def test_a_flag_out_of_range_exits_2_naming_it(self, tmp_path, capsys, flag, value, message):
        assert main(["indices", str(write(tmp_path, REQUEST)), flag, value]) == 2
        assert capsys.readouterr().err == message + "\n"

    def test_a_shard_size_that_would_cut_a_million_shards_exits_2(self, tmp_path, capsys):
        path = str(write(tmp_path, {**REQUEST, "shoes": 10**8}))
        assert main(["indices", path, "--shard-shoes", "99"]) == 2
        assert capsys.readouterr().err == (
            "--shard-shoes: 99 would cut 100000000 shoes into more than 1,000,000 shards; "
            "at least 100 here\n"
        )


class TestProgress:
    @pytest.mark.parametrize("jobs", ["1", "2"])
    def test_the_bar_counts_shoes_on_stderr(self, tmp_path, capsys, jobs):
        path = str(write(tmp_path, REQUEST))
        argv = [path, "--jobs", jobs, "--shard-shoes", SHARD, "--progress", "--format", "json"]
        out, err = run_cli(capsys, *argv)
        assert "600 / 600 shoes" in err and "left" in err
        assert err.endswith("\n")
        assert json.loads(out)["indices"]  # the bar never reaches stdout

    def test_no_bar_without_a_terminal_or_progress(self, tmp_path, capsys):
        _, err = run_cli(capsys, str(write(tmp_path, REQUEST)), "--jobs", "1")
        assert err == ""

    def test_the_simulation_bar_is_as_it_was(self):
        # The bar is shared with the simulation CLI, whose line has no time left.
        stream = io.StringIO()
        progress_bar(stream)(450_000, 1_000_000)
        assert stream.getvalue().startswith(
            "\r[#############.................]  45%  450,000 / 1,000,000 rounds  "
        )
        assert stream.getvalue().endswith(" M/s")

    def test_the_shoes_bar_says_how_long_the_rest_takes(self, monkeypatch):
        clock = [100.0, 110.0]  # the bar's start, then 10 s later
        monkeypatch.setattr(
            "jost_engine.__main__.time.perf_counter", lambda: clock.pop(0) if clock else 110.0
        )
        stream = io.StringIO()
        bar = progress_bar(
            stream, unit="shoes", rate_text=lambda rate: f"{rate:,.0f}/s", time_left=True
        )
        bar(2_000, 14_000)  # 200 shoes/s: 12,000 more in 60 s
        assert stream.getvalue().endswith("2,000 / 14,000 shoes  200/s      1:00 left")


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
@pytest.mark.parametrize(
    ("jobs", "how", "sig"),
    [
        ("2", "the process group", signal.SIGINT),
        ("2", "the parent", signal.SIGTERM),
        ("1", "the parent", signal.SIGTERM),
    ],
    ids=["ctrl_c_at_a_terminal", "sigterm_to_the_parent", "sigterm_to_one_process"],
)
def test_an_interrupt_stops_every_worker_and_exits_130(tmp_path, jobs, how, sig):
    # 10^8 shoes: hours of dealing, so only the signal ends it. A terminal's Ctrl-C goes to
    # the process group; a `timeout` (SIGTERM) to the parent alone. One process stops at
    # its next chunk as the pool's workers do.
    path = write(tmp_path, {**REQUEST, "shoes": 10**8})
    argv = ["indices", str(path), "--jobs", jobs, "--shard-shoes", "1000", "--progress"]
    # The bar's first count of shoes dealt: the shards are being dealt.
    run = interrupt_run(argv, lambda seen: "250 / " in seen or "500 / " in seen, how, sig)
    assert len(run.workers) >= (2 if jobs == "2" else 0)
    assert run.returncode == 130
    assert "interrupted" in run.err and run.out == ""
    assert_all_gone(run.workers)
