"""Forms of the data-protection pages: confirming an erasure, filtering the audit log."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired, Optional

from app.forms import Form


class ConfirmForm(Form):
    """A box to tick before something that cannot be undone."""

    confirm = BooleanField(
        _l("I understand that this cannot be undone"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class AuditFilterForm(Form):
    """The event filter above the audit log, sent by GET."""

    class Meta:
        csrf = False

    event = SelectField(_l("Event"), validators=[Optional()])
