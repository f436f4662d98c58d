from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import jost_engine
from simulator.api.errors import invalid_body
from simulator.api.schema import CONFIG_SCHEMA, INDEX_REQUEST_SCHEMA, ProgressSerializer
from simulator.inputs import servable
from simulator.models import JobKind, JobStatus, Profile, ProfileType, SimulationJob


def progress_of(job: SimulationJob) -> dict[str, Any]:
    """Rounds done of rounds asked, and while it runs how fast and how long is left.

    rate is rounds a second over the run so far: rounds_done over the time from
    started_at to heartbeat_at (written with rounds_done, and by the heartbeat thread in
    between, so it may read low by up to one report interval), or to finished_at once the
    job has stopped.
    eta_seconds is the rounds left at that rate, for a RUNNING job only. Both are null
    until there is a report to measure.
    """
    fraction = job.rounds_done / job.rounds_total if job.rounds_total else 0.0
    if job.status == JobStatus.COMPLETE:
        fraction = 1.0
    rate = eta = None
    end = job.heartbeat_at if job.status == JobStatus.RUNNING else job.finished_at
    if job.started_at is not None and end is not None and job.rounds_done > 0:
        seconds = (end - job.started_at).total_seconds()
        if seconds > 0:
            rate = job.rounds_done / seconds
            if job.status == JobStatus.RUNNING:
                eta = max(job.rounds_total - job.rounds_done, 0) / rate
    return {
        "rounds_done": job.rounds_done,
        "rounds_total": job.rounds_total,
        "fraction": round(min(fraction, 1.0), 4),
        "rate": None if rate is None else round(rate, 1),
        "eta_seconds": None if eta is None else round(eta, 1),
    }


def config_errors(exc: jost_engine.ConfigError) -> dict[str, Any]:
    """The 400 body for a config the engine refuses, naming every bad field: what
    /api/submit/ and /api/validate/ answer alike, and what the dashboard lists."""
    return invalid_body("The simulation config is invalid.", exc.problems or [("", str(exc))])


class JobStatusSerializer(serializers.Serializer):
    """GET /api/status/<id>/: the contract's {"job_id", "status"}, plus progress."""

    def to_representation(self, job: SimulationJob) -> dict[str, Any]:
        return {
            "job_id": str(job.id),
            "status": job.status,
            "progress": progress_of(job),
            "error": job.error or None,
        }


class JobResultSerializer(serializers.Serializer):
    """GET /api/results/<id>/: results stay null until the job is COMPLETE."""

    def to_representation(self, job: SimulationJob) -> dict[str, Any]:
        results = job.result_data if job.status == JobStatus.COMPLETE else None
        return {
            "job_id": str(job.id),
            "status": job.status,
            # servable: a row stored before the input checks must still be readable.
            "results": servable(results),
            "error": servable(job.error) or None,
        }


class JobListSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="id", read_only=True)
    progress = serializers.SerializerMethodField()
    error = serializers.CharField(allow_null=True, read_only=True, help_text="null unless FAILED")

    class Meta:
        model = SimulationJob
        fields = [
            "job_id",
            "kind",
            "name",
            "status",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: SimulationJob) -> dict[str, Any]:
        return progress_of(job)

    def to_representation(self, instance: SimulationJob) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["error"] = servable(data["error"]) or None
        return data


class JobDetailSerializer(JobListSerializer):
    results = serializers.SerializerMethodField()
    config = serializers.SerializerMethodField()

    class Meta(JobListSerializer.Meta):
        fields = [*JobListSerializer.Meta.fields, "seed", "attempts", "config", "results"]

    @extend_schema_field(
        {
            "oneOf": [CONFIG_SCHEMA, INDEX_REQUEST_SCHEMA],
            "description": "What the client sent: a simulation config, or an index request "
            "(kind indices)",
        }
    )
    def get_config(self, job: SimulationJob) -> Any:
        # The config as the client sent it (the contract); what ran is in results.config.
        return servable(job.request_data)

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "additionalProperties": True,
            "description": "The results document (docs/RESULTS.md; an index job's: "
            "docs/INDICES.md); null until COMPLETE",
        }
    )
    def get_results(self, job: SimulationJob) -> Any:
        return servable(job.result_data) if job.status == JobStatus.COMPLETE else None


class ProfileSerializer(serializers.ModelSerializer):
    """A saved profile. Writes go through simulator.profiles, which checks `data` with the
    engine's normaliser; this serializer only reads and describes the fields."""

    profile_type = serializers.ChoiceField(choices=ProfileType.choices)
    # A field named like Serializer.data (the contract's name): DRF declares fields by
    # metaclass, the stubs see an attribute.
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text=(
            "The profile, in any dialect the engine reads for its type (see "
            "/api/defaults/ for examples); it may name a parent profile."
        )
    )

    class Meta:
        model = Profile
        fields = ["id", "profile_type", "name", "data", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: Profile) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["data"] = servable(data["data"])
        return data


class JobFilterSerializer(serializers.Serializer):
    """The query of GET /api/jobs/: every filter optional, all of them applied together."""

    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    kind = serializers.ChoiceField(
        choices=JobKind.choices,
        required=False,
        help_text="simulation (POST /api/submit/) or indices (POST /api/indices/).",
    )
    created_after = serializers.DateTimeField(
        required=False, help_text="Jobs created at or after this time (ISO 8601)."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="Jobs created before this time (ISO 8601)."
    )
    name = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Jobs whose name (the config's top-level `name`) contains this, any case.",
    )


class ProfileFilterSerializer(serializers.Serializer):
    profile_type = serializers.ChoiceField(choices=ProfileType.choices, required=False)
