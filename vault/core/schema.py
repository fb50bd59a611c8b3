"""OpenAPI post-processing: every operation documents the error responses it can really give,
with the one error shape of vault.core.exceptions."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code, e.g. insufficient_stock."},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": (
                "Messages per field (non_field_errors for the request as a whole); a list of "
                "strings, or nested objects for nested fields and rows."
            ),
            "additionalProperties": {"oneOf": [{"type": "array"}, {"type": "object"}]},
        },
    },
    "additionalProperties": True,
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field.",
    "401": "Not authenticated.",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found, or not visible to this user (another organization's data), or an invalid page.",
    "409": "Conflicts with the current state (insufficient stock, wrong state for this action...).",
    "413": (
        "The request body is over the size limit (`request_too_large`; VAULT_MAX_REQUEST_BODY_BYTES, "
        "VAULT_MAX_UPLOAD_BODY_BYTES for multipart uploads); nothing was read or written."
    ),
    "429": "Too many attempts; retry later.",
}
# Operations open to anonymous callers (the API's login), and paths under the "auth" throttle.
PUBLIC_OPERATIONS = {("/api/v1/auth/token/", "post")}
THROTTLED_PATHS = {"/api/v1/auth/token/"}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            params = operation.get("parameters", [])
            has_query = any(p.get("in") == "query" for p in params)
            has_path = any(p.get("in") == "path" for p in params)
            writes = method != "get"
            codes = set()
            if writes or has_query or has_path:
                codes.add("400")
            if "requestBody" in operation:  # vault.core.middleware.BodySizeLimitMiddleware
                codes.add("413")
            if path in THROTTLED_PATHS:
                codes.add("429")
            if (path, method) not in PUBLIC_OPERATIONS:
                codes |= {"401", "403"}
                if has_path or any(p.get("name") == "page" for p in params):
                    codes.add("404")
            if writes:
                codes.add("409")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    code, {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": ERROR_REF}}}
                )
    return result
