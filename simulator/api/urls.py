from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from simulator.api import bets, compare, risk, views

urlpatterns = [
    path("token/", views.TokenView.as_view(), name="api-token"),
    path("submit/", views.SubmitView.as_view(), name="api-submit"),
    path("indices/", views.IndicesView.as_view(), name="api-indices"),
    path("defaults/", views.DefaultsView.as_view(), name="api-defaults"),
    path("engine/", views.EngineView.as_view(), name="api-engine"),
    path("profiles/", views.ProfileListView.as_view(), name="api-profiles"),
    path(
        "profiles/<int:profile_id>/", views.ProfileDetailView.as_view(), name="api-profile-detail"
    ),
    # The schema and its docs are public: they say nothing a client may not know.
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="api-schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema",
            authentication_classes=[],
            permission_classes=[],
            # The library's page with the Content-Security-Policy nonce on its inline parts.
            template_name="api/swagger_ui.html",
        ),
        name="api-docs",
    ),
    path("status/<uuid:job_id>/", views.StatusView.as_view(), name="api-status"),
    path("results/<uuid:job_id>/", views.ResultsView.as_view(), name="api-results"),
    path("jobs/", views.JobListView.as_view(), name="api-jobs"),
    path("jobs/<uuid:job_id>/", views.JobDetailView.as_view(), name="api-job-detail"),
    path("jobs/<uuid:job_id>/cancel/", views.CancelView.as_view(), name="api-job-cancel"),
    path("validate/", views.ValidateView.as_view(), name="api-validate"),
    path("compare/", compare.CompareView.as_view(), name="api-compare"),
    path("risk/", risk.RiskView.as_view(), name="api-risk"),
    path("optimal-bets/", bets.OptimalBetsView.as_view(), name="api-optimal-bets"),
]
