from django.urls import path
from django.views.generic import RedirectView

from vault.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
]
