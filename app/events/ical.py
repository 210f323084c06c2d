"""Calendar files: the public entry for an event and each participant's invite.

The files follow RFC 5545 and the scheduling rules of RFC 5546 (iTIP):
PUBLISH for the public entry, REQUEST for an invite and its updates, CANCEL
when the registration or the event is cancelled. A participant's invite keeps
one UID for its whole life and its SEQUENCE only grows, so Outlook, Google,
Apple Calendar and Thunderbird replace the entry instead of adding a second one.

Times are written in UTC (``...Z``) rather than with a VTIMEZONE: every client
converts UTC correctly, while Outlook is known to mishandle zones without
daylight saving time, such as Asia/Ashgabat.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Conference, vCalAddress
from icalendar import Event as VEvent

from app.models import Event, EventStatus, Mode, Registration, RegistrationStatus, utcnow

PRODID = "-//HybridDesk//Hybrid events//EN"

#: Reminders before the start; Outlook keeps only the first VALARM, so the
#: order is chosen per mode (see ``_alarm_offsets``).
DAY_BEFORE = timedelta(days=1)
SHORTLY_BEFORE = timedelta(minutes=30)


class Method(enum.StrEnum):
    """The iTIP method, written both in the file and in the email's MIME type."""

    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


# --- links --------------------------------------------------------------------


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def personal_link(registration: Registration, base_url: str) -> str:
    """The participant's own page, /r/<token>."""
    return f"{_base(base_url)}/r/{registration.manage_token}"


def join_link(registration: Registration, base_url: str) -> str:
    """The personal join link of an online participant; it records the join."""
    return f"{personal_link(registration, base_url)}/join"


def badge_link(registration: Registration, base_url: str) -> str:
    """The printable badge of an in-person participant."""
    return f"{personal_link(registration, base_url)}/badge.pdf"


def event_link(event: Event, base_url: str) -> str:
    return f"{_base(base_url)}/events/{event.slug}"


def _domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "hybriddesk.local"


def registration_uid(registration: Registration, base_url: str) -> str:
    """A UID that stays the same for this registration, whatever changes.

    It is derived one-way from the manage token: unique without relying on
    database ids (which repeat after a restore), and it reveals no secret.
    """
    digest = hashlib.sha256(f"invite:{registration.manage_token}".encode()).hexdigest()[:32]
    return f"{digest}@{_domain(base_url)}"


def event_uid(event: Event, base_url: str) -> str:
    """The UID of the public calendar entry."""
    created = int(event.created_at.timestamp()) if event.created_at else 0
    return f"event-{event.id}-{created}@{_domain(base_url)}"


# --- text ---------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _utc_offset(event: Event) -> str:
    offset = event.local(event.starts_at).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def agenda_text(event: Event) -> str:
    """The agenda as plain lines, in the event's own time zone."""
    if not event.agenda_items:
        return ""
    several_days = event.local(event.starts_at).date() != event.local(event.ends_at).date()
    lines = [
        _("Agenda (times in %(zone)s, %(offset)s):", zone=event.timezone, offset=_utc_offset(event))
    ]
    for item in event.agenda_items:
        start, end = event.local(item.starts_at), event.local(item.ends_at)
        when = f"{start:%H:%M}–{end:%H:%M}"
        if several_days:
            when = f"{start:%Y-%m-%d} {when}"
        speakers = ", ".join(s.strip() for s in item.speakers.splitlines() if s.strip())
        lines.append(f"{when} {item.title}" + (f" ({speakers})" if speakers else ""))
    return "\n".join(lines)


def site_location(registration: Registration) -> str:
    site = registration.site
    if site is None:
        return ""
    return ", ".join(part for part in (site.name, site.address) if part)


def registration_location(registration: Registration, base_url: str) -> str:
    """Where this person takes part: the site's name and address, or their join link."""
    if registration.mode == Mode.ONLINE:
        return join_link(registration, base_url)
    return site_location(registration)


def _registration_description(registration: Registration, method: Method, base_url: str) -> str:
    event = registration.event
    parts: list[str] = []
    if method == Method.CANCEL:
        if event.status == EventStatus.CANCELLED:
            parts.append(_("This event has been cancelled."))
        else:
            parts.append(_("Your registration has been cancelled."))
    if event.description:
        parts.append(event.description.strip())
    if method != Method.CANCEL:
        agenda = agenda_text(event)
        if agenda:
            parts.append(agenda)
        if registration.mode == Mode.ONLINE:
            parts.append(_("Join online: %(url)s", url=join_link(registration, base_url)))
        else:
            parts.append(_("Where: %(place)s", place=site_location(registration)))
            parts.append(
                _(
                    "Your badge, to show at the entrance: %(url)s",
                    url=badge_link(registration, base_url),
                )
            )
    parts.append(
        _(
            "Your personal page, to view, change or cancel: %(url)s",
            url=personal_link(registration, base_url),
        )
    )
    return "\n\n".join(parts)


def _public_location(event: Event) -> str:
    places = [
        ", ".join(p for p in (es.site.name, es.site.address) if p) for es in event.event_sites
    ]
    if event.allows_online:
        places.append(_("Online"))
    return "; ".join(places)


def _public_description(event: Event, base_url: str) -> str:
    parts = []
    if event.description:
        parts.append(event.description.strip())
    agenda = agenda_text(event)
    if agenda:
        parts.append(agenda)
    parts.append(_("Details and registration: %(url)s", url=event_link(event, base_url)))
    return "\n\n".join(parts)


def _display_name(name: str) -> str:
    # Outlook shows RFC 6868 escapes (^') literally, so keep quotes out of CN.
    return " ".join(name.replace('"', "'").split())


