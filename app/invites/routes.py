"""Calendar files and badges for participants, and badge sheets for organisers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from functools import wraps
from io import BytesIO

from flask import Blueprint, current_app, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import staff_required
from app.badges.layout import badge_data
from app.badges.pdf import render_badge, render_badge_sheet
from app.badges.qr import qr_png, qr_svg
from app.badges.services import NoBadge, badge_refusal, registrations_for_badges
from app.errors import render_error
from app.events.ical import (
    CalendarLinks,
    Method,
    calendar_links,
    event_to_ical,
    invite_method,
    join_link,
    registration_to_ical,
)
from app.models import Mode, Registration
from app.privacy.audit import audited
from app.web import event_or_404, event_site_or_404, public_event_or_404, registration_for_token

bp = Blueprint("invites", __name__)


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def fallback_organizer_email() -> str:
    """The sender address, for events that name no organiser address."""
    return parseaddr(current_app.config["MAIL_FROM"])[1]


def _file(
    data: bytes, mimetype: str, name: str, *, private: bool = True, as_attachment: bool = False
):
    response = send_file(
        BytesIO(data), mimetype=mimetype, download_name=name, as_attachment=as_attachment
    )
    if private:
        # Personal files are never indexed (nor cached: see is_personal_response).
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def _unavailable(registration: Registration, status: int, title: str, message: str):
    return render_template(
        "invites/unavailable.html",
        registration=registration,
        event=registration.event,
        title=title,
        message=message,
    ), status


def _no_badge_page(registration: Registration, reason: NoBadge):
    messages = {
        NoBadge.CANCELLED: _("This registration has been cancelled, so it has no badge."),
        NoBadge.EVENT_CANCELLED: _("This event has been cancelled, so there are no badges."),
        NoBadge.ONLINE: _(
            "You take part online, so you need no badge: join through your personal link."
        ),
        NoBadge.WAITLISTED: _(
            "You are on the waiting list. Your badge will be here as soon as a seat is "
            "confirmed for you."
        ),
    }
    # A waitlisted person may still get a seat; the others will not get a badge.
    status = 409 if reason == NoBadge.WAITLISTED else 410
    return _unavailable(registration, status, _("No badge"), messages[reason])


def _for_badge_holder(
    view: Callable[[Registration], ResponseReturnValue],
) -> Callable[[str], ResponseReturnValue]:
    """Call the view with the registration behind the link, or show why it has no badge."""

    @wraps(view)
    def wrapped(token: str) -> ResponseReturnValue:
        registration = registration_for_token(token)
        refusal = badge_refusal(registration)
        if refusal is not None:
            return _no_badge_page(registration, refusal)
        return view(registration)

    return wrapped


@bp.route("/events/<slug>/event.ics")
def event_ics(slug: str):
    """The public calendar entry (METHOD:PUBLISH)."""
    event = public_event_or_404(slug)
    data = event_to_ical(event, base_url())
    return _file(data, "text/calendar", f"{event.slug}.ics", private=False)


@bp.route("/r/<token>/invite.ics")
def invite_ics(token: str):
    """The participant's invite: REQUEST while confirmed, CANCEL once cancelled."""
    registration = registration_for_token(token)
    method = invite_method(registration)
    if method is None:
        return _unavailable(
            registration,
            409,
            _("No calendar invite yet"),
            _("You are on the waiting list. The calendar invite comes with your seat."),
        )
    with force_locale(registration.language or "en"):
        data = registration_to_ical(
            registration, method, base_url(), organizer_email=fallback_organizer_email()
        )
    return _file(data, "text/calendar", "invite.ics")


@bp.route("/r/<token>/badge.png")
@_for_badge_holder
def badge_png(registration: Registration):
    """The badge's QR as a PNG."""
    return _file(qr_png(registration.badge_code), "image/png", "badge.png")


@bp.route("/r/<token>/badge.svg")
@_for_badge_holder
def badge_svg(registration: Registration):
    """The badge's QR as an SVG, sharp at any size on a phone screen."""
    return _file(qr_svg(registration.badge_code), "image/svg+xml", "badge.svg")


@bp.route("/r/<token>/badge.pdf")
@_for_badge_holder
def badge_pdf(registration: Registration):
    """The printable A6 badge."""
    language = registration.language or "en"
    with force_locale(language):
        data = render_badge(badge_data(registration, language, online_label=_("Online")))
    return _file(data, "application/pdf", "badge.pdf")


@bp.route("/manage/events/<slug>/badges.pdf")
@staff_required
@audited()
def badge_sheet(slug: str):
    """Badges of the confirmed in-person participants, four per A4 page, sorted by name."""
    event = event_or_404(slug)
    site_slug = request.args.get("site", "").strip()
    site_id = None
    if site_slug:
        site_id = event_site_or_404(event, site_slug, current_user).site_id
    registrations = registrations_for_badges(event, current_user, site_id)
    if not registrations:
        return render_error(
            404, _("There are no confirmed in-person participants to print badges for.")
        )
    locale = str(get_locale() or "en")
    badges = [badge_data(r, locale, online_label=_("Online")) for r in registrations]
    data = render_badge_sheet(badges, title=_("Badges: %(title)s", title=event.title))
    name = f"badges-{event.slug}" + (f"-{site_slug}" if site_slug else "") + ".pdf"
    return _file(data, "application/pdf", name)


@dataclass(frozen=True)
class PersonalExtras:
    """What the personal page offers besides the summary."""

    show_badge: bool
    #: The person's invite can be added to a calendar.
    calendar: CalendarLinks | None
    join_url: str | None


def personal_extras(registration: Registration) -> PersonalExtras:
    """The badge, calendar links and join link the personal page shows."""
    confirmed = invite_method(registration) == Method.REQUEST
    online = registration.mode == Mode.ONLINE
    return PersonalExtras(
        show_badge=badge_refusal(registration) is None,
        calendar=calendar_links(registration, base_url()) if confirmed else None,
        # On the page itself a path is enough, whatever PUBLIC_BASE_URL says.
        join_url=join_link(registration, request.script_root) if confirmed and online else None,
    )


@bp.app_context_processor
def inject_personal_extras():
    return {"personal_extras": personal_extras}
