"""The national public service portal's client: signed HTTP, one event or a batch of events
per request (docs/protocols/national-portal.md). The only place that signs portal messages.

It knows nothing of the database: app/services/delivery.py decides what to send and
records what came back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime

import requests

TIMESTAMP_HEADER = "X-Portal-Timestamp"
SIGNATURE_HEADER = "X-Portal-Signature"
SCHEME = "sha256="
#: The portal refuses a timestamp further than this from its clock (seconds).
REPLAY_WINDOW = 300


class PortalError(Exception):
    """The portal did not acknowledge: unreachable, an error status, or a wrong answer.
    The message is safe to store and log (no secret, no signature)."""


@dataclass(frozen=True)
class Acknowledgement:
    event_id: str
    received_at: datetime


def encode(message: dict) -> bytes:
    """The exact bytes sent: the same message always gives the same body."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``timestamp + "." + body``."""
    if not secret:
        raise ValueError("the portal secret must not be empty")
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str | None, given: str | None, body: bytes,
           now: float | None = None, window: int = REPLAY_WINDOW) -> bool:
    """True when ``given`` signs ``body`` at ``timestamp`` and the timestamp is fresh;
    compares in constant time."""
    if not timestamp or not given or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().encode("ascii", "replace"))


@dataclass(frozen=True)
class Refusal:
    """The portal did not acknowledge one event of a batch; ``error`` is safe to store."""

    event_id: str
    error: str


#: At most this many events in one batch request (the portal refuses more).
BATCH_MAX = 1000


def _received_at(data: dict) -> datetime:
    try:
        received_at = datetime.fromisoformat(str(data.get("received_at")))
    except ValueError:
        raise PortalError("portal acknowledgement has no valid received_at") from None
    if received_at.tzinfo is None:
        raise PortalError("portal acknowledgement time has no offset")
    return received_at


class PortalClient:
    def __init__(self, base_url: str, secret: str, timeout: float = 5,
                 session: requests.Session | None = None):
        if not secret:
            raise ValueError("PORTAL_SECRET is not set")
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self.timeout = timeout
        # One session: its pool keeps the connection open from one request to the next.
        self._http = session or requests.Session()

    def __repr__(self) -> str:  # the secret stays out of logs
        return f"PortalClient({self.base_url!r})"

    def _post(self, path: str, message: dict) -> requests.Response:
        body = encode(message)
        try:
            return self._http.post(self.base_url + path, data=body,
                                   headers=signed_headers(self._secret, body),
                                   timeout=(min(self.timeout, 3), self.timeout))
        except requests.RequestException as err:
            raise PortalError(f"portal unreachable: {type(err).__name__}") from None

    @staticmethod
    def _answer(response: requests.Response) -> dict:
        if response.status_code != 200:
            try:
                code = response.json().get("error", "")
            except ValueError:
                code = ""
            raise PortalError(f"portal answered {response.status_code} {code}".strip())
        try:
            data = response.json()
        except ValueError:
            raise PortalError("portal answered 200 without JSON") from None
        if not isinstance(data, dict):
            raise PortalError("portal answered 200 without a JSON object")
        return data

    def send_event(self, message: dict) -> Acknowledgement:
        """Deliver one event; the portal's acknowledgement, or PortalError."""
        data = self._answer(self._post("/api/events", message))
        if data.get("event_id") != message["event_id"]:
            raise PortalError("portal acknowledged another event id")
        return Acknowledgement(message["event_id"], _received_at(data))

    def send_batch(self, messages: list[dict]) -> list[Acknowledgement | Refusal]:
        """Deliver events in one request (at most ``BATCH_MAX``); one answer per event, in
        order. PortalError when the request as a whole failed (nothing to learn per event)."""
        if not 0 < len(messages) <= BATCH_MAX:
            raise ValueError(f"a batch holds 1 to {BATCH_MAX} events")
        data = self._answer(self._post("/api/events/batch", {"events": messages}))
        results = data.get("results")
        if not isinstance(results, list) or len(results) != len(messages):
            raise PortalError("portal batch answer has not one result per event")
        answers: list[Acknowledgement | Refusal] = []
        for message, result in zip(messages, results, strict=True):
            if not isinstance(result, dict) or result.get("event_id") != message["event_id"]:
                raise PortalError("portal batch answer is not in the order sent")
            if "error" in result:
                answers.append(Refusal(message["event_id"],
                                       f"portal answered {result.get('status', '')} {result['error']}"[:200]))
            else:
                answers.append(Acknowledgement(message["event_id"], _received_at(result)))
        return answers

    def held(self, event_ids: list[str]) -> set[str]:
        """Which of ``event_ids`` (at most 1000) the portal holds."""
        data = self._answer(self._post("/api/events/lookup", {"event_ids": list(event_ids)}))
        held = data.get("held")
        if not isinstance(held, list):
            raise PortalError("portal lookup answer has no list of held ids")
        return {str(i) for i in held}
