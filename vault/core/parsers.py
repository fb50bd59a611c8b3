"""The API's JSON parser: DRF's, refusing a body nested deeper than `VAULT_JSON_MAX_DEPTH` with a
400 `json_too_deep` before any Python object is built (a body of 100,000 `[` made `json.load`
raise RecursionError, a 500, even for an anonymous caller on the token endpoint).

It is the API's default parser, and `ContentNegotiation` (the API's content negotiation) puts it
in the place of DRF's own JSONParser wherever a view lists that one in its `parser_classes`
(the CSV upload views do): no view can parse JSON unchecked."""

from __future__ import annotations

import io
import operator
import re
from itertools import accumulate, count

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation

# A JSON string, escapes included (the unrolled form: linear, no backtracking).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Each opening bracket counts 2 and each closing one 0, so that after the i-th bracket
# (1-based) the running sum minus i is the depth there: all in C, no Python loop per byte.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class JSONTooDeep(ParseError):
    default_detail = "The JSON body is nested too deeply."
    default_code = "json_too_deep"


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of the JSON text `raw` nest (0 for a scalar); brackets
    inside strings do not count. O(n) in the length of `raw`."""
    steps = _STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind a depth check (`VAULT_JSON_MAX_DEPTH`). The body is read whole,
    as DRF's parser does anyway; its size is bounded before (vault.core.middleware)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        max_depth = settings.VAULT_JSON_MAX_DEPTH
        if json_depth(raw) > max_depth:
            raise JSONTooDeep(f"The JSON body nests arrays and objects more than {max_depth} levels deep.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, parsing JSON with the depth-checked JSONParser whatever the view lists."""

    def select_parser(self, request, available):
        parser = super().select_parser(request, available)
        if type(parser) is parsers.JSONParser:
            return JSONParser()
        return parser
