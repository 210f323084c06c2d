"""Check-in rules: who is admitted where, idempotent attempts, undo, search and the roster.

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

Each function works inside the caller's transaction and leaves the commit to
the caller, so the check-in page and the JSON API share one path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.access import can_access_site
from app.extensions import db
from app.models import (
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
    live_site_admission,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.registrations.services import RegistrationInput, register_participant
from app.text import fold_for_search

#: A device clock may run a little ahead; anything further is a broken clock.
MAX_CLOCK_AHEAD = timedelta(minutes=10)
#: How far before the event (or before now, for early tests) a scan may be dated.
MAX_SCAN_AGE = timedelta(days=1)
#: Stored length of the raw scanned text (the column's size).
CODE_STORED_LENGTH = 128
#: Badge codes are 32 characters; anything longer cannot be one.
CODE_MAX_LENGTH = 64

#: Methods a door scanner may record; online attendance is recorded elsewhere.
SITE_METHODS = (CheckInMethod.QR, CheckInMethod.SEARCH, CheckInMethod.WALK_IN)


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
        raise Refusal(Reason.INVALID, _("The scan time needs a time zone."))
    if scanned_at > now + MAX_CLOCK_AHEAD:
        raise Refusal(
            Reason.INVALID, _("The scan time is in the future. Check the device's clock.")
        )
    if scanned_at < min(event.starts_at, now) - MAX_SCAN_AGE:
        raise Refusal(
            Reason.INVALID, _("The scan time is too far in the past. Check the device's clock.")
        )


# The statements on the check-in path are built once, with bound parameters:
# building aliased joins anew for every request costs more than the queries.
_Arrival = aliased(CheckIn, name="arrival")

#: The admission's own site and staff member load only when shown (already checked in).
_REGISTRATION_WITH_ARRIVAL = (
    sa.select(Registration, _Arrival)
    .outerjoin(
        _Arrival,
        live_site_admission(_Arrival),
    )
    .options(joinedload(Registration.site))
    .where(Registration.badge_code == sa.bindparam("code"))
    .execution_options(populate_existing=True)
)


def _registration_with_arrival(code: str) -> tuple[Registration | None, CheckIn | None]:
    """The registration behind a badge code and its live admission, in one query."""
    row = db.session.execute(_REGISTRATION_WITH_ARRIVAL, {"code": code}).first()
    if row is None:
        return None, None
    return row[0], row[1]


_CHECKIN_COLUMNS = [column.key for column in CheckIn.__table__.columns]
#: The columns a check-in attempt writes; the others keep their defaults.
_INSERTED = (
    "client_id",
    "event_id",
    "registration_id",
    "site_id",
    "method",
    "result",
    "reason",
    "forced",
    "code",
    "scanned_at",
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
            joinedload(CheckIn.staff_user),
        )
    )


def _replay(event: Event, client_id: str) -> CheckinOutcome | None:
    """The first outcome recorded under this client_id, if any."""
    first = _checkin_by_client_id(client_id)
    if first is None:
        return None
    if first.event_id != event.id or first.site_id is None:
        raise Refusal(Reason.INVALID, _("This client_id was already used for something else."))
    previous = None
    if first.reason == RefusalReason.ALREADY_CHECKED_IN and first.registration_id is not None:
        _registration, previous = _registration_with_arrival(first.registration.badge_code)
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
    now: datetime | None = None,
) -> CheckinOutcome:
    """Record one attempt to admit the holder of ``code`` at ``site``, and say what happened.

    Refused attempts (unknown code, already checked in, another site, not
    admitted) are recorded too. ``force`` admits a person registered for
    another site (or online) here. A ``client_id`` seen before returns the
    first outcome and writes nothing. Raises Refusal when the user may
    not act at this site or the request itself is unusable.
    """
    now = now or utcnow()
    scanned_at = scanned_at or now
    if method not in SITE_METHODS:
        raise Refusal(Reason.INVALID, _("This check-in method is not used at a site."))
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
    for _attempt in range(3):
        if len(code) > CODE_MAX_LENGTH:
            registration, arrival = None, None
        else:
            registration, arrival = _registration_with_arrival(code)
        result, reason, forced = _decide(event, site, registration, arrival, force)
        known = registration if reason != RefusalReason.UNKNOWN_CODE else None
        checkin = _insert_unless_conflict(
            {
                "client_id": client_id,
                "event_id": event.id,
                "registration_id": known.id if known else None,
                "site_id": site.id,
                "method": method,
                "result": result,
                "reason": reason,
                "forced": forced,
                "code": scanned_text,
                "scanned_at": scanned_at,
                "received_at": now,
                "staff_user_id": user.id,
                "device": device[:200],
            }
        )
        if checkin is not None:
            # Give the new row its relations without a query; it stays outside the session.
            set_committed_value(checkin, "site", site)
            set_committed_value(checkin, "staff_user", user)
            set_committed_value(checkin, "registration", known)
            return CheckinOutcome(checkin, known, previous=arrival)
        replayed = _replay(event, client_id)
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


# --- walk-ins -----------------------------------------------------------------


@dataclass
class WalkInOutcome:
    registration: Registration
    checkin: CheckinOutcome


def register_walk_in(
    event: Event,
    site: Site,
    data: RegistrationInput,
    user: StaffUser,
    client_id: str,
    *,
    scanned_at: datetime | None = None,
    device: str = "",
    now: datetime | None = None,
) -> WalkInOutcome:
    """Register a person who turned up at the door, and admit them at once.

    At a full site nothing is written: the answer is ``site_full``, since a
    walk-in cannot wait on a list while standing in the room. An email that
    is already registered is refused with ``already_registered``; the
    coordinator then checks that person in by name instead.
    """
    if not can_access_site(user, site.id):
        raise Refusal(Reason.FORBIDDEN, _("You may not check people in at this site."))
    # A walk-in re-sent from an offline queue: answer as the first time.
    replayed = _replay(event, client_id)
    if replayed is not None:
        if replayed.registration is None or replayed.checkin.method != CheckInMethod.WALK_IN:
            raise Refusal(Reason.INVALID, _("This client_id was already used for something else."))
        return WalkInOutcome(replayed.registration, replayed)
    data.mode = Mode.IN_PERSON
    data.site_slug = site.slug
    outcome = register_participant(event, data, created_by=user, now=now)
    if not outcome.created:
        raise Refusal(
            Reason.ALREADY_REGISTERED, _("This email is already registered for this event.")
        )
    registration = outcome.registration
    if registration.status != RegistrationStatus.CONFIRMED:
        raise Refusal(
            Reason.SITE_FULL,
            _("There are no seats left at this site. An organiser can raise its capacity."),
        )
    db.session.flush()
    checkin = admit_checkin(
        event,
        site,
        registration.badge_code,
        client_id,
        user,
        scanned_at=scanned_at,
        method=CheckInMethod.WALK_IN,
        device=device,
        now=now,
    )
    return WalkInOutcome(registration, checkin)


@dataclass
class StaffRegistrationOutcome:
    registration: Registration
    #: False when the email was already registered; nothing was created.
    created: bool


def staff_register(
    event: Event, data: RegistrationInput, user: StaffUser
) -> StaffRegistrationOutcome:
    """Register someone on their behalf (an import, a phone call), outside the window too.

    Coordinators may register people at their own sites only; online
    registrations are for organisers. Capacity rules are the usual ones, so a
    full site puts the person on its waiting list. An email already registered
    at a site the user may not see is refused without telling whose it is.
    """
    if data.mode == Mode.ONLINE:
        if not user.sees_all_sites:
            raise Refusal(Reason.FORBIDDEN, _("Only organisers register people online."))
    else:
        event_site = event.event_site(data.site_slug)
        if event_site is None:
            raise Refusal(Reason.UNKNOWN_SITE, _("This site does not take part in this event."))
        if not can_access_site(user, event_site.site_id):
            raise Refusal(Reason.FORBIDDEN, _("You may not register people at this site."))
    outcome = register_participant(event, data, created_by=user)
    registration = outcome.registration
    if not outcome.created and not _may_see_registration(user, registration):
        raise Refusal(
            Reason.ALREADY_REGISTERED, _("This email is already registered for this event.")
        )
    return StaffRegistrationOutcome(registration, outcome.created)


def _may_see_registration(user: StaffUser, registration: Registration) -> bool:
    if user.sees_all_sites:
        return True
    return registration.site_id is not None and can_access_site(user, registration.site_id)


# --- search and the roster -------------------------------------------------------


@dataclass
class RosterEntry:
    registration: Registration
    #: The live admission, wherever it happened; None while not arrived.
    arrival: CheckIn | None


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_ListedArrival = aliased(CheckIn, name="listed_arrival")
_ListedArrivalSite = aliased(Site, name="listed_arrival_site")

#: People with their live admission (and where it happened), for lists and search.
_PEOPLE_WITH_ARRIVALS = (
    sa.select(Registration, _ListedArrival)
    .outerjoin(
        _ListedArrival,
        live_site_admission(_ListedArrival),
    )
    .outerjoin(_ListedArrivalSite, _ListedArrivalSite.id == _ListedArrival.site_id)
    .options(
        joinedload(Registration.site),
        contains_eager(_ListedArrival.site.of_type(_ListedArrivalSite)),
    )
)


def search_registrations(
    event: Event, site_ids: set[int] | None, query: str, limit: int = 20
) -> list[RosterEntry]:
    """People of this event whose name, organisation or email contain every word typed.

    Ignores case and diacritics ("sukurowa" finds "Şükürowa"). ``site_ids``
    limits the search to those sites (a coordinator's); None searches every
    registration, online ones included. One query, however many registrations.
    """
    words = fold_for_search(query).split()
    if not words or sum(len(word) for word in words) < 2:
        return []
    statement = _PEOPLE_WITH_ARRIVALS.where(
        Registration.event_id == event.id,
        *(Registration.search_text.like(f"%{_escape_like(word)}%", escape="\\") for word in words),
    )
    if site_ids is not None:
        statement = statement.where(Registration.site_id.in_(site_ids))
    rows = db.session.execute(
        statement.order_by(
            # Confirmed people first: they are the ones expected at the door.
            sa.case((Registration.status == RegistrationStatus.CONFIRMED, 0), else_=1),
            Registration.name,
            Registration.id,
        ).limit(limit)
    ).all()
    return [RosterEntry(registration, found) for registration, found in rows]


@dataclass
class SiteRoster:
    """Who is expected at a site, and who arrived."""

    site: Site
    entries: list[RosterEntry] = field(default_factory=list)

    def is_expected(self, entry: RosterEntry) -> bool:
        registration = entry.registration
        return (
            registration.site_id == self.site.id
            and registration.status == RegistrationStatus.CONFIRMED
        )

    def arrived_here(self, entry: RosterEntry) -> bool:
        return entry.arrival is not None and entry.arrival.site_id == self.site.id

    @property
    def expected(self) -> int:
        """Confirmed for this site."""
        return sum(1 for entry in self.entries if self.is_expected(entry))

    @property
    def arrived(self) -> int:
        """Admitted here, whoever they registered for (walk-ins and forced admissions too)."""
        return sum(1 for entry in self.entries if self.arrived_here(entry))

    @property
    def not_arrived(self) -> list[RosterEntry]:
        """Confirmed for this site and not admitted anywhere yet."""
        return [e for e in self.entries if self.is_expected(e) and e.arrival is None]


def site_roster(event: Event, site: Site) -> SiteRoster:
    """Everyone registered for a site (any status) and everyone admitted there, by name.

    One query, however many registrations.
    """
    rows = db.session.execute(
        _PEOPLE_WITH_ARRIVALS.where(
            Registration.event_id == event.id,
            sa.or_(Registration.site_id == site.id, _ListedArrival.site_id == site.id),
        ).order_by(Registration.name, Registration.id)
    ).all()
    return SiteRoster(site, [RosterEntry(registration, found) for registration, found in rows])


_NamedSite = aliased(Site, name="named_site")
_EVENT_AND_SITE = (
    sa.select(Event, Site)
    .select_from(Event)
    .outerjoin(
        EventSite,
        sa.and_(
            EventSite.event_id == Event.id,
            EventSite.site_id
            == sa.select(_NamedSite.id)
            .where(_NamedSite.slug == sa.bindparam("site_slug"))
            .scalar_subquery(),
        ),
    )
    .outerjoin(Site, Site.id == EventSite.site_id)
    .where(Event.slug == sa.bindparam("slug"))
)


def event_and_site(slug: str, site_slug: str | None) -> tuple[Event | None, Site | None]:
    """An event by slug and one of its participating sites by slug, in one query.

    Returns (None, None) for an unknown event and (event, None) when the site
    does not take part in it.
    """
    row = db.session.execute(_EVENT_AND_SITE, {"slug": slug, "site_slug": site_slug or ""}).first()
    if row is None:
        return None, None
    return row[0], row[1]
