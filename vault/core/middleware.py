"""A request body over the size limit is answered 413 before anything reads it.

`VAULT_MAX_REQUEST_BODY_BYTES` bounds every body, except multipart/form-data ones (file uploads:
a forecast CSV of `VAULT_FORECAST_MAX_ROWS` rows runs to megabytes; Django spools files to disk),
bounded by `VAULT_MAX_UPLOAD_BODY_BYTES`. A body that declares its length is refused from its
`Content-Length` header, unread. A body without one (`Transfer-Encoding: chunked`) is read
through `LimitedInput`: reading past the limit raises `RequestBodyTooLarge`, which raised in a
view is the same 413 (and so is Django's RequestDataTooBig: a multipart body's form fields, its
files aside, over DATA_UPLOAD_MAX_MEMORY_SIZE, which is VAULT_MAX_REQUEST_BODY_BYTES). The answer
is the API's error shape under /api/ (`code` `request_too_large`) and a plain text page elsewhere
(admin, portal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


class RequestBodyTooLarge(RequestDataTooBig):
    """Reading the body went past the limit. A RequestDataTooBig (a 400 from Django) should it
    escape outside a view; raised in a view, BodySizeLimitMiddleware answers 413."""

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class LimitedInput:
    """A `wsgi.input` that raises RequestBodyTooLarge once more than `limit` bytes were read;
    it never asks the server for more than one byte past the limit."""

    def __init__(self, stream, limit: int):
        self._stream, self._limit, self._read = stream, limit, 0

    def _bounded(self, size: int | None) -> int:
        allowed = self._limit - self._read + 1
        return allowed if size is None or size < 0 else min(size, allowed)

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise RequestBodyTooLarge(self._limit)
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._stream.read(self._bounded(size)))

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self._stream.readline(self._bounded(size)))

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def body_limit(request: HttpRequest) -> int:
    """The most bytes this request's body may have."""
    if request.content_type == "multipart/form-data":
        return settings.VAULT_MAX_UPLOAD_BODY_BYTES
    return settings.VAULT_MAX_REQUEST_BODY_BYTES


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    detail = f"The request body is larger than the limit of {limit} bytes."
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            {"code": "request_too_large", "detail": detail, "limit_bytes": limit}, status=413
        )
    else:
        response = HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
    return response


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty
        if length > limit:
            return too_large(request, limit)
        if not length and "wsgi.input" in request.META:
            request.META["wsgi.input"] = LimitedInput(request.META["wsgi.input"], limit)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestBodyTooLarge):
            return too_large(request, exception.limit)
        if isinstance(exception, RequestDataTooBig):
            # Django's own bound: the form fields of a multipart body (not its files) over
            # DATA_UPLOAD_MAX_MEMORY_SIZE. A 413 as well, rather than Django's 400.
            return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None
