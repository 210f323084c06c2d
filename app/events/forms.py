"""Forms for an event and its agenda, on the organiser's pages."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from app import labels
from app.events.services import AgendaInput, EventInput
from app.forms import Form, local_time_field, options, slug_field
from app.models import CompletionRule, EventFormat, EventStatus
from app.privacy.services import MAX_RETENTION_DAYS
from app.timezones import is_valid_timezone


def _share_in_percent(form, field) -> None:
    """A whole number from 1 to 100, with one message for anything else (text too)."""
    if field.data is None or not 1 <= field.data <= 100:
        field.errors[:] = []
        raise StopValidation(_l("Enter a share from 1 to 100 %."))


#: How the organiser reads each completion rule.
COMPLETION_RULES = (
    (CompletionRule.ANY_DAY.value, _l("Attended on any day")),
    (CompletionRule.ALL_DAYS.value, _l("Attended on every day")),
    (CompletionRule.SHARE_OF_SESSIONS.value, _l("Attended a share of the counted sessions")),
)


class EventForm(Form):
    slug = slug_field()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    timezone = StringField(
        _l("Time zone"), validators=[DataRequired(), Length(max=64)], default="Asia/Ashgabat"
    )
    starts_at = local_time_field(_l("Starts (local time)"))
    ends_at = local_time_field(_l("Ends (local time)"))
    format = SelectField(
        _l("Format"),
        choices=options((f.value, label) for f, label in labels.EVENT_FORMAT.items()),
        default=EventFormat.HYBRID.value,
    )
    meeting_url = URLField(
        _l("Online meeting link"),
        validators=[
            Optional(),
            Length(max=500),
            URL(message=_l("Enter a full link, starting with https://")),
            Regexp(r"^https?://", message=_l("Enter a full link, starting with https://")),
        ],
    )
    registration_opens_at = local_time_field(_l("Registration opens (local time)"), required=False)
    registration_closes_at = local_time_field(
        _l("Registration closes (local time)"), required=False
    )
    organizer_name = StringField(_l("Organiser"), validators=[Optional(), Length(max=200)])
    organizer_email = EmailField(
        _l("Organiser's email"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
    )
    status = SelectField(
        _l("Status"),
        choices=options((s.value, label) for s, label in labels.EVENT_STATUS.items()),
        default=EventStatus.DRAFT.value,
    )
    personal_data_retention_days = IntegerField(
        _l("Keep participants' personal data for (days after the end)"),
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_RETENTION_DAYS,
                message=_l("Enter a number of days from 0 to %(max)s, or leave it empty."),
            ),
        ],
    )

    completion_rule = SelectField(
        _l("Who completed the event"),
        choices=options(COMPLETION_RULES),
        default=CompletionRule.ANY_DAY.value,
    )
    completion_percent = IntegerField(
        _l("Share of the counted sessions (%)"), default=80, validators=[_share_in_percent]
    )

    def validate_timezone(self, field):
        if not is_valid_timezone(field.data.strip()):
            raise ValidationError(_l("Unknown time zone. Use an IANA name like Asia/Ashgabat."))

    def to_input(self) -> EventInput:
        return EventInput(
            title=self.title.data,
            description=self.description.data or "",
            timezone=self.timezone.data.strip(),
            starts_local=self.starts_at.data,
            ends_local=self.ends_at.data,
            format=EventFormat(self.format.data),
            status=EventStatus(self.status.data),
            meeting_url=self.meeting_url.data or "",
            opens_local=self.registration_opens_at.data,
            closes_local=self.registration_closes_at.data,
            organizer_name=self.organizer_name.data or "",
            organizer_email=self.organizer_email.data or "",
            personal_data_retention_days=self.personal_data_retention_days.data,
            completion_rule=CompletionRule(self.completion_rule.data),
            completion_percent=self.completion_percent.data,
        )


class EditEventForm(EventForm):
    # The slug is in every link already shared, so it is fixed once the event exists.
    slug = None
    #: Offered only when the event has an agenda.
    move_agenda = BooleanField(_l("Move the agenda with the event"))


class AgendaItemForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    speakers = TextAreaField(
        _l("Speakers, one per line"), validators=[Optional(), Length(max=5000)]
    )
    starts_at = local_time_field(_l("Starts (local time)"))
    ends_at = local_time_field(_l("Ends (local time)"))
    counts_attendance = BooleanField(_l("Attendance counted"))

    def to_input(self) -> AgendaInput:
        return AgendaInput(
            title=self.title.data,
            speakers=self.speakers.data or "",
            starts_local=self.starts_at.data,
            ends_local=self.ends_at.data,
            counts_attendance=self.counts_attendance.data,
        )
