"""The registration forms: the participant's own, and the staff's list filters and corrections."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import labels
from app.forms import ONLINE, Form, ParticipantFields, gender_field, mode_and_site, options
from app.models import Event, Mode, RegistrationStatus
from app.registrations.services import RegistrationDetails, RegistrationInput


def participation_choices(event: Event, seats: dict[int, int]) -> list[SelectChoice]:
    """One choice per site taking part (noting a full one), plus online."""
    choices = []
    if event.allows_in_person:
        for es in event.event_sites:
            label = es.site.name
            if not seats.get(es.site_id):
                label = _l("%(site)s (full: waiting list)", site=es.site.name)
            choices.append(SelectChoice(es.site.slug, label))
    if event.allows_online:
        choices.append(SelectChoice(ONLINE, _l("Online, from anywhere")))
    return choices


class ParticipationForm(Form):
    participation = RadioField(
        _l("How will you take part?"),
        validators=[InputRequired(message=_l("Choose how you will take part."))],
    )


class RegistrationForm(ParticipantFields, ParticipationForm):
    organization = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=300)])
    #: Nothing is chosen beforehand: whoever skipped the question would be counted in the
    #: report as whatever kind came first.
    org_kind = SelectField(
        _l("Kind of organisation"),
        choices=options(
            [("", _l("Choose…")), *((kind.value, label) for kind, label in labels.ORG_KIND.items())]
        ),
        validators=[
            DataRequired(message=_l("Choose the kind of organisation, or Other if none fits."))
        ],
    )
    gender = gender_field(_l("Gender (optional, only for statistics)"), _l("Prefer not to say"))
    consent = BooleanField(
        _l("I agree that my data is processed to organise this event and report on attendance."),
        validators=[DataRequired(message=_l("Please agree to the processing of your data."))],
    )

    def to_input(self) -> RegistrationInput:
        mode, site_slug = mode_and_site(self.participation.data)
        return RegistrationInput(
            name=self.name.data,
            email=self.email.data,
            mode=mode,
            site_slug=site_slug,
            phone=self.phone.data or "",
            organization=self.organization.data,
            position=self.position.data or "",
            org_kind=self.org_kind_value,
            gender=self.gender_value,
            language=self.language.data,
            consent=self.consent.data,
        )

    #: The order the page shows the fields in, which its list of mistakes follows.
    SHOWN_ORDER = (
        "participation",
        "name",
        "email",
        "phone",
        "organization",
        "position",
        "org_kind",
        "gender",
        "language",
        "consent",
    )

    def __iter__(self):
        rest = [f for f in super().__iter__() if f.name not in self.SHOWN_ORDER]
        return iter([*(self[name] for name in self.SHOWN_ORDER), *rest])


class RegistrationFilterForm(Form):
    """The filters above the staff's registrations table, sent by GET."""

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


class RegistrationEditForm(ParticipantFields, Form):
    """A staff member's correction of a registration, its site or mode included."""

    participation = SelectField(_l("Takes part"), validators=[InputRequired()])
    organization = StringField(_l("Organisation"), validators=[Optional(), Length(max=300)])
    gender = gender_field(_l("Gender"), _l("Not given"))

    def to_details(self) -> RegistrationDetails:
        return RegistrationDetails(
            name=self.name.data,
            email=self.email.data,
            phone=self.phone.data or "",
            organization=self.organization.data or "",
            position=self.position.data or "",
            org_kind=self.org_kind_value,
            gender=self.gender_value,
            language=self.language.data,
        )