def _organizer(event: Event, fallback_email: str, base_url: str) -> vCalAddress:
    email = event.organizer_email or fallback_email or f"no-reply@{_domain(base_url)}"
    name = _display_name(event.organizer_name)
    return vCalAddress.new(email, cn=name or None)


def _alarm_offsets(mode: Mode | None) -> tuple[timedelta, ...]:
    # Outlook honours only the first reminder: travellers to a site want the
    # day before, online participants the half hour before.
    if mode == Mode.ONLINE:
        return (SHORTLY_BEFORE, DAY_BEFORE)
    return (DAY_BEFORE, SHORTLY_BEFORE)


def _alarms(title: str, mode: Mode | None) -> list[Alarm]:
    alarms = []
    for offset in _alarm_offsets(mode):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Reminder: %(title)s", title=title))
        alarm.add("trigger", -offset)
        alarms.append(alarm)
    return alarms


def _vevent(
    event: Event,
    uid: str,
    sequence: int,
    description: str,
    location: str,
    now: datetime | None,
) -> VEvent:
    """The entry's identity, time and text, the same for the public file and an invite."""
    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("sequence", sequence)
    vevent.add("dtstamp", _utc(now or utcnow()))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", event.title)
    vevent.add("description", description)
    if location:
        vevent.add("location", location)
    return vevent


def _calendar(method: Method, vevent: VEvent) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", str(method))
    calendar.add_component(vevent)
    return calendar.to_ical()


# --- the files ----------------------------------------------------------------


def event_to_ical(event: Event, base_url: str, *, now: datetime | None = None) -> bytes:
    """The public calendar entry: METHOD:PUBLISH, with no participant's data."""
    vevent = _vevent(
        event,
        event_uid(event, base_url),
        event.ical_sequence,
        _public_description(event, base_url),
        _public_location(event),
        now,
    )
    vevent.add("url", event_link(event, base_url))
    vevent.add("organizer", _organizer(event, "", base_url))
    vevent.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if event.status != EventStatus.CANCELLED:
        for alarm in _alarms(event.title, None):
            vevent.add_component(alarm)
    return _calendar(Method.PUBLISH, vevent)


def invite_method(registration: Registration) -> Method | None:
    """REQUEST while the seat is confirmed, CANCEL once it or the event is cancelled.

    A waitlisted person has no invite yet (None); it comes with the seat.
    """
    if (
        registration.status == RegistrationStatus.CANCELLED
        or registration.event.status == EventStatus.CANCELLED
    ):
        return Method.CANCEL
    if registration.status == RegistrationStatus.CONFIRMED:
        return Method.REQUEST
    return None


def registration_to_ical(
    registration: Registration,
    method: Method | str,
    base_url: str,
    *,
    organizer_email: str = "",
    now: datetime | None = None,
) -> bytes:
    """One person's invite (REQUEST) or its withdrawal (CANCEL).

    ``organizer_email`` is used when the event names no organiser address.
    """
    method = Method(str(method).upper())
    if method == Method.PUBLISH:
        raise ValueError("a personal invite is REQUEST or CANCEL; use event_to_ical")
    event = registration.event
    vevent = _vevent(
        event,
        registration_uid(registration, base_url),
        registration.sequence,
        _registration_description(registration, method, base_url),
        registration_location(registration, base_url),
        now,
    )
    vevent.add("organizer", _organizer(event, organizer_email, base_url))
    vevent.add(
        "attendee",
        vCalAddress.new(
            registration.email,
            cn=_display_name(registration.name) or None,
            cutype="INDIVIDUAL",
            role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION",
            rsvp=True,
        ),
    )
    if method == Method.CANCEL:
        vevent.add("status", "CANCELLED")
    else:
        vevent.add("status", "CONFIRMED")
        vevent.add("transp", "OPAQUE")
        if registration.mode == Mode.ONLINE:
            link = join_link(registration, base_url)
            vevent.add("url", link)
            # One feature only: icalendar quotes a list, and a quoted
            # "AUDIO,VIDEO" would read as a single unknown feature.
            vevent.conferences = [Conference(link, feature="VIDEO", label=_("Join online"))]
        else:
            vevent.add("url", personal_link(registration, base_url))
        for alarm in _alarms(event.title, registration.mode):
            vevent.add_component(alarm)
    return _calendar(method, vevent)


# --- "add to calendar" links ------------------------------------------------


@dataclass(frozen=True)
class CalendarLinks:
    google: str
    outlook: str
    #: Outlook on the web for work or school (Microsoft 365) accounts.
    outlook_work: str


def calendar_links(registration: Registration, base_url: str) -> CalendarLinks:
    """Links that open Google Calendar or Outlook on the web with the event filled in.

    What they carry is read by Google or Microsoft, so they hold only what is public: the
    event's page and the place, never a personal link (/r/<token>...). The person's own
    links travel in the .ics file, which goes straight to their calendar.
    """
    event = registration.event
    start, end = _utc(event.starts_at), _utc(event.ends_at)
    lines = [_("Details: %(url)s", url=event_link(event, base_url))]
    if registration.mode == Mode.ONLINE:
        lines.append(_("Your personal join link is in your confirmation email."))
        location = _("Online")
    else:
        location = site_location(registration)
    details = "\n\n".join(lines)
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": event.title,
            "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
            "details": details,
            "location": location,
        }
    )
    outlook_query = urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": event.title,
            "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
            "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
            "body": details,
            "location": location,
        }
    )
    return CalendarLinks(
        google=google,
        outlook="https://outlook.live.com/calendar/0/deeplink/compose?" + outlook_query,
        outlook_work="https://outlook.office.com/calendar/0/deeplink/compose?" + outlook_query,
    )
