"""Page-number pagination without COUNT(*): a page fetches page_size + 1 rows to know whether
a next page exists, so the cost of a page never grows with the size of the table.

`page_size` (1 to 1,000; more is capped) that is not a positive number is a 400 naming the
parameter; a `page` that is not a positive number, or past the last page, is a 404."""

from collections import OrderedDict

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class PagePagination(BasePagination):
    page_size = 50
    max_page_size = 1000
    max_page = 1_000_000  # keeps OFFSET within what every database accepts
    page_query_param = "page"
    page_size_query_param = "page_size"

    def _positive_int(self, request, name: str, default: int, error, maximum: int | None = None) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise error(f"Invalid {name}: {raw!r}; use a whole number from 1.")
        return min(value, maximum) if maximum else value

    @staticmethod
    def _bad_page_size(message: str) -> ValidationError:
        return ValidationError({"page_size": [message]})

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = self._positive_int(
            request, self.page_size_query_param, self.page_size, self._bad_page_size, self.max_page_size
        )
        self.page = self._positive_int(request, self.page_query_param, 1, NotFound)
        if self.page > self.max_page:
            raise NotFound("Invalid page.")
        offset = (self.page - 1) * self.size
        rows = list(queryset[offset : offset + self.size + 1])
        if not rows and self.page > 1:
            raise NotFound("Invalid page.")
        self.has_next = len(rows) > self.size
        return rows[: self.size]

    def _link(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("next", self._link(self.page + 1 if self.has_next else None)),
                    ("previous", self._link(self.page - 1 if self.page > 1 else None)),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
