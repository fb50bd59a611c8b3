"""What an admin page showed a person: the errors rendered on a field, and whether it wrote."""

import html
import re
from contextlib import contextmanager

from django.apps import apps

_ERRORLIST = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)


def field_errors(response, field: str) -> str:
    """The text of the error list rendered in the form row of `field` ("" when it has none).
    Works for the service form and for Django's own change form (both mark rows `form-row`)."""
    page = response.content.decode()
    for row in page.split('<div class="form-row')[1:]:
        if f'name="{field}"' in row:
            found = _ERRORLIST.search(row)
            return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""
    raise AssertionError(f"the page has no form row for {field!r}")


def row_counts() -> dict[str, int]:
    """Rows of every table of the project (and of the libraries it uses)."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models() if model._meta.managed}


@contextmanager
def nothing_written():
    """with nothing_written(): ... fails when the block added or removed a row anywhere."""
    before = row_counts()
    yield
    after = row_counts()
    assert after == before, {label: (before[label], after[label]) for label in before if before[label] != after[label]}
