from __future__ import annotations

from typing import Any

from django import forms
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


class OptimalBetsForm(forms.Form):
    """The job page's Optimal bets: a seat of the job and the player's constraints, named as
    jost_engine.optimal_bets and POST /api/optimal-bets/ name them, so the engine's errors
    land on the field they name."""

    seat = forms.TypedChoiceField(coerce=int, label="Seat")
    bankroll = forms.FloatField(label="Bankroll")
    min_bet = forms.FloatField(label="Table minimum")
    max_bet = forms.FloatField(label="Table maximum")
    max_spread = forms.FloatField(label="Largest spread (top bet / bottom bet)")
    unit = forms.FloatField(label="Bet unit (chip)")
    sizing = forms.ChoiceField(
        choices=[("kelly", "a Kelly fraction"), ("risk", "a target risk of ruin")],
        widget=forms.RadioSelect,
        initial="kelly",
        label="Size the bets by",
    )
    kelly_fraction = forms.FloatField(
        required=False, initial=0.5, label="Kelly fraction (1 full, 0.5 half)"
    )
    risk_of_ruin = forms.FloatField(
        required=False, initial=0.05, label="Target risk of ruin (0.05 for 5%)"
    )
    rounds_per_hour = forms.FloatField(label="Rounds per hour")
    wong_out = forms.BooleanField(
        required=False, label="Leave the table at counts not worth a bet (wong out)"
    )

    def __init__(self, *args: Any, seats: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seat"].choices = seats  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Only the chosen way of sizing goes to the engine; the other field may keep its
        # default, as a form left as it came.
        chosen = "kelly_fraction" if data.get("sizing") == "kelly" else "risk_of_ruin"
        if data.get("sizing") and data.get(chosen) is None and chosen not in self.errors:
            self.add_error(chosen, "give a value, or size the bets the other way")
        return data

    def engine_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        kelly = data["sizing"] == "kelly"
        return {
            "bankroll": data["bankroll"],
            "min_bet": data["min_bet"],
            "max_bet": data["max_bet"],
            "max_spread": data["max_spread"],
            "unit": data["unit"],
            "kelly_fraction": data["kelly_fraction"] if kelly else None,
            "risk_of_ruin": None if kelly else data["risk_of_ruin"],
            "rounds_per_hour": data["rounds_per_hour"],
            "wong_out": data["wong_out"],
        }
