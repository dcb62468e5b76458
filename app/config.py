"""Configuration classes, chosen by the ``LANDPAY_ENV`` environment variable.

Secrets come only from the environment. Development and test get throwaway
values so a newcomer's first run works; production refuses to start without
the real ones.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

# The project folder (the one holding `app/`): `instance/` lives beside the package.
BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("LANDPAY_INSTANCE_DIR", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """A required setting is missing or unsafe."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def instance_secret(name: str) -> str:
    """A random secret kept in the instance folder, made on first use: development gets
    real secrets without anyone writing one into the code or the environment."""
    path = INSTANCE_DIR / name
    if not path.exists():
        # Several processes may start at once (make run starts the app and its worker): each
        # writes a whole secret to a file of its own, then links it into place; the first
        # link wins and everyone reads that one, never a half-written file.
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=INSTANCE_DIR, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


class Config:
    ENV_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'landpay.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions: hardened cookies, short lifetime. Our own cookie name, because cookies are
    # not kept apart by port and other services may share the host name.
    SESSION_COOKIE_NAME = "landpay_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 60 * 60  # one hour
    WTF_CSRF_TIME_LIMIT = 60 * 60

    # No form or API body of ours comes near this; larger requests are refused with 413.
    MAX_CONTENT_LENGTH = 256 * 1024

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Where the public can reach this service (used to build return URLs for the bank).
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # How many proxies stand in front of the app (TLS proxy, load balancer): each adds itself
    # to X-Forwarded-For; the client's address is the one the outermost trusted proxy saw.
    # 0 (the default): no forwarded header is believed, the peer's address is the client's.
    TRUSTED_PROXIES = int(_env("TRUSTED_PROXIES", "0"))

    # The bank gateway.
    BANK_BASE_URL = _env("BANK_BASE_URL", "http://127.0.0.1:5001")
    BANK_MERCHANT_ID = _env("BANK_MERCHANT_ID", "LANDPAY")
    BANK_SECRET = _env("BANK_SECRET")
    BANK_TIMEOUT = float(_env("BANK_TIMEOUT", "5"))

    # The national public service portal (docs/protocols/national-portal.md): where the
    # outbox is delivered, the shared HMAC-SHA256 secret, and the retry policy.
    PORTAL_BASE_URL = _env("PORTAL_BASE_URL", "http://127.0.0.1:5002")
    PORTAL_SECRET = _env("PORTAL_SECRET")
    PORTAL_TIMEOUT = float(_env("PORTAL_TIMEOUT", "5"))
    PORTAL_MAX_ATTEMPTS = int(_env("PORTAL_MAX_ATTEMPTS", "10"))
    PORTAL_RETRY_BASE = float(_env("PORTAL_RETRY_BASE", "30"))  # seconds; doubles per failure
    PORTAL_RETRY_MAX = float(_env("PORTAL_RETRY_MAX", "21600"))  # at most six hours apart
    PORTAL_BATCH_SIZE = int(_env("PORTAL_BATCH_SIZE", "200"))  # events per signed request (max 1000)
    # Delivered rows stay in the outbox (re-checked by check-portal-sync) while a landholder
    # may still complain about the handling: 90 days, Law on Complaints 02/2011/QH13 art. 9.
    # Then `flask archive-outbox` moves them to the archive table, kept there for good.
    PORTAL_OUTBOX_RETENTION_DAYS = int(_env("PORTAL_OUTBOX_RETENTION_DAYS", "90"))

    # E-receipt signing key (Ed25519, PEM) and its key id.
    RECEIPT_SIGNING_KEY = _env("RECEIPT_SIGNING_KEY")
    RECEIPT_SIGNING_KEY_FILE = _env("RECEIPT_SIGNING_KEY_FILE")
    RECEIPT_KEY_ID = _env("RECEIPT_KEY_ID", "landpay-1")
    # Where `flask rotate-receipt-key` keeps the private keys it makes (every app process must
    # read it); unset: receipt-keys/ beside RECEIPT_SIGNING_KEY_FILE, or in the instance folder.
    RECEIPT_KEY_DIR = _env("RECEIPT_KEY_DIR")

    # VietQR (docs/protocols/vietqr.md): every unpaid notice carries a transfer QR code to the
    # State Treasury collection account: the bank's acquirer id (BIN, 6 digits) and the account.
    VIETQR_ACQUIRER_ID = _env("VIETQR_ACQUIRER_ID")
    VIETQR_ACCOUNT = _env("VIETQR_ACCOUNT")

    API_TOKEN_TTL_SECONDS = 8 * 60 * 60

    # Notifications to people (docs/notifications.md): mail through an SMTP relay, text
    # messages through an SMS gateway's HTTP API. Unset: notifications are queued, not sent.
    SMTP_HOST = _env("SMTP_HOST")
    SMTP_PORT = int(_env("SMTP_PORT", "25"))
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env("SMTP_STARTTLS", "") in ("1", "true", "yes")
    MAIL_FROM = _env("MAIL_FROM", "LandPay <no-reply@landpay.invalid>")
    SMS_GATEWAY_URL = _env("SMS_GATEWAY_URL")
    SMS_GATEWAY_TOKEN = _env("SMS_GATEWAY_TOKEN")

    @classmethod
    def validate(cls) -> None:
        """Check the settings; subclasses tighten this."""


