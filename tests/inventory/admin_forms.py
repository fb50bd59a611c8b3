"""Read the fields of a rendered admin form, so that a test posts what a browser would."""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "image", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.lstrip("\n")


def form_data(response, form_id: str | None = None) -> dict[str, str]:
    parser = _FormParser(form_id)
    parser.feed(response.content.decode())
    return parser.data


def lot_add_data(client, **overrides) -> dict[str, str]:
    """What the lot add page posts, filled in for lot ADM-1 (material and site to give)."""
    data = form_data(client.get("/admin/inventory/lot/add/"), "lot_form")
    data.update(
        {
            "lot_number": "ADM-1",
            "mining_country": "AU",
            "processing_country": "MY",
            "received_date": "2026-02-02",
            "unit_cost": "57",
            "status": "available",
        }
    )
    data.update(overrides)
    return data
