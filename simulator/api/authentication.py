"""Token authentication for the one endpoint clients poll: GET /api/status/<job_id>/.

DRF's TokenAuthentication reads the token with its user (one query), then the view reads
the job (a second). A client that polls its job every second pays both on every poll, so
here one query answers both (selectors.token_user_and_job): the token's user, joined to
the job asked for. A token that is wrong or whose user is inactive fails exactly as DRF's
would; a job that is not the caller's comes back empty, and the view answers 404 as for
any other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from simulator import selectors
from simulator.models import SimulationJob

# Where the job read with the token waits for the view, on the Django request (DRF's
# Request wraps it, and the view receives the same one).
_JOB_ATTRIBUTE = "_jost_status_job"
# The request was authenticated another way (a session): the view reads the job itself.
NOT_READ = object()


class TokenWithJobAuthentication(TokenAuthentication):
    """TokenAuthentication that also reads the URL's job, in the same query."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        # DRF makes new authenticators for every request, so this state is the request's.
        self._job_id = (request.parser_context or {}).get("kwargs", {}).get("job_id")
        self._request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        if not isinstance(self._job_id, UUID):
            return super().authenticate_credentials(key)
        user, job = selectors.token_user_and_job(key, self._job_id)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        setattr(self._request._request, _JOB_ATTRIBUTE, job)
        return user, Token(key=key, user=user)


def job_read_with_token(request: Request) -> SimulationJob | object | None:
    """The job TokenWithJobAuthentication read for this request: a SimulationJob, None
    when the caller has no such job, or NOT_READ."""
    return getattr(request._request, _JOB_ATTRIBUTE, NOT_READ)


class TokenWithJobScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of TokenWithJobAuthentication: the same
    `Authorization: Token <key>` header as everywhere else, under a name of its own
    (drf-spectacular refuses two classes under one scheme name)."""

    target_class = TokenWithJobAuthentication
    name = "statusTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
