"""The few pages that take a file larger than the body limit of every other request
(``MAX_CONTENT_LENGTH``): each registers its own limit here, and one hook, the first of all,
applies it before anything reads the body (the CSRF check reads the form, and the limit in
force when the body is first read is the one that counts)."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

#: endpoint -> the largest file it takes, in bytes (read at request time: configuration).
_LIMITS: dict[str, Callable[[], int]] = {}
#: Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD = 64 * 1024


def allow_large_body(endpoint: str, limit: Callable[[], int]) -> None:
    _LIMITS[endpoint] = limit


def apply_upload_limit() -> None:
    limit = _LIMITS.get(request.endpoint or "")
    if limit is not None and request.method == "POST":
        request.max_content_length = limit() + FORM_OVERHEAD
