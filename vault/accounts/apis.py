from drf_spectacular.utils import OpenApiParameter, extend_schema
from knox.models import AuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from vault.accounts import services
from vault.accounts.errors import TokenRequired
from vault.accounts.serializers import IssuedTokenSerializer, TokenObtainSerializer, TokenRevokeQuerySerializer
from vault.core.throttles import ScopedRateThrottle


class TokenApi(APIView):
    """The API's login and logout (docs/security.md, "API tokens"). POST exchanges username and
    password for a new token (`Authorization: Token KEY`), DELETE revokes the token sent, or with
    `?all=true` every token of its user. Throttled per client address (`VAULT_AUTH_THROTTLE`),
    per process while the shared cache is down."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        request=TokenObtainSerializer,
        responses={200: IssuedTokenSerializer},
        auth=[],
        description=(
            "Exchange username and password for a new API token, good until `expiry` (VAULT_API_TOKEN_TTL_HOURS "
            "after now, whatever its use). Each call issues another token (one per integration or device), up to "
            "VAULT_API_TOKEN_LIMIT_PER_USER live ones (409 `token_limit_reached`). Wrong credentials, an inactive "
            "user and a lockout: 400 `invalid_credentials`."
        ),
    )
    def post(self, request):
        credentials = TokenObtainSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        issued = services.token_obtain(request=request, **credentials.validated_data)
        return Response(IssuedTokenSerializer({"token": issued.key, "expiry": issued.expiry}).data)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("all", bool, description=str(TokenRevokeQuerySerializer().fields["all"].help_text))
        ],
        responses={204: None},
        description=(
            "Revoke the token this request is authenticated with (204; the next request with it is a 401), or "
            "with `?all=true` every token of its user. A request authenticated by a session: 400 `token_required`, "
            "nothing revoked."
        ),
    )
    def delete(self, request):
        params = TokenRevokeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if not isinstance(request.auth, AuthToken):
            raise TokenRequired()
        services.token_revoke(by=request.user, token=None if params.validated_data["all"] else request.auth)
        return Response(status=204)
