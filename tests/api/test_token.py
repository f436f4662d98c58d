"""POST /api/token/: username and password in, the user's API token out."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle


class TestObtainToken:
    def test_it_returns_alices_token_for_her_password(self, anon_client, alice):
        response = anon_client.post(
            "/api/token/", {"username": "alice", "password": "alice-password-123"}, format="json"
        )
        assert response.status_code == 200
        assert response.json() == {"token": Token.objects.get(user=alice).key}

    def test_the_token_opens_the_api(self, anon_client, alice):
        token = anon_client.post(
            "/api/token/", {"username": "alice", "password": "alice-password-123"}, format="json"
        ).json()["token"]
        anon_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert anon_client.get("/api/jobs/").status_code == 200

    def test_a_wrong_password_gets_400_and_no_token(self, anon_client, alice):
        response = anon_client.post(
            "/api/token/", {"username": "alice", "password": "guess"}, format="json"
        )
        assert response.status_code == 400
        assert "token" not in response.json()
        assert not Token.objects.filter(user=alice).exists()

    def test_a_missing_field_is_named(self, anon_client):
        response = anon_client.post("/api/token/", {"username": "alice"}, format="json")
        assert response.status_code == 400
        assert "password" in response.json()

    def test_a_bad_token_gets_401(self, anon_client, alice):
        anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        assert anon_client.get("/api/jobs/").status_code == 401


class TestUnreadableBodies:
    """A body no parser reads is a 400 in the API's shape, never a 500, and counts as a
    failed attempt: it is no way around the limit on wrong passwords."""

    NESTED = '{"username": ' + "[" * 100_000 + "]" * 100_000 + ', "password": "x"}'

    @pytest.mark.parametrize("body", [NESTED, "[" * 5_000 + "]" * 5_000, '{"username": 1e999'])
    def test_it_is_a_400_naming_the_body(self, anon_client, body):
        response = anon_client.post("/api/token/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "(body)"

    def test_each_counts_against_the_failure_limit(self, anon_client, alice, monkeypatch):
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {**SimpleRateThrottle.THROTTLE_RATES, "token_failures": "3/minute"},
        )
        for _ in range(3):
            response = anon_client.post("/api/token/", self.NESTED, content_type="application/json")
            assert response.status_code == 400
        right = {"username": "alice", "password": "alice-password-123"}
        response = anon_client.post("/api/token/", right, format="json")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
