"""The rules of certificates: who gets one, issuing and revoking them, and the signature.

A certificate goes to each person who met the event's completion rule
(``app/attendance/completion.py``). Issuing creates only the missing ones, so
pressing "Issue" twice issues nothing new; each new certificate is announced
(``registration_changed`` with ``MessageKind.CERTIFICATE``) so that its email is
queued in the same transaction. A certificate is revoked, never deleted, so
its verification page can say "revoked" from then on; a revoked one is not
issued again by the bulk action.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import joinedload

from app.attendance.completion import Completion, completions
from app.extensions import db
from app.models import (
    Certificate,
    Event,
    MessageKind,
    Registration,
    RegistrationStatus,
    StaffUser,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.signals import registration_changed

#: What ``new_certificate_code`` makes: 32 URL-safe characters. Anything else is no code,
#: and is not looked up at all (a NUL byte or a megabyte of text never reaches the database).
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
#: The largest signature image accepted, in bytes.
SIGNATURE_MAX_BYTES = 1024 * 1024
#: The smallest and largest width or height of a signature image, in pixels.
SIGNATURE_MIN_SIDE, SIGNATURE_MAX_SIDE = 16, 4000
SIGNATURE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
#: Longest revocation reason, as the column holds it.
REASON_MAX_LENGTH = 300


# --- looking certificates up ----------------------------------------------------------


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate a verification code names, or None for anything that is not one."""
    if not CODE_PATTERN.fullmatch(code):
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .options(joinedload(Certificate.registration), joinedload(Certificate.event))
        .where(Certificate.code == code)
    )


def certificate_of(registration: Registration) -> Certificate | None:
    """The person's certificate, valid or revoked, or None."""
    return db.session.scalar(
        sa.select(Certificate).where(Certificate.registration_id == registration.id)
    )


def valid_certificate_of(registration: Registration) -> Certificate | None:
    """The person's certificate while it is valid; None when none was issued or it was revoked."""
    certificate = certificate_of(registration)
    return certificate if certificate is not None and certificate.is_valid else None


def certificates_of(event: Event, *, valid_only: bool = False) -> list[Certificate]:
    """The event's certificates with their registrations and sites, by name."""
    query = (
        sa.select(Certificate)
        .join(Registration, Registration.id == Certificate.registration_id)
        .options(joinedload(Certificate.registration).joinedload(Registration.site))
        .where(Certificate.event_id == event.id)
        .order_by(Registration.name, Registration.id)
    )
    if valid_only:
        query = query.where(Certificate.revoked_at.is_(None))
    return list(db.session.scalars(query))


# --- the preview: who would get one -----------------------------------------------------


@dataclass(frozen=True)
class IssuePlan:
    """Where the event's people stand against its completion rule and its certificates."""

    #: Everyone who met the completion rule.
    met: int
    #: Met the rule and hold a valid certificate.
    issued: int
    #: Met the rule and have none yet: what "Issue" would create, by registration id.
    to_issue: tuple[int, ...]
    #: Met the rule, but their certificate was revoked; "Issue" leaves it so.
    revoked: int
    #: Hold a valid certificate but no longer meet the rule (say, a check-in undone since).
    stale: tuple[int, ...]
    #: Registered (or attended) without meeting the rule.
    not_met: int
    completions: dict[int, Completion]


