from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from simulator.health import healthz

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/", include("simulator.api.urls")),
    path("dashboard/", include("simulator.dashboard.urls")),
    path("admin/", admin.site.urls),
]
