from django.urls import path

from vault.drawdowns import portal

app_name = "portal"

urlpatterns = [
    path("login/", portal.PortalLoginView.as_view(), name="login"),
    path("logout/", portal.PortalLogoutView.as_view(), name="logout"),
    path("password-reset/", portal.PortalPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", portal.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        portal.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", portal.PortalPasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("", portal.dashboard, name="dashboard"),
    path("requests/", portal.request_list, name="request_list"),
    path("requests/new/", portal.request_create, name="request_create"),
    path("requests/<int:pk>/", portal.request_detail, name="request_detail"),
    path("requests/<int:pk>/cancel/", portal.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/submit/", portal.request_submit, name="request_submit"),
]
