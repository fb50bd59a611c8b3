from rest_framework.routers import DefaultRouter

from vault.inventory import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("materials", apis.MaterialViewSet, basename="material")
router.register("sites", apis.SiteViewSet, basename="site")
router.register("lots", apis.LotViewSet, basename="lot")
router.register("movements", apis.MovementViewSet, basename="movement")
router.register("positions", apis.PositionViewSet, basename="position")

urlpatterns = router.urls
