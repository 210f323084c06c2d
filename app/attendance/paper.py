"""Paper sign-in sheets, recorded afterwards: when nothing else worked at a site.

A coordinator ticks the rows that were signed on the printed sheet (the same
people, in the same order, with the same row codes) and types the walk-ins
written on its blank rows. Each becomes a check-in with the method ``paper``,
for the chosen day of the event, at that site, recorded by that coordinator,
under a fresh client_id, so it can be undone like any other.

The whole sheet is one change inside the caller's transaction: a refusal
anywhere (a row that is not on the sheet, a day outside the event, a site the
user does not serve, a walk-in who cannot be registered) leaves nothing written.
Someone admitted that day already (at any site) is reported, not admitted twice;
``INSERT ... ON CONFLICT DO NOTHING`` lets the partial unique index settle a
race with a scanner without failing the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from app.attendance.completion import event_days
from app.attendance.lists import SigninRow, signin_sections
from app.auth.access import can_access_site
from app.checkin.walk_ins import register_walk_in
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    Registration,
    RegistrationStatus,
    StaffUser,
    live_admission,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.registrations.services import RegistrationInput

#: What the check-ins recorded from a sheet show as their device.
PAPER_DEVICE = "paper sign-in sheet"


@dataclass
class PaperOutcome:
    """What recording one sheet did, by name."""

    admitted: list[str] = field(default_factory=list)
    #: Ticked, but admitted that day already (by a scanner, or an earlier sheet).
    already: list[str] = field(default_factory=list)
    #: Ticked, but cancelled or on the waiting list: not admitted.
    not_admitted: list[str] = field(default_factory=list)
    walk_ins: list[str] = field(default_factory=list)


def sheet_site(event: Event, site_slug: str, user: StaffUser) -> EventSite:
    """The event's site a sheet is for, if ``user`` may record it; else a refusal."""
    event_site = event.event_site(site_slug)
    if event_site is None:
        raise Refusal(Reason.UNKNOWN_SITE, _("This site does not take part in this event."), "site")
    if not can_access_site(user, event_site.site_id):
        raise Refusal(Reason.FORBIDDEN, _("You may not record sign-in sheets for this site."))
    return event_site


def sheet_rows(event: Event, event_site: EventSite) -> list[SigninRow]:
    """The printed sheet's rows for a site: the same people, order and row codes."""
    (section,) = signin_sections(event, {event_site.site_id})
    return section.rows


def admitted_on(event: Event, day: date, registration_ids: list[int]) -> set[int]:
    """Those of ``registration_ids`` with a live day admission at any site on ``day``."""
    if not registration_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(CheckIn.registration_id).where(
                CheckIn.event_id == event.id,
                CheckIn.registration_id.in_(registration_ids),
                CheckIn.day == day,
                CheckIn.site_id.is_not(None),
                CheckIn.session_id.is_(None),
                live_admission(),
            )
        )
    )


def paper_checkins(event: Event, event_site: EventSite) -> list[CheckIn]:
    """The check-ins recorded from paper at a site, undone ones too, newest first."""
    return list(
        db.session.scalars(
            sa.select(CheckIn)
            .join(Registration, Registration.id == CheckIn.registration_id)
            .where(
                CheckIn.event_id == event.id,
                CheckIn.site_id == event_site.site_id,
                CheckIn.method == CheckInMethod.PAPER,
                CheckIn.result == CheckInResult.ADMITTED,
            )
            .options(joinedload(CheckIn.registration), joinedload(CheckIn.staff_user))
            .order_by(CheckIn.day.desc(), CheckIn.received_at.desc(), CheckIn.id.desc())
        )
    )


def _checked_day(event: Event, day: date | None, now: datetime) -> date:
    if day is None or day not in event_days(event):
        raise Refusal(Reason.INVALID, _("Choose one of the event's days."), "day")
    if day > event.local_day(now):
        raise Refusal(Reason.INVALID, _("This day has not come yet."), "day")
    return day


