"""A short fuzz of every page a person or a client filters or fills in: each list filter of
every admin, the dashboard's and the API's, and every field of every admin form, with the
values that were 500s (a NUL, a 12-digit year, a 5,000-digit number, JSON no decoder
follows). Any answer is fine but a 500: the test client raises what a view lets escape."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.urls import reverse

from simulator.models import Profile
from simulator.services.submit import submit_job

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = ["\x00", "a\x00b", "99999999999", "-99999999999", "9999", "9" * 5_000, "abc", ""]
HOSTILE_JSON = [
    '{"x": NaN}',
    '{"x": Infinity}',
    '{"x": 1e308}',
    '{"x": ' + "9" * 5_000 + "}",
    "[" * 10_000 + "]" * 10_000,
]


@pytest.fixture
def world(django_user_model, master_config) -> dict[str, Any]:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-123")
    alice = django_user_model.objects.create_user("alice", "a@example.com", "alice-pw-123")
    job = submit_job(alice, master_config)
    Profile.objects.create(owner=alice, profile_type="casino", name="c", data={})
    return {"root": root, "alice": alice, "job": job}


def _no_500(response: Any, where: str) -> None:
    assert response.status_code < 500, where


def _changelist_params(model_admin: admin.ModelAdmin) -> list[str]:
    params = ["q", "o", "p", "e"]
    for spec in model_admin.list_filter:
        name = spec if isinstance(spec, str) else getattr(spec, "parameter_name", "")
        params += [name, f"{name}__exact"]
    if model_admin.date_hierarchy:
        params += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return params


@pytest.mark.slow  # every admin filter, with every hostile value
def test_no_admin_list_filter_is_a_500(client, world):
    client.force_login(world["root"])
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for param in _changelist_params(model_admin):
            for value in HOSTILE:
                _no_500(client.get(url, {param: value}), f"{url}?{param}={value[:20]!r}")


@pytest.mark.slow  # every admin form of every model, with hostile values
def test_no_admin_form_field_is_a_500(client, world):
    client.force_login(world["root"])
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls = [reverse(f"admin:{info}_add")]
        first = model._default_manager.first()
        if first is not None:
            urls.append(reverse(f"admin:{info}_change", args=[first.pk]))
        for url in urls:
            page = client.get(url)
            if page.status_code == 403:
                continue  # a read-only model (the job shards): no form to post
            form = page.context["adminform"].form
            base = {name: "" for name in form.fields}
            for name, field in form.fields.items():
                is_json = isinstance(field, forms.JSONField)
                for value in HOSTILE + (HOSTILE_JSON if is_json else []):
                    response = client.post(url, {**base, name: value})
                    _no_500(response, f"{url} {name}={value[:20]!r}")


@pytest.mark.parametrize("param", ["status", "owner", "page"])
def test_no_job_history_filter_is_a_500(client, world, param):
    client.force_login(world["root"])
    for value in HOSTILE:
        _no_500(client.get("/dashboard/jobs/", {param: value}), f"{param}={value[:20]!r}")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/jobs/", ["status", "created_after", "created_before", "name", "page"]),
        ("/api/profiles/", ["profile_type", "page"]),
    ],
)
def test_no_api_list_filter_is_a_500(alice_client, url, params):
    for param in params:
        for value in HOSTILE:
            response = alice_client.get(url, {param: value})
            _no_500(response, f"{url}?{param}={value[:20]!r}")
