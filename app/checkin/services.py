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
usable without the two extra round trips of a savepoint. A scanner's check-in
is two indexed statements: one read of the caller, the event, its site and the
badge with its admissions (``find_door``), and the insert. They read plain rows,
not ORM entities: on this path loading entities would cost more than the queries.

A person is admitted once per day of the event (the day's admission at the
door), and once per session: an agenda item that counts attendance, whose
admission counts for the session's day and is not the day's admission.

Each function works inside the caller's transaction and leaves the commit to
the caller, so the check-in page and the JSON API share one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import instance_dict

from app.auth.access import can_access_site
from app.extensions import db
from app.models import (
    AgendaItem,
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    Mode,
    RefusalReason,
    Registration,
    RegistrationStatus,
    Site,
    StaffUser,
    live_admission,
    live_site_admission,
    staff_sites,
    utcnow,
)
from app.refusals import Reason, Refusal

T = TypeVar("T")

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
    #: The person behind the code; None for an unknown code. For a new attempt it holds what
    #: the rules and the answers use (name, organisation, position, mode, site, status)
    #: and is outside the session: load the Registration for anything else.
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


# --- the door and the badge: one statement before the insert ------------------------------

# A scanner's check-in reads everything it decides on in one statement: the caller
# (a token's user, or a signed-in staff member), the event, its site and whether
# the user serves it, the agenda item asked for, and the registration behind the
# code with its live admissions. Then comes the insert. The statements are built
# once, with bound parameters: building them for every request costs more than
# running them.

_NamedSite = aliased(Site, name="named_site")
_PersonSite = aliased(Site, name="person_site")
_Arrival = aliased(CheckIn, name="arrival")

#: What the rules and the answer use of a registration, its site, and its admissions.
_PERSON_COLUMNS = (
    Registration.id.label("person_id"),
    Registration.event_id.label("person_event_id"),
    Registration.name.label("person_name"),
    Registration.organization.label("person_organization"),
    Registration.position.label("person_position"),
    Registration.mode.label("person_mode"),
    Registration.site_id.label("person_site_id"),
    Registration.status.label("person_status"),
    _PersonSite.slug.label("person_site_slug"),
    _PersonSite.name.label("person_site_name"),
    _Arrival.id.label("arrival_id"),
    _Arrival.day.label("arrival_day"),
)


def _with_admissions(statement: sa.Select, *, with_session: bool) -> sa.Select:
    """``statement`` (which has ``registrations``) joined to the registration's site and
    its live admissions: at a site, one a day at most; to the bound ``session_id``, one."""
    if with_session:
        admitted = sa.and_(
            _Arrival.registration_id == Registration.id,
            _Arrival.session_id == sa.bindparam("session_id"),
            live_admission(_Arrival),
        )
    else:
        admitted = live_site_admission(_Arrival)
    return statement.outerjoin(_PersonSite, _PersonSite.id == Registration.site_id).outerjoin(
        _Arrival, admitted
    )


def door_statement(
    callers: sa.FromClause, condition: sa.ColumnElement[bool], *, with_session: bool = False
) -> sa.Select:
    """The rows for the caller that ``condition`` picks out of ``callers`` (a join that
    has ``staff_users``): the event by the bound ``slug``, its site by the bound
    ``site_slug`` and whether the user serves it, and the registration by the bound
    ``code`` with one row for each of its live admissions at a site; with
    ``with_session``, the event's agenda item by the bound ``session_id`` and the
    admission to it instead. Read them with ``find_door``."""
    named_site_id = (
        sa.select(_NamedSite.id)
        .where(_NamedSite.slug == sa.bindparam("site_slug"))
        .scalar_subquery()
    )
    serves_site = sa.exists().where(
        staff_sites.c.staff_user_id == StaffUser.id, staff_sites.c.site_id == Site.id
    )
    columns = [
        StaffUser.id.label("user_id"),
        StaffUser.email.label("user_email"),
        StaffUser.name.label("user_name"),
        StaffUser.role.label("user_role"),
        Event.id.label("event_id"),
        Event.starts_at.label("event_starts_at"),
        Event.timezone.label("event_timezone"),
        Site.id.label("site_id"),
        Site.slug.label("site_slug"),
        Site.name.label("site_name"),
        serves_site.label("serves_site"),
        *_PERSON_COLUMNS,
    ]
    statement = (
        sa.select(*columns)
        .select_from(callers)
        .outerjoin(Event, Event.slug == sa.bindparam("slug"))
        .outerjoin(
            EventSite, sa.and_(EventSite.event_id == Event.id, EventSite.site_id == named_site_id)
        )
        .outerjoin(Site, Site.id == EventSite.site_id)
    )
    if with_session:
        statement = statement.add_columns(
            AgendaItem.id.label("session_id"),
            AgendaItem.starts_at.label("session_starts_at"),
            AgendaItem.counts_attendance.label("session_counts_attendance"),
        ).outerjoin(
            AgendaItem,
            sa.and_(AgendaItem.id == sa.bindparam("session_id"), AgendaItem.event_id == Event.id),
        )
    statement = statement.outerjoin(Registration, Registration.badge_code == sa.bindparam("code"))
    return _with_admissions(statement, with_session=with_session).where(condition)


