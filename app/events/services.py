"""Events and their agenda: queries the pages and the API share, and the organiser's changes.

Each change works inside the caller's transaction and leaves the commit to
the caller. A change the rules refuse raises ``Refusal`` before anything is
written. A new time, place or a cancellation is announced with
``event_changed``, so that everyone's invite follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.extensions import db
from app.models import (
    AgendaItem,
    CheckIn,
    CompletionRule,
    Event,
    EventFormat,
    EventSite,
    EventStatus,
    MessageKind,
    Reminder,
    StaffUser,
    utcnow,
)
from app.privacy.services import MAX_RETENTION_DAYS
from app.refusals import Reason, Refusal
from app.signals import event_changed
from app.slugs import add_with_new_slug
from app.timezones import is_valid_timezone, keep_if_same_minute, local_to_utc, utc_to_local

#: Changing these means every calendar must follow.
CALENDAR_FIELDS = ("starts_at", "ends_at", "timezone", "meeting_url", "title", "format")


def upcoming_events() -> list[Event]:
    """Published events that have not ended, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > utcnow())
            .order_by(Event.starts_at)
        )
    )


def events_for_staff(user: StaffUser) -> list[Event]:
    """Events this user works on: all of them for organisers, else those at their sites."""
    query = sa.select(Event).order_by(Event.starts_at.desc(), Event.id)
    if not user.sees_all_sites:
        query = query.where(
            sa.exists().where(
                EventSite.event_id == Event.id,
                EventSite.site_id.in_([site.id for site in user.sites]),
            )
        )
    return list(db.session.scalars(query))


def _local_moments(
    zone: ZoneInfo, zone_name: str, locals_: dict[str, datetime | None]
) -> tuple[dict[str, datetime | None], dict[str | None, str]]:
    """Wall-clock times as UTC moments, and a field error for each that does not exist."""
    moments: dict[str, datetime | None] = {}
    errors: dict[str | None, str] = {}
    for field, local in locals_.items():
        try:
            moments[field] = local_to_utc(local, zone) if local is not None else None
        except ValueError:
            errors[field] = _(
                "This time does not exist in %(zone)s (the clocks jump).", zone=zone_name
            )
    return moments, errors


# --- events ------------------------------------------------------------------------


@dataclass
class EventInput:
    """An event as the organiser types it: times are wall-clock times in ``timezone``."""

    title: str
    timezone: str
    starts_local: datetime
    ends_local: datetime
    format: EventFormat
    status: EventStatus
    description: str = ""
    meeting_url: str = ""
    opens_local: datetime | None = None
    closes_local: datetime | None = None
    organizer_name: str = ""
    organizer_email: str = ""
    #: Days after the end when participants' details are anonymised; None or 0: kept.
    personal_data_retention_days: int | None = None
    #: Who completed the event, for certificates; the percent is for a share of sessions.
    completion_rule: CompletionRule = CompletionRule.ANY_DAY
    completion_percent: int = 80


def event_fields(data: EventInput) -> dict:
    """Validate an event's input and return the stored values, times in UTC."""
    if not is_valid_timezone(data.timezone):
        raise Refusal(
            Reason.INVALID,
            _("Unknown time zone. Use an IANA name like Asia/Ashgabat."),
            "timezone",
        )
    moments, errors = _local_moments(
        ZoneInfo(data.timezone),
        data.timezone,
        {
            "starts_at": data.starts_local,
            "ends_at": data.ends_local,
            "registration_opens_at": data.opens_local,
            "registration_closes_at": data.closes_local,
        },
    )
    starts, ends = moments.get("starts_at"), moments.get("ends_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must be after the start.")
    opens, closes = moments.get("registration_opens_at"), moments.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    retention = data.personal_data_retention_days
    if retention is not None and not 0 <= retention <= MAX_RETENTION_DAYS:
        errors["personal_data_retention_days"] = _(
            "Enter a number of days from 0 to %(max)d, or leave it empty.", max=MAX_RETENTION_DAYS
        )
    if not isinstance(data.completion_percent, int) or not 1 <= data.completion_percent <= 100:
        errors["completion_percent"] = _("Enter a share from 1 to 100 %.")
    if errors:
        raise Refusal.of_fields(errors)
    return {
        "title": data.title.strip(),
        "description": data.description.strip(),
        "timezone": data.timezone,
        "format": data.format,
        "meeting_url": data.meeting_url.strip(),
        "status": data.status,
        "organizer_name": data.organizer_name.strip(),
        "organizer_email": data.organizer_email.strip().lower(),
        # 0 and empty mean the same: kept until anonymised by hand.
        "personal_data_retention_days": retention or None,
        "completion_rule": data.completion_rule,
        "completion_percent": data.completion_percent,
        **moments,
    }


