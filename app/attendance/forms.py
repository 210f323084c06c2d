"""Forms for importing a meeting report."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, ValidationError

from app.forms import Form

MINUTES = "minutes"
PERCENT = "percent"


class ReportUploadForm(Form):
    report = FileField(
        _l("Attendance report (Zoom participants CSV or Teams attendance report)"),
        validators=[FileRequired(message=_l("Choose the report file to import."))],
    )
    threshold = IntegerField(
        _l("Counts as attended from"),
        default=50,
        validators=[
            InputRequired(message=_l("Give a threshold.")),
            NumberRange(min=0, max=24 * 60, message=_l("Give a number from 0 to 1440.")),
        ],
    )
    threshold_unit = RadioField(
        _l("Threshold in"),
        choices=[
            SelectChoice(PERCENT, _l("percent of the event")),
            SelectChoice(MINUTES, _l("minutes")),
        ],
        default=PERCENT,
    )
    timezone = SelectField(_l("Time zone of the times in the report"))

    def set_zone_choices(self, event_zone: str) -> None:
        others = sorted(z for z in available_timezones() if z not in (event_zone, "UTC"))
        self.timezone.choices = [SelectChoice(z, z) for z in (event_zone, "UTC", *others)]
        if not self.timezone.data:
            self.timezone.data = event_zone

    def validate_threshold(self, field) -> None:
        if self.threshold_unit.data == PERCENT and field.data is not None and field.data > 100:
            raise ValidationError(_l("A percentage cannot be more than 100."))


class ConfirmImportForm(Form):
    #: The parsed report, signed, carried from the preview to the confirmation.
    payload = HiddenField(validators=[InputRequired()])
