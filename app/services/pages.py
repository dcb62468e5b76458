"""Keyset pagination, shared by every list of the pages and the API.

A list is sorted by a key that names each row once (a time or a number, then the id). A page
is the first ``limit`` rows after the last key of the page before: the query asks for
``key > last`` (or ``<`` for a descending sort), which an index on the key answers by reading
the page's rows only, however deep the page is; an offset would read and drop every row
before it. The cursor a client gets back is that last key, encoded (base64 of a small JSON
array with the list's name), so it is opaque and cannot be reused on another list.

``Listing`` is a list's query (already scoped and filtered) with its sort key; ``fetch`` runs
one page of it; ``statement`` is the exact statement ``fetch`` runs (what the EXPLAIN test
looks at)."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Select, and_, literal, or_, tuple_
from sqlalchemy.types import TypeDecorator

from app.errors import ValidationFailed

#: Rows per page unless the request asks for another number; never more than ``MAX_LIMIT``.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: A cursor is a few dozen characters; anything much longer was not made here.
MAX_CURSOR = 400


@dataclass(frozen=True)
class Key:
    """One column of a sort key: what to order by, which way, and how to read its value
    from a row of the list (default: the attribute of the column's name)."""

    column: Any
    desc: bool = False
    read: Callable[[Any], Any] | None = None

    def value(self, row) -> Any:
        return self.read(row) if self.read else getattr(row, self.column.key)


@dataclass(frozen=True)
class Listing:
    """A list: its name (in the cursor), its query and its sort key (the last part of the key
    must be unique, e.g. the id). ``scalars``: each row is one object (else a tuple)."""

    name: str
    query: Select
    keys: tuple[Key, ...]
    scalars: bool = True


@dataclass
class Page:
    items: list
    next_cursor: str | None
    limit: int
    #: The query parameters the page was asked with (without the cursor), for the next link.
    args: dict = field(default_factory=dict)
    #: The prefix of this list's ``cursor`` and ``limit`` parameters (several lists on a page).
    prefix: str = ""
    #: Whether this page was asked for with a cursor (it is not the first).
    after_first: bool = False

    @property
    def next_args(self) -> dict:
        """The query parameters of the next page's link."""
        return {**self.args, f"{self.prefix}cursor": self.next_cursor}


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a sort key must be a time, a date, a number or a text, not {value!r}")
    return value


def encode_cursor(name: str, values: Sequence) -> str:
    raw = json.dumps([name, *[_plain(v) for v in values]], separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _python_type(column):
    kind = column.type
    if isinstance(kind, TypeDecorator):  # e.g. UTCDateTime: its implementation's
        kind = kind.impl_instance
    return kind.python_type


def _typed(column, value):
    kind = _python_type(column)
    if issubclass(kind, datetime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment
    if issubclass(kind, date):
        return date.fromisoformat(value)
    if issubclass(kind, enum.Enum):
        return kind(value)
    if issubclass(kind, bool) or not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError("wrong type")
    if isinstance(value, int):
        widest = 2**63 - 1 if isinstance(column.type, BigInteger) else 2**31 - 1
        if not -widest <= value <= widest:  # the column could never hold it
            raise ValueError("out of range")
    return value


def bad_cursor() -> ValidationFailed:
    return ValidationFailed(_("Invalid input."), fields={
        "cursor": _("This page link is not valid (or not for this list); start from the first page.")})


def decode_cursor(listing: Listing, cursor: str) -> list:
    """The last key of the page before, checked against the list's key; a cursor that was
    not made for this list is refused (422, field ``cursor``)."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, list) or len(data) != len(listing.keys) + 1 or data[0] != listing.name:
            raise ValueError("not this list's")
        return [_typed(key.column, value) for key, value in zip(listing.keys, data[1:], strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError, RecursionError):
        raise bad_cursor() from None


def _after(keys: Sequence[Key], values: Sequence):
    """The rows after ``values`` in the sort: one row comparison when every column goes the
    same way (an index on the columns answers it), else the expanded form."""
    values = [literal(v, type_=k.column.type) for k, v in zip(keys, values, strict=True)]
    if len({key.desc for key in keys}) == 1:
        left, right = tuple_(*[k.column for k in keys]), tuple_(*values)
        return left < right if keys[0].desc else left > right
    terms = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.desc else key.column > values[i]
        terms.append(and_(*equal, step))
    return or_(*terms)


def statement(listing: Listing, after: Sequence | None, limit: int) -> Select:
    """The statement of one page: the list's query after the cursor's key, in key order,
    one row more than the page (to know whether a next page exists)."""
    query = listing.query
    if after is not None:
        query = query.where(_after(listing.keys, after))
    order = [k.column.desc() if k.desc else k.column.asc() for k in listing.keys]
    return query.order_by(None).order_by(*order).limit(limit + 1)


def parse_limit(raw: str | None, default: int = DEFAULT_LIMIT) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(_("Invalid input."), fields={
            "limit": _("A whole number from 1 to %(max)s.", max=MAX_LIMIT)})
    return int(raw)


def fetch(listing: Listing, args: Mapping[str, str] | None = None, *, prefix: str = "",
          default_limit: int = DEFAULT_LIMIT) -> Page:
    """One page of ``listing``: ``{prefix}cursor`` and ``{prefix}limit`` are read from
    ``args`` (a request's query parameters). Bad values are refused with 422 naming the
    parameter; the page's own link parameters are in ``Page.args``."""
    from app.extensions import db

    args = args or {}
    limit = parse_limit(args.get(f"{prefix}limit"), default_limit)
    cursor = args.get(f"{prefix}cursor") or None
    after = decode_cursor(listing, cursor) if cursor else None
    result = db.session.execute(statement(listing, after, limit))
    rows = list(result.scalars() if listing.scalars else result.all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(listing.name, [k.value(rows[-1]) for k in listing.keys])
    kept = {k: v for k, v in args.items() if k != f"{prefix}cursor"}
    return Page(items=rows, next_cursor=next_cursor, limit=limit, args=kept, prefix=prefix,
                after_first=after is not None)


def fetch_in_memory(name: str, rows: Sequence, keys: Sequence[Callable[[Any], Any]],
                    args: Mapping[str, str] | None = None, *, prefix: str = "",
                    default_limit: int = DEFAULT_LIMIT) -> Page:
    """The same pages and cursors over rows computed in Python (already sorted ascending by
    ``keys``): for a list that is not one query."""
    args = args or {}
    limit = parse_limit(args.get(f"{prefix}limit"), default_limit)
    cursor = args.get(f"{prefix}cursor") or None
    start = 0
    if cursor:
        try:
            if len(cursor) > MAX_CURSOR:
                raise ValueError("too long")
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if not isinstance(raw, list) or len(raw) != len(keys) + 1 or raw[0] != name:
                raise ValueError("not this list's")
            last = tuple(raw[1:])
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
            raise bad_cursor() from None
        plain = [tuple(_plain(k(r)) for k in keys) for r in rows]
        try:
            start = next((i for i, key in enumerate(plain) if key > last), len(rows))
        except TypeError:
            raise bad_cursor() from None
    chunk = list(rows[start:start + limit + 1])
    next_cursor = None
    if len(chunk) > limit:
        chunk = chunk[:limit]
        next_cursor = encode_cursor(name, [k(chunk[-1]) for k in keys])
    kept = {k: v for k, v in args.items() if k != f"{prefix}cursor"}
    return Page(items=chunk, next_cursor=next_cursor, limit=limit, args=kept, prefix=prefix,
                after_first=bool(cursor))


def api_page(page: Page, items: list, endpoint: str, **values):
    """A list answer of the API: ``items``, ``next_cursor`` (null on the last page) and, when
    there is a next page, a ``Link: <...>; rel="next"`` header."""
    from flask import jsonify, url_for

    response = jsonify({"items": items, "next_cursor": page.next_cursor})
    if page.next_cursor:
        link = url_for(endpoint, **values, **page.args, cursor=page.next_cursor)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response
