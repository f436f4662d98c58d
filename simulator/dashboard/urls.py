from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from simulator.dashboard import bets, compare, views
from simulator.dashboard.forms import StaffAuthenticationForm

app_name = "dashboard"

urlpatterns = [
    path("", views.runner_page, name="runner"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html",
            authentication_form=StaffAuthenticationForm,
            next_page=reverse_lazy("dashboard:runner"),
        ),
        name="login",
    ),
    # POST only (Django's LogoutView refuses GET), with the CSRF token of the form.
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page=reverse_lazy("dashboard:login")),
        name="logout",
    ),
    path("jobs/", views.history_page, name="history"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/status.json", views.job_status, name="job-status"),
    path("jobs/<uuid:job_id>/shards/", views.job_shards, name="job-shards"),
    path("jobs/<uuid:job_id>/results.json", views.job_results, name="job-results"),
    path("jobs/<uuid:job_id>/deviations.json", views.job_deviations, name="job-deviations"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<uuid:job_id>/optimal-bets/", bets.optimal_bets_page, name="optimal-bets"),
    path("compare/", compare.compare_page, name="compare"),
    path("compare/comparison.csv", compare.compare_csv, name="compare-csv"),
]
