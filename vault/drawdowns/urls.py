from vault.core.routers import routed_urls
from vault.drawdowns import apis

urlpatterns = routed_urls(apis)
