"""Errors raised by the rules engine and the table loaders."""

from __future__ import annotations


class CaseError(ValueError):
    """A case cannot be assessed: bad or missing input, or no rule covers it.

    ``field`` names the offending input (dotted path such as ``parcels[0].area_m2``)
    so callers can show the message next to the right form field.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class TableError(ValueError):
    """A data file (price table, quota list, fee schedule ...) is malformed.

    ``line`` is the 1-based line number in the file (``None`` for file-level problems)
    and ``field`` the column or header key at fault.
    """

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None,
                 source: str | None = None) -> None:
        self.field = field
        self.line = line
        self.source = source
        self.message = message
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
