"""Organiser and admin changes: events, sites, capacities, agenda, registrations, staff.

Like the registration services, each function works inside the caller's
transaction and leaves the commit to the caller. A change the rules refuse
raises ``ManageError`` before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import joinedload

from app.database import is_unique_violation
from app.events.services import apply_event_changes
from app.extensions import db
from app.models import (
    AgendaItem,
    ApiToken,
    Event,
    EventFormat,
    EventSite,
    EventStatus,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    Role,
    Site,
    StaffUser,
    utcnow,
)
from app.registrations.services import (
    RegistrationError,
    change_participation,
    confirmed_count,
    find_active_registration,
    lock_event_site,
    refill_site,
)
from app.text import fold_for_search

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REGISTRATIONS_PER_PAGE = 50


class ManageError(Exception):
    """A change the rules refuse; ``errors`` maps form fields (or None) to messages."""

    def __init__(self, errors: dict[str | None, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors

    @classmethod
    def at(cls, field: str | None, message: str) -> ManageError:
        return cls({field: message})


# --- time zones and local times ---------------------------------------------


@cache
def _known_zones() -> frozenset[str]:
    # "localtime" would silently mean the server's zone, which no event wants.
    return frozenset(available_timezones() - {"localtime", "posixrules", "Factory"})


def is_valid_timezone(name: str) -> bool:
    """Whether a name is an IANA time zone this server knows."""
    if name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in a zone as a UTC moment.

    Raises ValueError for a time skipped by a daylight-saving jump, which
    would otherwise be moved silently by an hour.
    """
    try:
        moment = local.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{local} is out of range") from error
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(f"{local} does not exist in {zone.key}")
    return moment


def utc_to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC moment as a naive wall-clock time, for a datetime-local input."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None)


def _keep_if_same_minute(old: datetime | None, new: datetime | None) -> datetime | None:
    # Forms carry minutes only; a stored time with seconds must not count as changed,
    # or saving an unrelated field would send everyone an updated invite.
    if old is not None and new is not None and old.replace(second=0, microsecond=0) == new:
        return old
    return new


# --- events ----------------------------------------------------------------


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


def event_fields(data: EventInput) -> dict:
    """Validate an event's input and return the stored values, times in UTC."""
    if not is_valid_timezone(data.timezone):
        raise ManageError.at(
            "timezone", _("Unknown time zone. Use an IANA name like Asia/Ashgabat.")
        )
    zone = ZoneInfo(data.timezone)
    errors: dict[str | None, str] = {}
    moments: dict[str, datetime | None] = {}
    for field, local in (
        ("starts_at", data.starts_local),
        ("ends_at", data.ends_local),
        ("registration_opens_at", data.opens_local),
        ("registration_closes_at", data.closes_local),
    ):
        try:
            moments[field] = local_to_utc(local, zone) if local is not None else None
        except ValueError:
            errors[field] = _(
                "This time does not exist in %(zone)s (the clocks jump).", zone=data.timezone
            )
    starts, ends = moments.get("starts_at"), moments.get("ends_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must be after the start.")
    opens, closes = moments.get("registration_opens_at"), moments.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    if errors:
        raise ManageError(errors)
    return {
        "title": data.title.strip(),
        "description": data.description.strip(),
        "timezone": data.timezone,
        "format": data.format,
        "meeting_url": data.meeting_url.strip(),
        "status": data.status,
        "organizer_name": data.organizer_name.strip(),
        "organizer_email": data.organizer_email.strip().lower(),
        **moments,
    }


def slug_taken(model: type[Event] | type[Site], slug: str) -> bool:
    """Whether an event or site already uses this slug."""
    return db.session.scalar(sa.select(model.id).where(model.slug == slug)) is not None


