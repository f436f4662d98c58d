"""/api/profiles/ and /api/profiles/<id>/: the caller's own saved profiles, checked by the
engine's normaliser, and the names a config resolves against."""

from __future__ import annotations

import pytest

from simulator.models import Profile, SimulationJob

CASINO = {"parent": "master_casino", "deck_count": 2, "hit_on_soft_17": True}


@pytest.fixture
def alice_casino(alice):
    return Profile.objects.create(
        owner=alice, profile_type="casino", name="my casino", data=dict(CASINO)
    )


def _create(client, **body):
    return client.post("/api/profiles/", body, format="json")


class TestCreate:
    def test_it_returns_201_with_the_profile_and_its_location(self, alice_client):
        response = _create(alice_client, profile_type="casino", name="my casino", data=CASINO)
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["profile_type"] == "casino" and body["name"] == "my casino"
        assert body["data"] == CASINO
        assert body["created_at"] and body["updated_at"]
        assert response["Location"] == f"/api/profiles/{body['id']}/"

    def test_bad_data_names_the_field_under_data(self, alice_client):
        response = _create(alice_client, profile_type="casino", name="c", data={"deck_count": 99})
        assert response.status_code == 400
        paths = [e["path"] for e in response.json()["errors"]]
        assert "data.deck_count" in paths, response.json()
        assert Profile.objects.count() == 0

    @pytest.mark.parametrize(
        ("profile_type", "data", "path"),
        [
            ("player", {"bankroll": -5}, "data.bankroll"),
            ("playing_strategy", {"strategy": {"hard": {"x": "H"}}}, "data.strategy"),
            ("betting_strategy", {"min_bet": "ten"}, "data.min_bet"),
            ("counting_system", {"tags": {"x": 1}}, "data.tags"),
        ],
    )
    def test_every_type_is_checked_by_the_engine(self, alice_client, profile_type, data, path):
        response = _create(alice_client, profile_type=profile_type, name="p", data=data)
        assert response.status_code == 400
        paths = [e["path"] for e in response.json()["errors"]]
        assert any(p.startswith(path) for p in paths), response.json()

    def test_an_unknown_type_is_a_400_naming_profile_type(self, alice_client):
        response = _create(alice_client, profile_type="table", name="p", data={})
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["profile_type"]

    def test_a_missing_field_is_named(self, alice_client):
        response = _create(alice_client, profile_type="casino", data={})
        assert response.status_code == 400
        assert {"path": "name", "reason": "required"} in response.json()["errors"]

    def test_a_duplicate_type_and_name_is_a_400_naming_name(self, alice_client, alice_casino):
        response = _create(alice_client, profile_type="casino", name="my casino", data=CASINO)
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["name"]
        assert Profile.objects.count() == 1

    def test_the_same_name_for_another_type_or_user_is_fine(
        self, alice_client, bob_client, alice_casino
    ):
        player = _create(alice_client, profile_type="player", name="my casino", data={})
        assert player.status_code == 201, player.json()
        bobs = _create(bob_client, profile_type="casino", name="my casino", data=CASINO)
        assert bobs.status_code == 201, bobs.json()

    @pytest.mark.parametrize("name", ['""', '"' + "x" * 101 + '"', r'"a\u0000b"', r'"\ud800"'])
    def test_a_bad_name_is_a_400(self, alice_client, name):
        # Written as JSON text: the test client could not encode a lone surrogate itself.
        body = '{"profile_type": "casino", "name": ' + name + ', "data": {}}'
        response = alice_client.post("/api/profiles/", body, content_type="application/json")
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["name"]

    def test_without_a_token_it_gets_401(self, anon_client):
        response = _create(anon_client, profile_type="casino", name="c", data=CASINO)
        assert response.status_code == 401


class TestList:
    def test_alice_sees_her_profiles(self, alice_client, alice_casino):
        body = alice_client.get("/api/profiles/").json()
        assert body["count"] == 1
        assert body["results"][0]["id"] == alice_casino.id

    def test_it_filters_by_profile_type(self, alice_client, alice, alice_casino):
        Profile.objects.create(owner=alice, profile_type="player", name="p", data={})
        body = alice_client.get("/api/profiles/?profile_type=player").json()
        assert [row["profile_type"] for row in body["results"]] == ["player"]

    def test_an_unknown_profile_type_filter_is_a_400_naming_it(self, alice_client):
        response = alice_client.get("/api/profiles/?profile_type=table")
        assert response.status_code == 400
        (problem,) = response.json()["errors"]
        assert problem["path"] == "profile_type" and "table" in problem["reason"]

    def test_bob_and_charlie_never_see_alices(self, bob_client, charlie_client, alice_casino):
        for client in (bob_client, charlie_client):
            assert client.get("/api/profiles/").json()["count"] == 0

    def test_without_a_token_it_gets_401(self, anon_client):
        assert anon_client.get("/api/profiles/").status_code == 401