class Development(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False  # served over plain HTTP on loopback
    REMEMBER_COOKIE_SECURE = False
    RECEIPT_SIGNING_KEY_FILE = _env("RECEIPT_SIGNING_KEY_FILE", str(INSTANCE_DIR / "receipt-key.pem"))
    # TEST VALUES, not a real treasury account: a well-formed BIN and account so the QR codes
    # of development and the tests scan; production must set both.
    VIETQR_ACQUIRER_ID = _env("VIETQR_ACQUIRER_ID", "970436")
    VIETQR_ACCOUNT = _env("VIETQR_ACCOUNT", "0011001932418")

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = instance_secret("secret-key")
        if not cls.BANK_SECRET:
            cls.BANK_SECRET = instance_secret("bank-secret")
        if not cls.PORTAL_SECRET:
            cls.PORTAL_SECRET = instance_secret("portal-secret")


class Test(Development):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105 - the test suite's own value, never deployed
    BANK_SECRET = "test-bank-secret"  # noqa: S105 - matches the tests' simulated bank
    PORTAL_SECRET = "test-portal-secret"  # noqa: S105 - matches the tests' portal
    WTF_CSRF_ENABLED = True
    RECEIPT_SIGNING_KEY_FILE = None
    # Fast hashing keeps the suite quick; every other environment uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a method name, not a secret


class Production(Config):
    ENV_NAME = "production"
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure and host-only.
    SESSION_COOKIE_NAME = "__Host-landpay_session"
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    # No loopback defaults: a production process must be told every address it uses.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
    BANK_BASE_URL = _env("BANK_BASE_URL")
    PORTAL_BASE_URL = _env("PORTAL_BASE_URL")

    @classmethod
    def validate(cls) -> None:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", cls.SECRET_KEY),
                ("DATABASE_URL", cls.SQLALCHEMY_DATABASE_URI),
                ("PUBLIC_BASE_URL", cls.PUBLIC_BASE_URL),
                ("BANK_BASE_URL", cls.BANK_BASE_URL),
                ("BANK_SECRET", cls.BANK_SECRET),
                ("PORTAL_BASE_URL", cls.PORTAL_BASE_URL),
                ("PORTAL_SECRET", cls.PORTAL_SECRET),
                ("VIETQR_ACQUIRER_ID", cls.VIETQR_ACQUIRER_ID),
                ("VIETQR_ACCOUNT", cls.VIETQR_ACCOUNT),
            )
            if not value
        ]
        if not (cls.RECEIPT_SIGNING_KEY or cls.RECEIPT_SIGNING_KEY_FILE):
            missing.append("RECEIPT_SIGNING_KEY or RECEIPT_SIGNING_KEY_FILE")
        if missing:
            raise ConfigError("production needs these settings: " + ", ".join(missing))


CONFIGS = {
    "development": Development,
    "test": Test,
    "production": Production,
}


def get_config(name: str | None = None) -> type[Config]:
    name = name or _env("LANDPAY_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"unknown LANDPAY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
