"""`jost` against the live stack (Gunicorn from the Procfile and a real Celery worker):
the path from login to results, every command's output, exit codes, Ctrl-C during
--wait, --local giving the service's result for the same seed, and bob kept out of
alice's jobs."""

from __future__ import annotations

import csv
import io
import json
import stat
import time

from simulator.models import JobStatus, SimulationJob
from tests.client.conftest import PASSWORD, Jost, interrupt, write_json
from tests.helpers import load_master_config
from tests.integration.processes import wait_until

JOB_TIMEOUT = 300  # the worker's first job may compile the engine


def test_login_stores_the_token_with_mode_600_and_whoami_names_the_user(users, web, tmp_path):
    users("alice")
    jost = Jost(tmp_path, web)
    ran = jost("login", web, "--username", "alice", stdin=PASSWORD.format("alice"))
    assert ran.code == 0, ran
    stored = tmp_path / "jost" / "config.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["username"] == "alice"

    ran = jost("whoami", "--json")
    assert ran.code == 0, ran
    assert ran.json()["username"] == "alice" and ran.json()["url"] == web


def test_jost_url_and_jost_token_need_no_login_and_override_the_stored_one(users, web, tmp_path):
    # A script's way in: the environment, no config file. They also win over a stored
    # login (bob's here), so one machine can act for another user.
    from rest_framework.authtoken.models import Token

    from simulator.services.submit import submit_job

    alice = users("alice")
    alice_token = Token.objects.get_or_create(user=alice)[0].key
    job = submit_job(alice, load_master_config(100))
    users("bob")
    stored = Jost(tmp_path, web)
    assert stored.login("bob").code == 0
    env = Jost(tmp_path, web, JOST_URL=web, JOST_TOKEN=alice_token)
    ran = env("whoami", "--json")
    assert ran.code == 0, ran
    # alice's jobs, and bob's stored name not claimed for her token.
    assert ran.json()["token_from"] == "JOST_TOKEN" and ran.json()["jobs"] == 1
    assert ran.json()["username"] is None
    assert [j["job_id"] for j in env("jobs", "--json").json()] == [str(job.id)]
    assert stored("jobs", "--json").json() == []  # bob's own login, unchanged
    (tmp_path / "nobody").mkdir()
    fresh = Jost(tmp_path / "nobody", None, JOST_URL=web, JOST_TOKEN=alice_token)
    assert [j["job_id"] for j in fresh("jobs", "--json").json()] == [str(job.id)]
    bad = Jost(tmp_path / "nobody", None, JOST_URL=web, JOST_TOKEN="not-a-token")
    ran = bad("whoami")
    assert ran.code == 1 and ran.err.startswith("401: "), ran


def test_a_wrong_password_is_an_api_error_and_nothing_is_stored(users, web, tmp_path):
    users("alice")
    jost = Jost(tmp_path, web)
    ran = jost("login", web, "--username", "alice", stdin="not-the-password")
    assert ran.code == 1 and ran.err.startswith("400: "), ran
    assert not (tmp_path / "jost" / "config.json").exists()


def test_no_login_is_bad_usage(tmp_path):
    ran = Jost(tmp_path, None)("jobs")
    assert ran.code == 2 and "jost login URL" in ran.err, ran


