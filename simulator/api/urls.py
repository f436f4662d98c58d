from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken

from simulator.api import views

urlpatterns = [
    path("token/", ObtainAuthToken.as_view(), name="api-token"),
    path("submit/", views.SubmitView.as_view(), name="api-submit"),
    path("defaults/", views.DefaultsView.as_view(), name="api-defaults"),
    path("status/<uuid:job_id>/", views.StatusView.as_view(), name="api-status"),
    path("results/<uuid:job_id>/", views.ResultsView.as_view(), name="api-results"),
    path("jobs/", views.JobListView.as_view(), name="api-jobs"),
    path("jobs/<uuid:job_id>/", views.JobDetailView.as_view(), name="api-job-detail"),
    path("jobs/<uuid:job_id>/cancel/", views.CancelView.as_view(), name="api-job-cancel"),
    path("validate/", views.ValidateView.as_view(), name="api-validate"),
]
