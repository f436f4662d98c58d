"""POST /api/token/: username and password in, the user's API token out."""

import pytest
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


RIGHT = {"username": "alice", "password": "alice-password-123"}
WRONG = {"username": "alice", "password": "guess"}


def _post(client, body: dict, address: str = "10.0.0.1"):
    return client.post("/api/token/", body, format="json", REMOTE_ADDR=address)


class TestGuessing:
    """Failed password checks are counted per client address and per username by the
    password guard; past either limit every attempt is a 429 before any hashing."""

    def test_past_the_address_limit_it_is_a_429_with_retry_after(
        self, anon_client, alice, login_limits, login_clock
    ):
        login_limits(address="3/minute")
        assert [_post(anon_client, WRONG).status_code for _ in range(3)] == [400] * 3
        refused = _post(anon_client, WRONG)
        assert refused.status_code == 429
        assert refused["Content-Type"] == "application/json"
        # The clock stands 45 s into its minute: the window frees in 15 s.
        assert refused["Retry-After"] == "15"
        assert "THROTTLE_LOGIN_ADDRESS_RATE" in refused.json()["detail"]
        # Another address is not refused.
        assert _post(anon_client, WRONG, address="10.0.0.2").status_code == 400

    def test_a_right_password_past_the_limit_is_refused_without_being_checked(
        self, anon_client, alice, login_limits, password_checks
    ):
        login_limits(address="3/minute")
        for _ in range(3):
            _post(anon_client, WRONG)
        assert len(password_checks) == 3
        assert _post(anon_client, RIGHT).status_code == 429
        assert len(password_checks) == 3  # nothing hashed
        assert not Token.objects.filter(user=alice).exists()

    def test_past_the_username_limit_another_address_is_refused_too(
        self, anon_client, alice, bob, login_limits, login_clock, password_checks
    ):
        login_limits(username="2/hour")
        assert _post(anon_client, WRONG, "10.0.0.1").status_code == 400
        assert _post(anon_client, WRONG, "10.0.0.2").status_code == 400
        refused = _post(anon_client, RIGHT, "10.0.0.3")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "1755"  # 1,845 s into the hour
        assert "THROTTLE_LOGIN_USERNAME_RATE" in refused.json()["detail"]
        assert password_checks == ["alice", "alice"]
        # Counted per username: bob, from the same address, is not refused.
        bob_right = {"username": "bob", "password": "bob-password-123"}
        assert _post(anon_client, bob_right, "10.0.0.3").status_code == 200

    def test_an_unknown_username_counts_like_a_known_one(self, anon_client, db, login_limits):
        # Were only existing users counted, the 429 would say which usernames exist.
        login_limits(username="2/hour")
        nobody = {"username": "nobody", "password": "guess"}
        codes = [_post(anon_client, nobody, f"10.0.0.{i}").status_code for i in range(3)]
        assert codes == [400, 400, 429]

    def test_one_spelling_of_a_username_is_not_a_fresh_count(
        self, anon_client, alice, login_limits
    ):
        login_limits(username="2/hour")
        for name in ("alice", "ALICE"):
            _post(anon_client, {"username": name, "password": "guess"})
        assert _post(anon_client, {"username": "Alice", "password": "guess"}).status_code == 429

    def test_a_token_issued_gives_its_place_back(
        self, anon_client, alice, login_limits, password_checks
    ):
        login_limits(address="2/minute", username="2/hour")
        assert [_post(anon_client, RIGHT).status_code for _ in range(5)] == [200] * 5
        # A success gives back only its own place, never the failures before it.
        assert _post(anon_client, WRONG).status_code == 400
        assert _post(anon_client, RIGHT).status_code == 200
        assert _post(anon_client, WRONG).status_code == 400
        assert _post(anon_client, RIGHT).status_code == 429
        assert len(password_checks) == 8

    def test_an_inactive_users_right_password_counts_as_a_failure(
        self, anon_client, alice, login_limits
    ):
        alice.is_active = False
        alice.save()
        login_limits(address="2/minute")
        codes = [_post(anon_client, RIGHT).status_code for _ in range(3)]
        assert codes == [400, 400, 429]

    def test_an_ipv6_client_is_counted_by_its_64(self, anon_client, alice, login_limits):
        # One client holds a whole /64: each of its addresses is not a fresh count.
        login_limits(address="2/minute")
        _post(anon_client, WRONG, "2001:db8:1:2::1")
        _post(anon_client, WRONG, "2001:db8:1:2::ffff")
        assert _post(anon_client, WRONG, "2001:db8:1:2:abcd::7").status_code == 429
        assert _post(anon_client, WRONG, "2001:db8:1:3::1").status_code == 400

    def test_the_address_is_the_one_num_proxies_names(
        self, anon_client, alice, login_limits, settings
    ):
        # Behind one proxy the client is the last address in X-Forwarded-For (the one the
        # proxy appended), whatever the client wrote before it; REMOTE_ADDR is the proxy.
        login_limits(address="2/minute")
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

        def guess(forwarded_for: str) -> int:
            return anon_client.post(
                "/api/token/", WRONG, format="json", HTTP_X_FORWARDED_FOR=forwarded_for
            ).status_code

        assert guess("203.0.113.1, 198.51.100.7") == 400
        assert guess("203.0.113.2, 198.51.100.7") == 400
        assert guess("198.51.100.8") == 400  # another client behind the same proxy
        assert guess("203.0.113.3, 198.51.100.7") == 429


class TestUnreadableBodies:
    """A body no parser reads is a 400 in the API's shape, never a 500, and counts as a
    failed attempt: it is no way around the limit on wrong passwords."""

    NESTED = '{"username": ' + "[" * 100_000 + "]" * 100_000 + ', "password": "x"}'

    @pytest.mark.parametrize("body", [NESTED, "[" * 5_000 + "]" * 5_000, '{"username": 1e999'])
    def test_it_is_a_400_naming_the_body(self, anon_client, body):
        response = anon_client.post("/api/token/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "(body)"

    def test_each_counts_against_the_address_limit(self, anon_client, alice, login_limits):
        login_limits(address="3/minute")
        for _ in range(3):
            response = anon_client.post("/api/token/", self.NESTED, content_type="application/json")
            assert response.status_code == 400
        right = {"username": "alice", "password": "alice-password-123"}
        response = anon_client.post("/api/token/", right, format="json")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
