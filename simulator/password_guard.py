"""The one guard on every password check: POST /api/token/, the dashboard's login and the
admin's all call django.contrib.auth.authenticate(), which goes through GuardedModelBackend
(AUTHENTICATION_BACKENDS), which asks reserve() first.

Failed checks are counted per client address (THROTTLE_LOGIN_ADDRESS_RATE) and per
username (THROTTLE_LOGIN_USERNAME_RATE) in the cache every web process shares. Past either
limit an attempt is refused (LoginRefused: a 429 with Retry-After) before its password is
hashed, the right password as well as a wrong one, so guessing neither finds passwords nor
burns the web workers' CPU.

A check reserves its place (an atomic increment, count_hit) before the password is
hashed, so N concurrent guesses against a limit of L hash at most L passwords. The place is
given back only by a login that succeeds (Django's user_logged_in, or the API's token
issued): the right password of a user the dashboard refuses (not staff) counts like a wrong
one, or the count itself would tell the two apart.

Each limit counts in fixed windows of its period (as WindowThrottle does), so a client may
make up to twice the limit across a window's end; Retry-After is the time to that end.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from simulator import metrics
from simulator.api.throttles import count_hit

logger = logging.getLogger(__name__)
UserModel = get_user_model()

# The settings each limit is read from (settings.LOGIN_FAILURE_RATES), named in refusals.
SETTING = {
    "address": "THROTTLE_LOGIN_ADDRESS_RATE",
    "username": "THROTTLE_LOGIN_USERNAME_RATE",
}
# Where a check's places wait, on the Django request, for the login to succeed.
_PLACES = "_jost_password_places"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The clock the windows are cut from (a test sets it to a known time, as DRF's timer).
timer = time.time


class LoginRefused(Exception):
    """Too many failed password checks: refused without checking this one."""

    def __init__(self, limit: str, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        whom = "from this address" if limit == "address" else "for this username"
        super().__init__(f"Too many failed logins {whom} ({SETTING[limit]}).")


@dataclass(frozen=True)
class _Place:
    key: str
    ttl: int


def _rate(limit: str) -> tuple[int, int] | None:
    """(checks, seconds) for a limit, or None when it is off ("none")."""
    rate: str | None = settings.LOGIN_FAILURE_RATES[limit]
    if rate is None:
        return None
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


def _django_request(request: Any) -> HttpRequest:
    # DRF's Request wraps the HttpRequest that Django's login() and the middleware see.
    inner: HttpRequest = getattr(request, "_request", request)
    return inner


def client_address(request: Any) -> str:
    """The client's address by the rule every throttle uses (NUM_PROXIES), with an IPv6
    address taken as its /64: one client usually holds a whole /64 and could otherwise
    guess from each of its addresses in turn."""
    ident = str(BaseThrottle().get_ident(request) or "")
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return ident
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ident


def _username_ident(username: str) -> str:
    # One counter for every spelling a lookup might match, hashed so that any string is a
    # valid cache key. Unknown usernames count too, or the count would say which exist.
    folded = unicodedata.normalize("NFKC", username).casefold()
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def reserve(request: Any, username: str | None) -> list[_Place]:
    """Take one place under each limit for a password check about to be made, or raise
    LoginRefused (giving back what was taken) when a limit is reached. The address is
    counted first, so an address already refused never adds to a username's count. With
    no username (a login whose body could not be read) only the address counts.

    A cache that does not answer lets the check through: its being down must cost the
    limit, not every login (the throttles fail open alike)."""
    idents = [] if username is None else [("username", _username_ident(username))]
    if request is not None:
        idents.insert(0, ("address", client_address(request)))
    now = timer()
    taken: list[_Place] = []
    for limit, ident in idents:
        rate = _rate(limit)
        if rate is None:
            continue
        allowed, period = rate
        window = int(now // period)
        # The counter outlives its window by a second (as WindowThrottle's), so a check
        # late in the window never finds it gone and starts a fresh count.
        place = _Place(f"login-failures:{limit}:{ident}:{window}", period + 1)
        try:
            count = count_hit(cache, place.key, place.ttl)
        except (RedisError, OSError) as exc:
            logger.error("Login failures not counted: the cache failed (%s)", exc)
            give_back(taken)
            return []
        taken.append(place)
        if count > allowed:
            give_back(taken)
            raise LoginRefused(limit, max(1, math.ceil((window + 1) * period - now)))
    return taken


def give_back(places: list[_Place]) -> None:
    """Take back the places of a check that was refused or logged in. A place whose window
    has ended goes back to that window's counter (-1 at worst, expiring with its TTL),
    which no check reads again."""
    for place in places:
        try:
            count_hit(cache, place.key, place.ttl, by=-1)
        except (RedisError, OSError) as exc:
            logger.error("A login place not given back: the cache failed (%s)", exc)


def login_succeeded(request: Any) -> None:
    """The check made for this request logged the user in: its places are given back, so
    a login that succeeds never counts towards a limit (the failures before it still do)."""
    give_back(getattr(_django_request(request), _PLACES, []))
    setattr(_django_request(request), _PLACES, [])


@receiver(user_logged_in)
def _session_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # Sent by django.contrib.auth.login(): the dashboard's and the admin's login forms,
    # only once the user passed every check (a user who is not staff never gets here).
    if request is not None:
        login_succeeded(request)


class GuardedModelBackend(ModelBackend):
    """ModelBackend whose every password check is counted by reserve() first."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(UserModel.USERNAME_FIELD)
        if username is None or password is None:
            return None  # no password is checked: nothing to count
        places = reserve(request, str(username))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if request is None:
            # No request to log in (a script, the test client's login()): the user is the
            # success itself.
            if user is not None:
                give_back(places)
        else:
            setattr(_django_request(request), _PLACES, places)
        return user

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        # ModelBackend's own aauthenticate would check the password unguarded.
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )


class LoginRefusedMiddleware:
    """A refusal raised in a page's login form (the dashboard's, the admin's) is a 429 page
    saying how long to wait; the API answers its own JSON 429 (simulator.api.errors)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, LoginRefused):
            return None
        metrics.note_refusal(request, "login_failures")
        response = render(
            request,
            "dashboard/login_refused.html",
            {"wait": exception.retry_after, "reason": str(exception)},
            status=429,
        )
        response["Retry-After"] = str(exception.retry_after)
        return response
