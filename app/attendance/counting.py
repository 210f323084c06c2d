"""The counting rule: who attended, and where they count. Every figure is drawn from here.

The rule, once:

- A person counts once per day, where they actually attended that day: at a site
  when they have a live admission at the door there that day (or, lacking one, a
  live admission to a session at a site that day, the earliest), otherwise online
  when they have a live online row that day (a join with their personal link, or an
  admitted row from an imported meeting report). "Live" means admitted and not undone.
- Over the whole event, a person who attended counts once, at the place of their
  first attended day. For one day, at the place of that day.
- A person is registered where they registered (their site, or online).
  Registered means confirmed, plus anyone who attended whatever their status (a
  waitlisted person let in at the door still took part).
- So a line of a table (a site, online, a mode...) has its registered people, the
  people who attended here (wherever they registered), among those the ones who
  came from another line, and the line's own people who attended at another one.
  The attendance rate is the line's own people who attended anywhere over its
  registered people: never above 100%. The attended of every line of a table add
  up to the same total, the number of distinct people who attended.

``count_groups`` runs two aggregate queries, however many people registered: a
subquery ranks each registration's live rows (by day, then door before session
before online, then time) and keeps the first, which gives the place; the
registrations are grouped by what the tables need, with and without their place.
``tally`` turns those groups into lines without looking at any person.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    CheckIn,
    Event,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    live_admission,
)
from app.refusals import Reason, Refusal

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Group:
    """People alike in everything the tables count by, and how many of them."""

    #: The site they registered for; None: registered online.
    home_site_id: int | None
    mode: Mode
    status: RegistrationStatus
    org_kind: OrgKind
    gender: Gender | None
    attended: bool
    #: Where they count when they attended: a site's id, or None for online.
    place_site_id: int | None
    people: int

    @property
    def registered(self) -> bool:
        """Confirmed, or attended whatever their status."""
        return self.attended or self.status == RegistrationStatus.CONFIRMED

    @property
    def place_mode(self) -> Mode:
        """How they attended: in person at a site, or online."""
        return Mode.ONLINE if self.place_site_id is None else Mode.IN_PERSON


def _place_rank():
    """The order of a day's evidence: the door, then a session at a site, then online."""
    return sa.case(
        (CheckIn.site_id.is_(None), 2),
        (CheckIn.session_id.is_(None), 0),
        else_=1,
    )


def places(event: Event, day: date | None = None, *, each_day: bool = False) -> sa.Subquery:
    """Each attending registration's place: (registration_id, day, site_id; None for online).

    Over the whole event the place of the first attended day; with ``day``, that day's;
    with ``each_day``, one row per registration and day it attended.
    """
    partition = (CheckIn.registration_id, CheckIn.day) if each_day else (CheckIn.registration_id,)
    order = sa.func.row_number().over(
        partition_by=partition,
        order_by=(CheckIn.day, _place_rank(), CheckIn.scanned_at, CheckIn.id),
    )
    ranked = (
        sa.select(CheckIn.registration_id, CheckIn.day, CheckIn.site_id, order.label("rank"))
        .where(
            CheckIn.event_id == event.id,
            CheckIn.registration_id.is_not(None),
            live_admission(CheckIn),
        )
        .where(CheckIn.day == day if day is not None else sa.true())
        .subquery("ranked")
    )
    return (
        sa.select(ranked.c.registration_id, ranked.c.day, ranked.c.site_id)
        .where(ranked.c.rank == 1)
        .subquery("places")
    )