class TestDetail:
    def test_alice_reads_her_profile(self, alice_client, alice_casino):
        body = alice_client.get(f"/api/profiles/{alice_casino.id}/").json()
        assert body["name"] == "my casino" and body["data"] == CASINO

    def test_put_replaces_it(self, alice_client, alice_casino):
        response = alice_client.put(
            f"/api/profiles/{alice_casino.id}/",
            {"profile_type": "casino", "name": "renamed", "data": {"deck_count": 1}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        alice_casino.refresh_from_db()
        assert alice_casino.name == "renamed" and alice_casino.data == {"deck_count": 1}

    def test_put_needs_every_field(self, alice_client, alice_casino):
        response = alice_client.put(
            f"/api/profiles/{alice_casino.id}/", {"name": "x"}, format="json"
        )
        assert response.status_code == 400
        assert {e["path"] for e in response.json()["errors"]} == {"profile_type", "data"}

    def test_patch_changes_some_fields(self, alice_client, alice_casino):
        response = alice_client.patch(
            f"/api/profiles/{alice_casino.id}/", {"data": {"deck_count": 8}}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["name"] == "my casino"
        assert response.json()["data"] == {"deck_count": 8}

    def test_patch_with_bad_data_changes_nothing(self, alice_client, alice_casino):
        response = alice_client.patch(
            f"/api/profiles/{alice_casino.id}/", {"data": {"deck_count": 80}}, format="json"
        )
        assert response.status_code == 400
        alice_casino.refresh_from_db()
        assert alice_casino.data == CASINO

    def test_renaming_onto_another_profile_is_a_400_naming_name(
        self, alice_client, alice, alice_casino
    ):
        other = Profile.objects.create(owner=alice, profile_type="casino", name="b", data={})
        response = alice_client.patch(
            f"/api/profiles/{other.id}/", {"name": "my casino"}, format="json"
        )
        assert response.status_code == 400
        assert [e["path"] for e in response.json()["errors"]] == ["name"]

    def test_delete_removes_it(self, alice_client, alice_casino):
        assert alice_client.delete(f"/api/profiles/{alice_casino.id}/").status_code == 204
        assert not Profile.objects.filter(id=alice_casino.id).exists()

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_bob_and_charlie_get_404(self, bob_client, charlie_client, alice_casino, method):
        for client in (bob_client, charlie_client):
            response = getattr(client, method)(
                f"/api/profiles/{alice_casino.id}/",
                {"profile_type": "casino", "name": "mine now", "data": {}},
                format="json",
            )
            assert response.status_code == 404
        alice_casino.refresh_from_db()
        assert alice_casino.name == "my casino"

    def test_an_id_past_any_integer_is_a_404(self, alice_client):
        assert alice_client.get(f"/api/profiles/{10**30}/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_casino):
        assert anon_client.get(f"/api/profiles/{alice_casino.id}/").status_code == 401


class TestCycles:
    """A save that would close a cycle of profiles naming each other is refused, checked
    against the profiles as they will be once it is saved, whichever way it is made."""

    @pytest.fixture
    def a_and_b(self, alice_client):
        # b names a; a names a shipped casino: no cycle yet.
        a = _create(
            alice_client, profile_type="casino", name="a", data={"parent": "master_casino"}
        ).json()
        b = _create(alice_client, profile_type="casino", name="b", data={"parent": "a"}).json()
        return a, b

    def _assert_cycle_refused(self, response, stored: Profile, data: dict) -> None:
        assert response.status_code == 400, response.json()
        errors = response.json()["errors"]
        assert any(
            e["path"].startswith("data.parent") and "profile cycle" in e["reason"] for e in errors
        ), errors
        stored.refresh_from_db()
        assert stored.data == data  # nothing written

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_an_edit_that_names_back_is_a_400_naming_the_path(self, alice_client, a_and_b, method):
        a, _ = a_and_b
        body = {"data": {"parent": "b"}}
        if method == "put":
            body.update(profile_type="casino", name="a")
        response = getattr(alice_client, method)(f"/api/profiles/{a['id']}/", body, format="json")
        self._assert_cycle_refused(response, Profile.objects.get(id=a["id"]), a["data"])

    def test_an_edit_that_names_itself_is_a_400(self, alice_client, a_and_b):
        a, _ = a_and_b
        response = alice_client.patch(
            f"/api/profiles/{a['id']}/", {"data": {"parent": "a"}}, format="json"
        )
        self._assert_cycle_refused(response, Profile.objects.get(id=a["id"]), a["data"])

    def test_a_rename_that_closes_a_cycle_is_a_400(self, alice_client, a_and_b):
        # With a gone, b names nothing saved; c renamed to "a" and naming b would make
        # a -> b -> a (the stored c is still "c", which names nothing).
        a, _ = a_and_b
        alice_client.delete(f"/api/profiles/{a['id']}/")
        c = _create(
            alice_client, profile_type="casino", name="c", data={"parent": "master_casino"}
        ).json()
        response = alice_client.patch(
            f"/api/profiles/{c['id']}/", {"name": "a", "data": {"parent": "b"}}, format="json"
        )
        self._assert_cycle_refused(
            response, Profile.objects.get(id=c["id"]), {"parent": "master_casino"}
        )

    def test_a_new_profile_shadowing_a_default_cannot_close_a_cycle(self, alice_client):
        # x names the shipped master_casino; a saved "master_casino" naming x would
        # shadow it and close master_casino -> x -> master_casino.
        assert (
            _create(
                alice_client, profile_type="casino", name="x", data={"parent": "master_casino"}
            ).status_code
            == 201
        )
        response = _create(
            alice_client, profile_type="casino", name="master_casino", data={"parent": "x"}
        )
        assert response.status_code == 400
        assert "profile cycle" in response.json()["errors"][0]["reason"]
        assert not Profile.objects.filter(name="master_casino").exists()

    def test_a_job_can_still_name_each_profile(self, alice_client, a_and_b, master_config):
        a, _ = a_and_b
        alice_client.patch(f"/api/profiles/{a['id']}/", {"data": {"parent": "b"}}, format="json")
        for name in ("a", "b"):
            config = {**master_config, "casino": name}
            assert alice_client.post("/api/validate/", config, format="json").status_code == 200

    def test_an_edit_that_breaks_no_cycle_is_saved(self, alice_client, a_and_b):
        a, _ = a_and_b
        response = alice_client.patch(
            f"/api/profiles/{a['id']}/", {"data": {"parent": "vegas_6d_s17_das"}}, format="json"
        )
        assert response.status_code == 200, response.json()


class TestResolution:
    """A config names a profile; the caller's own wins over the shipped default."""

    def _submit(self, client, master_config, casino):
        config = {**master_config, "casino": casino}
        response = client.post("/api/jobs/", config, format="json")
        assert response.status_code == 201, response.json()
        return SimulationJob.objects.get(id=response.json()["job_id"])

    def test_a_config_naming_alices_profile_runs_with_alices_data(
        self, alice_client, alice_casino, master_config
    ):
        job = self._submit(alice_client, master_config, "my casino")
        assert job.request_data["casino"] == "my casino"  # as sent
        assert job.resolved_config["casino"]["deck_count"] == 2  # what runs
        assert job.resolved_config["casino"]["hit_on_soft_17"] is True

    def test_bob_naming_alices_profile_never_gets_her_data(
        self, bob_client, alice_casino, master_config
    ):
        config = {**master_config, "casino": "my casino"}
        response = bob_client.post("/api/jobs/", config, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "casino"
        assert not SimulationJob.objects.exists()

    def test_bob_naming_a_shipped_default_alice_shadowed_gets_the_default(
        self, alice, bob_client, master_config
    ):
        Profile.objects.create(
            owner=alice, profile_type="casino", name="master_casino", data={"deck_count": 1}
        )
        job = self._submit(bob_client, master_config, "master_casino")
        assert job.resolved_config["casino"]["deck_count"] != 1

    def test_alices_own_profile_shadows_the_shipped_default(
        self, alice, alice_client, master_config
    ):
        Profile.objects.create(
            owner=alice, profile_type="casino", name="master_casino", data={"deck_count": 1}
        )
        job = self._submit(alice_client, master_config, "master_casino")
        assert job.resolved_config["casino"]["deck_count"] == 1

    def test_editing_the_profile_later_never_changes_the_job(
        self, alice_client, alice_casino, master_config
    ):
        job = self._submit(alice_client, master_config, "my casino")
        alice_client.patch(
            f"/api/profiles/{alice_casino.id}/", {"data": {"deck_count": 8}}, format="json"
        )
        alice_client.delete(f"/api/profiles/{alice_casino.id}/")
        job.refresh_from_db()
        assert job.resolved_config["casino"]["deck_count"] == 2

    def test_a_saved_player_may_name_a_saved_strategy(self, alice_client, master_config):
        strategy = {"min_bet": 25}
        assert (
            _create(alice_client, profile_type="betting_strategy", name="bet25", data=strategy)
        ).status_code == 201
        player = _create(
            alice_client,
            profile_type="player",
            name="me",
            data={"bankroll": 5000, "betting_strategy": "bet25"},
        )
        assert player.status_code == 201, player.json()
        config = {**master_config, "players": [{"profile": "me"}]}
        response = alice_client.post("/api/jobs/", config, format="json")
        assert response.status_code == 201, response.json()
        resolved = SimulationJob.objects.get(id=response.json()["job_id"]).resolved_config
        assert resolved["players"][0]["betting_strategy"]["min_bet"] == 25
        assert resolved["players"][0]["bankroll"] == 5000
