"""Check-in rules: who is admitted where, idempotent attempts, and undo.

Every attempt is kept as a row, admitted or refused with its reason, so the
organisers can see failed scans. A device-generated ``client_id`` (unique in
the database) makes a re-sent attempt harmless: it returns the first result
and writes nothing. The partial unique index ``uq_checkins_one_site_admission``
is the last word on double admissions: when two scanners admit the same person
at the same instant, the database keeps one and the other attempt is recorded
as ``already_checked_in``.

Rows are written with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: a
conflict returns no row instead of raising, so the caller's transaction stays
usable without the two extra round trips of a savepoint, and a check-in stays
within a handful of indexed statements.

A person is admitted once per day of the event (the day's admission at the
door), and once per session: an agenda item that counts attendance, whose
admission counts for the session's day and is not the day's admission.

Each function works inside the caller's transaction and leaves the commit to
the caller, so the check-in page and the JSON API share one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.access import can_access_site
from app.extensions import db
from app.models import (
    AgendaItem,
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    Mode,
    RefusalReason,
    Registration,
    RegistrationStatus,
    Site,
    StaffUser,
    live_admission,
    live_site_admission,
    utcnow,
)
from app.refusals import Reason, Refusal

#: A device clock may run a little ahead; anything further is a broken clock.
MAX_CLOCK_AHEAD = timedelta(minutes=10)
#: How far before the event (or before now, for early tests) a scan may be dated.
MAX_SCAN_AGE = timedelta(days=1)
#: Stored length of the raw scanned text (the column's size).
CODE_STORED_LENGTH = 128
#: Badge codes are 32 characters; anything longer cannot be one.
CODE_MAX_LENGTH = 64

#: The largest agenda item id a request may name (the column is a 32-bit integer).
MAX_SESSION_ID = 2**31 - 1

#: Methods a door scanner may record; online attendance is recorded elsewhere.
SITE_METHODS = (
    CheckInMethod.QR,
    CheckInMethod.SEARCH,
    CheckInMethod.WALK_IN,
    CheckInMethod.PAPER,
)


@dataclass
class CheckinOutcome:
    """What happened to one check-in attempt."""

    #: The row recorded for this attempt (the first one, when replayed).
    checkin: CheckIn
    #: The person behind the code; None for an unknown code.
    registration: Registration | None
    #: The live admission that made this attempt a duplicate: when, where and by whom.
    previous: CheckIn | None = None
    #: True when this client_id was recorded before; nothing new was written.
    replayed: bool = False

    @property
    def admitted(self) -> bool:
        return self.checkin.result == CheckInResult.ADMITTED

    @property
    def reason(self) -> RefusalReason | None:
        return self.checkin.reason


def normalize_code(code: str) -> str:
    """Badge codes are upper-case base32; people type them in any case, with spaces."""
    return "".join(code.split()).upper()


def check_scanned_at(event: Event, scanned_at: datetime, now: datetime) -> None:
    """Refuse a scan time from a broken clock; a late upload of an old scan is fine.

    A scan may be dated up to ten minutes ahead of the server's clock, and no
    earlier than a day before the event starts (or a day before now, so staff
    can rehearse at the door before the day).
    """
    if scanned_at.tzinfo is None:
        raise Refusal(Reason.INVALID, _("The scan time needs a time zone."), "scanned_at")
    if scanned_at > now + MAX_CLOCK_AHEAD:
        raise Refusal(
            Reason.INVALID,
            _("The scan time is in the future. Check the device's clock."),
            "scanned_at",
        )
    if scanned_at < min(event.starts_at, now) - MAX_SCAN_AGE:
        raise Refusal(
            Reason.INVALID,
            _("The scan time is too far in the past. Check the device's clock."),
            "scanned_at",
        )


# The statements on the check-in path are built once, with bound parameters:
# building aliased joins anew for every request costs more than the queries.
def registrations_with_arrival(arrival: type[CheckIn]) -> sa.Select:
    """Registrations with their site and their live admission on the bound ``day``,
    as the alias ``arrival``."""
    return (
        sa.select(Registration, arrival)
        .outerjoin(arrival, live_site_admission(arrival, sa.bindparam("day", type_=sa.Date)))
        .options(joinedload(Registration.site))
    )


_Arrival = aliased(CheckIn, name="arrival")

#: The admission's own site and staff member load only when shown (already checked in).
_REGISTRATION_WITH_ARRIVAL = (
    registrations_with_arrival(_Arrival)
    .where(Registration.badge_code == sa.bindparam("code"))
    .execution_options(populate_existing=True)
)


_SessionArrival = aliased(CheckIn, name="session_arrival")

#: The same for a session: the registration and its live admission to the bound ``session``.
_REGISTRATION_WITH_SESSION_ARRIVAL = (
    sa.select(Registration, _SessionArrival)
    .outerjoin(
        _SessionArrival,
        sa.and_(
            _SessionArrival.registration_id == Registration.id,
            _SessionArrival.session_id == sa.bindparam("session_id"),
            live_admission(_SessionArrival),
        ),
    )
    .options(joinedload(Registration.site))
    .where(Registration.badge_code == sa.bindparam("code"))
    .execution_options(populate_existing=True)
)


def _registration_with_arrival(
    code: str, day: date, session_id: int | None = None
) -> tuple[Registration | None, CheckIn | None]:
    """The registration behind a badge code and its live admission that day (or to that
    session), in one query."""
    if session_id is None:
        row = db.session.execute(_REGISTRATION_WITH_ARRIVAL, {"code": code, "day": day}).first()
    else:
        row = db.session.execute(
            _REGISTRATION_WITH_SESSION_ARRIVAL, {"code": code, "session_id": session_id}
        ).first()
    if row is None:
        return None, None
    return row[0], row[1]


def counted_session(event: Event, session_id: int) -> AgendaItem:
    """The event's agenda item ``session_id``, which must count attendance, or a refusal
    at the field ``session``."""
    item = None
    if 0 < session_id <= MAX_SESSION_ID:
        item = db.session.get(AgendaItem, session_id)
    if item is None or item.event_id != event.id:
        raise Refusal(Reason.INVALID, _("This event has no such session on its agenda."), "session")
    if not item.counts_attendance:
        raise Refusal(
            Reason.INVALID,
            _("Attendance is not counted for this agenda item; mark it in the agenda first."),
            "session",
        )
    return item


_CHECKIN_COLUMNS = [column.key for column in CheckIn.__table__.columns]
#: The columns a check-in attempt writes; the others keep their defaults.
_INSERTED = (
    "client_id",
    "event_id",
    "registration_id",
    "site_id",
    "session_id",
    "method",
    "result",
    "reason",
    "forced",
    "code",
    "scanned_at",
    "day",
    "received_at",
    "staff_user_id",
    "device",
)


def _build_insert() -> sa.TextClause:
    # Spelled out as text because the dialects' ON CONFLICT constructs are not
    # cacheable and would be compiled again on every check-in. PostgreSQL and
    # SQLite both read this statement; the typed parameters keep the column
    # types' conversions (aware UTC times, enum values).
    table = CheckIn.__table__
    names = ", ".join(_INSERTED)
    values = ", ".join(f":{name}" for name in _INSERTED)
    return (
        sa.text(
            f"INSERT INTO {table.name} ({names}) VALUES ({values}) "  # noqa: S608 (fixed names)
            "ON CONFLICT DO NOTHING RETURNING id"
        )
        .bindparams(*(sa.bindparam(name, type_=table.c[name].type) for name in _INSERTED))
        .columns(table.c.id)
    )


_INSERT_CHECKIN = _build_insert()


def _insert_unless_conflict(values: dict) -> CheckIn | None:
    """Insert one check-in; None when a unique constraint (client_id, admission) says no.

    A conflict returns no row instead of raising, so the caller's transaction
    stays usable. The row is handed back as a CheckIn outside the session, so
    nothing is loaded or flushed twice.
    """
    checkin_id = db.session.execute(_INSERT_CHECKIN, values).scalar()
    if checkin_id is None:
        return None
    return CheckIn(**{**dict.fromkeys(_CHECKIN_COLUMNS), **values, "id": checkin_id})


def _checkin_by_client_id(client_id: str) -> CheckIn | None:
    return db.session.scalar(
        sa.select(CheckIn)
        .where(CheckIn.client_id == client_id)
        .options(
            joinedload(CheckIn.registration).joinedload(Registration.site),
            joinedload(CheckIn.site),
            joinedload(CheckIn.session),
            joinedload(CheckIn.staff_user),
        )
    )


def replayed_outcome(event: Event, client_id: str, user: StaffUser) -> CheckinOutcome | None:
    """The first outcome recorded under this client_id, if any.

    Only for a check-in at this event and at a site ``user`` may act at; any
    other is refused as taken, without a word about whose it is.
    """
    first = _checkin_by_client_id(client_id)
    if first is None:
        return None
    if (
        first.event_id != event.id
        or first.site_id is None
        or not can_access_site(user, first.site_id)
    ):
        raise Refusal(
            Reason.TAKEN, _("This client_id was already used for something else."), "client_id"
        )
    previous = None
    if first.reason == RefusalReason.ALREADY_CHECKED_IN and first.registration_id is not None:
        _registration, previous = _registration_with_arrival(
            first.registration.badge_code, first.day, first.session_id
        )
    return CheckinOutcome(first, first.registration, previous=previous, replayed=True)


def _decide(
    event: Event,
    site: Site,
    registration: Registration | None,
    arrival: CheckIn | None,
    force: bool,
) -> tuple[CheckInResult, RefusalReason | None, bool]:
    """The result of presenting this registration at this site: (result, reason, forced)."""
    if registration is None or registration.event_id != event.id:
        return CheckInResult.REFUSED, RefusalReason.UNKNOWN_CODE, False
    if arrival is not None:
        return CheckInResult.REFUSED, RefusalReason.ALREADY_CHECKED_IN, False
    if registration.status != RegistrationStatus.CONFIRMED:
        return CheckInResult.REFUSED, RefusalReason.NOT_ADMITTED, False
    elsewhere = registration.mode == Mode.ONLINE or registration.site_id != site.id
    if elsewhere and not force:
        return CheckInResult.REFUSED, RefusalReason.WRONG_SITE, False
    return CheckInResult.ADMITTED, None, elsewhere


def admit_checkin(
    event: Event,
    site: Site,
    code: str,
    client_id: str,
    user: StaffUser,
    *,
    scanned_at: datetime | None = None,
    force: bool = False,
    method: CheckInMethod = CheckInMethod.QR,
    device: str = "",
    session: AgendaItem | None = None,
    now: datetime | None = None,
) -> CheckinOutcome:
    """Record one attempt to admit the holder of ``code`` at ``site``, and say what happened.

    Without ``session`` this is the day's admission, for the event's local day
    of the scan; with one (from ``counted_session``), the admission to that
    session, for the session's day. Refused attempts (unknown code, already
    checked in, another site, not admitted) are recorded too. ``force`` admits
    a person registered for another site (or online) here. A ``client_id`` seen
    before returns the first outcome and writes nothing. Raises Refusal when the
    user may not act at this site or the request itself is unusable.
    """
    now = now or utcnow()
    scanned_at = scanned_at or now
    if method not in SITE_METHODS:
        raise Refusal(Reason.INVALID, _("This check-in method is not used at a site."), "method")
    if not can_access_site(user, site.id):
        raise Refusal(Reason.FORBIDDEN, _("You may not check people in at this site."))
    check_scanned_at(event, scanned_at, now)
    scanned_text = code.strip()[:CODE_STORED_LENGTH]
    code = normalize_code(code)
    if not code:
        raise Refusal(Reason.INVALID, _("The code is empty."))

    # A conflict on insert means this client_id was recorded before (answer
    # as then), or another scanner admitted this person between our read and
    # our write: read again, and this attempt becomes already_checked_in.
    session_id = session.id if session is not None else None
    day = event.local_day(session.starts_at if session is not None else scanned_at)
    for _attempt in range(3):
        if len(code) > CODE_MAX_LENGTH:
            registration, arrival = None, None
        else:
            registration, arrival = _registration_with_arrival(code, day, session_id)
        result, reason, forced = _decide(event, site, registration, arrival, force)
        known = registration if reason != RefusalReason.UNKNOWN_CODE else None
        checkin = _insert_unless_conflict(
            {
                "client_id": client_id,
                "event_id": event.id,
                "registration_id": known.id if known else None,
                "site_id": site.id,
                "session_id": session_id,
                "method": method,
                "result": result,
                "reason": reason,
                "forced": forced,
                "code": scanned_text,
                "scanned_at": scanned_at,
                "day": day,
                "received_at": now,
                "staff_user_id": user.id,
                "device": device[:200],
            }
        )
        if checkin is not None:
            # Give the new row its relations without a query; it stays outside the session.
            set_committed_value(checkin, "site", site)
            set_committed_value(checkin, "session", session)
            set_committed_value(checkin, "staff_user", user)
            set_committed_value(checkin, "registration", known)
            return CheckinOutcome(checkin, known, previous=arrival)
        replayed = replayed_outcome(event, client_id, user)
        if replayed is not None:
            return replayed
    raise RuntimeError("check-in kept conflicting; the unique indexes disagree with the reads")


def undo_checkin(
    event: Event, client_id: str, user: StaffUser, *, now: datetime | None = None
) -> CheckIn:
    """Annul an admission, keeping it on record; undoing twice changes nothing more.

    Raises Refusal: 404 for no such check-in at this event's sites, 403
    for a site the user may not act on, 409 for a refused attempt.
    """
    checkin = _checkin_by_client_id(client_id)
    if checkin is None or checkin.event_id != event.id or checkin.site_id is None:
        raise Refusal(Reason.NOT_FOUND, _("There is no such check-in."))
    if not can_access_site(user, checkin.site_id):
        raise Refusal(Reason.FORBIDDEN, _("You may not check people in at this site."))
    if checkin.result != CheckInResult.ADMITTED:
        raise Refusal(Reason.NOTHING_TO_UNDO, _("This attempt admitted nobody."))
    if checkin.annulled_at is None:
        checkin.annulled_at = now or utcnow()
        checkin.annulled_by_id = user.id
    return checkin