def _check_new_slug(model: type[Event] | type[Site], slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise ManageError.at("slug", _("Use lower-case letters, digits and dashes only."))
    if slug_taken(model, slug):
        raise ManageError.at("slug", _("This slug is already in use. Choose another."))


def _add_with_unique_slug(instance: Event | Site) -> None:
    """Insert a row in a savepoint; a slug taken meanwhile becomes a field error."""
    try:
        with db.session.begin_nested():
            db.session.add(instance)
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise ManageError.at("slug", _("This slug is already in use. Choose another.")) from error


def create_event(slug: str, data: EventInput) -> Event:
    """Create an event; it has no participants yet, so nobody is notified."""
    slug = slug.strip()
    fields = event_fields(data)
    _check_new_slug(Event, slug)
    event = Event(slug=slug, **fields)
    _add_with_unique_slug(event)
    return event


def update_event(event: Event, data: EventInput) -> bool:
    """Change an event; a new time, place or a cancellation sends updated invites.

    Returns True when participants were notified.
    """
    fields = event_fields(data)
    for field in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        fields[field] = _keep_if_same_minute(getattr(event, field), fields[field])
    return apply_event_changes(event, fields)


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


def registration_counts(event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Registrations per event and status value, in one query."""
    counts: dict[int, dict[str, int]] = {}
    if not event_ids:
        return counts
    rows = db.session.execute(
        sa.select(Registration.event_id, Registration.status, sa.func.count(Registration.id))
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, number in rows:
        counts.setdefault(event_id, {})[status.value] = number
    return counts


# --- sites -----------------------------------------------------------------


@dataclass
class SiteInput:
    name: str
    region: str = ""
    address: str = ""
    is_main_venue: bool = False


def create_site(slug: str, data: SiteInput) -> Site:
    """Create a site; sites outlive events and can join any of them."""
    slug = slug.strip()
    _check_new_slug(Site, slug)
    site = Site(slug=slug)
    update_site(site, data)
    _add_with_unique_slug(site)
    return site


def update_site(site: Site, data: SiteInput) -> None:
    """Change a site's name, region, address and main-venue flag."""
    site.name = data.name.strip()
    site.region = data.region.strip()
    site.address = data.address.strip()
    site.is_main_venue = data.is_main_venue


def all_sites() -> list[Site]:
    """Every site, the main venue first."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.is_main_venue.desc(), Site.name)))


def sites_not_in(event: Event) -> list[Site]:
    """Sites that could still join this event."""
    taken = {es.site_id for es in event.event_sites}
    return [site for site in all_sites() if site.id not in taken]


def event_site_or_none(event: Event, site_slug: str) -> EventSite | None:
    """The event's participating site with that slug, or None."""
    return next((es for es in event.event_sites if es.site.slug == site_slug), None)


def add_event_site(event: Event, site: Site, capacity: int) -> EventSite:
    """Let a site take part in an event with a number of seats."""
    if any(es.site_id == site.id for es in event.event_sites):
        raise ManageError.at("site", _("This site already takes part in this event."))
    if capacity < 0:
        raise ManageError.at("capacity", _("The capacity cannot be negative."))
    position = max((es.position for es in event.event_sites), default=-1) + 1
    event_site = EventSite(site=site, capacity=capacity, position=position)
    event.event_sites.append(event_site)
    db.session.flush()
    return event_site


def set_site_capacity(event: Event, event_site: EventSite, capacity: int) -> list[Registration]:
    """Change a site's seats; growing them moves the waitlist up.

    Refuses fewer seats than people already confirmed there. Returns the
    registrations promoted from the waitlist.
    """
    if capacity < 0:
        raise ManageError.at("capacity", _("The capacity cannot be negative."))
    # Lock first, so a registration arriving now cannot slip under the new limit.
    lock_event_site(event_site.id)
    confirmed = confirmed_count(event.id, event_site.site_id)
    if capacity < confirmed:
        raise ManageError.at(
            "capacity",
            _(
                "%(site)s already has %(count)d confirmed people; the capacity cannot be "
                "lower. Cancel or move people first.",
                site=event_site.site.name,
                count=confirmed,
            ),
        )
    grew = capacity > event_site.capacity
    event_site.capacity = capacity
    db.session.flush()
    return refill_site(event, event_site.site_id) if grew else []


def remove_event_site(event: Event, event_site: EventSite) -> None:
    """Take a site out of an event, only while no registration refers to it."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count(Registration.id))
        .where(Registration.event_id == event.id, Registration.site_id == event_site.site_id)
        .group_by(Registration.status)
    ).all()
    counts = {status: number for status, number in rows}
    active = sum(n for status, n in counts.items() if status != RegistrationStatus.CANCELLED)
    if active:
        raise ManageError.at(
            None,
            ngettext(
                "%(num)d person is registered at %(site)s. Move or cancel them before "
                "removing the site.",
                "%(num)d people are registered at %(site)s. Move or cancel them before "
                "removing the site.",
                active,
                site=event_site.site.name,
            ),
        )
    if counts:
        # Cancelled registrations keep their site on record; the database will not
        # let them point at a site that left the event.
        raise ManageError.at(
            None,
            _(
                "%(site)s has cancelled registrations on record, so it stays in the event. "
                "Set its capacity to 0 to take no more people.",
                site=event_site.site.name,
            ),
        )
    event.event_sites.remove(event_site)
    db.session.flush()


# --- agenda ----------------------------------------------------------------


@dataclass
class AgendaInput:
    title: str
    starts_local: datetime
    ends_local: datetime
    speakers: str = ""


def _agenda_fields(event: Event, data: AgendaInput) -> dict:
    zone = event.zone
    errors: dict[str | None, str] = {}
    moments = {}
    for field, local in (("starts_at", data.starts_local), ("ends_at", data.ends_local)):
        try:
            moments[field] = local_to_utc(local, zone)
        except ValueError:
            errors[field] = _(
                "This time does not exist in %(zone)s (the clocks jump).", zone=event.timezone
            )
    if len(moments) == 2 and moments["ends_at"] <= moments["starts_at"]:
        errors["ends_at"] = _("The end must be after the start.")
    if errors:
        raise ManageError(errors)
    speakers = "\n".join(line.strip() for line in data.speakers.splitlines() if line.strip())
    return {"title": data.title.strip(), "speakers": speakers, **moments}


def add_agenda_item(event: Event, data: AgendaInput) -> AgendaItem:
    """Add a talk or session to an event's agenda."""
    item = AgendaItem(**_agenda_fields(event, data))
    event.agenda_items.append(item)
    db.session.flush()
    return item


def update_agenda_item(item: AgendaItem, data: AgendaInput) -> None:
    """Change an agenda item's title, speakers or times."""
    fields = _agenda_fields(item.event, data)
    for field in ("starts_at", "ends_at"):
        fields[field] = _keep_if_same_minute(getattr(item, field), fields[field])
    for field, value in fields.items():
        setattr(item, field, value)


def delete_agenda_item(item: AgendaItem) -> None:
    """Remove an agenda item."""
    db.session.delete(item)
    db.session.flush()


# --- registrations ---------------------------------------------------------


@dataclass
class RegistrationFilters:
    site_id: int | None = None
    mode: Mode | None = None
    status: RegistrationStatus | None = None
    #: Free text matched against name, organisation and email, ignoring case and accents.
    text: str = ""


def registrations_query(event: Event, filters: RegistrationFilters) -> sa.Select:
    """The event's registrations matching the filters, oldest first (the waitlist order)."""
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id)
        .options(joinedload(Registration.site))
        .order_by(Registration.created_at, Registration.id)
    )
    if filters.site_id is not None:
        query = query.where(Registration.site_id == filters.site_id)
    if filters.mode is not None:
        query = query.where(Registration.mode == filters.mode)
    if filters.status is not None:
        query = query.where(Registration.status == filters.status)
    for word in fold_for_search(filters.text).split()[:8]:
        query = query.where(Registration.search_text.contains(word, autoescape=True))
    return query


