"""Staff login and logout."""

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import LoginForm
from app.extensions import db, limiter
from app.models import StaffUser
from app.urls import safe_redirect_target

bp = Blueprint("auth", __name__, url_prefix="/manage")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
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
            flash(_("Wrong email or password."), "error")
        else:
            login_user(user)
            home = url_for("events_manage.index")
            return redirect(safe_redirect_target(request.args.get("next"), home))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
