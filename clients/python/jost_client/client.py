"""JostClient: one object per resource (jobs, profiles) and a method for every operation
in the API's OpenAPI schema. Each method names its operation (`@operation`), and a test
reads the live /api/schema/ and fails naming any operation no method claims."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from jost_client.models import Accepted, Job, JobResults, JobStatus, Page, Profile
from jost_client.transport import RetryPolicy, Transport

F = TypeVar("F", bound=Callable[..., Any])


def operation(operation_id: str) -> Callable[[F], F]:
    """Mark a method as the client's call for that OpenAPI operationId."""

    def mark(method: F) -> F:
        method.__jost_operation__ = operation_id  # type: ignore[attr-defined]
        return method

    return mark


def new_idempotency_key() -> str:
    return f"jost-client-{uuid.uuid4()}"


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


class Jobs(_Resource):
    """Simulation and index jobs: submit, create, status, results, list, get, cancel, wait."""

    @operation("submit_create")
    def submit(self, config: dict[str, Any], *, idempotency_key: str | None = None) -> Accepted:
        """POST /api/submit/. The Idempotency-Key (made here unless given) is what makes a
        retry after a lost answer safe: the service answers it with the first job."""
        key = idempotency_key or new_idempotency_key()
        answer = self._t.request(
            "POST", "/api/submit/", body=config, headers={"Idempotency-Key": key}
        )
        return Accepted.parse(answer.body)

    @operation("jobs_create")
    def create(self, config: dict[str, Any], *, idempotency_key: str | None = None) -> Job:
        """POST /api/jobs/: like submit, answered with the whole job (201)."""
        key = idempotency_key or new_idempotency_key()
        answer = self._t.request(
            "POST", "/api/jobs/", body=config, headers={"Idempotency-Key": key}
        )
        return Job.parse(answer.body)

    @operation("indices_create")
    def submit_indices(
        self, request: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Accepted:
        """POST /api/indices/: an index job (docs/INDICES.md)."""
        key = idempotency_key or new_idempotency_key()
        answer = self._t.request(
            "POST", "/api/indices/", body=request, headers={"Idempotency-Key": key}
        )
        return Accepted.parse(answer.body)

    @operation("status_retrieve")
    def status(self, job_id: str) -> JobStatus:
        return JobStatus.parse(self._t.request("GET", f"/api/status/{job_id}/").body)

    @operation("results_retrieve")
    def results(self, job_id: str) -> JobResults:
        return JobResults.parse(self._t.request("GET", f"/api/results/{job_id}/").body)

    @operation("jobs_retrieve")
    def get(self, job_id: str) -> Job:
        return Job.parse(self._t.request("GET", f"/api/jobs/{job_id}/").body)

    @operation("jobs_list")
    def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        page: int | None = None,
    ) -> Page[Job]:
        query = {
            "status": status,
            "kind": kind,
            "name": name,
            "created_after": created_after,
            "created_before": created_before,
            "page": page,
        }
        body = self._t.request("GET", "/api/jobs/", query=query).body
        return Page(
            int(body["count"]),
            body.get("next"),
            body.get("previous"),
            [Job.parse(item) for item in body["results"]],
        )

    def iterate(self, **filters: Any) -> Iterator[Job]:
        """Every job matching the filters, page after page."""
        page = 1
        while True:
            listing = self.list(page=page, **filters)
            yield from listing.results
            if not listing.next:
                return
            page += 1

    @operation("jobs_cancel_create")
    def cancel(self, job_id: str) -> Job:
        # Not repeated after a lost answer: a second cancel of a cancelled job is a 409.
        answer = self._t.request("POST", f"/api/jobs/{job_id}/cancel/", repeatable=False)
        return Job.parse(answer.body)

    def wait(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[JobStatus], None] | None = None,
    ) -> JobStatus:
        """Poll the job's status until it is COMPLETE, FAILED or CANCELLED (or `timeout`
        seconds pass: TimeoutError), calling on_progress with each status read."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.status(job_id)
            if on_progress is not None:
                on_progress(current)
            if current.finished:
                return current
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {current.status} after {timeout} s")
            time.sleep(interval)


class Profiles(_Resource):
    """The caller's saved profiles (casino, player, strategies, counting systems)."""

    @operation("profiles_list")
    def list(self, *, profile_type: str | None = None) -> list[Profile]:
        found: list[Profile] = []
        page = 1
        while True:  # every page: a name is looked up among all of them
            query = {"profile_type": profile_type, "page": page}
            body = self._t.request("GET", "/api/profiles/", query=query).body
            found += [Profile.parse(item) for item in body["results"]]
            if not body.get("next"):
                return found
            page += 1

    @operation("profiles_create")
    def create(self, profile_type: str, name: str, data: Any) -> Profile:
        # Not repeated after a lost answer: the second would be a 400 for the name taken.
        body = {"profile_type": profile_type, "name": name, "data": data}
        answer = self._t.request("POST", "/api/profiles/", body=body, repeatable=False)
        return Profile.parse(answer.body)

    @operation("profiles_retrieve")
    def get(self, profile_id: int) -> Profile:
        return Profile.parse(self._t.request("GET", f"/api/profiles/{profile_id}/").body)

    @operation("profiles_update")
    def update(self, profile_id: int, profile_type: str, name: str, data: Any) -> Profile:
        body = {"profile_type": profile_type, "name": name, "data": data}
        return Profile.parse(self._t.request("PUT", f"/api/profiles/{profile_id}/", body=body).body)

    @operation("profiles_partial_update")
    def patch(self, profile_id: int, **fields: Any) -> Profile:
        answer = self._t.request("PATCH", f"/api/profiles/{profile_id}/", body=fields)
        return Profile.parse(answer.body)

    @operation("profiles_destroy")
    def delete(self, profile_id: int) -> None:
        self._t.request("DELETE", f"/api/profiles/{profile_id}/")

    def find(self, profile_type: str, name: str) -> Profile | None:
        return next((p for p in self.list(profile_type=profile_type) if p.name == name), None)


