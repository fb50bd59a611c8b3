"""The API's list routes, read from the URL resolver, for tests that sweep every query parameter."""

from django.urls import URLPattern, URLResolver, get_resolver


def api_list_views():
    """(path, view class) of every API list route with a FilterSet: a plain list view, or a
    viewset route whose GET is `list` (not a POST-only action)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if not route.startswith("api/v1/") or "<" in route or "(?P<format>" in route:
            continue
        if view is None or getattr(view, "filterset_class", None) is None:
            continue
        if actions and actions.get("get") != "list":
            continue
        yield "/" + route.replace("^", "").replace("$", ""), view