def create_event(slug: str, data: EventInput) -> Event:
    """Create an event with its default reminders; nobody is registered yet to notify."""
    event = Event(slug=slug.strip(), **event_fields(data))
    add_with_new_slug(event)
    db.session.add_all(Reminder.defaults_for(event))
    return event


def update_event(event: Event, data: EventInput, *, move_agenda: bool = False) -> bool:
    """Change an event; a new time, place or a cancellation sends updated invites.

    With ``move_agenda`` every agenda item moves as far as the start, within the
    same change, so participants hear of it once. New times that would leave
    agenda items outside the event are refused. Returns True when participants
    were notified.
    """
    fields = event_fields(data)
    for field in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        fields[field] = keep_if_same_minute(getattr(event, field), fields[field])
    for item, (starts, ends) in _agenda_times_after(event, fields, move_agenda).items():
        item.starts_at, item.ends_at = starts, ends
    return apply_event_changes(event, fields)


def _agenda_times_after(
    event: Event, fields: dict, move_agenda: bool
) -> dict[AgendaItem, tuple[datetime, datetime]]:
    """Each agenda item's times once the event has the new ``fields``, moved along if asked.

    A moved item keeps its wall-clock distance from the start in the event's
    zone, so a talk at 14:00 is still at 14:00 after a daylight-saving change.
    Refuses when items that fit the event now would fall outside it.
    """
    old_zone, new_zone = event.zone, ZoneInfo(fields["timezone"])
    shift = utc_to_local(fields["starts_at"], new_zone) - utc_to_local(event.starts_at, old_zone)
    moving = move_agenda and (bool(shift) or event.timezone != fields["timezone"])
    times: dict[AgendaItem, tuple[datetime, datetime]] = {}
    for item in event.agenda_items:
        if not moving:
            times[item] = (item.starts_at, item.ends_at)
            continue
        try:
            times[item] = (
                local_to_utc(utc_to_local(item.starts_at, old_zone) + shift, new_zone),
                local_to_utc(utc_to_local(item.ends_at, old_zone) + shift, new_zone),
            )
        except ValueError:
            raise Refusal(
                Reason.CONFLICT,
                _(
                    "Moved with the event, “%(title)s” would be at a time that does not exist "
                    "in %(zone)s (the clocks jump). Change it on the agenda page first.",
                    title=item.title,
                    zone=fields["timezone"],
                ),
                "starts_at",
            ) from None

    pushed_out = [
        item
        for item, moved in times.items()
        if _fits((item.starts_at, item.ends_at), event.starts_at, event.ends_at)
        and not _fits(moved, fields["starts_at"], fields["ends_at"])
    ]
    if not pushed_out:
        return times
    if fields["starts_at"] != event.starts_at and not move_agenda:
        message = ngettext(
            "%(num)d agenda item would fall outside the event's new times. Tick “Move the "
            "agenda with the event” to move it along, or change it on the agenda page first.",
            "%(num)d agenda items would fall outside the event's new times. Tick “Move the "
            "agenda with the event” to move them along, or change them on the agenda page "
            "first.",
            len(pushed_out),
        )
        raise Refusal(Reason.CONFLICT, message, "starts_at")
    message = ngettext(
        "%(num)d agenda item would fall outside the event's new times. "
        "Change it on the agenda page first.",
        "%(num)d agenda items would fall outside the event's new times. "
        "Change them on the agenda page first.",
        len(pushed_out),
    )
    raise Refusal(Reason.CONFLICT, message, "ends_at")


def apply_event_changes(event: Event, changes: dict) -> bool:
    """Set fields on an event; when time or place changed, announce it to participants.

    Returns True when participants are told. People who cancelled hear
    nothing; a change that sets the same values sends nothing.
    """
    changed = {field for field, value in changes.items() if getattr(event, field) != value}
    for field in changed:
        setattr(event, field, changes[field])
    cancelled_now = "status" in changed and event.status == EventStatus.CANCELLED
    if not (changed & set(CALENDAR_FIELDS)) and not cancelled_now:
        return False
    event.ical_sequence += 1
    if event.status == EventStatus.DRAFT:
        return False
    kind = (
        MessageKind.EVENT_CANCELLED
        if event.status == EventStatus.CANCELLED
        else MessageKind.UPDATED
    )
    event_changed.send(event, kind=kind)
    return True


