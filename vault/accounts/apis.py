from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny

from vault.core.throttles import ScopedRateThrottle


class TokenObtainApi(ObtainAuthToken):
    """Exchange username and password for an API token (`Authorization: Token KEY`). Throttled per
    client address (`VAULT_AUTH_THROTTLE`), per process while the shared cache is down."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
