"""Who an organiser's message is for: filters over an event's registrations, as SQL.

A campaign keeps its filters, not a list of people: the worker evaluates them
again when the message goes out, so "did not attend" means what the check-ins
say at that moment. Attendance is derived from check-ins, as everywhere: a
live admission at a site, or a live online row (the join link or an imported
meeting report at or above its threshold).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from app import labels
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    Event,
    Mode,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    live_site_admission,
)


class Attendance(enum.StrEnum):
    """Whether a person took part, as a filter."""

    #: At a site or online.
    ATTENDED = "attended"
    CHECKED_IN = "checked_in"
    JOINED_ONLINE = "joined_online"
    ABSENT = "absent"


ATTENDANCE = {
    Attendance.ATTENDED: _l("Attended (at a site or online)"),
    Attendance.CHECKED_IN: _l("Checked in at a site"),
    Attendance.JOINED_ONLINE: _l("Joined online"),
    Attendance.ABSENT: _l("Did not attend"),
}

#: The check-in methods that count as taking part online.
ONLINE_METHODS = (CheckInMethod.ONLINE_JOIN, CheckInMethod.ONLINE_REPORT)


@dataclass(frozen=True)
class Audience:
    """The filters of a message; an empty filter lets everyone through."""

    #: Slugs of sites taking part in the event; any of them.
    sites: tuple[str, ...] = ()
    mode: Mode | None = None
    statuses: tuple[RegistrationStatus, ...] = field(default=(RegistrationStatus.CONFIRMED,))
    attendance: Attendance | None = None
    #: A preferred language (en, ru, tk).
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "sites": list(self.sites),
            "mode": self.mode.value if self.mode else None,
            "statuses": [status.value for status in self.statuses],
            "attendance": self.attendance.value if self.attendance else None,
            "language": self.language,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            sites=tuple(data.get("sites") or ()),
            mode=Mode(data["mode"]) if data.get("mode") else None,
            statuses=tuple(RegistrationStatus(s) for s in data.get("statuses") or ()),
            attendance=Attendance(data["attendance"]) if data.get("attendance") else None,
            language=data.get("language") or None,
        )


def checked_in_at_a_site() -> sa.ColumnElement[bool]:
    """True for a registration with a live admission at a site."""
    admission = aliased(CheckIn)
    return sa.exists().where(live_site_admission(admission))


def joined_online() -> sa.ColumnElement[bool]:
    """True for a registration with a live online join or meeting-report row."""
    joined = aliased(CheckIn)
    return sa.exists().where(
        joined.registration_id == Registration.id,
        joined.site_id.is_(None),
        joined.method.in_(ONLINE_METHODS),
        live_admission(joined),
    )


def _attendance_condition(attendance: Attendance) -> sa.ColumnElement[bool]:
    if attendance == Attendance.CHECKED_IN:
        return checked_in_at_a_site()
    if attendance == Attendance.JOINED_ONLINE:
        return joined_online()
    attended = sa.or_(checked_in_at_a_site(), joined_online())
    return attended if attendance == Attendance.ATTENDED else sa.not_(attended)


def audience_conditions(event_id: int, audience: Audience) -> list[sa.ColumnElement[bool]]:
    """The WHERE clause selecting an audience among an event's registrations."""
    conditions = [Registration.event_id == event_id, Registration.email != ""]
    if audience.sites:
        conditions.append(
            Registration.site_id.in_(sa.select(Site.id).where(Site.slug.in_(audience.sites)))
        )
    if audience.mode is not None:
        conditions.append(Registration.mode == audience.mode)
    if audience.statuses:
        conditions.append(Registration.status.in_(audience.statuses))
    if audience.attendance is not None:
        conditions.append(_attendance_condition(audience.attendance))
    if audience.language:
        conditions.append(Registration.language == audience.language)
    return conditions


def audience_query(event_id: int, audience: Audience) -> sa.Select:
    """The audience's registrations in id order, the order the worker writes them in."""
    return (
        sa.select(Registration)
        .where(*audience_conditions(event_id, audience))
        .order_by(Registration.id)
    )


def language_counts(event_id: int, audience: Audience) -> dict[str, int]:
    """How many people of the audience prefer each language, in one query."""
    rows = db.session.execute(
        sa.select(Registration.language, sa.func.count(Registration.id))
        .where(*audience_conditions(event_id, audience))
        .group_by(Registration.language)
    )
    return {language: number for language, number in rows}


def describe_audience(event: Event, audience: Audience) -> str:
    """The filters in words, for the list of sent messages."""
    names = {es.site.slug: es.site.name for es in event.event_sites}
    parts = []
    if audience.statuses:
        parts.append(", ".join(str(labels.REGISTRATION_STATUS[s]) for s in audience.statuses))
    if audience.sites:
        parts.append(", ".join(names.get(slug, slug) for slug in audience.sites))
    if audience.mode is not None:
        parts.append(str(labels.MODE[audience.mode]))
    if audience.attendance is not None:
        parts.append(str(ATTENDANCE[audience.attendance]))
    if audience.language:
        language = labels.LANGUAGE_NAMES.get(audience.language, audience.language)
        parts.append(_("preferred language: %(language)s", language=language))
    return " · ".join(parts) or _("Everyone")
