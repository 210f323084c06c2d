from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

from app import labels
from app.models import Event, Gender, OrgKind

ONLINE = "online"


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


#: Shared by every form that takes a participant's contact details.
EMAIL_VALIDATORS = [DataRequired(), Email(check_deliverability=False), Length(max=254)]
PHONE_VALIDATORS = [
    Optional(),
    Length(max=40),
    Regexp(r"^[0-9+()\-. ]{5,40}$", message=_l("Use digits, spaces and + ( ) - only.")),
]


class ParticipationForm(FlaskForm):
    participation = RadioField(
        _l("How will you take part?"),
        validators=[InputRequired(message=_l("Choose how you will take part."))],
    )


class RegistrationForm(ParticipationForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=EMAIL_VALIDATORS)
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    organization = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=300)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    org_kind = SelectField(
        _l("Kind of organisation"),
        choices=[SelectChoice(kind.value, label) for kind, label in labels.ORG_KIND.items()],
        validators=[DataRequired()],
    )
    gender = SelectField(
        _l("Gender (optional, only for statistics)"),
        choices=[SelectChoice("", _l("Prefer not to say"))]
        + [SelectChoice(g.value, label) for g, label in labels.GENDER.items()],
        validators=[Optional()],
    )
    language = SelectField(_l("Preferred language"), choices=[], validators=[DataRequired()])
    consent = BooleanField(
        _l("I agree that my data is processed to organise this event and report on attendance."),
        validators=[DataRequired(message=_l("Please agree to the processing of your data."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice(c, n) for c, n in labels.LANGUAGE_NAMES.items()]

    @property
    def gender_value(self) -> Gender | None:
        return Gender(self.gender.data) if self.gender.data else None

    @property
    def org_kind_value(self) -> OrgKind:
        return OrgKind(self.org_kind.data)
