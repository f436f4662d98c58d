from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from simulator.health import healthz
from simulator.metrics import metrics_view

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include("simulator.api.urls")),
    path("dashboard/", include("simulator.dashboard.urls")),
    path("admin/", admin.site.urls),
]

# Under /api/ every error is JSON, including an unknown path and a body too big to read.
handler400 = "simulator.api.errors.bad_request"
handler404 = "simulator.api.errors.not_found"
handler500 = "simulator.api.errors.server_error"
