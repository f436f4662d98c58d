from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User


class StaffAuthenticationForm(AuthenticationForm):
    """The dashboard's login: the right password of a user who is not staff does not sign
    in, so such a user is never left signed in to pages that refuse them.

    A wrong password, an unknown user, an inactive one and one who is not staff all get the
    same error (as the admin's AdminAuthenticationForm does): a message of its own for a
    user who is not staff would say that the password was right, and let anyone find an
    API user's password here."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Enter the username and password of a staff account (both are case-sensitive). "
            "Clients use the API with a token instead."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        if not (user.is_active and user.is_staff):
            raise self.get_invalid_login_error()
