"""POST /api/token/: username and password in, the user's API token out."""

from rest_framework.authtoken.models import Token


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
