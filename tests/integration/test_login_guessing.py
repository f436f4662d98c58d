"""Password guessing against the Procfile's web process (two gunicorn workers counting in
one Redis, the shipped limits: 10 failures a minute per address, 20 an hour per username):
concurrent guesses through /dashboard/login/, /admin/login/ and /api/token/ get at most
the limit checked, and every refusal is a 429 with Retry-After."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.integration.helpers import start_web
from tests.integration.processes import stop_process

PER_ADDRESS = 10  # THROTTLE_LOGIN_ADDRESS_RATE's default, a minute
PER_USERNAME = 20  # THROTTLE_LOGIN_USERNAME_RATE's default, an hour
FORMS = {"dashboard": "/dashboard/login/", "admin": "/admin/login/"}
STAFF_PASSWORD = "stella-password-123"
ALICE_PASSWORD = "alice-password-123"


@pytest.fixture
def guarded_web(service_env, logs_dir) -> Iterator[str]:
    """Gunicorn from the Procfile's web line with its default two workers, behind one proxy
    (NUM_PROXIES=1: the client is the last X-Forwarded-For address, so a test can speak
    from many), counting under a cache prefix of its own: no other test's web process
    inherits these failures."""
    env = {k: v for k, v in service_env.items() if k != "WEB_CONCURRENCY"}
    env.update(
        NUM_PROXIES="1",
        CACHE_KEY_PREFIX=f"jost-login-guessing-{uuid.uuid4().hex}",
        # Plain HTTP here: the CSRF cookie must come back without TLS.
        CSRF_COOKIE_SECURE="false",
        SESSION_COOKIE_SECURE="false",
    )
    proc, base = start_web(env, logs_dir / "web-login-guessing.log")
    try:
        yield base
    finally:
        stop_process(proc)


def _make_user(django_user_model, username: str, password: str, *, is_staff: bool) -> None:
    """A user whose hash the web process can check: the tests' settings hash with MD5, which
    production settings do not accept (few iterations: nothing here resists cracking)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user = django_user_model(username=username, is_staff=is_staff)
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save()


@pytest.fixture
def users(transactional_db, django_user_model) -> None:
    _make_user(django_user_model, "stella", STAFF_PASSWORD, is_staff=True)
    _make_user(django_user_model, "alice", ALICE_PASSWORD, is_staff=False)


@dataclass
class Attempt:
    """One login ready to be sent: its form already fetched (CSRF cookie and token)."""

    where: str
    username: str
    password: str
    address: str
    session: requests.Session
    csrf: str = ""


@dataclass
class Answer:
    where: str
    status: int
    retry_after: str | None
    text: str


def _prepare(base: str, where: str, username: str, password: str, address: str) -> Attempt:
    session = requests.Session()
    attempt = Attempt(where, username, password, address, session)
    if where in FORMS:
        page = session.get(base + FORMS[where], timeout=10)
        assert page.status_code == 200, page.text[:300]
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, page.text[:300]
        attempt.csrf = found.group(1)
    return attempt


def _send(base: str, attempt: Attempt) -> Answer:
    headers = {"X-Forwarded-For": attempt.address}
    if attempt.where == "token":
        response = attempt.session.post(
            f"{base}/api/token/",
            json={"username": attempt.username, "password": attempt.password},
            headers=headers,
            timeout=60,
        )
    else:
        response = attempt.session.post(
            base + FORMS[attempt.where],
            data={
                "username": attempt.username,
                "password": attempt.password,
                "csrfmiddlewaretoken": attempt.csrf,
                "next": "/admin/" if attempt.where == "admin" else "/dashboard/",
            },
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )
    return Answer(
        attempt.where, response.status_code, response.headers.get("Retry-After"), response.text
    )


def _all_at_once(base: str, attempts: list[Attempt]) -> list[Answer]:
    barrier = threading.Barrier(len(attempts))
    answers: list[Answer] = []

    def run(attempt: Attempt) -> None:
        barrier.wait()
        answers.append(_send(base, attempt))

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(attempts), "a guess got no answer"
    return answers


def _assert_refused(answer: Answer, most: int) -> None:
    """A refusal: 429, Retry-After a whole number of seconds up to the window's length, and
    the body the endpoint speaks (JSON for the API, a page for the forms)."""
    assert answer.status == 429, (answer.where, answer.status, answer.text[:200])
    assert answer.retry_after is not None and answer.retry_after.isdigit(), answer
    assert 1 <= int(answer.retry_after) <= most
    if answer.where == "token":
        assert "THROTTLE_LOGIN_" in answer.text and '"detail"' in answer.text
    else:
        assert f"Wait {answer.retry_after} second" in answer.text


def _clear_of_window_end(period: int, margin: float = 30) -> None:
    """Start well inside the limit's window (the web process and this one share the
    machine's clock): a limit counts in fixed windows, and a burst across a window's end
    would rightly get twice the limit checked."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 1)


def test_guesses_from_one_address_get_exactly_the_limit_checked(guarded_web, users):
    places = ["dashboard", "admin", "token"]
    attempts = [
        _prepare(guarded_web, places[i % 3], "stella", f"guess-{i}", "198.51.100.1")
        for i in range(60)
    ]
    rights = [_prepare(guarded_web, w, "stella", STAFF_PASSWORD, "198.51.100.1") for w in places]
    fresh = _prepare(guarded_web, "dashboard", "stella", STAFF_PASSWORD, "198.51.100.2")
    _clear_of_window_end(60)
    answers = _all_at_once(guarded_web, attempts)
    checked = [a for a in answers if a.status != 429]
    # A checked guess is the form again with its error (200) or the token's 400.
    assert all(a.status == (400 if a.where == "token" else 200) for a in checked), checked
    assert len(checked) == PER_ADDRESS
    for answer in answers:
        if answer.status == 429:
            _assert_refused(answer, 60)
    assert {a.where for a in answers if a.status == 429} == set(places)

    # The right password from that address is refused unchecked, everywhere.
    for right in rights:
        _assert_refused(_send(guarded_web, right), 60)
    # From another address stella logs in: the refusal is the address's, not hers.
    logged_in = _send(guarded_web, fresh)
    assert logged_in.status == 302, logged_in.text[:300]


def test_guesses_at_one_username_from_many_addresses_get_exactly_its_limit_checked(
    guarded_web, users
):
    # alice is not staff: her right password on the dashboard and the admin does not log
    # in, and counts as a failure like the wrong ones on the token.
    places = ["dashboard", "admin", "token"]
    attempts = []
    for i in range(30):
        where = places[i % 3]
        password = "guess" if where == "token" else ALICE_PASSWORD
        attempts.append(_prepare(guarded_web, where, "alice", password, f"203.0.113.{i + 1}"))
    last = _prepare(guarded_web, "token", "alice", ALICE_PASSWORD, "192.0.2.9")
    _clear_of_window_end(3600)
    answers = _all_at_once(guarded_web, attempts)
    checked = [a for a in answers if a.status != 429]
    assert len(checked) == PER_USERNAME
    for answer in checked:
        assert answer.status == (400 if answer.where == "token" else 200), answer
        if answer.where != "token":  # the one error every refused login gets
            assert "Please enter the correct username and password" in answer.text or (
                "Enter the username and password of a staff account" in answer.text
            )
    for answer in answers:
        if answer.status == 429:
            _assert_refused(answer, 3600)
    # Her right password on the token, from a new address, is refused unchecked too.
    _assert_refused(_send(guarded_web, last), 3600)
