"""Forms for sites and for the sites taking part in an event."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import Form, slug_field
from app.sites.services import SiteInput


class SiteForm(Form):
    slug = slug_field()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    is_main_venue = BooleanField(_l("Main venue"))

    def to_input(self) -> SiteInput:
        return SiteInput(
            name=self.name.data,
            region=self.region.data or "",
            address=self.address.data or "",
            is_main_venue=self.is_main_venue.data,
        )


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


class AddEventSiteForm(Form):
    site = SelectField(
        _l("Site"), coerce=int, validators=[InputRequired(message=_l("Choose a site."))]
    )
    capacity = capacity_field()


class CapacityForm(Form):
    capacity = capacity_field()
