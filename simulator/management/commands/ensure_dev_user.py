"""`python manage.py ensure_dev_user`: the development account start-dev.sh prints.

Creates the user (a superuser, so the admin works too) if missing, sets its password when
one is given, and prints its API token alone on stdout. Running it again changes nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the development user if missing and print its API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="dev")
        parser.add_argument(
            "--password",
            default=None,
            help="set this password (default: leave it, or unusable if new)",
        )

    def handle(self, *args: object, username: str, password: str | None, **options: object) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
