"""The organiser's certificates page: who met the rule, issuing, revoking, the signature."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import TypeVar

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.attendance.completion import completions
from app.auth.access import organizer_required
from app.certificates import services
from app.certificates.blueprint import bp
from app.certificates.content import sheet_data
from app.certificates.forms import CertificateSettingsForm, RevokeForm
from app.certificates.pdf import render_certificates
from app.errors import render_error
from app.models import Certificate, Event, utcnow
from app.privacy.audit import audited
from app.web import event_or_404, event_registration_or_404, require_button_post, save

T = TypeVar("T")


def _back(slug: str) -> str:
    return url_for("certificates.manage", slug=slug)


def _page(event: Event, settings_form: CertificateSettingsForm | None = None, status: int = 200):
    """The page: the counts against the rule, the actions, the certificates, the settings."""
    plan = services.plan_certificates(event)
    return render_template(
        "certificates/manage.html",
        event=event,
        plan=plan,
        certificates=services.certificates_of(event),
        settings_form=settings_form
        or CertificateSettingsForm(formdata=None, signer=event.certificate_signer),
        started=utcnow() >= event.starts_at,
    ), status


def _run_button(
    event: Event, change: Callable[[], T], success: str | Callable[[T], str]
) -> Response | None:
    """Run what a bare button of the page asks, through :func:`app.web.save`.

    The button carries only its CSRF token: without a valid one the answer is 400.
    Returns the redirect back to the page, or None after a refusal.
    """
    require_button_post()
    return save(change, success=success, redirect_to=_back(event.slug))


@bp.route("/manage/events/<slug>/certificates")
@organizer_required
def manage(slug: str):
    """Who met the completion rule, what issuing would do, and the certificates issued."""
    return _page(event_or_404(slug))


@bp.route("/manage/events/<slug>/certificates/issue", methods=["POST"])
@organizer_required
def issue(slug: str):
    """Issue the missing certificates in one transaction, and queue their emails."""
    event = event_or_404(slug)
    return _run_button(
        event,
        lambda: services.issue_certificates(event, current_user),
        success=lambda issued: (
            ngettext(
                "%(num)d certificate issued; its email is on its way.",
                "%(num)d certificates issued; their emails are on their way.",
                len(issued),
            )
            if issued
            else _("Nothing new to issue: everyone who met the rule has a certificate.")
        ),
    ) or _page(event, status=409)


@bp.route("/manage/events/<slug>/certificates/revoke-stale", methods=["POST"])
@organizer_required
def revoke_stale(slug: str):
    """Revoke the certificates of those who no longer meet the rule."""
    event = event_or_404(slug)
    return _run_button(
        event,
        lambda: services.revoke_stale_certificates(event),
        success=lambda revoked: ngettext(
            "%(num)d certificate revoked.", "%(num)d certificates revoked.", len(revoked)
        ),
    )


def _certificate_or_404(event: Event, registration_id: int) -> Certificate:
    registration = event_registration_or_404(event, registration_id)
    certificate = services.certificate_of(registration)
    if certificate is None:
        abort(404)
    return certificate


@bp.route(
    "/manage/events/<slug>/certificates/<int:registration_id>/revoke", methods=["GET", "POST"]
)
@organizer_required
def revoke(slug: str, registration_id: int):
    """Revoke one person's certificate, saying why."""
    event = event_or_404(slug)
    certificate = _certificate_or_404(event, registration_id)
    form = RevokeForm()
    if (
        certificate.is_valid
        and form.validate_on_submit()
        and (
            saved := save(
                lambda: services.revoke_certificate(certificate, form.reason.data),
                form=form,
                success=_(
                    "The certificate of %(name)s is revoked.", name=certificate.registration.name
                ),
                redirect_to=_back(slug),
            )
        )
    ):
        return saved
    return render_template(
        "certificates/revoke.html", event=event, certificate=certificate, form=form
    )


@bp.route("/manage/events/<slug>/certificates/settings", methods=["POST"])
@organizer_required
def settings(slug: str):
    """Save who signs the certificates, and a new signature image if one was chosen."""
    event = event_or_404(slug)
    form = CertificateSettingsForm()
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_certificate_settings(
                event, form.signer.data or "", form.signature_upload()
            ),
            form=form,
            success=_("The certificate settings are saved."),
            redirect_to=_back(slug),
        )
    ):
        return saved
    return _page(event, settings_form=form, status=422)


@bp.errorhandler(413)
def upload_too_large(error):
    """A signature far over the limit: the message at its field, as for any other."""
    if request.endpoint != "certificates.settings":
        return render_error(413)
    event = event_or_404(request.view_args["slug"])
    form = CertificateSettingsForm(formdata=None, signer=event.certificate_signer)
    form.signature.errors = [
        _("The image is larger than 1 MB. Save it smaller and upload it again.")
    ]
    return _page(event, settings_form=form, status=413)


@bp.route("/manage/events/<slug>/certificates/signature/remove", methods=["POST"])
@organizer_required
def remove_signature(slug: str):
    """Print the certificates without a signature image from now on."""
    event = event_or_404(slug)
    return _run_button(
        event,
        lambda: services.remove_signature(event),
        success=_("The signature image is removed."),
    ) or redirect(_back(slug))


@bp.route("/manage/events/<slug>/certificates/signature")
@organizer_required
def signature(slug: str):
    """The uploaded signature image, for the settings' preview."""
    event = event_or_404(slug)
    if event.certificate_signature is None:
        abort(404)
    response = send_file(
        BytesIO(event.certificate_signature), mimetype=event.certificate_signature_type
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/manage/events/<slug>/certificates.pdf")
@organizer_required
@audited()
def sheet(slug: str):
    """Every valid certificate of the event, one per page, each in its reader's language."""
    event = event_or_404(slug)
    certificates = services.certificates_of(event, valid_only=True)
    if not certificates:
        return render_error(404, _("No valid certificate has been issued for this event."))
    data = render_certificates(
        sheet_data(certificates, completions(event)),
        title=_("Certificates: %(title)s", title=event.title),
    )
    response = send_file(
        BytesIO(data), mimetype="application/pdf", download_name=f"certificates-{event.slug}.pdf"
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response
