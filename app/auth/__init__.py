"""Login, logout, language choice, API tokens, and the role guard."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.errors import TooManyRequests, Unauthorized
from app.extensions import db
from app.models import ApiToken, LoginThrottle, Role, User, UserSession

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.LANDHOLDER: "landholder.notices",
    Role.TAX_OFFICER: "tax.queue",
    Role.REGISTRY_OFFICER: "registry.inbox",
    Role.ADMIN: "registry.inbox",
    Role.ACCOUNTANT: "accounting.index",
    Role.SUPERVISOR: "supervision.index",
}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


#: Failed logins for one username from one address before attempts are slowed down; the
#: wait then doubles from BASE_DELAY up to MAX_DELAY. A username's failures from all
#: addresses together are capped too, against guessing spread over many addresses.
FAILURES_PER_ADDRESS = 5
FAILURES_PER_ACCOUNT = 50
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)


class TooManyAttempts(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self):
        super().__init__(_("Too many failed logins. Please wait a few minutes and try again."))


def _throttle_keys(username: str) -> list[str]:
    name = username.strip().casefold()
    address = request.remote_addr or "-" if has_request_context() else "-"
    return sorted({
        hashlib.sha256(f"account|{name}".encode()).hexdigest(),
        hashlib.sha256(f"address|{name}|{address}".encode()).hexdigest(),
    })


def _lock_throttles(keys: list[str]) -> dict[str, LoginThrottle]:
    """The throttle rows of these keys, created if missing and locked (in key order, so
    concurrent logins for one username queue up instead of all passing the check)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(UTC)
    db.session.execute(
        insert(LoginThrottle)
        .values([{"key": key, "failures": 0, "updated_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    rows = db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.key)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    return {row.key: row for row in rows}


def purge_throttles(now: datetime | None = None, idle: timedelta = timedelta(days=1)) -> int:
    """Delete the throttle rows nobody has touched for ``idle`` and that block nothing (their
    failures are forgiven by then anyway); the worker runs it, so the table stays small."""
    from sqlalchemy import delete, or_

    now = now or datetime.now(UTC)
    result = db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.updated_at < now - idle,
        or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now)))
    db.session.commit()
    return result.rowcount or 0


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right, None if not; TooManyAttempts while slowed down.

    Unknown usernames go through the same steps as real ones, so neither the answer nor its
    timing tells whether an account exists. The count lives in the database: every web
    process shares it."""
    keys = _throttle_keys(username)
    account_key = hashlib.sha256(f"account|{username.strip().casefold()}".encode()).hexdigest()
    throttles = _lock_throttles(keys)
    now = datetime.now(UTC)
    user = db.session.scalar(select(User).where(User.username == username))
    good = user.check_password(password) if user else User(password_hash="").set_password(password)
    blocked = any(t.blocked_until is not None and t.blocked_until > now for t in throttles.values())
    if blocked:
        db.session.commit()
        raise TooManyAttempts()
    if good is True and user.active:
        for throttle in throttles.values():
            throttle.failures, throttle.blocked_until, throttle.updated_at = 0, None, now
        db.session.commit()
        return user
    for key, throttle in throttles.items():
        throttle.failures += 1
        throttle.updated_at = now
        limit = FAILURES_PER_ACCOUNT if key == account_key else FAILURES_PER_ADDRESS
        if throttle.failures >= limit:
            over = throttle.failures - limit
            delay = min(MAX_DELAY, BASE_DELAY * (2 ** min(over, 10)))
            throttle.blocked_until = now + delay
    db.session.commit()
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data.strip(), form.password.data)
        except TooManyAttempts as err:
            flash(err.message, "error")
            return render_template("auth/login.html", form=form), err.status
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        start_session(user)
        target = safe_next(request.args.get("next"))
        if target and target.split("?")[0] == url_for("auth.login"):
            target = None  # never back to the login page itself
        return redirect(target or url_for(HOME_BY_ROLE[user.role]))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    end_session()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language/<lang>")
def language(lang: str):
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or "/")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no scheme, no host, no backslash or control
    characters), else None: where to go after logging in or choosing a language, never
    somewhere an attacker chose."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        return None
    return target


# --- Server-side sessions ----------------------------------------------------------------------


def _hash_sid(sid: str) -> str:
    return hashlib.sha256(f"session|{sid}".encode()).hexdigest()


def start_session(user: User) -> None:
    """Log ``user`` in with a new server-side session: the cookie holds a random id, the
    database its hash; the session lasts as long as the cookie may."""
    sid = secrets.token_urlsafe(32)
    lifetime = current_app.permanent_session_lifetime
    db.session.add(UserSession(user=user, sid_hash=_hash_sid(sid), expires_at=datetime.now(UTC) + lifetime))
    db.session.commit()
    login_user(user)
    session["sid"] = sid
    session.permanent = True


def session_user(user_id: str) -> User | None:
    """The user of this request's session, only while its server-side session is open
    (Flask-Login's user loader)."""
    sid = session.get("sid")
    if not isinstance(sid, str) or not user_id.isdigit():
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.sid_hash == _hash_sid(sid)))
    if (row is None or row.user_id != int(user_id) or row.ended_at is not None
            or row.expires_at <= datetime.now(UTC)):
        return None
    return row.user


def end_session() -> None:
    """End this request's server-side session (logging out)."""
    sid = session.get("sid")
    if isinstance(sid, str):
        row = db.session.scalar(select(UserSession).where(UserSession.sid_hash == _hash_sid(sid)))
        if row is not None and row.ended_at is None:
            row.ended_at = datetime.now(UTC)
            db.session.commit()


def end_all_sessions(user: User) -> int:
    """End every open browser session and revoke every API token of ``user`` (after a password
    change, or when an administrator locks them out); returns how many were ended. The caller
    commits."""
    now = datetime.now(UTC)
    ended = 0
    for row in db.session.scalars(select(UserSession).where(
            UserSession.user_id == user.id, UserSession.ended_at.is_(None))):
        row.ended_at = now
        ended += 1
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))):
        token.revoked = True
        ended += 1
    return ended


def role_required(*roles: Role):
    """Allow only logged-in users of these roles; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- API tokens -----------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(seconds=current_app.config["API_TOKEN_TTL_SECONDS"])
    db.session.add(ApiToken(user=user, token_hash=_hash_token(token), expires_at=expires))
    db.session.commit()
    return token, expires


def load_user_from_request(req):
    """Bearer tokens authenticate API calls only; pages use the session cookie."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    record = db.session.scalar(  # the token and its user in one statement
        select(ApiToken).where(ApiToken.token_hash == _hash_token(header[7:].strip()))
        .options(joinedload(ApiToken.user))
    )
    if record is None or record.revoked or record.expires_at <= datetime.now(UTC):
        return None
    return record.user if record.user.active else None


def revoke_token(raw: str) -> None:
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(raw)))
    if record is None:
        raise Unauthorized(_("Unknown token."))
    record.revoked = True
    db.session.commit()