def _detached(model: type[T], values: dict) -> T:
    """An instance of ``model`` holding exactly ``values``, as loaded, outside any session.

    No constructor runs, so no defaults or validators either: the instance says what
    the database said. An attribute not given reads as None.
    """
    instance = model.__mapper__.class_manager.new_instance()
    # What the ORM's own loading does: a new instance's loaded values are its dict.
    instance_dict(instance).update(values)
    return instance


@dataclass(frozen=True)
class Badge:
    """The registration behind a badge code and its live admissions, as read at one moment.

    ``registration`` (None for an unknown code) holds what the rules and the answer
    use, with its site, and is outside the session.
    """

    #: The code as normalised (``normalize_code``).
    code: str
    #: The agenda item whose admission was read; None: the admissions at a site.
    session_id: int | None
    registration: Registration | None
    #: The id of each live admission by its day.
    admissions: dict[date, int]

    def admission_on(self, day: date) -> int | None:
        """The id of the live admission that counts for ``day`` (to the session, if any)."""
        if self.session_id is not None:
            return next(iter(self.admissions.values()), None)
        return self.admissions.get(day)


def _badge(code: str, session_id: int | None, rows: list) -> Badge:
    """The badge that a statement with ``_PERSON_COLUMNS`` found, from all its rows."""
    first = rows[0] if rows else None
    if first is None or first["person_id"] is None:
        return Badge(code, session_id, None, {})
    site = None
    if first["person_site_id"] is not None:
        site = _detached(
            Site,
            {
                "id": first["person_site_id"],
                "slug": first["person_site_slug"],
                "name": first["person_site_name"],
            },
        )
    registration = _detached(
        Registration,
        {
            "id": first["person_id"],
            "event_id": first["person_event_id"],
            "name": first["person_name"],
            "organization": first["person_organization"],
            "position": first["person_position"],
            "mode": first["person_mode"],
            "site_id": first["person_site_id"],
            "status": first["person_status"],
            "site": site,
        },
    )
    admissions = {row["arrival_day"]: row["arrival_id"] for row in rows if row["arrival_id"]}
    return Badge(code, session_id, registration, admissions)


_BADGE = _with_admissions(
    sa.select(*_PERSON_COLUMNS).select_from(Registration), with_session=False
).where(Registration.badge_code == sa.bindparam("code"))
_SESSION_BADGE = _with_admissions(
    sa.select(*_PERSON_COLUMNS).select_from(Registration), with_session=True
).where(Registration.badge_code == sa.bindparam("code"))


def read_badge(connection: sa.Connection, code: str, session_id: int | None = None) -> Badge:
    """The registration behind a (normalised) badge code and its live admissions at a
    site, or to the agenda item ``session_id``, in one query."""
    if len(code) > CODE_MAX_LENGTH:
        return Badge(code, session_id, None, {})
    statement = _BADGE if session_id is None else _SESSION_BADGE
    rows = connection.execute(statement, {"code": code, "session_id": session_id}).mappings()
    return _badge(code, session_id, rows.all())


@dataclass(frozen=True)
class Door:
    """Where check-ins are recorded and by whom: an event's site and a staff member.

    ``event`` is None for an unknown event, ``site`` None for a site that does not
    take part in it. The objects found by ``find_door`` hold the columns a check-in
    uses and are outside the session.
    """

    user: StaffUser
    event: Event | None
    site: Site | None
    #: Whether ``user`` may check people in at ``site``.
    may_act: bool
    #: The agenda item asked for (``door_statement(with_session=True)``), if the event has it.
    session: AgendaItem | None = None
    #: The code presented, as read with the door; a check-in then needs no read of its own.
    badge: Badge | None = None


