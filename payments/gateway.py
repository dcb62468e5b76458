"""Client of the bank gateway (docs/protocols/bank-gateway.md).

The bank's notification (IPN) is the truth about a payment; the browser return is only for
display; :meth:`BankGateway.query` asks the bank when no notification came;
:meth:`BankGateway.refund` gives a payment's money back.

The application talks to the bank through :class:`BankProvider`, one configured instance per
application (:func:`configured_gateway`), the way payment libraries keep one provider object per
configured backend: tests and a second bank plug in behind the same methods.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import requests

from payments.errors import GatewayError, MalformedNotification, SignatureError
from payments.signing import PREFIX, SIGNATURE_FIELD, sign_params, signed, verify_params

PROTOCOL_VERSION = "1"
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
#: Payment result code of a paid transaction.
RESULT_PAID = "00"
#: Query answer codes.
QUERY_FOUND = "00"
QUERY_NOT_FOUND = "91"
#: Refund answer codes (docs/protocols/bank-gateway.md, "Refund").
REFUND_DONE = "00"
REFUND_NO_PAYMENT = "02"
REFUND_TOO_MUCH = "03"
REFUND_REF_REUSED = "94"
#: Codes that say the request itself could not be handled: worth trying again later.
_REFUND_RETRY = frozenset({"97", "99"})

_AMOUNT_RE = re.compile(r"[1-9][0-9]{0,14}")
_REF_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE_RE = re.compile(r"[0-9]{2}")
_TIMESTAMP_RE = re.compile(r"[0-9]{14}")


class IpnCode(str, Enum):  # noqa: UP042  (compares equal to the wire code)
    """What the merchant answers to a notification (``RspCode``)."""

    OK = "00"
    NOT_FOUND = "01"
    ALREADY_CONFIRMED = "02"
    WRONG_AMOUNT = "04"
    BAD_SIGNATURE = "97"
    UNKNOWN = "99"

    def __str__(self) -> str:
        return self.value


_IPN_MESSAGES = {
    IpnCode.OK: "Confirm success",
    IpnCode.NOT_FOUND: "Order not found",
    IpnCode.ALREADY_CONFIRMED: "Order already confirmed",
    IpnCode.WRONG_AMOUNT: "Invalid amount",
    IpnCode.BAD_SIGNATURE: "Invalid signature",
    IpnCode.UNKNOWN: "Unknown error",
}


def ipn_response(code: IpnCode | str) -> dict[str, str]:
    """The JSON body answering a notification: ``{"RspCode": ..., "Message": ...}``."""
    code = IpnCode(code)
    return {"RspCode": code.value, "Message": _IPN_MESSAGES[code]}


@dataclass(frozen=True)
class BankResult:
    """A payment result reported by the bank, after its signature was checked."""

    order_ref: str
    amount: int
    succeeded: bool
    bank_ref: str | None
    response_code: str
    paid_at: datetime | None  #: when the bank took the money (UTC); None unless succeeded
    raw: dict[str, str] = field(compare=False, repr=False)


@dataclass(frozen=True)
class RefundResult:
    """The bank's answer to a refund, after its signature was checked."""

    refund_ref: str
    amount: int
    succeeded: bool  #: the money went back to the payer's account (now, or on an earlier call)
    bank_ref: str | None  #: the bank's number for the refund transaction
    response_code: str
    refunded_at: datetime | None
    raw: dict[str, str] = field(compare=False, repr=False)


class BankProvider(ABC):
    """What the application needs of a bank. One configured instance serves the whole
    application (see :func:`configured_gateway`)."""

    @abstractmethod
    def checkout_url(self, *, order_ref: str, amount: int, description: str, return_url: str,
                     created_at: datetime, locale: str = "vn") -> str: ...

    @abstractmethod
    def parse_return(self, params: Mapping[str, str]) -> BankResult: ...

    @abstractmethod
    def parse_notification(self, params: Mapping[str, str]) -> BankResult: ...

    @abstractmethod
    def query(self, order_ref: str, *, now: datetime | None = None) -> BankResult | None: ...

    @abstractmethod
    def refund(self, *, refund_ref: str, order_ref: str, bank_ref: str | None, amount: int,
               now: datetime | None = None) -> RefundResult: ...