def registrations_page(event: Event, filters: RegistrationFilters, page: int) -> SelectPagination:
    """One page of registrations, in two queries however many there are."""
    return db.paginate(
        registrations_query(event, filters),
        page=max(page, 1),
        per_page=REGISTRATIONS_PER_PAGE,
        error_out=False,
    )


def status_counts(event: Event) -> dict[str, int]:
    """How many registrations an event has in each status."""
    return registration_counts([event.id]).get(event.id, {})


@dataclass
class RegistrationDetails:
    """What staff may correct on a registration, besides where the person takes part."""

    name: str
    email: str
    phone: str = ""
    organization: str = ""
    position: str = ""
    org_kind: OrgKind = OrgKind.OTHER
    gender: Gender | None = None
    language: str = "en"


def update_registration(
    registration: Registration, details: RegistrationDetails, mode: Mode, site_slug: str | None
) -> None:
    """Correct a person's details and, through the registration rules, their site or mode.

    A site change is subject to capacity and tells the person; nothing is
    written when it is refused.
    """
    email = details.email.strip().lower()
    active = registration.status != RegistrationStatus.CANCELLED
    if active and email != registration.email:
        other = find_active_registration(registration.event, email)
        if other is not None and other.id != registration.id:
            raise ManageError.at("email", _("Someone else is already registered with this email."))
    if mode == Mode.IN_PERSON:
        event_site = next(
            (es for es in registration.event.event_sites if es.site.slug == site_slug), None
        )
        moves = event_site is None or event_site.site_id != registration.site_id
    else:
        moves = registration.mode != Mode.ONLINE
    if moves and not active:
        raise ManageError.at(
            "participation", _("A cancelled registration cannot change site or mode.")
        )

    registration.name = details.name.strip()
    registration.email = email
    registration.phone = details.phone.strip()
    registration.organization = details.organization.strip()
    registration.position = details.position.strip()
    registration.org_kind = details.org_kind
    registration.gender = details.gender
    registration.language = details.language
    try:
        # A savepoint: an email taken meanwhile by another registration is a field error.
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise ManageError.at(
            "email", _("Someone else is already registered with this email.")
        ) from error
    if moves:
        try:
            change_participation(registration, mode, site_slug)
        except RegistrationError as error:
            raise ManageError.at("participation", error.message) from error


