"""Playwright driving Debian's Chromium against the live stack (tests/live_stack.py: the
Procfile's web and worker processes on the test database)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
STAFF_PASSWORD = "stella-password-123"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/test.sh installs it with apt as root)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django refuses database
    # calls where a loop runs. The test's own database work (users, rows) is synchronous
    # all the same, so it is allowed here; the live processes never see this variable
    # (service_env drops DJANGO_*).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def live_password(password: str) -> str:
    """A password hash the live web process can check: the tests' settings hash with MD5
    for speed, which production settings (Gunicorn's) do not accept. Few iterations, as
    nothing here needs to resist cracking."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt(), iterations=1000)


def make_user(django_user_model: Any, username: str, password: str, *, is_staff: bool) -> Any:
    user = django_user_model(username=username, is_staff=is_staff)
    user.password = live_password(password)
    user.save()
    return user


@pytest.fixture
def staff(transactional_db, django_user_model):
    return make_user(django_user_model, "stella", STAFF_PASSWORD, is_staff=True)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def log_in(page: Any, web: str, username: str, password: str) -> None:
    page.goto(f"{web}/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
