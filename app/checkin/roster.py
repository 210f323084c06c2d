"""Who is expected at a site and who arrived: the roster, name search, and the event+site lookup.

Each is one query, however many registrations an event has.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager

from app.checkin.services import registrations_with_arrival
from app.extensions import db
from app.models import (
    CheckIn,
    Event,
    EventSite,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    live_site_admission,
    utcnow,
)
from app.registrations.search import registrations_matching
from app.text import fold_for_search


@dataclass
class RosterEntry:
    registration: Registration
    #: The live admission, wherever it happened; None while not arrived.
    arrival: CheckIn | None
    #: The agenda items (ids) the person was admitted to, in order.
    sessions: list[int] = field(default_factory=list)


_ListedArrival = aliased(CheckIn, name="listed_arrival")
_ListedArrivalSite = aliased(Site, name="listed_arrival_site")

#: People with their live admission (and where it happened), for lists and search.
_PEOPLE_WITH_ARRIVALS = (
    registrations_with_arrival(_ListedArrival)
    .outerjoin(_ListedArrivalSite, _ListedArrivalSite.id == _ListedArrival.site_id)
    .options(
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
    statement = _PEOPLE_WITH_ARRIVALS.where(registrations_matching(event.id, words))
    if site_ids is not None:
        statement = statement.where(Registration.site_id.in_(site_ids))
    rows = db.session.execute(
        statement.order_by(
            # Confirmed people first: they are the ones expected at the door.
            sa.case((Registration.status == RegistrationStatus.CONFIRMED, 0), else_=1),
            Registration.name,
            Registration.id,
        ).limit(limit),
        {"day": event.local_day(utcnow())},
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

    def is_from_other_site(self, entry: RosterEntry) -> bool:
        """Admitted here, though registered for another site or online."""
        return self.arrived_here(entry) and entry.registration.site_id != self.site.id

    @property
    def expected(self) -> int:
        """Confirmed for this site."""
        return sum(1 for entry in self.entries if self.is_expected(entry))

    @property
    def arrived(self) -> int:
        """Admitted here, whoever they registered for (walk-ins and forced admissions too)."""
        return sum(1 for entry in self.entries if self.arrived_here(entry))

    @property
    def expected_arrived(self) -> int:
        """Expected here and admitted, here or (let in on purpose) at another site.

        With ``not_arrived`` it adds up to ``expected``; people from other sites
        are counted apart, in ``from_other_sites``.
        """
        return sum(1 for e in self.entries if self.is_expected(e) and e.arrival is not None)

    @property
    def from_other_sites(self) -> int:
        """Admitted here, though registered for another site or online."""
        return sum(1 for entry in self.entries if self.is_from_other_site(entry))

    @property
    def not_arrived(self) -> list[RosterEntry]:
        """Confirmed for this site and not admitted anywhere yet."""
        return [e for e in self.entries if self.is_expected(e) and e.arrival is None]


def site_roster(event: Event, site: Site) -> SiteRoster:
    """Everyone registered for a site (any status) and everyone admitted there today, by name.

    One query, however many registrations.
    """
    rows = db.session.execute(
        _PEOPLE_WITH_ARRIVALS.where(
            Registration.event_id == event.id,
            sa.or_(Registration.site_id == site.id, _ListedArrival.site_id == site.id),
        ).order_by(Registration.name, Registration.id),
        {"day": event.local_day(utcnow())},
    ).all()
    sessions = _session_admissions(event, site)
    return SiteRoster(
        site,
        [
            RosterEntry(registration, found, sessions.get(registration.id, []))
            for registration, found in rows
        ],
    )


def _session_admissions(event: Event, site: Site) -> dict[int, list[int]]:
    """The agenda items each person of the site's roster was admitted to, by registration id.

    Read for the people registered here and anyone admitted to a session here; one query.
    """
    rows = db.session.execute(
        sa.select(CheckIn.registration_id, CheckIn.session_id)
        .join(Registration, Registration.id == CheckIn.registration_id)
        .where(
            CheckIn.event_id == event.id,
            CheckIn.session_id.is_not(None),
            live_admission(CheckIn),
            sa.or_(Registration.site_id == site.id, CheckIn.site_id == site.id),
        )
        .order_by(CheckIn.registration_id, CheckIn.session_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for registration_id, session_id in rows:
        found[registration_id].append(session_id)
    return found


#: How far back a ``since`` cursor reaches: a change written in a transaction that was
#: still open when the cursor was handed out carries an earlier time, and must not be
#: missed. Changes in that window are sent again; each carries the person's whole state.
CHANGES_OVERLAP = timedelta(minutes=2)


@dataclass
class RosterChanges:
    """What changed on a site's roster after a cursor."""

    #: The people on the roster whose registration or admission changed.
    entries: list[RosterEntry]
    #: The badge codes of people who changed and are no longer on the roster (moved to
    #: another site, or let in here and undone).
    removed: list[str]


