from django.urls import path

from vault.drawdowns import portal

app_name = "portal"

urlpatterns = [
    path("login/", portal.PortalLoginView.as_view(), name="login"),
    path("logout/", portal.PortalLogoutView.as_view(), name="logout"),
    path("", portal.dashboard, name="dashboard"),
    path("requests/", portal.request_list, name="request_list"),
    path("requests/new/", portal.request_create, name="request_create"),
    path("requests/<int:pk>/", portal.request_detail, name="request_detail"),
    path("requests/<int:pk>/cancel/", portal.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/submit/", portal.request_submit, name="request_submit"),
]
