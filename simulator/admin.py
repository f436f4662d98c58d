from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput, JSONString
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from simulator import selectors
from simulator.dashboard import shards as shard_marks
from simulator.inputs import json_problems
from simulator.models import JobShard, SimulationJob


class StoredJSONField(forms.JSONField):
    """The admin's JSON field, checked by the API's rules (simulator.inputs.json_problems):
    NaN, an infinity, a number of 2^63 or more, a NUL or a lone surrogate, nesting past 32
    levels are the form's error naming the path, never a 500 from PostgreSQL (which
    refuses NaN) or a value jsonb would give back as another. A text Python's decoder cannot
    follow (a 5,000-digit number, 10,000 brackets) is invalid JSON, not a ValueError or a
    RecursionError."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not self.disabled and value not in self.empty_values:
            try:
                value = json.loads(value, cls=self.decoder)
            except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            if isinstance(value, str):
                value = JSONString(value)
        value = super().to_python(value)
        problems = json_problems(value)
        if problems:
            raise ValidationError(
                [f"{path}: {reason}" for path, reason in problems[:10]], code="invalid"
            )
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except (ValueError, RecursionError):
            # Shown back as typed, like any text that is not JSON.
            return InvalidJSONInput(data)


class BoundedDateChangeList(ChangeList):
    """The date hierarchy turns ?created_at__year= (and __month, __day) into datetimes;
    Django guards datetime()'s ValueError but not a year past int's C range (an
    OverflowError) nor year 9999's end (its next year or month is past datetime.max). Any
    of them is an incorrect lookup: the admin's answer is its redirect to ?e=1."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


# A job's page lists its shards inline up to this many (the merge of JOB_MAX_ROUNDS in
# JOB_SHARD_ROUNDS makes 100); more link to the shard list instead.
SHARD_INLINE_ROWS = 200


class ShardMarkFilter(admin.SimpleListFilter):
    """Stuck (RUNNING, heartbeat older than JOB_STALE_AFTER) or retried (attempts > 1):
    the shards an operator looks for first."""

    title = "mark"
    parameter_name = "mark"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("stuck", "stuck"), ("retried", "retried")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[JobShard]) -> QuerySet[JobShard]:
        if self.value() == "stuck":
            return selectors.stuck_shards(queryset)
        if self.value() == "retried":
            return queryset.filter(attempts__gt=1)
        return queryset


class ShardColumns:
    """The columns the shard list and a job's inline share, worded as the dashboard words
    them (simulator.dashboard.shards), for shards read through
    selectors.with_shard_state."""

    @admin.display(description="mark")
    def mark(self, shard: JobShard) -> str:
        shown, text = shard_marks.mark(shard)
        return format_html('<strong class="shard-{}">{}</strong>', shown, text) if shown else ""

    @admin.display(description="run time")
    def run_time(self, shard: JobShard) -> str:
        return shard_marks.run_time(shard)


# A shard's columns, in the job's inline and the shard list alike.
SHARD_COLUMNS = (
    "index",
    "status",
    "mark",
    "claimed_by",
    "attempts",
    "rounds_done",
    "rounds",
    "run_time",
    "started_at",
    "heartbeat_at",
)


class JobShardInline(ShardColumns, admin.TabularInline):
    """A split job's shards on its page, read only: what the workers and the claim
    protocol wrote. The stored statistics are left out (a shard's can be megabytes); each
    row links to the shard's own page."""

    model = JobShard
    extra = 0
    can_delete = False
    show_change_link = True
    fields = SHARD_COLUMNS
    readonly_fields = fields
    ordering = ("index",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobShard]:
        return selectors.with_shard_state(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JobShard)
class JobShardAdmin(ShardColumns, admin.ModelAdmin):
    """Every shard of every split job: which worker holds it, how often it was claimed,
    how long it ran. Filter by state (RUNNING with an old heartbeat is a stuck one; the
    heartbeat column shows it) and search by the job's id."""

    list_display = ("job_link", *SHARD_COLUMNS, "wall_seconds", "engine_seconds")
    list_filter = ("status", ShardMarkFilter)
    search_fields = ("job__id",)
    list_select_related = ("job",)
    ordering = ("-job__created_at", "job", "index")
    # All of it is the workers' record, shown, never edited here: a change would break the
    # claim protocol's guarantees (a shard stored once, by the worker holding its claim).
    readonly_fields = (
        "job",
        "index",
        "status",
        "claim",
        "claimed_by",
        "attempts",
        "rounds_done",
        "rounds",
        "first_session",
        "sessions",
        "enqueued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "wall_seconds",
        "engine_seconds",
        "stats",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobShard]:
        queryset = super().get_queryset(request)
        # The list never shows the statistics (megabytes a shard, a hundred a page); a
        # shard's own page does.
        match = request.resolver_match
        if match and "object_id" in match.kwargs:
            return queryset
        return selectors.with_shard_state(queryset)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="job", ordering="job__created_at")
    def job_link(self, shard: JobShard) -> str:
        url = reverse("admin:simulator_simulationjob_change", args=[shard.job_id])
        return format_html('<a href="{}">{}</a>', url, shard.job_id)


@admin.register(SimulationJob)
class SimulationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "status",
        "rounds_done",
        "rounds_total",
        "attempts",
        "heartbeat_at",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "priority")
    search_fields = ("id", "owner__username")
    # What the worker and the claim protocol write, and the kind the workers read the
    # request and the shards' statistics by: shown, never edited.
    readonly_fields = (
        "kind",
        # The queue the job was given at submit (its owner in the "priority" group then):
        # the owner's groups, on the user's page, decide for the jobs to come.
        "priority",
        "id",
        "created_at",
        "enqueued_at",
        "started_at",
        "finished_at",
        "claim",
        "claimed_by",
        "heartbeat_at",
        "attempts",
        "shard_list",
    )
    # The form in the order a person reads a job (who, what was asked, what came of it,
    # then the claim's bookkeeping), not the model's: the claim fields it inherits from
    # Claimable come first there.
    fields = (
        "owner",
        "status",
        "name",
        "request_data",
        "resolved_config",
        "result_data",
        "error",
        "rounds_done",
        "rounds_total",
        "seed",
        "send_failed",
        "shards_total",
        "shard_rounds",
        "merge_started_at",
        *readonly_fields,
    )
    date_hierarchy = "created_at"
    formfield_overrides = {models.JSONField: {"form_class": StoredJSONField}}
    inlines = (JobShardInline,)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BoundedDateChangeList

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        # An index job can have thousands of shards: past SHARD_INLINE_ROWS the job's page
        # links to the shard list (filtered to it) instead of listing them all.
        if obj is None or not 0 < obj.shards_total <= SHARD_INLINE_ROWS:
            return ()
        return super().get_inlines(request, obj)

    @admin.display(description="shards")
    def shard_list(self, job: SimulationJob) -> str:
        if not job.shards_total:
            return "none: run whole by one task"
        url = reverse("admin:simulator_jobshard_changelist")
        return format_html(
            '<a href="{}?job__id__exact={}">{} shards</a>', url, job.id, job.shards_total
        )