def door_params(
    slug: str, site_slug: str, session_id: int | None = None, code: str | None = None
) -> dict:
    """The bound parameters of a door statement; ``code`` as sent."""
    if session_id is not None and not 0 < session_id <= MAX_SESSION_ID:
        session_id = 0  # no agenda item has it, and the database's integer can hold it
    code = normalize_code(code or "")
    if len(code) > CODE_MAX_LENGTH:
        code = ""  # no badge has it
    return {"slug": slug, "site_slug": site_slug, "session_id": session_id, "code": code}


def find_door(statement: sa.Select, params: dict, *, user: StaffUser | None = None) -> Door | None:
    """Run a door statement: None when it finds no caller.

    ``user``, when the caller is loaded already, stands for them in the door.
    """
    rows = db.session.connection().execute(statement, params).mappings().all()
    if not rows:
        return None
    row = rows[0]
    if user is None:
        user = _detached(
            StaffUser,
            {
                "id": row["user_id"],
                "email": row["user_email"],
                "name": row["user_name"],
                "role": row["user_role"],
                "is_active_user": True,
            },
        )
    event = site = session = None
    if row["event_id"] is not None:
        event = _detached(
            Event,
            {
                "id": row["event_id"],
                "slug": params["slug"],
                "starts_at": row["event_starts_at"],
                "timezone": row["event_timezone"],
            },
        )
    if row["site_id"] is not None:
        site = _detached(
            Site, {"id": row["site_id"], "slug": row["site_slug"], "name": row["site_name"]}
        )
    if row.get("session_id") is not None:
        session = _detached(
            AgendaItem,
            {
                "id": row["session_id"],
                "event_id": row["event_id"],
                "starts_at": row["session_starts_at"],
                "counts_attendance": row["session_counts_attendance"],
            },
        )
    may_act = site is not None and (user.sees_all_sites or bool(row["serves_site"]))
    badge = _badge(params["code"], params["session_id"], rows) if params["code"] else None
    return Door(user, event, site, may_act, session, badge)


_USER_DOOR = door_statement(StaffUser.__table__, StaffUser.id == sa.bindparam("user_id"))
_USER_DOOR_WITH_SESSION = door_statement(
    StaffUser.__table__, StaffUser.id == sa.bindparam("user_id"), with_session=True
)


def door_for_user(
    user: StaffUser,
    slug: str,
    site_slug: str,
    session_id: int | None = None,
    code: str | None = None,
) -> Door:
    """The door of a staff member already known (signed in), in one query."""
    statement = _USER_DOOR if session_id is None else _USER_DOOR_WITH_SESSION
    params = {**door_params(slug, site_slug, session_id, code), "user_id": user.id}
    door = find_door(statement, params, user=user)
    if door is None:  # the account was removed meanwhile: nowhere to act
        return Door(user, None, None, False)
    return door


def _counted(event: Event, item: AgendaItem | None) -> AgendaItem:
    if item is None or item.event_id != event.id:
        raise Refusal(Reason.INVALID, _("This event has no such session on its agenda."), "session")
    if not item.counts_attendance:
        raise Refusal(
            Reason.INVALID,
            _("Attendance is not counted for this agenda item; mark it in the agenda first."),
            "session",
        )
    return item


def counted_session(event: Event, session_id: int) -> AgendaItem:
    """The event's agenda item ``session_id``, which must count attendance, or a refusal
    at the field ``session``."""
    item = None
    if 0 < session_id <= MAX_SESSION_ID:
        item = db.session.get(AgendaItem, session_id)
    return _counted(event, item)


def counted_session_at(door: Door) -> AgendaItem:
    """The agenda item a door statement found, which must count attendance, or a refusal
    at the field ``session``."""
    return _counted(door.event, door.session)


# --- the registration's admissions, and the insert ----------------------------------------


def registrations_with_arrival(arrival: type[CheckIn]) -> sa.Select:
    """Registrations with their site and their live admission on the bound ``day``,
    as the alias ``arrival``."""
    return (
        sa.select(Registration, arrival)
        .outerjoin(arrival, live_site_admission(arrival, sa.bindparam("day", type_=sa.Date)))
        .options(joinedload(Registration.site))
    )


def _admission(checkin_id: int) -> CheckIn:
    """A recorded admission with where and by whom, as an answer shows it."""
    return db.session.get(
        CheckIn,
        checkin_id,
        options=[joinedload(CheckIn.site), joinedload(CheckIn.staff_user)],
        populate_existing=True,
    )


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
#: What a new row holds in the columns the insert leaves out (all nullable, none set yet).
_UNWRITTEN = dict.fromkeys(
    column.key for column in CheckIn.__table__.columns if column.key not in _INSERTED
)


