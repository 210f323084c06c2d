"""Forms for the organiser and admin pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app import labels
from app.manage.services import SLUG_PATTERN, is_valid_timezone
from app.models import EventFormat, EventStatus, Gender, Mode, OrgKind, RegistrationStatus, Role
from app.registrations.forms import EMAIL_VALIDATORS, PHONE_VALIDATORS

#: What a datetime-local input sends; seconds are accepted but not needed.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
ONLINE = "online"
MIN_PASSWORD = 10


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def plausible_year(form, field) -> None:
    """Refuse years no event has, which would also overflow time-zone arithmetic."""
    if field.data is not None and not 2000 <= field.data.year <= 2200:
        raise ValidationError(_l("Enter a date between the years 2000 and 2200."))


def local_time_field(label, required: bool = True) -> DateTimeLocalField:
    return DateTimeLocalField(
        label,
        format=LOCAL_FORMATS,
        validators=[InputRequired() if required else Optional(), plausible_year],
        invalid_value_message=_l("Enter a date and time."),
    )


def slug_field() -> StringField:
    return StringField(
        _l("Short name for links (slug)"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits and dashes only.")),
        ],
    )


class EventForm(FlaskForm):
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

    def validate_timezone(self, field):
        if not is_valid_timezone(field.data.strip()):
            raise ValidationError(_l("Unknown time zone. Use an IANA name like Asia/Ashgabat."))


class EditEventForm(EventForm):
    # The slug is in every link already shared, so it is fixed once the event exists.
    slug = None


class SiteForm(FlaskForm):
    slug = slug_field()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    is_main_venue = BooleanField(_l("Main venue"))


class EditSiteForm(SiteForm):
    # Scanners, downloads and the API name sites by slug.
    slug = None


def capacity_field() -> IntegerField:
    return IntegerField(
        _l("Capacity"),
        validators=[
            InputRequired(message=_l("Enter the number of seats.")),
            NumberRange(min=0, max=100000, message=_l("Enter a number from 0 to 100000.")),
        ],
    )


class AddEventSiteForm(FlaskForm):
    site = SelectField(
        _l("Site"), coerce=int, validators=[InputRequired(message=_l("Choose a site."))]
    )
    capacity = capacity_field()


class CapacityForm(FlaskForm):
    capacity = capacity_field()


class AgendaItemForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    speakers = TextAreaField(
        _l("Speakers, one per line"), validators=[Optional(), Length(max=5000)]
    )
    starts_at = local_time_field(_l("Starts (local time)"))
    ends_at = local_time_field(_l("Ends (local time)"))


class RegistrationFilterForm(FlaskForm):
    """The filters above the registrations table, sent by GET."""

    class Meta:
        csrf = False

    site = SelectField(_l("Site"), validators=[Optional()])
    mode = SelectField(
        _l("Mode"),
        choices=options([("", _l("All")), *((m.value, label) for m, label in labels.MODE.items())]),
        validators=[Optional()],
    )
    status = SelectField(
        _l("Status"),
        choices=options(
            [("", _l("All")), *((s.value, lb) for s, lb in labels.REGISTRATION_STATUS.items())]
        ),
        validators=[Optional()],
    )
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])

    def mode_value(self) -> Mode | None:
        return Mode(self.mode.data) if self.mode.data else None

    def status_value(self) -> RegistrationStatus | None:
        return RegistrationStatus(self.status.data) if self.status.data else None


class RegistrationEditForm(FlaskForm):
    participation = SelectField(_l("Takes part"), validators=[InputRequired()])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=EMAIL_VALIDATORS)
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    organization = StringField(_l("Organisation"), validators=[Optional(), Length(max=300)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    org_kind = SelectField(
        _l("Kind of organisation"),
        choices=options((kind.value, label) for kind, label in labels.ORG_KIND.items()),
    )
    gender = SelectField(
        _l("Gender"),
        choices=options(
            [("", _l("Not given")), *((g.value, label) for g, label in labels.GENDER.items())]
        ),
        validators=[Optional()],
    )
    language = SelectField(_l("Preferred language"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = options(labels.LANGUAGE_NAMES.items())

    @property
    def gender_value(self) -> Gender | None:
        return Gender(self.gender.data) if self.gender.data else None

    @property
    def org_kind_value(self) -> OrgKind:
        return OrgKind(self.org_kind.data)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=options((r.value, label) for r, label in labels.ROLE.items())
    )
    sites = MultiCheckboxField(_l("Sites (coordinators only)"), coerce=int)
    is_active = BooleanField(_l("May sign in"), default=True)


def password_fields():
    return (
        PasswordField(
            _l("Password"),
            validators=[
                DataRequired(),
                Length(
                    min=MIN_PASSWORD,
                    max=200,
                    message=_l("Use %(min)d to 200 characters.", min=MIN_PASSWORD),
                ),
            ],
        ),
        PasswordField(
            _l("Password again"),
            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        ),
    )


class NewStaffForm(StaffForm):
    email = EmailField(_l("Email"), validators=EMAIL_VALIDATORS)
    password, password_again = password_fields()


class PasswordForm(FlaskForm):
    password, password_again = password_fields()


def role_value(form: StaffForm) -> Role:
    return Role(form.role.data)
