from vault.core.routers import routed_urls
from vault.inventory import apis

urlpatterns = routed_urls(apis)