def format_timestamp(moment: datetime) -> str:
    """A protocol timestamp: UTC, ``YYYYMMDDhhmmss``. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    if not _TIMESTAMP_RE.fullmatch(text):
        raise ValueError(f"not a protocol timestamp: {text!r}")
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def _required(params: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedNotification(f"missing or malformed field {name}")
    return value


class BankGateway(BankProvider):
    """Talks to one bank for one merchant over the protocol of docs/protocols/bank-gateway.md.
    Thread-safe as long as the session is."""

    def __init__(
        self,
        base_url: str,
        merchant_id: str,
        secret: str,
        *,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the bank secret must not be empty")
        self.base_url = base_url.rstrip("/")
        self.merchant_id = merchant_id
        self._secret = secret
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:  # never show the secret
        return f"BankGateway({self.base_url!r}, merchant_id={self.merchant_id!r})"

    # -- redirect ---------------------------------------------------------------------------

    def checkout_params(
        self,
        *,
        order_ref: str,
        amount: int,
        description: str,
        return_url: str,
        created_at: datetime,
        locale: str = "vn",
    ) -> dict[str, str]:
        """The signed parameters of the checkout redirect."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount must be a positive whole number of dong")
        if not _AMOUNT_RE.fullmatch(str(amount)):
            raise ValueError("amount is too large")
        if not _REF_RE.fullmatch(order_ref):
            raise ValueError("order_ref must match [A-Za-z0-9_-]{1,64}")
        if locale not in ("vn", "en"):
            raise ValueError("locale must be 'vn' or 'en'")
        if not description or len(description) > 255:
            raise ValueError("description must have 1 to 255 characters")
        if not return_url.startswith(("http://", "https://")):
            raise ValueError("return_url must be an absolute http(s) URL")
        params = {
            "lp_version": PROTOCOL_VERSION,
            "lp_command": "pay",
            "lp_merchant_id": self.merchant_id,
            "lp_order_ref": order_ref,
            "lp_amount": str(amount),
            "lp_currency": "VND",
            "lp_order_info": description,
            "lp_locale": locale,
            "lp_return_url": return_url,
            "lp_create_date": format_timestamp(created_at),
        }
        return signed(params, self._secret)

    def checkout_url(
        self,
        *,
        order_ref: str,
        amount: int,
        description: str,
        return_url: str,
        created_at: datetime,
        locale: str = "vn",
    ) -> str:
        """Where to send the payer's browser to pay."""
        params = self.checkout_params(
            order_ref=order_ref,
            amount=amount,
            description=description,
            return_url=return_url,
            created_at=created_at,
            locale=locale,
        )
        return f"{self.base_url}/checkout?{urlencode(params)}"

    # -- results ----------------------------------------------------------------------------

    def parse_return(self, params: Mapping[str, str]) -> BankResult:
        """The browser return, for display only. Raises SignatureError or MalformedNotification."""
        return self._parse_result(params, code_field="lp_response_code")

    def parse_notification(self, params: Mapping[str, str]) -> BankResult:
        """A notification (IPN). Raises SignatureError or MalformedNotification."""
        return self._parse_result(params, code_field="lp_response_code")

    def _parse_result(self, params: Mapping[str, str], *, code_field: str) -> BankResult:
        raw = {k: v for k, v in dict(params).items() if k.startswith(PREFIX)}
        if not verify_params(raw, self._secret):
            raise SignatureError("the bank's signature is missing or wrong")
        merchant = raw.get("lp_merchant_id")
        if merchant != self.merchant_id:
            raise MalformedNotification("the message is for another merchant")
        order_ref = _required(raw, "lp_order_ref", _REF_RE)
        amount = int(_required(raw, "lp_amount", _AMOUNT_RE))
        code = _required(raw, code_field, _CODE_RE)
        succeeded = code == RESULT_PAID
        bank_ref = raw.get("lp_transaction_no") or None
        if bank_ref is not None and not _REF_RE.fullmatch(bank_ref):
            raise MalformedNotification("malformed field lp_transaction_no")
        paid_at = None
        pay_date = raw.get("lp_pay_date")
        if pay_date:
            try:
                parsed = parse_timestamp(pay_date)
            except ValueError as exc:
                raise MalformedNotification("malformed field lp_pay_date") from exc
            paid_at = parsed if succeeded else None
        if succeeded and (bank_ref is None or paid_at is None):
            raise MalformedNotification("a paid result needs lp_transaction_no and lp_pay_date")
        return BankResult(
            order_ref=order_ref,
            amount=amount,
            succeeded=succeeded,
            bank_ref=bank_ref,
            response_code=code,
            paid_at=paid_at,
            raw=raw,
        )

    # -- status query -----------------------------------------------------------------------

    def _post(self, path: str, params: dict[str, str], what: str) -> dict[str, str]:
        """POST signed form fields to the bank's API and return its answer, a JSON object of
        strings (its signature is the caller's to check); GatewayError when there is none."""
        try:
            response = self.session.post(f"{self.base_url}{path}", data=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise GatewayError(f"bank {what} failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise GatewayError(f"bank {what} answered HTTP {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError as exc:
            raise GatewayError(f"bank {what} answered something that is not JSON") from exc
        if not isinstance(body, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in body.items()
        ):
            raise GatewayError(f"bank {what} answer is not an object of strings")
        return body

    def query(self, order_ref: str, *, now: datetime | None = None) -> BankResult | None:
        """Ask the bank about ``order_ref``: its result, or None if the bank has no transaction.

        Raises GatewayError when the bank cannot be reached or refuses the query, and
        SignatureError when its answer is not signed with our secret.
        """
        params = signed(
            {
                "lp_version": PROTOCOL_VERSION,
                "lp_command": "query",
                "lp_merchant_id": self.merchant_id,
                "lp_order_ref": order_ref,
                "lp_request_id": "Q" + secrets.token_hex(12),
                "lp_request_date": format_timestamp(now or datetime.now(UTC)),
            },
            self._secret,
        )
        body = self._post("/api/query", params, "status query")
        code = body.get("lp_response_code")
        if code not in (QUERY_FOUND, QUERY_NOT_FOUND):
            raise GatewayError(f"bank refused the status query with code {code!r}")
        if not verify_params(body, self._secret):
            raise SignatureError("the bank's query answer is not signed with our secret")
        if body.get("lp_order_ref") != order_ref:
            raise GatewayError("bank answered about another order")
        if code == QUERY_NOT_FOUND:
            return None
        try:
            return self._parse_result(body, code_field="lp_transaction_status")
        except MalformedNotification as exc:
            raise GatewayError(f"bank status query answer is malformed: {exc}") from exc

    # -- refund -----------------------------------------------------------------------------

    def refund(self, *, refund_ref: str, order_ref: str, bank_ref: str | None, amount: int,
               now: datetime | None = None) -> RefundResult:
        """Ask the bank to return ``amount`` dong of the paid order ``order_ref`` to the payer.

        ``refund_ref`` is our refund's own reference and the bank's idempotency key: the same
        reference sent again (a retry after a timeout) returns the first answer and never
        moves money twice. A refusal (no such paid order, more than is left to refund, the
        reference reused for another refund) comes back as ``succeeded=False`` with its code.
        Raises GatewayError when the bank cannot be reached or could not handle the request
        (worth trying again later), SignatureError when its answer is not signed with our
        secret.
        """
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount must be a positive whole number of dong")
        if not _AMOUNT_RE.fullmatch(str(amount)):
            raise ValueError("amount is too large")
        for name, value in (("refund_ref", refund_ref), ("order_ref", order_ref)):
            if not _REF_RE.fullmatch(value):
                raise ValueError(f"{name} must match [A-Za-z0-9_-]{{1,64}}")
        params = {
            "lp_version": PROTOCOL_VERSION,
            "lp_command": "refund",
            "lp_merchant_id": self.merchant_id,
            "lp_refund_ref": refund_ref,
            "lp_order_ref": order_ref,
            "lp_amount": str(amount),
            "lp_request_date": format_timestamp(now or datetime.now(UTC)),
        }
        if bank_ref:
            params["lp_transaction_no"] = bank_ref
        body = self._post("/api/refund", signed(params, self._secret), "refund")
        code = body.get("lp_response_code")
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code) or code in _REFUND_RETRY:
            raise GatewayError(f"bank could not handle the refund (code {code!r})")
        if not verify_params(body, self._secret):
            raise SignatureError("the bank's refund answer is not signed with our secret")
        if body.get("lp_refund_ref") != refund_ref or body.get("lp_merchant_id") != self.merchant_id:
            raise GatewayError("bank answered about another refund")
        succeeded = code == REFUND_DONE
        try:
            answered = int(_required(body, "lp_amount", _AMOUNT_RE))
            refund_no = body.get("lp_refund_transaction_no") or None
            if refund_no is not None and not _REF_RE.fullmatch(refund_no):
                raise MalformedNotification("malformed field lp_refund_transaction_no")
            refunded_at = parse_timestamp(body["lp_refund_date"]) if succeeded else None
        except (MalformedNotification, KeyError, ValueError) as exc:
            raise GatewayError(f"bank refund answer is malformed: {exc}") from exc
        if succeeded and refund_no is None:
            raise GatewayError("bank refund answer lacks lp_refund_transaction_no")
        return RefundResult(refund_ref=refund_ref, amount=answered, succeeded=succeeded,
                            bank_ref=refund_no, response_code=code, refunded_at=refunded_at,
                            raw=body)


#: Where the application keeps its one bank client (``app.extensions``).
EXTENSION_KEY = "landpay.bank"


def gateway_from_config(config: Mapping[str, Any]) -> BankGateway:
    """The bank client that the configuration (BANK_BASE_URL, BANK_MERCHANT_ID, BANK_SECRET,
    BANK_TIMEOUT) describes."""
    return BankGateway(config["BANK_BASE_URL"], config["BANK_MERCHANT_ID"], config["BANK_SECRET"],
                       timeout=config.get("BANK_TIMEOUT", 5.0))


def configured_gateway(app: Any) -> BankProvider:
    """The application's one bank client, built from its configuration on first use and kept
    in ``app.extensions`` (connections are reused; the secret is read once). An application
    may install another :class:`BankProvider` there before first use."""
    provider = app.extensions.get(EXTENSION_KEY)
    if provider is None:
        provider = app.extensions.setdefault(EXTENSION_KEY, gateway_from_config(app.config))
    return provider


__all__ = [
    "BankGateway",
    "BankProvider",
    "BankResult",
    "RefundResult",
    "configured_gateway",
    "gateway_from_config",
    "IpnCode",
    "SIGNATURE_FIELD",
    "format_timestamp",
    "ipn_response",
    "parse_timestamp",
    "sign_params",
]
