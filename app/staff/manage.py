"""Admin pages for staff accounts: roles, sites, passwords and API tokens."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_wtf import FlaskForm

from app.auth.access import admin_required
from app.extensions import db
from app.forms import options
from app.models import ApiToken, StaffUser
from app.sites.services import all_sites
from app.staff import services
from app.staff.forms import NewStaffForm, PasswordForm, StaffForm
from app.web import on_get, require_button_post, save

bp = Blueprint("staff", __name__, url_prefix="/manage")


def _site_choices():
    return options((s.id, s.name) for s in all_sites())


@bp.route("/staff")
@admin_required
def staff():
    """Every staff account, with role and sites."""
    return render_template("staff/list.html", users=services.staff_users())


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def new_staff():
    """Create a staff account."""
    form = NewStaffForm()
    form.sites.choices = _site_choices()
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.create_staff_user(
                form.email.data, form.password.data, form.to_input()
            ),
            form=form,
            success=lambda user: _("The account %(email)s is created.", email=user.email),
            redirect_to=url_for("staff.staff"),
        )
    ):
        return saved
    return render_template("staff/new.html", form=form)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_staff(user_id: int):
    """Change a staff member's role, sites and access; see and revoke their API tokens."""
    user = db.get_or_404(StaffUser, user_id)
    form = StaffForm(obj=on_get(user), prefix="staff")
    form.sites.choices = _site_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.sites.data = [site.id for site in user.sites]
        form.is_active.data = user.is_active_user
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_staff_user(user, form.to_input()),
            form=form,
            success=_("The account %(email)s is saved.", email=user.email),
            redirect_to=url_for("staff.edit_staff", user_id=user.id),
        )
    ):
        return saved
    return render_template(
        "staff/user.html",
        user=user,
        form=form,
        password_form=PasswordForm(formdata=None, prefix="password"),
        revoke_form=FlaskForm(formdata=None),
        tokens=sorted(user.api_tokens, key=lambda t: t.created_at, reverse=True),
        zone=ZoneInfo(current_app.config["DEFAULT_EVENT_TIMEZONE"]),
    )


@bp.route("/staff/<int:user_id>/password", methods=["POST"])
@admin_required
def reset_password(user_id: int):
    """Set a new password for a staff member."""
    user = db.get_or_404(StaffUser, user_id)
    back = url_for("staff.edit_staff", user_id=user.id)
    form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        saved = save(
            lambda: services.reset_staff_password(user, form.password.data),
            success=_("The password of %(email)s is changed.", email=user.email),
            notes=lambda _user: [_("Every session opened with the old password has ended.")],
            redirect_to=back,
        )
        if user.id == current_user.id:
            login_user(user)  # an admin changing their own password stays signed in here
        return saved
    for field in (form.password, form.password_again):
        for message in field.errors:
            flash(f"{field.label.text}: {message}", "error")
    return redirect(back)


@bp.route("/staff/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke_token(user_id: int, token_id: int):
    """Revoke one API token, e.g. of a lost scanner."""
    user = db.get_or_404(StaffUser, user_id)
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != user.id:
        abort(404)
    require_button_post()
    if services.revoke_api_token(token):
        db.session.commit()
        flash(_("The token is revoked; it no longer works."), "success")
    else:
        flash(_("This token was already revoked."), "info")
    return redirect(url_for("staff.edit_staff", user_id=user.id))
