from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError


class StaffAuthenticationForm(AuthenticationForm):
    """The dashboard's login: the right password of a user who is not staff still does
    not sign in, so such a user is never left signed in to pages that refuse them."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise ValidationError(
                "This dashboard is for staff accounts only. Use the API with a token instead.",
                code="not_staff",
            )
