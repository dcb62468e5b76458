"""A local mail sink and test SMS gateway: ``python -m mock_mail``.

It accepts every mail sent to its SMTP port and every text message posted to its SMS endpoint,
keeps the last ones in memory, and shows them on a web page and as JSON, so a developer (or a
test) can read what LandPay sent. It imports nothing of LandPay: it stands in for a real mail
relay and a real SMS gateway, which LandPay reaches the same way (SMTP; an HTTP POST).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy

from flask import Flask, abort, jsonify, render_template, request

#: How many messages of each kind the sink keeps (the oldest are dropped first).
KEEP = 2000


class Store:
    """Mails and text messages received, newest last; safe to share between the SMTP thread
    and the web server's threads."""

    def __init__(self, keep: int = KEEP):
        self._lock = threading.Lock()
        self._mails: deque[dict] = deque(maxlen=keep)
        self._texts: deque[dict] = deque(maxlen=keep)
        self._next_id = 1

    def _id(self) -> int:
        value, self._next_id = self._next_id, self._next_id + 1
        return value

    def add_mail(self, envelope_from: str, recipients: list[str], data: bytes) -> dict:
        parsed = message_from_bytes(data, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain", "html"))
        mail = {
            "from": envelope_from,
            "to": list(recipients),
            "subject": str(parsed.get("Subject", "")),
            "language": str(parsed.get("Content-Language", "")),
            "text": body.get_content() if body is not None else "",
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self._lock:
            mail["id"] = self._id()
            self._mails.append(mail)
        return mail

    def add_text(self, to: str, text: str) -> dict:
        sms = {"to": to, "text": text, "received_at": datetime.now(UTC).isoformat(timespec="seconds")}
        with self._lock:
            sms["id"] = self._id()
            self._texts.append(sms)
        return sms

    def mails(self) -> list[dict]:
        with self._lock:
            return list(self._mails)

    def texts(self) -> list[dict]:
        with self._lock:
            return list(self._texts)

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()
            self._texts.clear()


class SinkHandler:
    """aiosmtpd's handler: every message is accepted and stored."""

    def __init__(self, store: Store):
        self.store = store

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.store.add_mail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def create_app(store: Store) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return render_template("index.html", mails=list(reversed(store.mails())), texts=list(reversed(store.texts())))

    @app.get("/mail/<int:mail_id>")
    def mail(mail_id: int):
        found = next((m for m in store.mails() if m["id"] == mail_id), None)
        if found is None:
            abort(404)
        return render_template("mail.html", mail=found)

    @app.get("/api/messages")
    def messages():
        to = request.args.get("to")
        return jsonify({"items": [m for m in store.mails() if to is None or to in m["to"]]})

    @app.get("/api/sms")
    def texts():
        return jsonify({"items": store.texts()})

    @app.post("/api/sms")
    def send_text():
        data = request.get_json(silent=True) or {}
        to, text = data.get("to"), data.get("text")
        if not isinstance(to, str) or not to.strip() or not isinstance(text, str) or not text.strip():
            return jsonify({"error": "give to and text"}), 422
        return jsonify(store.add_text(to.strip(), text)), 201

    @app.delete("/api/messages")
    def clear():
        store.clear()
        return "", 204

    return app
