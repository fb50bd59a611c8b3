from django.contrib import admin
from django.urls import include, path

from vault.accounts import views as accounts_views
from vault.core import api_docs

admin.site.site_header = "Project Vault"
admin.site.site_title = "Project Vault"
admin.site.index_title = "Operations dashboard"

api_v1 = [
    path("", include("vault.accounts.urls")),
    path("", include("vault.inventory.urls")),
    path("", include("vault.financing.urls")),
    path("", include("vault.drawdowns.urls")),
    path("", include("vault.coverage.urls")),
]

# The staff's password reset, by e-mail (its URL names are the ones Django's admin templates use;
# before the admin's own URLs, whose catch-all would take them).
admin_password_reset = [
    path("password_reset/", accounts_views.AdminPasswordResetView.as_view(), name="admin_password_reset"),
    path("password_reset/done/", accounts_views.AdminPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        accounts_views.AdminPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", accounts_views.AdminPasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

# The staff's second factor (docs/security.md, "Second factor for staff"): the user's page and
# new backup codes (admin pages), enrolment and its QR code (before the second factor: staff who
# passed the password). two_factor's views reverse its namespace; before the admin's catch-all.
second_factor = (
    [
        path("", admin.site.admin_view(accounts_views.SecondFactorView.as_view()), name="profile"),
        path("setup/", accounts_views.EnrolView.as_view(), name="setup"),
        path("qrcode/", accounts_views.EnrolQRCodeView.as_view(), name="qr"),
        path("backup-codes/", admin.site.admin_view(accounts_views.BackupCodesView.as_view()), name="backup_tokens"),
    ],
    "two_factor",
)

urlpatterns = [
    path("admin/", include(admin_password_reset)),
    path("admin/two-factor/", include(second_factor)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Public or behind a login: VAULT_API_DOCS_PUBLIC (vault/core/api_docs.py).
    path("api/schema/", api_docs.SchemaView.as_view(), name="schema"),
    path("api/docs/", api_docs.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("portal/", include("vault.drawdowns.portal_urls")),
    path("", include("vault.core.urls")),
]

handler404 = "vault.core.views.not_found"
handler500 = "vault.core.views.server_error"
