"""/dashboard/login/: one error for every refused login, so the page never tells a right
password from a wrong one; failures counted by the password guard, and past its limits a
429 page saying how long to wait."""

from __future__ import annotations

import re

LOGIN = "/dashboard/login/"


def _errors(response) -> list[str]:
    """The form's errors as the page shows them."""
    return re.findall(r"<li>([^<]*)</li>", response.content.decode().split('class="problems"')[1])


def _page(response, username: str) -> str:
    page = response.content.decode().replace(username, "")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


def _log_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


class TestOneErrorForEveryRefusal:
    def test_a_wrong_password_an_unknown_user_and_a_user_not_staff_read_the_same(
        self, client, alice, staff
    ):
        wrong = _log_in(client, "stella", "guess")
        unknown = _log_in(client, "nobody", "guess")
        not_staff = _log_in(client, "alice", "alice-password-123")  # her right password
        assert wrong.status_code == unknown.status_code == not_staff.status_code == 200
        assert _errors(wrong) == _errors(unknown) == _errors(not_staff)
        assert "staff account" in _errors(wrong)[0]
        # The pages differ in nothing but the username typed back into the form (and the
        # CSRF token and the Content-Security-Policy nonce, drawn afresh for every page).
        assert _page(wrong, "stella") == _page(not_staff, "alice")
        assert "_auth_user_id" not in client.session

    def test_an_inactive_staff_users_right_password_reads_the_same(self, client, staff):
        wrong = _log_in(client, "stella", "guess")
        staff.is_active = False
        staff.save()
        inactive = _log_in(client, "stella", "stella-password-123")
        assert _errors(inactive) == _errors(wrong)


class TestGuessing:
    def test_past_the_limit_it_is_a_429_page_saying_how_long_to_wait(
        self, client, staff, login_limits, login_clock
    ):
        login_limits(address="3/minute")
        assert [_log_in(client, "stella", "guess").status_code for _ in range(3)] == [200] * 3
        refused = _log_in(client, "stella", "guess")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "15"  # the clock stands 45 s into its minute
        assert refused["Content-Type"].startswith("text/html")
        page = refused.content.decode()
        assert "Wait 15 seconds" in page
        assert "THROTTLE_LOGIN_ADDRESS_RATE" in page
        assert 'href="/dashboard/login/"' in page

    def test_a_right_password_past_the_limit_is_refused_without_being_checked(
        self, client, staff, login_limits, password_checks
    ):
        login_limits(address="3/minute")
        for _ in range(3):
            _log_in(client, "stella", "guess")
        assert _log_in(client, "stella", "stella-password-123").status_code == 429
        assert len(password_checks) == 3
        assert "_auth_user_id" not in client.session

    def test_past_the_username_limit_another_address_is_refused_too(
        self, client, staff, login_limits, login_clock
    ):
        login_limits(username="2/hour")
        _log_in(client, "stella", "guess", "10.0.0.1")
        _log_in(client, "stella", "guess", "10.0.0.2")
        refused = _log_in(client, "stella", "stella-password-123", "10.0.0.3")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "1755"
        assert "THROTTLE_LOGIN_USERNAME_RATE" in refused.content.decode()

    def test_the_right_password_of_a_user_not_staff_counts_as_a_failure(
        self, client, alice, staff, login_limits
    ):
        # Had it been given back, alice's right password would be the one that never
        # brings the 429 nearer: the count would be the oracle the message no longer is.
        login_limits(address="2/minute")
        for _ in range(2):
            assert _log_in(client, "alice", "alice-password-123").status_code == 200
        assert _log_in(client, "stella", "stella-password-123").status_code == 429

    def test_a_staff_login_gives_its_place_back(self, client, staff, login_limits, password_checks):
        login_limits(address="2/minute", username="2/hour")
        for _ in range(5):
            response = _log_in(client, "stella", "stella-password-123")
            assert response.status_code == 302 and response["Location"] == "/dashboard/"
            client.logout()
        assert len(password_checks) == 5
        assert _log_in(client, "stella", "guess").status_code == 200
        assert _log_in(client, "stella", "guess").status_code == 200
        assert _log_in(client, "stella", "stella-password-123").status_code == 429