def count_groups(event: Event, day: date | None = None) -> list[Group]:
    """Every registration of the event, grouped, with where each group counts.

    Two aggregate queries: the registrations by what the tables count by, and those who
    attended by the same and their place; the rest did not attend. (Joining the places
    to the registrations instead would have SQLite scan the places once per person.)
    """
    home = sa.case((Registration.mode == Mode.IN_PERSON, Registration.site_id), else_=None)
    keys = (
        home.label("home"),
        Registration.mode,
        Registration.status,
        Registration.org_kind,
        Registration.gender,
    )
    everyone = db.session.execute(
        sa.select(*keys, sa.func.count(Registration.id))
        .where(Registration.event_id == event.id)
        .group_by(*keys)
    ).all()
    place = places(event, day)
    attended = db.session.execute(
        sa.select(*keys, place.c.site_id, sa.func.count(place.c.registration_id))
        .select_from(place)
        .join(Registration, Registration.id == place.c.registration_id)
        .group_by(*keys, place.c.site_id)
    ).all()

    absent = {tuple(row[:-1]): row[-1] for row in everyone}
    groups = []
    for *key, place_site_id, people in attended:
        absent[tuple(key)] -= people
        groups.append(Group(*key, attended=True, place_site_id=place_site_id, people=people))
    groups += [
        Group(*key, attended=False, place_site_id=None, people=people)
        for key, people in absent.items()
        if people
    ]
    return groups


def parse_day(text: str | None) -> date | None:
    """The day a ``?day=YYYY-MM-DD`` names; None (the whole event) when it is empty.

    Refuses (field ``day``) a text that is not such a date. Any real date is counted,
    including one the event does not span (a scan the day before the event counts there).
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal(
            Reason.INVALID, _("Give the day as a date, YYYY-MM-DD (e.g. 2025-03-14)."), "day"
        ) from None


def rate_text(part: int, whole: int) -> str:
    """A whole percentage, rounded down so that 100% means everyone; "–" for nobody."""
    # static/js/dashboard.js writes the rate the same way when it refreshes the page.
    return "–" if not whole else f"{100 * part // whole}%"


@dataclass
class Line:
    """One line of a table: a site, online, a mode, a kind of organisation..."""

    #: Registered here: confirmed, or attended whatever their status.
    registered: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    #: Counted here by the rule, wherever they registered.
    attended: int = 0
    #: This line's own people who attended, here or at another line.
    arrived: int = 0
    #: Counted here though registered at another line (part of ``attended``).
    came_from_elsewhere: int = 0

    @property
    def attended_elsewhere(self) -> int:
        """This line's own people who count at another line."""
        return self.arrived - (self.attended - self.came_from_elsewhere)

    @property
    def not_arrived(self) -> int:
        """Confirmed here and not attended anywhere."""
        return self.registered - self.arrived

    @property
    def rate(self) -> float | None:
        """Own people who attended anywhere, as a share of registered; None for nobody."""
        return self.arrived / self.registered if self.registered else None

    @property
    def rate_text(self) -> str:
        return rate_text(self.arrived, self.registered)

    def add(self, other: Line) -> None:
        """Add another line's figures to this one (for a total of some lines)."""
        for name in (
            "registered",
            "confirmed",
            "waitlisted",
            "attended",
            "arrived",
            "came_from_elsewhere",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def tally(
    groups: Iterable[Group],
    home: Callable[[Group], K],
    place: Callable[[Group], K] | None = None,
    make: Callable[[K], Line] = lambda key: Line(),
) -> dict[K, Line]:
    """Lines keyed by ``home(group)`` (where people registered) and ``place(group)``
    (where they count; the same as home when not given), made with ``make`` as needed."""
    place = place or home
    lines: dict[K, Line] = {}

    def line(key: K) -> Line:
        if key not in lines:
            lines[key] = make(key)
        return lines[key]

    for group in groups:
        own = line(home(group))
        if group.status == RegistrationStatus.CONFIRMED:
            own.confirmed += group.people
        elif group.status == RegistrationStatus.WAITLISTED:
            own.waitlisted += group.people
        if group.registered:
            own.registered += group.people
        if not group.attended:
            continue
        own.arrived += group.people
        where = line(place(group))
        where.attended += group.people
        if where is not own:
            where.came_from_elsewhere += group.people
    return lines


def total(groups: Iterable[Group]) -> Line:
    """Everyone: registered, and attended (each person once)."""
    return tally(groups, lambda group: None).get(None, Line())
