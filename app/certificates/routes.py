"""The public side of certificates: the verification page anyone may open, and the
participant's own download from their personal page."""

from __future__ import annotations

from io import BytesIO

from flask import current_app, render_template, send_file
from flask_babel import force_locale
from flask_babel import gettext as _

from app.attendance.completion import completion_of
from app.certificates import manage  # noqa: F401  (adds the staff pages to bp)
from app.certificates.blueprint import bp
from app.certificates.content import certificate_data, event_dates
from app.certificates.pdf import render_certificates
from app.certificates.services import certificate_by_code, valid_certificate_of
from app.extensions import limiter
from app.web import registration_for_token

__all__ = ["bp"]


def _verify_limit() -> str:
    """Lookups per client address (``VERIFY_RATE_LIMIT``): plenty for people checking
    certificates by hand, too few to try codes at random (each has 192 bits anyway)."""
    return current_app.config["VERIFY_RATE_LIMIT"]


# Any path below /verify/ is a code to check, so "a/b" is "not valid" too.
@bp.route("/verify/<path:code>")
@limiter.limit(_verify_limit)
def verify(code: str):
    """Whether a certificate is valid: only the name, the event and its dates, or "revoked"."""
    certificate = certificate_by_code(code)
    if certificate is None:
        page, status = render_template("certificates/verify.html", certificate=None), 404
    else:
        page = render_template(
            "certificates/verify.html",
            certificate=certificate,
            name=certificate.registration.name,
            event=certificate.event,
            dates=event_dates(certificate.event),
        )
        status = 200
    response = current_app.make_response((page, status))
    # A revocation must show at once: no cache keeps the answer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/r/<token>/certificate.pdf")
def personal_pdf(token: str):
    """The participant's certificate, in their language, while it is valid."""
    registration = registration_for_token(token)
    certificate = valid_certificate_of(registration)
    if certificate is None:
        page = render_template(
            "invites/unavailable.html",
            registration=registration,
            event=registration.event,
            title=_("No certificate"),
            message=_("There is no valid certificate of attendance for this registration."),
        )
        return page, 404
    event = registration.event
    with force_locale(registration.language or "en"):
        data = certificate_data(certificate, registration, completion_of(event, registration))
        pdf = render_certificates([data], title=f"{data.heading}: {registration.name}")
    response = send_file(BytesIO(pdf), mimetype="application/pdf", download_name="certificate.pdf")
    # Personal files are never indexed (nor cached: see is_personal_response).
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.app_context_processor
def inject_personal_certificate():
    return {"personal_certificate": valid_certificate_of}
