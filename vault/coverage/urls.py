from vault.core.routers import routed_urls
from vault.coverage import apis

urlpatterns = routed_urls(apis)
