"""The API's answers as typed objects. Each keeps the whole JSON it came from (`raw`), so
a field the service adds later is never lost to a client that does not know it yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
FINISHED = frozenset({"COMPLETE", "FAILED", "CANCELLED"})


@dataclass(frozen=True)
class Progress:
    rounds_done: int
    rounds_total: int
    fraction: float
    rate: float | None
    eta_seconds: float | None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Progress:
        data = data or {}
        return cls(
            rounds_done=int(data.get("rounds_done") or 0),
            rounds_total=int(data.get("rounds_total") or 0),
            fraction=float(data.get("fraction") or 0.0),
            rate=data.get("rate"),
            eta_seconds=data.get("eta_seconds"),
        )


@dataclass(frozen=True)
class Accepted:
    """202 from a submit: the new job's id."""

    job_id: str
    message: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Accepted:
        return cls(str(data["job_id"]), str(data.get("message", "")), data)


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    status: str
    progress: Progress
    error: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def parse(cls, data: dict[str, Any]) -> JobStatus:
        return cls(
            str(data["job_id"]),
            str(data["status"]),
            Progress.parse(data.get("progress")),
            data.get("error"),
            data,
        )


@dataclass(frozen=True)
class JobResults:
    job_id: str
    status: str
    results: dict[str, Any] | None
    error: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> JobResults:
        return cls(
            str(data["job_id"]), str(data["status"]), data.get("results"), data.get("error"), data
        )


@dataclass(frozen=True)
class Job:
    """A job as GET /api/jobs/ lists it; from GET /api/jobs/<id>/ also seed, attempts,
    config and results."""

    job_id: str
    kind: str
    name: str | None
    status: str
    progress: Progress
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    seed: int | None
    attempts: int | None
    config: Any
    results: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Job:
        return cls(
            job_id=str(data["job_id"]),
            kind=str(data.get("kind", "simulation")),
            name=data.get("name"),
            status=str(data["status"]),
            progress=Progress.parse(data.get("progress")),
            error=data.get("error"),
            created_at=data.get("created_at"),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            seed=data.get("seed"),
            attempts=data.get("attempts"),
            config=data.get("config"),
            results=data.get("results"),
            raw=data,
        )


@dataclass(frozen=True)
class Profile:
    id: int
    profile_type: str
    name: str
    data: Any
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Profile:
        return cls(
            int(data["id"]),
            str(data["profile_type"]),
            str(data["name"]),
            data.get("data"),
            data.get("created_at"),
            data.get("updated_at"),
            data,
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]
