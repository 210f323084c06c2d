"""The form an organiser writes a message to a group of participants in."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app import labels
from app.forms import Form, local_time_field, options
from app.messages.audience import ATTENDANCE, Attendance, Audience
from app.messages.campaigns import (
    BODY_MAX_LENGTH,
    IDEMPOTENCY_KEY,
    LANGUAGES,
    CampaignInput,
    MessageText,
)
from app.models import Mode, RegistrationStatus

_OUT_OF_DATE = _l("This form is out of date. Check the message and send it again.")


def _checkboxes(label, choices=(), default=None) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=choices,
        default=default,
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class CampaignForm(Form):
    """Filters, the subject and body in each language, and when it goes out.

    The subjects and bodies are ``subject_<language>`` and ``body_<language>``
    for each of LANGUAGES. The choices of ``sites`` are the event's, set by the view.
    """

    #: Random per compose form (set by the view): the same form sent twice is stored once.
    idempotency_key = HiddenField(
        validators=[
            DataRequired(message=_OUT_OF_DATE),
            Regexp(IDEMPOTENCY_KEY, message=_OUT_OF_DATE),
        ]
    )
    sites = _checkboxes(_l("At the sites"))
    mode = SelectField(
        _l("Takes part"),
        choices=options(
            [("", _l("In person or online")), *((m.value, lb) for m, lb in labels.MODE.items())]
        ),
        validators=[Optional()],
    )
    statuses = _checkboxes(
        _l("Status"),
        choices=options((s.value, lb) for s, lb in labels.REGISTRATION_STATUS.items()),
        default=[RegistrationStatus.CONFIRMED.value],
    )
    attendance = SelectField(
        _l("Attendance"),
        choices=options([("", _l("Anyone")), *((a.value, lb) for a, lb in ATTENDANCE.items())]),
        validators=[Optional()],
    )
    language = SelectField(
        _l("Preferred language"),
        choices=options([("", _l("Any language")), *labels.LANGUAGE_NAMES.items()]),
        validators=[Optional()],
    )
    #: Never filled in: where a refusal about the filters as a whole is shown.
    audience = HiddenField()

    subject_en = StringField(_l("Subject"), validators=[Optional(), Length(max=1000)])
    body_en = TextAreaField(_l("Message"), validators=[Optional(), Length(max=BODY_MAX_LENGTH)])
    subject_ru = StringField(_l("Subject"), validators=[Optional(), Length(max=1000)])
    body_ru = TextAreaField(_l("Message"), validators=[Optional(), Length(max=BODY_MAX_LENGTH)])
    subject_tk = StringField(_l("Subject"), validators=[Optional(), Length(max=1000)])
    body_tk = TextAreaField(_l("Message"), validators=[Optional(), Length(max=BODY_MAX_LENGTH)])

    send_at = local_time_field(_l("Send at (local time)"), required=False)

    # "Preview" comes first, so pressing Enter in a field previews rather than sends.
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send"))

    def text_fields(self, language: str):
        """The subject and body fields of one language."""
        return self[f"subject_{language}"], self[f"body_{language}"]

    def to_input(self) -> CampaignInput:
        return CampaignInput(
            texts={
                language: MessageText(subject=subject.data or "", body=body.data or "")
                for language in LANGUAGES
                for subject, body in [self.text_fields(language)]
            },
            audience=Audience(
                sites=tuple(self.sites.data or ()),
                mode=Mode(self.mode.data) if self.mode.data else None,
                statuses=tuple(RegistrationStatus(s) for s in self.statuses.data or ()),
                attendance=Attendance(self.attendance.data) if self.attendance.data else None,
                language=self.language.data or None,
            ),
            send_at_local=self.send_at.data,
        )
