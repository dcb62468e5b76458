"""Anyone may pay keeps no table of its own: the rate limit of public notice look-ups counts
in the login throttle's table (``LoginThrottle``, with keys of its own), and a payment made
without an account keeps its payer's name and the party paid for on ``payment_orders``."""

from __future__ import annotations

__all__: list[str] = []
