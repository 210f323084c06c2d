"""Form pieces the features share: the base form, choices, local times, slugs, contacts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from app import labels
from app.form_messages import form_translations
from app.guards import has_control_character
from app.models import Gender, Mode, OrgKind
from app.slugs import SLUG_PATTERN

#: What a datetime-local input sends; seconds are accepted but not needed.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
#: The value of the "online" choice beside the sites' slugs.
ONLINE = "online"

#: Shared by every form that takes a participant's contact details.
EMAIL_VALIDATORS = [DataRequired(), Email(check_deliverability=False), Length(max=254)]
PHONE_VALIDATORS = [
    Optional(),
    Length(max=40),
    Regexp(r"^[0-9+()\-. ]{5,40}$", message=_l("Use digits, spaces and + ( ) - only.")),
]


def single_line(form, field) -> None:
    """Refuse control characters (tab and line breaks aside) in a name or other one-line text."""
    if isinstance(field.data, str) and has_control_character(field.data):
        raise StopValidation(_l("Remove the control characters from this text."))


def is_one_line_text(field) -> bool:
    """A text input of one line: not a text area, a password or a hidden value."""
    return isinstance(field, StringField) and not isinstance(
        field, TextAreaField | PasswordField | HiddenField
    )


class Form(FlaskForm):
    """The base of the app's forms: every one-line text field checks ``single_line`` first.

    Done when the form binds its fields, so no field definition has to list it.
    """

    class Meta:
        def get_translations(self, form):
            return form_translations

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if is_one_line_text(field):
                field.validators = [single_line, *field.validators]
            return field


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def mode_and_site(choice: str) -> tuple[Mode, str | None]:
    """A participation choice (a site's slug, or ``online``) as mode and site slug."""
    return (Mode.ONLINE, None) if choice == ONLINE else (Mode.IN_PERSON, choice)


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


class ParticipantFields:
    """The person's details, as a mixin for the public form and the staff's correction form.

    ``organization_required`` and the gender's empty label differ between the two.
    """

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=EMAIL_VALIDATORS)
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    org_kind = SelectField(
        _l("Kind of organisation"),
        choices=options((kind.value, label) for kind, label in labels.ORG_KIND.items()),
        validators=[DataRequired()],
    )
    language = SelectField(_l("Preferred language"), choices=[], validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = options(labels.LANGUAGE_NAMES.items())

    @property
    def gender_value(self) -> Gender | None:
        return Gender(self.gender.data) if self.gender.data else None

    @property
    def org_kind_value(self) -> OrgKind:
        return OrgKind(self.org_kind.data)


def gender_field(label, empty_label) -> SelectField:
    return SelectField(
        label,
        choices=options([("", empty_label), *((g.value, lb) for g, lb in labels.GENDER.items())]),
        validators=[Optional()],
    )