def _insert_unless_conflict(connection: sa.Connection, values: dict) -> int | None:
    """Insert one check-in and return its id; None when a unique constraint (client_id,
    admission) says no.

    A conflict returns no row instead of raising, so the caller's transaction
    stays usable.
    """
    return connection.execute(_INSERT_CHECKIN, values).scalar()


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
        badge = read_badge(db.session.connection(), first.registration.badge_code, first.session_id)
        arrival_id = badge.admission_on(first.day)
        if arrival_id is not None:
            previous = _admission(arrival_id)
    return CheckinOutcome(first, first.registration, previous=previous, replayed=True)


def _decide(
    event: Event,
    site: Site,
    registration: Registration | None,
    arrived: bool,
    force: bool,
) -> tuple[CheckInResult, RefusalReason | None, bool]:
    """The result of presenting this registration at this site: (result, reason, forced)."""
    if registration is None or registration.event_id != event.id:
        return CheckInResult.REFUSED, RefusalReason.UNKNOWN_CODE, False
    if arrived:
        return CheckInResult.REFUSED, RefusalReason.ALREADY_CHECKED_IN, False
    if registration.status != RegistrationStatus.CONFIRMED:
        return CheckInResult.REFUSED, RefusalReason.NOT_ADMITTED, False
    elsewhere = registration.mode == Mode.ONLINE or registration.site_id != site.id
    if elsewhere and not force:
        return CheckInResult.REFUSED, RefusalReason.WRONG_SITE, False
    return CheckInResult.ADMITTED, None, elsewhere


def admit_checkin(
    event: Event, site: Site, code: str, client_id: str, user: StaffUser, **options
) -> CheckinOutcome:
    """Record one attempt to admit the holder of ``code`` at ``site``, and say what happened.

    Without ``session`` this is the day's admission, for the event's local day
    of the scan; with one (from ``counted_session``), the admission to that
    session, for the session's day. Refused attempts (unknown code, already
    checked in, another site, not admitted) are recorded too. ``force`` admits
    a person registered for another site (or online) here. A ``client_id`` seen
    before returns the first outcome and writes nothing. Raises Refusal when the
    user may not act at this site or the request itself is unusable. The
    ``options`` are those of ``admit_at_door``.
    """
    door = Door(user, event, site, can_access_site(user, site.id))
    return admit_at_door(door, code, client_id, **options)


def admit_at_door(
    door: Door,
    code: str,
    client_id: str,
    *,
    scanned_at: datetime | None = None,
    force: bool = False,
    method: CheckInMethod = CheckInMethod.QR,
    device: str = "",
    session: AgendaItem | None = None,
    now: datetime | None = None,
) -> CheckinOutcome:
    """``admit_checkin`` at a door, which has an event and a site: found with the caller
    (``find_door``), it also read the badge, and the attempt costs only its insert."""
    event, site, user = door.event, door.site, door.user
    now = now or utcnow()
    scanned_at = scanned_at or now
    if method not in SITE_METHODS:
        raise Refusal(Reason.INVALID, _("This check-in method is not used at a site."), "method")
    if not door.may_act:
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
    connection = db.session.connection()
    # Read with the door, the badge needs no query of its own the first time.
    badge = door.badge
    if badge is not None and (badge.code, badge.session_id) != (code, session_id):
        badge = None
    for _attempt in range(3):
        if badge is None:
            badge = read_badge(connection, code, session_id)
        registration, arrival_id = badge.registration, badge.admission_on(day)
        badge = None  # after a conflict, read again
        result, reason, forced = _decide(event, site, registration, arrival_id is not None, force)
        known = registration if reason != RefusalReason.UNKNOWN_CODE else None
        values = {
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
        checkin_id = _insert_unless_conflict(connection, values)
        if checkin_id is not None:
            # The new row with its relations, without a query; it stays outside the session.
            checkin = _detached(
                CheckIn,
                {
                    **_UNWRITTEN,
                    **values,
                    "id": checkin_id,
                    "site": site,
                    "session": session,
                    "staff_user": user,
                    "registration": known,
                },
            )
            # Only a duplicate shows the earlier admission: where, when and by whom.
            previous = _admission(arrival_id) if arrival_id is not None else None
            return CheckinOutcome(checkin, known, previous=previous)
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