def test_submit_wait_draws_progress_then_the_summary_and_results_read_it_back(
    users, jost_as, celery_worker, tmp_path
):
    users("alice")
    alice = jost_as("alice")
    config = write_json(tmp_path / "run.json", {**load_master_config(20_000), "seed": 11})
    ran = alice("submit", config, "--wait", "--interval", "0.2")
    assert ran.code == 0, ran
    assert "Submitted job" in ran.err and "rounds/s" in ran.err and "left" in ran.err
    assert "20,000 / 20,000 rounds" in ran.err
    assert "COMPLETE" in ran.out and "edge [95%]" in ran.out and "master_player" in ran.out
    job = SimulationJob.objects.get()
    assert job.status == JobStatus.COMPLETE

    table = alice("results", str(job.id))
    assert table.code == 0 and "N0" in table.out and "SCORE" in table.out, table
    assert "20,000 of 20,000 rounds, seed 11" in table.out
    doc = json.loads(alice("results", str(job.id), "--format", "json").out)
    assert doc["rounds_played"] == 20_000 and doc["seed"] == 11
    rows = list(csv.DictReader(io.StringIO(alice("results", str(job.id), "--format", "csv").out)))
    assert rows and {"seat", "true_count", "rounds", "ev_per_round"} <= set(rows[0])
    assert sum(int(r["rounds"]) for r in rows) == 20_000

    listing = alice("jobs", "--status", "COMPLETE", "--json")
    assert [j["job_id"] for j in listing.json()] == [str(job.id)]
    assert alice("jobs", "--status", "FAILED", "--json").json() == []
    assert str(job.id) in alice("jobs").out


def test_a_bad_config_prints_each_problem_with_its_path(users, jost_as, tmp_path):
    users("alice")
    alice = jost_as("alice")
    bad = {**load_master_config(100), "num_rounds": "lots"}
    bad["players"][0]["profile"] = "nobody_such"
    path = write_json(tmp_path / "bad.json", bad)
    ran = alice("validate", path)
    assert ran.code == 1, ran
    assert ran.err.startswith("400: The simulation config is invalid.")
    assert "  num_rounds: " in ran.err and "  players[0].profile: " in ran.err
    ran = alice("submit", path, "--json")
    assert ran.code == 1
    paths = {e["path"] for e in ran.json()["errors"]}
    assert {"num_rounds", "players[0].profile"} <= paths
    assert not SimulationJob.objects.exists()
    ok = alice("validate", write_json(tmp_path / "ok.json", load_master_config(100)))
    assert ok.code == 0 and "valid" in ok.out


def test_ctrl_c_during_wait_leaves_the_job_running_and_says_how_to_resume(
    users, jost_as, celery_worker, tmp_path
):
    users("alice")
    alice = jost_as("alice")
    config = write_json(tmp_path / "long.json", load_master_config(200_000_000))
    proc = alice.popen("submit", config, "--wait", "--interval", "0.2")
    try:
        wait_until(
            lambda: SimulationJob.objects.filter(status=JobStatus.RUNNING).exists(),
            JOB_TIMEOUT,
            "the job to run",
        )
        time.sleep(0.5)  # a poll or two drawn
        interrupt(proc)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    job = SimulationJob.objects.get()
    assert proc.returncode == 130, err
    assert f"Resume with: jost watch {job.id}" in err
    time.sleep(0.5)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    # Then cancelled with the CLI, which frees the worker for the next test.
    ran = alice("cancel", str(job.id), "--json")
    assert ran.code == 0 and ran.json()["status"] == "CANCELLED", ran
    watched = alice("watch", str(job.id))
    assert watched.code == 3 and "CANCELLED" in watched.out, watched
    results = alice("results", str(job.id))
    assert results.code == 3


def test_bob_cannot_read_or_cancel_alices_job(users, jost_as, tmp_path):
    from simulator.services.submit import submit_job

    alice_user = users("alice")
    users("bob")
    job = submit_job(alice_user, load_master_config(100))
    bob = jost_as("bob")
    for command in ("results", "status", "watch", "cancel"):
        ran = bob(command, str(job.id))
        assert ran.code == 1 and ran.err.startswith("404: "), (command, ran)
    assert bob("jobs", "--json").json() == []


def test_local_run_gives_the_services_result_for_the_same_seed(
    users, jost_as, celery_worker, tmp_path, without_timing
):
    users("alice")
    alice = jost_as("alice")
    config = write_json(tmp_path / "seeded.json", {**load_master_config(5_000), "seed": 2024})
    served = alice("submit", config, "--wait", "--json", "--interval", "0.2")
    assert served.code == 0, served
    local = alice("run", config, "--local", "--json")
    assert local.code == 0, local
    assert "5,000 / 5,000 rounds" in local.err
    assert without_timing(local.json()) == without_timing(served.json()["results"])