def plan_certificates(event: Event) -> IssuePlan:
    """Count who met the rule, who holds a certificate and who would get one, in a few queries."""
    done = completions(event)
    met = {person for person, completion in done.items() if completion.completed}
    held = dict(
        db.session.execute(
            sa.select(Certificate.registration_id, Certificate.revoked_at).where(
                Certificate.event_id == event.id
            )
        ).all()
    )
    valid = {person for person, revoked_at in held.items() if revoked_at is None}
    # Everyone registered: the confirmed, and anyone who attended whatever their status.
    confirmed = set(
        db.session.scalars(
            sa.select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
    )
    return IssuePlan(
        met=len(met),
        issued=len(met & valid),
        to_issue=tuple(sorted(met - set(held))),
        revoked=len(met & (set(held) - valid)),
        stale=tuple(sorted(valid - met)),
        not_met=len((confirmed | set(done)) - met),
        completions=done,
    )


# --- issuing and revoking ---------------------------------------------------------------


def issue_certificates(
    event: Event, issued_by: StaffUser | None, *, now: datetime | None = None
) -> list[Certificate]:
    """Create the missing certificates of those who met the rule, and queue their emails.

    Refused before the event has started. Those who already hold a certificate,
    valid or revoked, get nothing new.
    """
    now = now or utcnow()
    if now < event.starts_at:
        raise Refusal(
            Reason.NOT_OPEN,
            _("Certificates can be issued once the event has started."),
        )
    plan = plan_certificates(event)
    if not plan.to_issue:
        return []
    people = db.session.scalars(
        sa.select(Registration)
        .options(joinedload(Registration.site))
        .where(Registration.id.in_(plan.to_issue))
        .order_by(Registration.id)
    ).all()
    issued = [
        Certificate(event=event, registration=person, issued_at=now, issued_by_id=_id(issued_by))
        for person in people
    ]
    db.session.add_all(issued)
    try:
        db.session.flush()
    except sa.exc.IntegrityError as error:
        # Another organiser issued them a moment ago; the caller rolls back.
        raise Refusal(
            Reason.CONFLICT,
            _("Certificates were being issued at the same moment. Look again and retry."),
        ) from error
    for certificate in issued:
        if certificate.registration.email:
            registration_changed.send(certificate.registration, kind=MessageKind.CERTIFICATE)
    return issued


def _id(user: StaffUser | None) -> int | None:
    return user.id if user is not None and user.is_authenticated else None


def _clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise Refusal(Reason.INVALID, _("Say why the certificate is revoked."), "reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise Refusal(
            Reason.INVALID,
            _("Keep the reason under %(count)d characters.", count=REASON_MAX_LENGTH),
            "reason",
        )
    return reason


def revoke_certificate(
    certificate: Certificate, reason: str, *, now: datetime | None = None
) -> Certificate:
    """Revoke one certificate, saying why; its verification page says "revoked" from now on."""
    reason = _clean_reason(reason)
    if not certificate.is_valid:
        raise Refusal(Reason.CONFLICT, _("This certificate has been revoked already."))
    certificate.revoked_at = now or utcnow()
    certificate.revoked_reason = reason
    db.session.flush()
    return certificate


def revoke_stale_certificates(event: Event, *, now: datetime | None = None) -> list[Certificate]:
    """Revoke the valid certificates of those who no longer meet the completion rule."""
    stale = plan_certificates(event).stale
    if not stale:
        return []
    now = now or utcnow()
    certificates = list(
        db.session.scalars(
            sa.select(Certificate).where(
                Certificate.event_id == event.id,
                Certificate.registration_id.in_(stale),
                Certificate.revoked_at.is_(None),
            )
        )
    )
    reason = _("No longer meets the event's completion rule.")
    for certificate in certificates:
        certificate.revoked_at = now
        certificate.revoked_reason = reason
    db.session.flush()
    return certificates


# --- the signature ----------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureImage:
    content: bytes
    media_type: str


def checked_signature(data: bytes) -> SignatureImage:
    """An uploaded signature, if it is a PNG or JPEG image of at most 1 MB and sane size.

    The content decides, not the file's name or the type the browser claims.
    """
    if not data:
        raise Refusal(
            Reason.INVALID, _("The file is empty. Choose a PNG or JPEG image."), "signature"
        )
    if len(data) > SIGNATURE_MAX_BYTES:
        raise Refusal(
            Reason.INVALID,
            _("The image is larger than 1 MB. Save it smaller and upload it again."),
            "signature",
        )
    not_an_image = Refusal(Reason.INVALID, _("This file is not a PNG or JPEG image."), "signature")
    try:
        with warnings.catch_warnings():
            # A header claiming a gigantic image is refused, not decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
        with image:
            kind, (width, height) = image.format, image.size
            if kind not in SIGNATURE_TYPES:
                raise not_an_image
            if not (
                SIGNATURE_MIN_SIDE <= width <= SIGNATURE_MAX_SIDE
                and SIGNATURE_MIN_SIDE <= height <= SIGNATURE_MAX_SIDE
            ):
                raise Refusal(
                    Reason.INVALID,
                    _(
                        "The image is %(width)d × %(height)d pixels. Use one from %(least)d "
                        "to %(most)d pixels wide and high.",
                        width=width,
                        height=height,
                        least=SIGNATURE_MIN_SIDE,
                        most=SIGNATURE_MAX_SIDE,
                    ),
                    "signature",
                )
            # Decode it whole: a cut-off or corrupt file fails here, not in a PDF later.
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise not_an_image from None
    return SignatureImage(data, SIGNATURE_TYPES[kind])


def update_certificate_settings(event: Event, signer: str, signature: bytes | None = None) -> Event:
    """Set who signs the certificates and, when ``signature`` is given, their signature."""
    image = checked_signature(signature) if signature is not None else None
    event.certificate_signer = " ".join(signer.split())
    if image is not None:
        event.certificate_signature = image.content
        event.certificate_signature_type = image.media_type
    db.session.flush()
    return event


def remove_signature(event: Event) -> Event:
    """Print the certificates without a signature image."""
    if event.certificate_signature is None:
        raise Refusal(Reason.NOTHING_TO_UNDO, _("There is no signature image to remove."))
    event.certificate_signature = None
    event.certificate_signature_type = ""
    db.session.flush()
    return event
