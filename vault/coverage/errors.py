from vault.core.errors import InvalidInput


class ForecastRowsInvalid(InvalidInput):
    """Some rows of a forecast upload are wrong; nothing was imported.

    `rows` maps "row N" (N = line number in the file, the header being line 1) to
    {field: [messages]}."""

    code = "invalid_rows"

    def __init__(self, rows: dict[str, dict[str, list[str]]], *, total_errors: int | None = None):
        count = total_errors if total_errors is not None else len(rows)
        super().__init__(f"{count} row(s) have errors; nothing was imported.")
        self.rows = rows

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": self.message, "errors": self.rows}

    def table(self) -> list[tuple[str, str, str]]:
        """(row, column, messages) per wrong cell, as the admin lists them."""
        return [
            (row, field, "; ".join(messages)) for row, fields in self.rows.items() for field, messages in fields.items()
        ]
