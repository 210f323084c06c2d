"""Recording a paper sign-in sheet: tick the signed rows, type the walk-ins, undo."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, FieldList, FormField, HiddenField, SelectMultipleField, StringField
from wtforms import Form as SubForm
from wtforms.validators import Email, Length, Optional

from app.attendance.blueprint import bp
from app.attendance.completion import event_days
from app.attendance.paper import (
    PaperOutcome,
    admitted_on,
    paper_checkins,
    record_paper_sheet,
    sheet_rows,
)
from app.attendance.signin_sheet import BLANK_ROWS
from app.auth.access import allowed_site_ids, can_access_site, staff_required
from app.checkin.services import undo_checkin
from app.extensions import db
from app.forms import PHONE_VALIDATORS, Form, single_line
from app.models import Event, EventSite, Mode, utcnow
from app.refusals import Refusal
from app.registrations.services import RegistrationInput
from app.web import event_or_404, event_site_or_404, require_button_post, save, show_refusal


class PaperWalkInForm(SubForm):
    """One walk-in written on a blank row of the sheet; a row left empty is skipped."""

    name = StringField(_l("Full name"), validators=[single_line, Length(max=200)])
    organization = StringField(_l("Organisation"), validators=[single_line, Length(max=300)])
    email = EmailField(
        _l("Email"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    phone = StringField(_l("Phone"), validators=[single_line, *PHONE_VALIDATORS])

    @property
    def is_empty(self) -> bool:
        return not any(
            (field.data or "").strip()
            for field in (self.name, self.organization, self.email, self.phone)
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_empty:
            return valid
        # The walk-in service registers people by email: it identifies them and
        # carries their badge and personal link.
        for field, message in (
            (self.name, _l("Give the walk-in's name.")),
            (self.email, _l("Give the walk-in's email.")),
        ):
            if not (field.data or "").strip():
                field.errors = [*field.errors, message]
                valid = False
        return valid


class PaperSheetForm(Form):
    site = HiddenField()
    day = HiddenField()
    #: Registration ids of the ticked rows; the service checks each is on the sheet.
    signed = SelectMultipleField(validate_choice=False)
    walk_ins = FieldList(FormField(PaperWalkInForm), min_entries=BLANK_ROWS, max_entries=BLANK_ROWS)

    def day_value(self) -> date | None:
        try:
            return date.fromisoformat(self.day.data or "")
        except ValueError:
            return None

    def walk_in_inputs(self) -> list[RegistrationInput]:
        """The filled walk-in rows, as the registration rules take them."""
        return [
            RegistrationInput(
                name=entry.form.name.data,
                email=entry.form.email.data,
                organization=entry.form.organization.data or "",
                phone=entry.form.phone.data or "",
                language=str(get_locale()),
                mode=Mode.IN_PERSON,
            )
            for entry in self.walk_ins
            if not entry.form.is_empty
        ]


def _sites(event: Event) -> list[EventSite]:
    """The event's sites this user may record sheets for."""
    allowed = allowed_site_ids(current_user)
    return [es for es in event.event_sites if allowed is None or es.site_id in allowed]


def _chosen_day(event: Event, text: str | None) -> date:
    """The day asked for, if it is one of the event's; else today, or the nearest day."""
    days = event_days(event)
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        day = None
    if day in days:
        return day
    today = event.local_day(utcnow())
    return today if today in days else (days[0] if today < days[0] else days[-1])


def _notes(outcome: PaperOutcome) -> list[str]:
    notes = []
    if outcome.walk_ins:
        notes.append(_("Walk-ins registered: %(names)s.", names=", ".join(outcome.walk_ins)))
    if outcome.already:
        notes.append(_("Already admitted that day: %(names)s.", names=", ".join(outcome.already)))
    if outcome.not_admitted:
        notes.append(
            _(
                "Not admitted (cancelled or on the waiting list): %(names)s.",
                names=", ".join(outcome.not_admitted),
            )
        )
    return notes


@bp.route("/manage/events/<slug>/paper", methods=["GET", "POST"])
@staff_required
def paper_sheet(slug: str):
    """Record a signed paper sheet for one site and day of the event."""
    event = event_or_404(slug)
    sites = _sites(event)
    if not sites:
        abort(403)
    form = PaperSheetForm()
    if request.method == "POST":
        site_slug, day_text = form.site.data or "", form.day.data or ""
    else:
        site_slug = request.args.get("site") or (sites[0].site.slug if len(sites) == 1 else "")
        day_text = request.args.get("day")
    if form.validate_on_submit():
        saved = save(
            lambda: record_paper_sheet(
                event,
                site_slug,
                form.day_value(),
                form.signed.data or [],
                form.walk_in_inputs(),
                current_user,
            ),
            form=form,
            success=lambda outcome: _(
                "Paper sheet recorded: %(count)d admitted.",
                count=len(outcome.admitted) + len(outcome.walk_ins),
            ),
            notes=_notes,
            redirect_to=url_for(
                "attendance.paper_sheet", slug=slug, site=site_slug, day=form.day.data
            ),
        )
        if saved:
            return saved
    if request.method == "POST":
        # A refused sheet is shown again; a site the user may not record is not.
        event_site = event.event_site(site_slug)
        if event_site is not None and not can_access_site(current_user, event_site.site_id):
            event_site = None
    else:
        event_site = event_site_or_404(event, site_slug, current_user) if site_slug else None
    day = _chosen_day(event, day_text)
    context = {"event": event, "sites": sites, "event_site": event_site, "day": day, "form": form}
    if event_site is not None:
        rows = sheet_rows(event, event_site)
        form.site.data, form.day.data = event_site.site.slug, day.isoformat()
        context |= {
            "rows": rows,
            "ticked": set(form.signed.data or []),
            "admitted": admitted_on(event, day, [row.registration_id for row in rows]),
            "recorded": paper_checkins(event, event_site),
            "undo_form": FlaskForm(prefix="undo"),
        }
    days = event_days(event)
    day_labels = {d: format_date(d, "full", locale=get_locale()) for d in days}
    return render_template("attendance/paper.html", days=days, day_labels=day_labels, **context)


@bp.route("/manage/events/<slug>/paper/undo", methods=["POST"])
@staff_required
def undo_paper_checkin(slug: str):
    """Undo one check-in recorded from paper; it stays on record as annulled."""
    event = event_or_404(slug)
    require_button_post("undo")
    back = url_for(
        "attendance.paper_sheet",
        slug=slug,
        site=request.form.get("site") or None,
        day=request.form.get("day") or None,
    )
    client_id = (request.form.get("client_id") or "")[:64]
    try:
        undo_checkin(event, client_id, current_user)
    except Refusal as refusal:
        db.session.rollback()
        show_refusal(refusal)
    else:
        db.session.commit()
        flash(_("Check-in undone."), "success")
    return redirect(back)