# --- staff -----------------------------------------------------------------


@dataclass
class StaffInput:
    name: str
    role: Role
    site_ids: list[int]
    is_active: bool = True


def _sites_for(data: StaffInput) -> list[Site]:
    if data.role != Role.COORDINATOR:
        # Organisers and admins see every site; a stale list would only mislead.
        return []
    sites = list(db.session.scalars(sa.select(Site).where(Site.id.in_(data.site_ids))))
    if not sites:
        raise ManageError.at("sites", _("A coordinator needs at least one site."))
    return sites


def _other_active_admins(user: StaffUser) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(StaffUser.id)).where(
            StaffUser.role == Role.ADMIN,
            StaffUser.is_active_user.is_(True),
            StaffUser.id != user.id,
        )
    )


def create_staff_user(email: str, password: str, data: StaffInput) -> StaffUser:
    """Create a staff account with a role and, for coordinators, their sites."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise ManageError.at("email", _("A staff account with this email already exists."))
    user = StaffUser(email=email, name=data.name.strip(), role=data.role)
    user.sites = _sites_for(data)
    user.is_active_user = data.is_active
    user.set_password(password)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise ManageError.at(
            "email", _("A staff account with this email already exists.")
        ) from error
    return user


def update_staff_user(user: StaffUser, data: StaffInput) -> None:
    """Change a staff member's name, role, sites and whether they may sign in.

    Refuses to leave the system without an active admin.
    """
    loses_admin = (
        user.role == Role.ADMIN
        and user.is_active_user
        and (data.role != Role.ADMIN or not data.is_active)
    )
    if loses_admin and _other_active_admins(user) == 0:
        raise ManageError.at(
            None, _("This is the last active admin. Make someone else admin first.")
        )
    user.sites = _sites_for(data)
    user.name = data.name.strip()
    user.role = data.role
    user.is_active_user = data.is_active


def reset_staff_password(user: StaffUser, password: str) -> None:
    """Give a staff member a new password."""
    user.set_password(password)


def revoke_api_token(token: ApiToken) -> bool:
    """Revoke an API token; returns False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def staff_users() -> list[StaffUser]:
    """Every staff account with its sites, in two queries."""
    return list(
        db.session.scalars(
            sa.select(StaffUser)
            .options(sa.orm.selectinload(StaffUser.sites))
            .order_by(StaffUser.role, StaffUser.email)
        )
    )
