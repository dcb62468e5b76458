"""Idempotency keys for the API's creating requests (``Idempotency-Key`` header).

A client that may retry a creating request (its connection broke, it timed out) sends a
key of its own choosing with it. The first request with a key runs; every later one with the
same key and the same request gets the first answer again (same status and body, with
``Idempotent-Replayed: true``) instead of creating a second thing. The rules:

* a key is 1 to 255 printable ASCII characters, and belongs to the user who sent it; a key
  sent without an account (the public payment API) belongs to the notice it was sent for;
* the same key with another request (method, path or body) is refused: 422
  ``idempotency_key_reused``;
* while the first request runs, another with its key is answered 409
  ``request_in_progress`` at once (with ``Retry-After``) rather than waiting: the key's row is
  inserted and committed before the request runs, so concurrent requests act once;
* an answer below 500 is kept for 24 hours; a 5xx answer, a 429 (too many attempts: nothing
  was done) or an unexpected error frees the key, so a retry runs the request again; so does a
  key whose request never answered within ``ABANDONED_AFTER`` (its process died);
* keys are optional.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import Response, g, make_response, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.errors import AppError, Conflict, ValidationFailed, error_response
from app.extensions import db
from app.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: How long an answer is kept for replay.
TTL = timedelta(hours=24)
#: A claimed key without an answer after this long belongs to a request whose process died.
ABANDONED_AFTER = timedelta(minutes=2)
#: The answer headers replayed with the body.
KEPT_HEADERS = ("Content-Type", "Location")

_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")


class KeyReused(AppError):
    status = 422
    code = "idempotency_key_reused"


class InProgress(Conflict):
    code = "request_in_progress"


def canonical_body() -> bytes:
    """The body as compared between a request and its retry: JSON re-serialised with
    sorted keys and no spaces (so key order and spacing do not matter), else the raw bytes."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return raw
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint() -> str:
    body = hashlib.sha256(canonical_body()).hexdigest()
    target = request.path + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
    return hashlib.sha256(f"{request.method}\n{target}\n{body}".encode()).hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    response = Response(row.response_body or "", status=row.response_status)
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _owner(key: str) -> tuple[int | None, str]:
    """Whose key this is: the user's; or, for a caller without an account, the notice code's
    (the key stored is a hash of both, so strangers' keys for other notices never meet)."""
    user = getattr(g, "api_user", None)
    if user is not None:
        return user.id, key
    code = str((request.view_args or {}).get("code", "")).strip().upper()
    return None, hashlib.sha256(f"anonymous|{request.endpoint}|{code}|{key}".encode()).hexdigest()


def _claim(user_id: int | None, key: str, print_: str) -> IdempotencyKey | Response:
    """Insert the key as in progress in a transaction of its own; or the earlier answer."""
    db.session.commit()  # end the authentication's read, so the claim is its own transaction
    now = datetime.now(UTC)
    for _attempt in range(2):
        row = IdempotencyKey(user_id=user_id, key=key, fingerprint=print_, created_at=now,
                             expires_at=now + TTL)
        db.session.add(row)
        try:
            db.session.commit()
            return row
        except IntegrityError:
            db.session.rollback()
        earlier = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id.is_(None) if user_id is None else IdempotencyKey.user_id == user_id,
                IdempotencyKey.key == key)
        )
        if earlier is None:  # freed meanwhile: try again
            continue
        if earlier.expires_at <= now:  # expired: cleared lazily, the key is free again
            db.session.delete(earlier)
            db.session.commit()
            continue
        if earlier.fingerprint != print_:
            raise KeyReused(_("This Idempotency-Key was already used for a different request."),
                            fields={HEADER: _("Use a new key for a new request.")})
        if earlier.response_status is None and earlier.created_at <= now - ABANDONED_AFTER:
            # The request that claimed the key never answered: its process died (no request
            # of ours runs this long). The key is free again, so the client's retry runs
            # instead of being refused for a day; what the dead request may have committed is
            # guarded by the use case itself (one open dossier per parcel, one counted payment
            # per notice).
            db.session.delete(earlier)
            db.session.commit()
            continue
        if earlier.response_status is None:
            raise InProgress(_("A request with this Idempotency-Key is still in progress; retry in a moment."))
        response = _replay(earlier)
        db.session.commit()
        return response
    raise InProgress(_("A request with this Idempotency-Key is still in progress; retry in a moment."))


def _release(row_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
    db.session.commit()


def idempotent(view):
    """Make a creating API view honour ``Idempotency-Key``; put it under ``api_auth`` (or use
    it alone on a public view with a ``code`` in its path)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY_RE.fullmatch(key) or not key.strip():
            raise ValidationFailed(_("Invalid input."),
                                   fields={HEADER: _("1 to 255 printable ASCII characters.")})
        try:
            claimed = _claim(*_owner(key), fingerprint())
        except InProgress as err:
            db.session.rollback()
            answer = make_response(error_response(err.status, err.code, err.message))
            answer.headers["Retry-After"] = "1"
            return answer
        if isinstance(claimed, Response):
            return claimed
        row_id = claimed.id
        try:
            response = view(*args, **kwargs)
        except AppError as err:
            if err.status >= 500 or err.status == 429:
                _release(row_id)
                raise
            db.session.rollback()
            response = error_response(err.status, err.code, err.message, err.fields)
        except BaseException:
            _release(row_id)
            raise
        response = make_response(response)
        if response.status_code >= 500 or response.status_code == 429:
            _release(row_id)
            return response
        row = db.session.get(IdempotencyKey, row_id)
        row.response_status = response.status_code
        row.response_body = response.get_data(as_text=True)
        row.response_headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        db.session.commit()
        return response

    return wrapped


def purge_expired(now: datetime | None = None) -> int:
    """Delete the keys whose answers have expired; return how many. The caller commits."""
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or datetime.now(UTC)))
    )
    return result.rowcount or 0
