"""API tokens."""

from __future__ import annotations

from django.contrib.auth.models import User


def token_for(user: User) -> str:
    """The user's API token, created on first use."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return token.key
