"""The one way an app routes its API viewsets: `@routed("materials", basename="material")` on the
viewset class in the app's `apis.py`, and `routed_urls(apis)` in its `urls.py`. The routes of a
module are registered in the order its classes are defined; a prefix routed twice (a module
imported again) keeps one route."""

from __future__ import annotations

from types import ModuleType
from typing import TypeVar

from django.urls import URLPattern, URLResolver
from rest_framework.routers import DefaultRouter

_ROUTES: dict[str, dict[str, tuple[type, str]]] = {}
ViewSet = TypeVar("ViewSet", bound=type)


def routed(prefix: str, *, basename: str):
    """Route the decorated viewset at `api/v1/<prefix>/` with URL names `<basename>-list`, ..."""

    def register(viewset: ViewSet) -> ViewSet:
        _ROUTES.setdefault(viewset.__module__, {})[prefix] = (viewset, basename)
        return viewset

    return register


def routed_urls(*modules: ModuleType) -> list[URLPattern | URLResolver]:
    """The URL patterns of every viewset routed in `modules` (trailing slashes, no root view)."""
    router = DefaultRouter(trailing_slash=True)
    router.include_root_view = False
    for module in modules:
        for prefix, (viewset, basename) in _ROUTES.get(module.__name__, {}).items():
            router.register(prefix, viewset, basename=basename)
    return list(router.urls)
