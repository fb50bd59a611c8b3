from django.urls import path

from vault.accounts.apis import TokenApi

urlpatterns = [path("auth/token/", TokenApi.as_view(), name="auth-token")]
