from rest_framework.routers import DefaultRouter

from vault.drawdowns import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("drawdown-requests", apis.DrawdownRequestViewSet, basename="drawdown-request")
router.register("entitlements", apis.EntitlementViewSet, basename="entitlement")
router.register("obligations", apis.ObligationViewSet, basename="obligation")
router.register("disruptions", apis.DisruptionViewSet, basename="disruption")

urlpatterns = router.urls
