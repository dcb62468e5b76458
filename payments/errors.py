"""Exceptions raised by the payments package.

Every error derives from :class:`PaymentError`, so a caller can catch the whole family.
The message of each is safe to log; none of them carries a secret.
"""

from __future__ import annotations


class PaymentError(Exception):
    """Base of every error raised by :mod:`payments`."""


class SignatureError(PaymentError):
    """A message from the bank has a missing or wrong signature."""


class MalformedNotification(PaymentError):
    """A signed message from the bank lacks a required field or has a malformed one."""


class GatewayError(PaymentError):
    """The bank could not be reached or answered something that is not a payment result."""


class InvalidTransition(PaymentError):
    """A payment may not move from its current status to the requested one."""

    def __init__(self, current: object, new: object) -> None:
        self.current = current
        self.new = new
        super().__init__(f"payment status may not change from {current} to {new}")


class InvalidReceipt(PaymentError):
    """An e-receipt failed verification. ``reason`` is one of the ``REASON_*`` constants."""

    MALFORMED = "malformed"
    WRONG_ALG = "wrong_alg"
    UNKNOWN_KID = "unknown_kid"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason)


class InvalidQRPayload(PaymentError, ValueError):
    """A VietQR payload is malformed, has a wrong checksum or lacks a required field."""
