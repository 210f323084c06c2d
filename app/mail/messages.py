"""The emails sent to participants, rendered in each person's own language.

The rules announce their changes as signals (``app/signals.py``): a change
to one registration becomes its email here, inside the same transaction; a
change many people must hear of becomes a notice (``app/mail/notices.py``).
"""

from __future__ import annotations

from email.utils import make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.badges.qr import qr_png
from app.badges.services import badge_refusal
from app.events.ical import Method, invite_method, registration_to_ical
from app.mail.outbox import Attachment, CalendarPart, build_message, enqueue
from app.models import (
    MessageKind,
    Registration,
)
from app.signals import registration_changed
from app.urls import public_url


def personal_url(registration: Registration, endpoint: str = "registrations.manage") -> str:
    """An absolute link for emails and calendar files, from PUBLIC_BASE_URL."""
    return public_url(endpoint, token=registration.manage_token)


def _subjects(title: str) -> dict[MessageKind, str]:
    return {
        MessageKind.CONFIRMATION: _("You are registered: %(title)s", title=title),
        MessageKind.WAITLISTED: _("You are on the waiting list: %(title)s", title=title),
        MessageKind.PROMOTED: _("A seat is free for you: %(title)s", title=title),
        MessageKind.CANCELLED: _("Registration cancelled: %(title)s", title=title),
        MessageKind.UPDATED: _("Updated: %(title)s", title=title),
        MessageKind.LINK_RESEND: _("Your personal link: %(title)s", title=title),
        MessageKind.EVENT_CANCELLED: _("Cancelled: %(title)s", title=title),
        MessageKind.CERTIFICATE: _("Your certificate of attendance: %(title)s", title=title),
    }


#: Messages that carry the current invite (or its cancellation, if it no longer holds).
INVITE_KINDS = frozenset({MessageKind.CONFIRMATION, MessageKind.PROMOTED, MessageKind.UPDATED})
#: Messages that withdraw the invite.
CANCEL_KINDS = frozenset({MessageKind.CANCELLED, MessageKind.EVENT_CANCELLED})


def _badge_content_id() -> str:
    return make_msgid(idstring="badge", domain="hybriddesk.local")[1:-1]


def invite_parts(
    registration: Registration, kind: MessageKind
) -> tuple[CalendarPart | None, list[Attachment]]:
    """The calendar part and attachments that go with a message of this kind.

    Confirmations, promotions and updates carry METHOD:REQUEST, plus the QR
    badge inline for people who come in person; cancellations carry
    METHOD:CANCEL. Waitlist notices and re-sent links carry no invite.
    """
    if kind in CANCEL_KINDS:
        method = Method.CANCEL
    elif kind in INVITE_KINDS:
        method = invite_method(registration)
    else:
        method = None
    if method is None:
        return None, []
    base_url = current_app.config["PUBLIC_BASE_URL"]
    ics = registration_to_ical(
        registration,
        method,
        base_url,
        organizer_email=parseaddr(current_app.config["MAIL_FROM"])[1],
    )
    attachments = []
    if method == Method.REQUEST and badge_refusal(registration) is None:
        attachments.append(
            Attachment(
                filename="badge.png",
                content=qr_png(registration.badge_code),
                maintype="image",
                subtype="png",
                content_id=_badge_content_id(),
            )
        )
    return CalendarPart(ics=ics, method=str(method)), attachments


def notify_registration(registration: Registration, kind: MessageKind) -> None:
    """Queue an email about this registration, inside the caller's transaction."""
    with force_locale(registration.language or "en"):
        event = registration.event
        context = {
            "registration": registration,
            "event": event,
            "kind": kind,
            "personal_url": personal_url(registration),
        }
        template = "registration"
        if kind == MessageKind.CERTIFICATE:
            template = "certificate"
            context["certificate_url"] = personal_url(registration, "certificates.personal_pdf")
        calendar, attachments = invite_parts(registration, kind)
        context["badge_cid"] = next((a.content_id for a in attachments if a.content_id), None)
        message = build_message(
            recipient=registration.email,
            subject=_subjects(event.title)[kind],
            text=render_template(f"emails/{template}.txt", **context),
            html=render_template(f"emails/{template}.html", **context),
            calendar=calendar,
            attachments=attachments,
        )
    enqueue(message, kind=kind, registration=registration)


def subscribe_to_signals() -> None:
    """Queue the participants' emails for the changes the rules announce.

    Connecting again (another app in the same process) changes nothing.
    """
    registration_changed.connect(notify_registration)
