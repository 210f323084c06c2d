"""The organiser's forms for certificates: who signs them, and revoking one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.certificates.services import REASON_MAX_LENGTH
from app.forms import Form


class CertificateSettingsForm(Form):
    signer = StringField(
        _l("Signed by (name and title, as printed under the signature)"),
        validators=[Length(max=200)],
    )
    signature = FileField(_l("Signature image (PNG or JPEG, at most 1 MB)"))

    def signature_upload(self) -> bytes | None:
        """The uploaded image's bytes; None when no file was chosen."""
        upload = self.signature.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload.read()


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Why is it revoked?"),
        validators=[
            DataRequired(message=_l("Say why the certificate is revoked.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )
