"""The OpenAPI schema and Swagger UI: public while VAULT_API_DOCS_PUBLIC (local, test), for
logged-in users only otherwise (production). Read at each request, so a test can switch it."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission


class ApiDocsPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.VAULT_API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    """The schema: anonymous callers get 401 when it is not public."""

    permission_classes = [ApiDocsPermission]


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI without inline script or style (its init script is a second request to the same
    URL, `?script`), so that it runs under the site's Content-Security-Policy. When the docs are
    not public, an anonymous browser is sent to the login page and comes back after it."""

    permission_classes = [ApiDocsPermission]
    template_name = "api_docs/swagger_ui.html"

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated) and "script" not in self.request.GET:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
