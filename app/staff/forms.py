"""Forms for staff accounts, on the admin's pages."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app import labels
from app.forms import EMAIL_VALIDATORS, Form, options
from app.models import Role
from app.staff.services import StaffInput

MIN_PASSWORD = 10


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=options((r.value, label) for r, label in labels.ROLE.items())
    )
    sites = MultiCheckboxField(_l("Sites (coordinators only)"), coerce=int)
    is_active = BooleanField(_l("May sign in"), default=True)

    def to_input(self) -> StaffInput:
        return StaffInput(
            name=self.name.data or "",
            role=Role(self.role.data),
            site_ids=list(self.sites.data or []),
            is_active=self.is_active.data,
        )


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


class PasswordForm(Form):
    password, password_again = password_fields()
