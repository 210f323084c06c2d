"""The emails sent to participants, rendered in each person's own language."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.mail.outbox import Attachment, CalendarPart, build_message, enqueue
from app.models import Registration
from app.urls import public_url


def personal_url(registration: Registration, endpoint: str = "registrations.manage") -> str:
    """An absolute link for emails and calendar files, from PUBLIC_BASE_URL."""
    return public_url(endpoint, token=registration.manage_token)


def _subjects(title: str) -> dict[str, str]:
    return {
        "confirmation": _("You are registered: %(title)s", title=title),
        "waitlisted": _("You are on the waiting list: %(title)s", title=title),
        "promoted": _("A seat is free for you: %(title)s", title=title),
        "cancelled": _("Registration cancelled: %(title)s", title=title),
        "updated": _("Updated: %(title)s", title=title),
        "link_resend": _("Your personal link: %(title)s", title=title),
        "event_cancelled": _("Cancelled: %(title)s", title=title),
    }


def invite_parts(
    registration: Registration, kind: str
) -> tuple[CalendarPart | None, list[Attachment]]:
    """The calendar part and attachments that go with a message of this kind."""
    return None, []


def notify_registration(registration: Registration, kind: str) -> None:
    """Queue an email about this registration, inside the caller's transaction."""
    with force_locale(registration.language or "en"):
        event = registration.event
        context = {
            "registration": registration,
            "event": event,
            "kind": kind,
            "personal_url": personal_url(registration),
        }
        calendar, attachments = invite_parts(registration, kind)
        context["badge_cid"] = next(
            (a.content_id for a in attachments if a.content_id), None
        )
        message = build_message(
            recipient=registration.email,
            subject=_subjects(event.title)[kind],
            text=render_template("emails/registration.txt", **context),
            html=render_template("emails/registration.html", **context),
            calendar=calendar,
            attachments=attachments,
        )
    enqueue(message, kind=kind, registration=registration)