def _moment_on(event: Event, day: date, now: datetime) -> datetime:
    """When a paper check-in is dated: the event's starting time on that day, not later
    than now. A sheet records that someone came, not when."""
    starts = datetime.combine(day, event.local(event.starts_at).time(), tzinfo=event.zone)
    return min(starts, now)


def _signed_ids(signed: list[str], rows: list[SigninRow]) -> list[int]:
    by_id = {str(row.registration_id): row.registration_id for row in rows}
    unknown = [value for value in signed if value not in by_id]
    if unknown:
        raise Refusal(
            Reason.INVALID,
            _("A ticked row is not on this site's sheet. Reload the page and tick the rows again."),
            "signed",
        )
    return list(dict.fromkeys(by_id[value] for value in signed))


def _insert_paper_checkins(values: list[dict]) -> set[int]:
    """Insert the admissions; the registration ids that a unique index did not refuse."""
    if not values:
        return set()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(CheckIn).values(values).on_conflict_do_nothing().returning(CheckIn.registration_id)
    )
    return set(db.session.scalars(statement))


def record_paper_sheet(
    event: Event,
    site_slug: str,
    day: date | None,
    signed: list[str],
    walk_ins: list[RegistrationInput],
    user: StaffUser,
    *,
    now: datetime | None = None,
) -> PaperOutcome:
    """Record one signed sheet: the ticked rows (registration ids, as sent) and the walk-ins.

    Raises Refusal, with nothing written, for a site the user may not record,
    a day outside the event (or still to come), a row not on this site's sheet,
    or a walk-in the registration rules refuse.
    """
    now = now or utcnow()
    event_site = sheet_site(event, site_slug, user)
    day = _checked_day(event, day, now)
    rows = sheet_rows(event, event_site)
    ids = _signed_ids(signed, rows)
    names = {row.registration_id: row.name for row in rows}
    codes = {row.registration_id: row.code for row in rows}
    moment = _moment_on(event, day, now)
    outcome = PaperOutcome()

    registrations = {
        r.id: r for r in db.session.scalars(sa.select(Registration).where(Registration.id.in_(ids)))
    }
    already = admitted_on(event, day, ids)
    to_admit = []
    for registration_id in ids:
        registration = registrations[registration_id]
        if registration_id in already:
            outcome.already.append(names[registration_id])
        elif registration.status != RegistrationStatus.CONFIRMED:
            outcome.not_admitted.append(names[registration_id])
        else:
            to_admit.append(registration)
    inserted = _insert_paper_checkins(
        [
            {
                "client_id": str(uuid.uuid4()),
                "event_id": event.id,
                "registration_id": registration.id,
                "site_id": event_site.site_id,
                "session_id": None,
                "day": day,
                "method": CheckInMethod.PAPER,
                "result": CheckInResult.ADMITTED,
                "forced": registration.site_id != event_site.site_id,
                "code": codes[registration.id],
                "scanned_at": moment,
                "received_at": now,
                "staff_user_id": user.id,
                "device": PAPER_DEVICE,
            }
            for registration in to_admit
        ]
    )
    for registration in to_admit:
        target = outcome.admitted if registration.id in inserted else outcome.already
        target.append(names[registration.id])

    for number, data in enumerate(walk_ins, start=1):
        outcome.walk_ins.append(_record_walk_in(event, event_site, data, user, moment, number, now))
    return outcome


def _record_walk_in(
    event: Event,
    event_site: EventSite,
    data: RegistrationInput,
    user: StaffUser,
    moment: datetime,
    number: int,
    now: datetime,
) -> str:
    """Register and admit one walk-in from the sheet's blank rows, as the door does."""
    try:
        walk_in = register_walk_in(
            event,
            event_site.site,
            data,
            user,
            str(uuid.uuid4()),
            scanned_at=moment,
            method=CheckInMethod.PAPER,
            device=PAPER_DEVICE,
            now=now,
        )
    except Refusal as refusal:
        message = _("Walk-in %(number)d: %(message)s", number=number, message=refusal.message)
        raise Refusal(refusal.reason, message) from None
    return walk_in.registration.name