def _changed_after(after: datetime) -> sa.ColumnElement[bool]:
    """A registration written, or a check-in of it recorded or undone, at ``after`` or later."""
    touched = sa.exists().where(
        CheckIn.registration_id == Registration.id,
        sa.or_(CheckIn.received_at >= after, CheckIn.annulled_at >= after),
    )
    return sa.or_(Registration.updated_at >= after, touched)


def roster_changes(event: Event, roster: SiteRoster, since: datetime) -> RosterChanges:
    """The people of ``roster`` changed after ``since`` (less CHANGES_OVERLAP).

    A change is a registration written (a new one, a status or site changed) or a
    check-in of it recorded or undone. One query, however many registrations.
    """
    changed = dict(
        db.session.execute(
            sa.select(Registration.id, Registration.badge_code).where(
                Registration.event_id == event.id, _changed_after(since - CHANGES_OVERLAP)
            )
        ).all()
    )
    entries = [entry for entry in roster.entries if entry.registration.id in changed]
    listed = {entry.registration.id for entry in entries}
    removed = sorted(code for id_, code in changed.items() if id_ not in listed)
    return RosterChanges(entries, removed)


#: How many hex digits of the SHA-256 of a badge code stand for it among the people of
#: other sites: a code typed wrong is taken for one of theirs about once in four billion
#: tries per person, and so few bits of a 160-bit code tell nothing of it.
CODE_HASH_DIGITS = 8


def code_hash(code: str) -> str:
    """What stands for a (normalised) badge code in the list of people elsewhere."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:CODE_HASH_DIGITS]


class ElsewhereState(StrEnum):
    """Where a person not on a site's roster stands today, as a scanner there would be told."""

    #: Confirmed for another site (or online), not admitted anywhere today: wrong_site.
    EXPECTED = "expected"
    #: Admitted at another site today: already_checked_in.
    ARRIVED = "arrived"
    #: Cancelled or waiting: not_admitted.
    NOT_ADMITTED = "not_admitted"


@dataclass
class ElsewhereGroup:
    """The people of one other site (None: online) in one state, by the hashes of their codes.

    A scanner offline tells from them what the server would answer to a code that is not
    on its own site's list, without holding anyone's name or code.
    """

    #: The slug and name of the site they registered for; None for online.
    site_slug: str | None
    site_name: str | None
    state: ElsewhereState
    code_hashes: list[str]


_ElsewhereArrival = aliased(CheckIn, name="elsewhere_arrival")
_ElsewhereSite = aliased(Site, name="elsewhere_site")


def people_elsewhere(
    event: Event, site: Site, changed_since: datetime | None = None
) -> list[ElsewhereGroup]:
    """The event's people who are not on ``site``'s roster, grouped by site and state.

    With ``changed_since``, only those changed after it (less CHANGES_OVERLAP), as for
    ``roster_changes``. One query, however many registrations.
    """
    state = sa.case(
        (_ElsewhereArrival.id.is_not(None), ElsewhereState.ARRIVED.value),
        (Registration.status != RegistrationStatus.CONFIRMED, ElsewhereState.NOT_ADMITTED.value),
        else_=ElsewhereState.EXPECTED.value,
    )
    statement = (
        sa.select(_ElsewhereSite.slug, _ElsewhereSite.name, state, Registration.badge_code)
        .outerjoin(_ElsewhereSite, _ElsewhereSite.id == Registration.site_id)
        .outerjoin(
            _ElsewhereArrival,
            live_site_admission(_ElsewhereArrival, sa.bindparam("day", type_=sa.Date)),
        )
        .where(
            Registration.event_id == event.id,
            sa.or_(Registration.site_id.is_(None), Registration.site_id != site.id),
            sa.or_(_ElsewhereArrival.site_id.is_(None), _ElsewhereArrival.site_id != site.id),
        )
    )
    if changed_since is not None:
        statement = statement.where(_changed_after(changed_since - CHANGES_OVERLAP))
    groups: dict[tuple[str | None, str | None, str], list[str]] = defaultdict(list)
    for slug, name, found_state, badge_code in db.session.execute(
        statement, {"day": event.local_day(utcnow())}
    ):
        groups[slug, name, found_state].append(code_hash(badge_code))
    return [
        ElsewhereGroup(slug, name, ElsewhereState(found_state), sorted(hashes))
        for (slug, name, found_state), hashes in sorted(
            groups.items(), key=lambda item: (item[0][0] or "", item[0][2])
        )
    ]


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
