from __future__ import annotations

from typing import Any

from rest_framework import serializers

from simulator.models import JobStatus, SimulationJob


def progress_of(job: SimulationJob) -> dict[str, Any]:
    fraction = job.rounds_done / job.rounds_total if job.rounds_total else 0.0
    if job.status == JobStatus.COMPLETE:
        fraction = 1.0
    return {
        "rounds_done": job.rounds_done,
        "rounds_total": job.rounds_total,
        "fraction": round(min(fraction, 1.0), 4),
    }


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
            "results": results,
            "error": job.error or None,
        }


class JobListSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="id", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = SimulationJob
        fields = [
            "job_id",
            "status",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_progress(self, job: SimulationJob) -> dict[str, Any]:
        return progress_of(job)


class JobDetailSerializer(JobListSerializer):
    results = serializers.SerializerMethodField()
    config = serializers.JSONField(source="request_data", read_only=True)

    class Meta(JobListSerializer.Meta):
        fields = [*JobListSerializer.Meta.fields, "seed", "attempts", "config", "results"]

    def get_results(self, job: SimulationJob) -> Any:
        return job.result_data if job.status == JobStatus.COMPLETE else None
