"""The tamper-evident history: every event is sealed into one hash chain, and the chain's head
is signed at intervals and published (the idea of certificate-transparency logs).

Sealing happens after commit, in one worker (``flask seal-history``), so no use case waits for
a global lock: the sealer takes the unsealed events in id order, gives each the next place in
the chain (``chain_seq``), the hash of the event before it (``chain_prev``) and its own hash
(``chain_hash`` = SHA-256 of the previous hash and the event's canonical content), then signs
the new head (``HistoryCheckpoint``: a JWS with the receipt signing key, its claims marked
``typ: landpay-history``). ``verify`` recomputes everything: a changed event no longer matches
its hash, a deleted or reordered one breaks the links or leaves a gap, and a history rewritten
with fresh hashes no longer matches the signed heads.

An event is protected from the moment it is sealed (seconds after commit with the worker
running); ``verify`` also reports events left unsealed for longer than the grace period.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, HistoryCheckpoint, HistoryHead
from app.services.keys import receipt_signer, verification_jwks
from payments.receipts import b64url_decode, public_keys

GENESIS = "0" * 64
CHECKPOINT_TYPE = "landpay-history"
#: Events older than this and still unsealed are reported by ``verify``.
SEAL_GRACE = timedelta(minutes=10)


def content(event: Event) -> bytes:
    """The canonical bytes of what an event says (everything but its place in the chain)."""
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds") if event.at else None
    fields: dict[str, Any] = {
        "uid": event.uid, "dossier_id": event.dossier_id, "kind": event.kind,
        "from_status": event.from_status, "to_status": event.to_status,
        "actor_id": event.actor_id, "actor_label": event.actor_label, "at": at, "data": event.data or {},
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link(prev: str, event: Event) -> str:
    return hashlib.sha256(prev.encode("ascii") + b"|" + content(event)).hexdigest()


def seal(limit: int = 5000) -> int:
    """Seal up to ``limit`` unsealed events and sign the new head; one transaction (the head row
    is locked, so two sealers never interleave). Returns how many were sealed."""
    head = db.session.get(HistoryHead, "events", with_for_update=True)
    if head is None:
        db.session.add(HistoryHead(name="events", seq=0, head=GENESIS))
        db.session.flush()
        head = db.session.get(HistoryHead, "events", with_for_update=True)
    events = db.session.scalars(select(Event).where(Event.chain_seq.is_(None)).order_by(Event.id).limit(limit)).all()
    for event in events:
        head.seq += 1
        event.chain_seq, event.chain_prev = head.seq, head.head
        event.chain_hash = head.head = link(head.head, event)
    if events:
        signer = receipt_signer()
        claims = {"typ": CHECKPOINT_TYPE, "seq": head.seq, "head": head.head,
                  "signed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        db.session.add(HistoryCheckpoint(seq=head.seq, head=head.head, token=signer.sign(claims), kid=signer.kid))
    db.session.commit()
    return len(events)


def _checkpoint_claims(token: str, keys) -> dict[str, Any]:
    """The claims of a checkpoint token whose signature holds, else ValueError."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        key = keys[header["kid"]]
        if header.get("alg") != "EdDSA":
            raise ValueError("not an EdDSA token")
        key.verify(b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
        claims = json.loads(b64url_decode(payload_b64))
    except (KeyError, ValueError, TypeError, InvalidSignature) as err:
        raise ValueError(f"bad signature ({type(err).__name__})") from None
    if claims.get("typ") != CHECKPOINT_TYPE:
        raise ValueError("not a history checkpoint")
    return claims


@dataclass(frozen=True)
class Problem:
    kind: str  # changed, broken_link, gap, checkpoint, unsealed
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


def verify(now: datetime | None = None) -> tuple[int, list[Problem]]:
    """Walk the whole chain and every checkpoint; returns (events checked, problems)."""
    now = now or datetime.now(UTC)
    problems: list[Problem] = []
    hash_at: dict[int, str] = {}
    expected_seq, prev = 1, GENESIS
    checked = 0
    for event in db.session.scalars(select(Event).where(Event.chain_seq.is_not(None))
                                    .order_by(Event.chain_seq).execution_options(yield_per=1000)):
        checked += 1
        where = f"seq {event.chain_seq} (event {event.uid})"
        if event.chain_seq != expected_seq:
            problems.append(Problem("gap", where, f"expected seq {expected_seq}: events missing"))
        if event.chain_prev != prev:
            problems.append(Problem("broken_link", where, "does not follow the event before it"))
        if link(event.chain_prev or "", event) != event.chain_hash:
            problems.append(Problem("changed", where, "its content no longer matches its hash"))
        hash_at[event.chain_seq] = event.chain_hash
        prev, expected_seq = event.chain_hash, event.chain_seq + 1
    keys = public_keys(verification_jwks())
    for checkpoint in db.session.scalars(select(HistoryCheckpoint).order_by(HistoryCheckpoint.seq)):
        where = f"checkpoint {checkpoint.seq}"
        try:
            claims = _checkpoint_claims(checkpoint.token, keys)
        except ValueError as err:
            problems.append(Problem("checkpoint", where, str(err)))
            continue
        if claims.get("seq") != checkpoint.seq or claims.get("head") != checkpoint.head:
            problems.append(Problem("checkpoint", where, "the row differs from what was signed"))
        elif hash_at.get(checkpoint.seq) != claims["head"]:
            problems.append(Problem("checkpoint", where, "the chain here differs from the signed head"))
    late = db.session.scalar(select(func.count(Event.id)).where(
        Event.chain_seq.is_(None), Event.at < now - SEAL_GRACE))
    if late:
        problems.append(Problem("unsealed", "events", f"{late} events older than {SEAL_GRACE} are not sealed"))
    return checked, problems


def published(limit: int = 20) -> list[dict[str, Any]]:
    """The latest signed heads, for anyone to keep and compare later."""
    return [{"seq": c.seq, "head": c.head, "token": c.token, "signed_at": c.signed_at.isoformat()}
            for c in db.session.scalars(select(HistoryCheckpoint).order_by(HistoryCheckpoint.seq.desc()).limit(limit))]
