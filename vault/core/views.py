from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import choose_encoder

from vault.core.health import readiness
from vault.core.metrics import metrics_allowed, scrape_registry

# The probes and the metrics are answered by vault.core.health.ProbeMiddleware, before host
# validation; these URL patterns name them (and serve them should the middleware be removed).


@never_cache
@require_safe
def healthz(request):
    """Liveness: the process answers. Touches no database, cache or broker."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: 200 when every check passes, else 503 with each check's result."""
    ready, checks = readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@never_cache
@require_safe
def metrics(request):
    if not metrics_allowed(request):
        return HttpResponseForbidden(
            "Metrics are served to the allowed networks or with the bearer token.\n", content_type="text/plain"
        )
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(scrape_registry()), content_type=content_type)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """404 in the API's JSON error shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"code": "server_error", "detail": "Internal error; it has been logged."}, status=500)
    return defaults.server_error(request)
