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
from sqlalchemy import select, update
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.errors import TooManyRequests, Unauthorized
from app.extensions import db
from app.models import ApiToken, Role, User

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.LANDHOLDER: "landholder.notices",
    Role.TAX_OFFICER: "tax.queue",
    Role.REGISTRY_OFFICER: "registry.inbox",
    Role.ADMIN: "registry.inbox",
}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


#: Wrong passwords in a row before an account is locked, and for how long.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


class AccountLocked(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self):
        super().__init__(
            _("Too many wrong passwords. The account is locked for %(minutes)s minutes.",
              minutes=int(LOCK_DURATION.total_seconds() // 60))
        )


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right; None if not; AccountLocked after too many tries.

    Failures are counted in the database (not in the process), so every web process
    shares the count."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        User(password_hash="").set_password(password)
        return None
    now = datetime.now(UTC)
    # Check the password even for an inactive or locked account: timing tells nothing.
    good = user.check_password(password)
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked()
    if good and user.active:
        if user.failed_logins:
            user.failed_logins = 0
            db.session.commit()
        return user
    if not good:
        db.session.execute(
            update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        )
        db.session.refresh(user)
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCK_DURATION
        db.session.commit()
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data.strip(), form.password.data)
        except AccountLocked as err:
            flash(err.message, "error")
            return render_template("auth/login.html", form=form), err.status
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        login_user(user)
        session.permanent = True
        return redirect(url_for(HOME_BY_ROLE[user.role]))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language/<lang>")
def language(lang: str):
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang
    target = request.form.get("next") or "/"
    # Only a path on this site: no scheme, no host, no backslash or control characters.
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 for c in target)):
        target = "/"
    return redirect(target)


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
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(header[7:].strip()))
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
