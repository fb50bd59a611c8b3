from rest_framework.routers import DefaultRouter

from vault.coverage import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("forecasts", apis.ForecastViewSet, basename="forecast")
router.register("forecast-versions", apis.ForecastVersionViewSet, basename="forecast-version")
router.register("inbound", apis.InboundViewSet, basename="inbound")
router.register("coverage", apis.CoverageViewSet, basename="coverage")
router.register("alerts", apis.AlertViewSet, basename="alert")

urlpatterns = router.urls
