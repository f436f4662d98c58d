"""What a call can raise: ApiError for every answer the API gives as an error (with the
status and the `errors` list it sent, path and reason), TransportError when no answer came
however often it was tried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem the API named: the field's path (`players[0].profile`) and the reason."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class JostError(Exception):
    """Anything this client raises."""


class TransportError(JostError):
    """No answer (refused, reset, timed out) after every retry allowed."""


class ApiError(JostError):
    """An error answer: status, the API's `detail`, its `errors` and the whole body."""

    def __init__(
        self,
        status: int,
        detail: str,
        problems: list[Problem] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = problems or []
        self.body = body
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        # As the API says it: the detail, then each problem on a line of its own.
        lines = [f"{self.status}: {self.detail}"]
        lines += [f"  {problem}" for problem in self.errors]
        return "\n".join(lines)

    @classmethod
    def from_answer(cls, status: int, body: Any, retry_after: float | None) -> ApiError:
        detail = ""
        problems: list[Problem] = []
        if isinstance(body, dict):
            detail = str(body.get("detail", ""))
            for item in body.get("errors") or []:
                if isinstance(item, dict):
                    problems.append(Problem(str(item.get("path", "")), str(item.get("reason", ""))))
            # DRF's own field errors (POST /api/token/): {"field": ["reason", ...]}.
            for name, reasons in body.items():
                if name not in ("detail", "errors") and isinstance(reasons, list):
                    path = "" if name == "non_field_errors" else name
                    problems += [Problem(path, str(reason)) for reason in reasons]
        elif isinstance(body, str):
            detail = body.strip()[:500]
        kind = {401: Unauthorized, 404: NotFound, 409: Conflict, 429: RateLimited}.get(status, cls)
        if not detail:
            detail = "The request was refused." if problems else f"HTTP {status}"
        return kind(status, detail, problems, body, retry_after)


class Unauthorized(ApiError):
    """401: no token, or one the service does not know."""


class NotFound(ApiError):
    """404: no such job or profile, or another user's."""


class Conflict(ApiError):
    """409: e.g. cancelling a job already finished."""


class RateLimited(ApiError):
    """429 still answered after every retry allowed (retry_after says how long to wait)."""