def test_profiles_push_list_show_and_pull_round_trip(users, jost_as, tmp_path):
    users("alice")
    alice = jost_as("alice")
    casino = {"profile_type": "casino", "name": "my_s17", "data": {"hit_on_soft_17": False}}
    pushed = alice("profiles", "push", write_json(tmp_path / "casino.json", casino))
    assert pushed.code == 0 and pushed.out.startswith("Created casino my_s17"), pushed
    casino["data"] = {"hit_on_soft_17": True}
    again = alice("profiles", "push", write_json(tmp_path / "casino.json", casino))
    assert again.code == 0 and again.out.startswith("Updated casino my_s17"), again
    listing = alice("profiles", "list", "--json").json()
    assert [(p["profile_type"], p["name"]) for p in listing] == [("casino", "my_s17")]
    pulled = alice("profiles", "pull", "my_s17", "--out", str(tmp_path / "out.json"))
    assert pulled.code == 0, pulled
    assert json.loads((tmp_path / "out.json").read_text()) == casino
    shown = alice("profiles", "show", "my_s17")
    assert json.loads(shown.out)["data"] == {"hit_on_soft_17": True}
    missing = alice("profiles", "show", "nothing")
    assert missing.code == 2


def test_engine_defaults_and_risk_answer_as_json(users, jost_as):
    users("alice")
    alice = jost_as("alice")
    engine, defaults = alice("engine"), alice("defaults")
    assert engine.code == 0 and defaults.code == 0
    assert json.loads(engine.out) and json.loads(defaults.out)
    risk = alice("risk", "--ev", "0.01", "--sd", "1.15", "--bankroll", "100", "--json")
    assert risk.code == 0, risk
    assert 0 < risk.json()["risk_of_ruin"] < 1
    bad = alice("risk", "--ev", "0.01", "--sd", "-1", "--bankroll", "100")
    assert bad.code == 1 and "sd_per_round" in bad.err, bad


def test_compare_risk_and_optimal_bets_read_alices_completed_jobs(
    users, jost_as, celery_worker, tmp_path
):
    users("alice")
    alice = jost_as("alice")
    ids = []
    for seed in (1, 2):
        config = write_json(tmp_path / f"{seed}.json", {**load_master_config(2_000), "seed": seed})
        ran = alice("submit", config, "--wait", "--json", "--interval", "0.2")
        assert ran.code == 0, ran
        ids.append(ran.json()["job_id"])
    compared = alice("compare", *ids)
    assert compared.code == 0 and len(json.loads(compared.out)["jobs"]) == 2, compared
    table = alice("compare", *ids, "--format", "csv")
    assert table.code == 0 and ids[1] in table.out, table
    one = alice("compare", ids[0])
    assert one.code == 1 and "  jobs: " in one.err, one
    risk = alice("risk", "--job", ids[0], "--bankroll", "10000", "--json")
    assert risk.code == 0 and 0 <= risk.json()["risk_of_ruin"] <= 1, risk
    bets = alice(
        "optimal-bets",
        ids[0],
        "--bankroll",
        "10000",
        "--min-bet",
        "10",
        "--max-bet",
        "500",
        "--max-spread",
        "12",
        "--unit",
        "5",
        "--kelly-fraction",
        "0.5",
        "--json",
    )
    assert bets.code == 0 and bets.json()["ramp"], bets


def test_indices_wait_counts_shoes_and_prints_each_play(users, jost_as, celery_worker, tmp_path):
    users("alice")
    alice = jost_as("alice")
    request = {"casino": "master_casino", "plays": ["insurance"], "shoes": 300, "seed": 5}
    ran = alice("indices", write_json(tmp_path / "i.json", request), "--wait", "--interval", "0.2")
    assert ran.code == 0, ran
    assert "300 / 300 shoes" in ran.err and "Submitted index job" in ran.err
    assert "insurance" in ran.out and "rounded" in ran.out
    listing = alice("jobs", "--kind", "indices", "--json").json()
    assert [j["kind"] for j in listing] == ["indices"]
