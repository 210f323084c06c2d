"""The organiser's page for an event's reminders: when they go out, and changing them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, StopValidation

from app.auth.access import organizer_required
from app.extensions import db
from app.forms import options
from app.messages import reminders as services
from app.models import Event, Reminder, utcnow
from app.web import event_or_404, require_button_post, save

bp = Blueprint("reminders", __name__, url_prefix="/manage")

#: Minutes in each unit the organiser may type a time in.
UNIT_MINUTES = {"days": 24 * 60, "hours": 60, "minutes": 1}


def _readable(form, field) -> None:
    # Text that is no number has its message already; the range would only repeat it.
    if field.process_errors:
        raise StopValidation()


class ReminderForm(FlaskForm):
    offset = IntegerField(
        _l("Time before the start"),
        validators=[
            InputRequired(message=_l("Enter how long before the start.")),
            _readable,
            NumberRange(min=1, message=_l("Enter a whole number above 0.")),
        ],
        invalid_value_message=_l("Enter a whole number above 0."),
    )
    unit = SelectField(
        _l("Unit"),
        choices=options([("days", _l("days")), ("hours", _l("hours")), ("minutes", _l("minutes"))]),
        default="hours",
    )
    enabled = BooleanField(_l("On"), default=True)

    def to_input(self) -> services.ReminderInput:
        return services.ReminderInput(
            minutes_before=self.offset.data * UNIT_MINUTES[self.unit.data],
            enabled=self.enabled.data,
        )


def in_largest_unit(minutes: int) -> tuple[int, str]:
    """A number of minutes in the largest unit that holds it whole: 1440 is (1, "days")."""
    for unit, size in UNIT_MINUTES.items():
        if minutes % size == 0:
            return minutes // size, unit
    return minutes, "minutes"


def describe_offset(minutes: int) -> str:
    """How long before the start, in words: "1 day before the start"."""
    amount, unit = in_largest_unit(minutes)
    if unit == "days":
        return ngettext("%(num)d day before the start", "%(num)d days before the start", amount)
    if unit == "hours":
        return ngettext("%(num)d hour before the start", "%(num)d hours before the start", amount)
    return ngettext("%(num)d minute before the start", "%(num)d minutes before the start", amount)


def _prefix(reminder: Reminder) -> str:
    # Each row has its own form; a prefix keeps their field ids apart.
    return f"reminder-{reminder.id}"


def _row_form(reminder: Reminder) -> ReminderForm:
    amount, unit = in_largest_unit(reminder.minutes_before)
    return ReminderForm(
        formdata=None, prefix=_prefix(reminder), offset=amount, unit=unit, enabled=reminder.enabled
    )


def _reminder_or_404(event: Event, reminder_id: int) -> Reminder:
    reminder = db.get_or_404(Reminder, reminder_id)
    if reminder.event_id != event.id:
        abort(404)
    return reminder


def _page(
    event: Event,
    add_form: ReminderForm | None = None,
    row_forms: dict[int, ReminderForm] | None = None,
) -> str:
    """The page; ``row_forms`` holds a row's refused form, shown as it was sent."""
    reminders = services.reminders_of(event)
    row_forms = row_forms or {}
    return render_template(
        "messages/reminders.html",
        event=event,
        reminders=reminders,
        forms={r.id: row_forms.get(r.id) or _row_form(r) for r in reminders},
        add_form=add_form or ReminderForm(formdata=None),
        describe_offset=describe_offset,
        now=utcnow(),
    )


def _back(slug: str) -> str:
    return url_for("reminders.reminders", slug=slug)


@bp.route("/events/<slug>/reminders", methods=["GET", "POST"])
@organizer_required
def reminders(slug: str):
    """An event's reminders and when they go out; POST adds one."""
    event = event_or_404(slug)
    form = ReminderForm()
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.add_reminder(event, form.to_input()),
            form=form,
            success=lambda r: _(
                "A reminder is added: %(when)s.", when=describe_offset(r.minutes_before)
            ),
            redirect_to=_back(slug),
        )
    ):
        return saved
    return _page(event, add_form=form)


@bp.route("/events/<slug>/reminders/<int:reminder_id>", methods=["POST"])
@organizer_required
def update_reminder(slug: str, reminder_id: int):
    """Change one reminder's time, or switch it on or off."""
    event = event_or_404(slug)
    reminder = _reminder_or_404(event, reminder_id)
    form = ReminderForm(prefix=_prefix(reminder))
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_reminder(reminder, form.to_input()),
            form=form,
            success=lambda r: _(
                "The reminder is saved: %(when)s.", when=describe_offset(r.minutes_before)
            ),
            redirect_to=_back(slug),
        )
    ):
        return saved
    return _page(event, row_forms={reminder_id: form})


@bp.route("/events/<slug>/reminders/<int:reminder_id>/remove", methods=["POST"])
@organizer_required
def remove_reminder(slug: str, reminder_id: int):
    """Delete one reminder."""
    event = event_or_404(slug)
    reminder = _reminder_or_404(event, reminder_id)
    require_button_post()
    return save(
        lambda: services.remove_reminder(reminder),
        success=lambda r: _(
            "The reminder %(when)s is removed.", when=describe_offset(r.minutes_before)
        ),
        redirect_to=_back(slug),
    )