# --- agenda ------------------------------------------------------------------------


@dataclass
class AgendaInput:
    title: str
    starts_local: datetime
    ends_local: datetime
    speakers: str = ""
    #: A session whose attendance is taken: at the door of the check-in page, and online
    #: from the meeting report.
    counts_attendance: bool = False


#: What participants' invites show of an agenda item; whether attendance is counted is not.
INVITE_FIELDS = ("title", "speakers", "starts_at", "ends_at")


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _within(moment: datetime, starts: datetime, ends: datetime) -> bool:
    """Whether a moment lies from ``starts`` to ``ends``, to the minute a form shows."""
    return _to_minute(starts) <= _to_minute(moment) <= _to_minute(ends)


def _fits(item_times: tuple[datetime, datetime], starts: datetime, ends: datetime) -> bool:
    """Whether an agenda item's start and end both lie within an event's times."""
    return all(_within(moment, starts, ends) for moment in item_times)


def _agenda_fields(event: Event, data: AgendaInput) -> dict:
    moments, errors = _local_moments(
        event.zone, event.timezone, {"starts_at": data.starts_local, "ends_at": data.ends_local}
    )
    if len(moments) == 2 and moments["ends_at"] <= moments["starts_at"]:
        errors["ends_at"] = _("The end must be after the start.")
    outside = _(
        "Agenda items must be within the event: from %(start)s to %(end)s.",
        start=_local_text(event.starts_at, event.zone),
        end=_local_text(event.ends_at, event.zone),
    )
    for field, moment in moments.items():
        if field not in errors and not _within(moment, event.starts_at, event.ends_at):
            errors[field] = outside
    if errors:
        raise Refusal.of_fields(errors)
    speakers = "\n".join(line.strip() for line in data.speakers.splitlines() if line.strip())
    return {
        "title": data.title.strip(),
        "speakers": speakers,
        "counts_attendance": bool(data.counts_attendance),
        **moments,
    }


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the organiser's forms show it, e.g. 2031-03-10 10:00."""
    return utc_to_local(moment, zone).strftime("%Y-%m-%d %H:%M")


def _agenda_changed(event: Event) -> None:
    """Invites carry the agenda: a published event's participants get the new one."""
    db.session.flush()
    # Read the agenda again, in order and without a deleted item, for the invites.
    db.session.expire(event, ["agenda_items"])
    event.ical_sequence += 1
    if event.status == EventStatus.PUBLISHED:
        event_changed.send(event, kind=MessageKind.UPDATED)


def add_agenda_item(event: Event, data: AgendaInput) -> AgendaItem:
    """Add a talk or session to an event's agenda; everyone's invite follows."""
    item = AgendaItem(**_agenda_fields(event, data))
    event.agenda_items.append(item)
    _agenda_changed(event)
    return item


def update_agenda_item(item: AgendaItem, data: AgendaInput) -> AgendaItem:
    """Change an agenda item's title, speakers, times or whether attendance is counted;
    a change participants see updates invites."""
    fields = _agenda_fields(item.event, data)
    for field in ("starts_at", "ends_at"):
        fields[field] = keep_if_same_minute(getattr(item, field), fields[field])
    changed = {field for field, value in fields.items() if getattr(item, field) != value}
    for field in changed:
        setattr(item, field, fields[field])
    if changed & set(INVITE_FIELDS):
        _agenda_changed(item.event)
    return item


def delete_agenda_item(item: AgendaItem) -> str:
    """Remove an agenda item, and update everyone's invite; returns its title.

    A session people were checked in to stays, since the check-ins are evidence.
    """
    checked_in = db.session.scalar(sa.select(sa.exists().where(CheckIn.session_id == item.id)))
    if checked_in:
        raise Refusal(
            Reason.CONFLICT,
            _(
                "People were checked in to “%(title)s”, so it stays on the agenda. Untick "
                "“Attendance counted” to stop counting it.",
                title=item.title,
            ),
        )
    title, event = item.title, item.event
    db.session.delete(item)
    _agenda_changed(event)
    return title
