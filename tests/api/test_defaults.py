"""GET /api/defaults/: every profile the engine ships, by kind and name."""

import jost_engine


class TestDefaults:
    def test_alice_gets_every_shipped_profile_by_kind_and_name(self, alice_client):
        response = alice_client.get("/api/defaults/")
        assert response.status_code == 200
        body = response.json()
        assert body == jost_engine.defaults()
        assert {
            "casinos",
            "players",
            "playing_strategies",
            "betting_strategies",
            "counting_systems",
            "simulations",
        } <= set(body)
        assert "master_casino" in body["casinos"] and "hilo" in body["counting_systems"]

    def test_the_betting_progressions_are_shipped_in_the_rule_form(self, alice_client):
        betting = alice_client.get("/api/defaults/").json()["betting_strategies"]
        presets = ["martingale", "paroli", "dalembert", "oscars_grind", "one_three_two_six"]
        for name in [*presets, "count_paroli"]:
            assert betting[name]["bet_rules"], name
        assert betting["paroli"]["bet_steps"] == [1, 2, 4]

    def test_a_shipped_simulation_submits_as_it_is_served(self, alice_client):
        simulation = alice_client.get("/api/defaults/").json()["simulations"]["master_simulation"]
        response = alice_client.post("/api/submit/", simulation, format="json")
        assert response.status_code == 202

    def test_the_spanish_21_casinos_are_served_and_a_spanish_job_submits(self, alice_client):
        casinos = alice_client.get("/api/defaults/").json()["casinos"]
        assert {"spanish21_6d_h17", "spanish21_6d_h17_redouble", "spanish21_8d_s17"} <= set(casinos)
        assert casinos["spanish21_8d_s17"]["deck"] == "spanish"
        job = {
            "casino": "spanish21_6d_h17",
            "num_rounds": 1000,
            "players": [{"playing_strategy": "perfect_h17_basic_strategy"}],
        }
        assert alice_client.post("/api/submit/", job, format="json").status_code == 202

    def test_a_spanish_job_with_auto_submits(self, alice_client):
        job = {"casino": "spanish21_6d_h17", "num_rounds": 1000, "players": [{}]}
        response = alice_client.post("/api/submit/", job, format="json")
        assert response.status_code == 202

    def test_the_spanish_21_strategy_is_served_with_its_rows_by_number_of_cards(self, alice_client):
        playing = alice_client.get("/api/defaults/").json()["playing_strategies"]
        chart = playing["spanish21_6d_h17_basic_strategy"]["strategy"]
        assert set(chart["more_cards"]) == {"3", "4", "5", "6", "7+"}
        assert chart["rescue"]["16"]["10"] == "R"

    def test_without_a_token_it_gets_401(self, anon_client, db):
        assert anon_client.get("/api/defaults/").status_code == 401
