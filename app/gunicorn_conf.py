"""Gunicorn settings for production: ``gunicorn -c python:app.gunicorn_conf``.

Pre-fork workers, as many as the machine's cores can keep busy, each a whole process with
its own database pool, behind a TLS-terminating proxy (nginx or a load balancer) that forwards
to ``LANDPAY_BIND``. Every value can be changed from the environment; see docs/operations.md
("Production").

| variable | default |
|---|---|
| ``LANDPAY_BIND`` | ``127.0.0.1:8000`` (comma-separated for several, ``unix:/run/landpay.sock``) |
| ``LANDPAY_WORKERS`` (or ``WEB_CONCURRENCY``) | ``2 * cores + 1`` |
| ``LANDPAY_THREADS`` | 1 (a request holds its worker while it waits on the database) |
| ``LANDPAY_TIMEOUT`` | 30 s: a worker silent this long is killed and replaced |
| ``LANDPAY_GRACEFUL_TIMEOUT`` | 30 s: on SIGTERM/SIGHUP, time for requests in flight to end |
| ``LANDPAY_KEEPALIVE`` | 5 s: keep-alive with the proxy |
| ``LANDPAY_MAX_REQUESTS`` | 0 (never recycle); jitter 10% of it |
| ``LANDPAY_FORWARDED_ALLOW_IPS`` | ``127.0.0.1,::1``: the proxy whose ``X-Forwarded-Proto`` is trusted |
| ``LANDPAY_ACCESS_LOG`` | ``-`` (stdout); empty turns the access log off |

``preload_app`` is off, on purpose: each worker imports the application and opens its own
database connections after the fork, so no connection or pool is ever shared between
processes, and ``kill -HUP`` on the master loads new code into new workers while the old ones
finish their requests (a deploy without downtime). The price is a second or so of start-up per
worker and no copy-on-write sharing of the imported code (tens of MiB per worker).
"""

from __future__ import annotations

import os
import re

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(count: int | None = None) -> int:
    """Two per core and one more: while one waits on PostgreSQL another uses the core."""
    return 2 * (count if count is not None else cores()) + 1


wsgi_app = "app:create_app()"
bind = [b.strip() for b in os.environ.get("LANDPAY_BIND", "127.0.0.1:8000").split(",") if b.strip()]
workers = _int("LANDPAY_WORKERS", _int("WEB_CONCURRENCY", default_workers()))
threads = _int("LANDPAY_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("LANDPAY_TIMEOUT", 30)
graceful_timeout = _int("LANDPAY_GRACEFUL_TIMEOUT", 30)
keepalive = _int("LANDPAY_KEEPALIVE", 5)
max_requests = _int("LANDPAY_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
preload_app = False  # see the module's docstring

# Only the proxy's own addresses may say the request came over HTTPS (X-Forwarded-Proto).
# The client's address (X-Forwarded-For) is the app's business: TRUSTED_PROXIES (app/config.py)
# sets werkzeug's ProxyFix to the number of proxies in front.
forwarded_allow_ips = os.environ.get("LANDPAY_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

accesslog = os.environ.get("LANDPAY_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LANDPAY_LOG_LEVEL", "info")
# No query string (the bank's signed return parameters), no referrer (it may carry them), no
# user name, no header: the method, the path with its tokens masked, the status, size and time.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

#: Path segments that are capabilities: whoever has the link sees the payment.
_SECRET_SEGMENTS = re.compile(r"(/payments/)[^/?]+")


def redact_path(path: str) -> str:
    """``path`` with every payment token replaced by ``***``."""
    return _SECRET_SEGMENTS.sub(r"\1***", path)


class RedactingLogger(Logger):
    """Gunicorn's logger, with the paths of the access log masked and the query string,
    referrer and request line (which holds the query string) left out whatever the format."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(atoms.get("U", ""))
        atoms.update({"U": path, "q": "", "f": "-",
                      "r": f"{atoms.get('m', '-')} {path} {atoms.get('H', '-')}"})
        return atoms


logger_class = RedactingLogger
proc_name = "landpay-web"
