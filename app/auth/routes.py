"""Staff login and logout.

Two limits guard the login form, and both count only failed sign-ins: one per
client address, loose enough for a regional centre whose coordinators share
one, and one per account, which stops the guessing of one password from many
addresses. Signing in correctly never counts, so a busy centre is not locked
out by its own staff.
"""

from time import time

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth.forms import LoginForm
from app.extensions import db, limiter
from app.models import StaffUser
from app.staff.services import end_staff_sessions
from app.urls import safe_redirect_target

bp = Blueprint("auth", __name__, url_prefix="/manage")

#: The longest email the login form accepts, and so the longest account key.
EMAIL_MAX_LENGTH = 254


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _submitted_email() -> str:
    """The account a sign-in is for, as the login form reads it."""
    return request.form.get("email", "").strip().lower()[:EMAIL_MAX_LENGTH]


def _sign_in_failed(_response: Response) -> bool:
    """Whether this request was a wrong email or password (the only thing the limits count)."""
    return g.get("sign_in_failed", False)


def _login_page_refusing(message: str) -> Response:
    """The login form again with why it is refused, rather than a bare error page."""
    flash(message, "error")
    return make_response(render_template("auth/login.html", form=LoginForm()), 429)


def _address_limited(_limit: RequestLimit) -> Response:
    return _login_page_refusing(_("Too many attempts. Please wait a minute and try again."))


def _account_limited(limit: RequestLimit) -> Response:
    # Rounded, not ceiled: a store may put the reset a second past the window.
    minutes = max(1, round((limit.reset_at - time()) / 60))
    return _login_page_refusing(
        ngettext(
            "Too many failed sign-ins to this account. Please try again in %(num)d minute.",
            "Too many failed sign-ins to this account. Please try again in %(num)d minutes.",
            minutes,
        )
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    methods=["POST"],
    deduct_when=_sign_in_failed,
    on_breach=_address_limited,
)
@limiter.limit(
    _account_limit,
    methods=["POST"],
    key_func=_submitted_email,
    scope="login-account",
    exempt_when=lambda: not _submitted_email(),
    deduct_when=_sign_in_failed,
    on_breach=_account_limited,
)
def login():
    """Sign a staff member in."""
    if current_user.is_authenticated:
        return redirect(url_for("events_manage.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email == form.email.data.strip().lower())
        )
        if user is None or not user.is_active or not user.check_password(form.password.data):
            g.sign_in_failed = True
            flash(_("Wrong email or password."), "error")
        else:
            login_user(user)
            home = url_for("events_manage.index")
            return redirect(safe_redirect_target(request.args.get("next"), home))
    return render_template("auth/login.html", form=form)


def _end_every_session(message: str) -> Response:
    end_staff_sessions(current_user)
    db.session.commit()
    logout_user()
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out; this ends the account's sessions everywhere, so no copy of the cookie works."""
    return _end_every_session(_("You are signed out."))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """Sign out on every device, e.g. after a laptop or phone was lost."""
    return _end_every_session(_("You are signed out on every device."))
