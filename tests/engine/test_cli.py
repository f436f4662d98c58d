"""python -m jost_engine: a config from the shell, JSON out, problems and status 2 for a bad one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jost_engine.__main__ import main

REPO = Path(__file__).parents[2]
CONFIG = {
    "casino": "vegas_6d_s17_das",
    "num_rounds": 1_000_000,
    "players": [
        {
            "profile": "master_player",
            "playing_strategy": "perfect_s17_basic_strategy",
            "betting_strategy": "flat_betting",
        }
    ],
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG))
    return path


@pytest.mark.slow  # a fresh Python
def test_python_dash_m_prints_the_results_as_json(config_file):
    # One job: on more cores this unsplittable config would say why it plays on one
    # (tests/engine/test_cli_jobs.py); here stderr must stay empty.
    argv = [str(config_file), "--rounds", "20000", "--seed", "3", "--jobs", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "jost_engine", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["rounds_played"] == 20_000 and doc["seed"] == 3
    assert doc["players"][0]["net_gain_loss"] == pytest.approx(
        doc["players"][0]["final_bankroll"] - doc["players"][0]["initial_bankroll"]
    )
    assert done.stderr == ""  # not a terminal and no --progress: no bar


def test_the_same_seed_prints_the_same_results(config_file, capsys, without_timing):
    assert main([str(config_file), "--rounds", "5000", "--seed", "11"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([str(config_file), "--rounds", "5000", "--seed", "11"]) == 0
    assert without_timing(json.loads(capsys.readouterr().out)) == without_timing(first)


def test_out_writes_the_document_to_a_file(config_file, tmp_path, capsys):
    out = tmp_path / "results.json"
    assert main([str(config_file), "--rounds", "1000", "--seed", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["rounds_asked"] == 1000


def test_progress_asks_for_the_bar_on_stderr(config_file, capsys):
    assert main([str(config_file), "--rounds", "1000", "--seed", "1", "--progress"]) == 0
    assert "1,000 / 1,000 rounds" in capsys.readouterr().err


def test_a_seed_is_drawn_and_reported_when_none_is_given(config_file, capsys):
    assert main([str(config_file), "--rounds", "1000"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out)["seed"], int)


def test_a_bad_config_prints_its_problems_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**CONFIG, "num_rounds": "many", "players": [{"bankroll": "lots"}]}))
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "num_rounds" in err and "players[0].bankroll" in err


@pytest.mark.parametrize(
    "flag, value",
    [("--rounds", "0"), ("--rounds", str(10**10 + 1)), ("--seed", "-1"), ("--seed", str(2**63))],
)
def test_a_round_count_or_seed_out_of_range_exits_2_naming_the_flag(
    config_file, capsys, flag, value
):
    assert main([str(config_file), flag, value]) == 2
    assert capsys.readouterr().err.startswith(f"{flag}: must be ")


def test_the_bar_ends_its_line_when_every_player_goes_broke_early(tmp_path, capsys):
    broke = tmp_path / "broke.json"
    broke.write_text(
        json.dumps({**CONFIG, "seed": 3, "players": [{**CONFIG["players"][0], "bankroll": 30}]})
    )
    assert main([str(broke), "--progress"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["stop_reason"] == "all_players_broke"
    assert captured.err.endswith(" M/s\n")


def test_a_run_too_short_for_any_spread_reports_null_n0_and_score(config_file, capsys):
    # Two rounds that net the same have no variance: N0 and SCORE are then undefined
    # (this used to divide by zero). Some of these seeds give two equal rounds.
    equal = 0
    for seed in range(20):
        assert main([str(config_file), "--rounds", "2", "--seed", str(seed)]) == 0
        player = json.loads(capsys.readouterr().out)["players"][0]
        if player["sd_per_round"] == 0:
            equal += 1
            assert player["n0"] is None and player["score"] is None
    assert equal > 0


def test_a_file_that_is_not_json_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main([str(bad)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_warm_up_compiles_the_kernels_and_exits_0(capsys):
    assert main(["--warm-up"]) == 0
    err = capsys.readouterr().err
    # The round loops, the "auto" solvers and the index generator's kernel: a worker
    # warms up with this, so no job pays for a compile.
    assert err.startswith("kernel ready") and '"auto" solvers ready' in err
    assert "index kernel ready" in err


def test_no_config_and_no_warm_up_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
