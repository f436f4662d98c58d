"""The dashboard's persona: stella, a staff user (the dashboard is for staff only)."""

from __future__ import annotations

import pytest


@pytest.fixture
def staff(db, django_user_model):
    return django_user_model.objects.create_user(
        username="stella", password="stella-password-123", is_staff=True
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
