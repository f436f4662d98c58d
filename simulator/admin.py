from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput, JSONString
from django.http import HttpRequest

from simulator.inputs import json_problems
from simulator.models import SimulationJob


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

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BoundedDateChangeList