class JostClient:
    """The API at `url` with `token` (see JostClient.login for one from a password)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.transport = Transport(self.url, token, timeout, retry or RetryPolicy())
        self.jobs = Jobs(self.transport)
        self.profiles = Profiles(self.transport)

    @property
    def token(self) -> str | None:
        return self.transport.token

    @operation("token_create")
    def create_token(self, username: str, password: str) -> str:
        """POST /api/token/: the user's token (also used by this client from now on)."""
        body = {"username": username, "password": password}
        token = str(self.transport.request("POST", "/api/token/", body=body).body["token"])
        self.transport.token = token
        return token

    @operation("validate_create")
    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config normalised, or ApiError(400) naming every bad field."""
        body: dict[str, Any] = self.transport.request("POST", "/api/validate/", body=config).body
        return body

    @operation("defaults_retrieve")
    def defaults(self) -> dict[str, Any]:
        body: dict[str, Any] = self.transport.request("GET", "/api/defaults/").body
        return body

    @operation("engine_retrieve")
    def engine(self) -> dict[str, Any]:
        body: dict[str, Any] = self.transport.request("GET", "/api/engine/").body
        return body

    @operation("compare_retrieve")
    def compare(self, job_ids: list[str]) -> dict[str, Any]:
        query = {"jobs": ",".join(job_ids)}
        body: dict[str, Any] = self.transport.request("GET", "/api/compare/", query=query).body
        return body

    def compare_csv(self, job_ids: list[str]) -> str:
        query = {"jobs": ",".join(job_ids), "format": "csv"}
        return self.transport.request("GET", "/api/compare/", query=query, accept="text/csv").text

    @operation("risk_create")
    def risk(self, request: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = self.transport.request("POST", "/api/risk/", body=request).body
        return body

    @operation("optimal_bets_create")
    def optimal_bets(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = self.transport.request("POST", "/api/optimal-bets/", body=request)
        body: dict[str, Any] = answer.body
        return body

    def operations(self) -> dict[str, Callable[..., Any]]:
        """operationId -> the bound method that performs it, over every resource."""
        found: dict[str, Callable[..., Any]] = {}
        for owner in (self, self.jobs, self.profiles):
            for name in dir(type(owner)):
                method = getattr(owner, name, None)
                op = getattr(method, "__jost_operation__", None)
                if op is not None and callable(method):
                    found[op] = method
        return found
