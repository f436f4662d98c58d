from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "simulator"
    verbose_name = "Simulations"

    def ready(self) -> None:
        # Connects the password guard to user_logged_in: a login that succeeds gives back
        # the place its password check took.
        from simulator import password_guard  # noqa: F401
