from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("portal/", include("vault.drawdowns.portal_urls")),
    path("", include("vault.core.urls")),
]

handler404 = "vault.core.views.not_found"
handler500 = "vault.core.views.server_error"
