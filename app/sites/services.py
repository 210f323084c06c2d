"""Sites, and the sites taking part in each event with their capacities.

Sites outlive events. Each change works inside the caller's transaction and
leaves the commit to the caller; a refused change raises ``Refusal`` before
anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.extensions import db
from app.models import Event, EventSite, Registration, RegistrationStatus, Site
from app.refusals import Reason, Refusal
from app.registrations.services import confirmed_count, lock_event_site, refill_site
from app.signals import site_changed
from app.slugs import add_with_new_slug


@dataclass
class SiteInput:
    name: str
    region: str = ""
    address: str = ""
    is_main_venue: bool = False


def create_site(slug: str, data: SiteInput) -> Site:
    """Create a site; sites outlive events and can join any of them."""
    site = Site(slug=slug.strip())
    update_site(site, data)
    add_with_new_slug(site)
    return site


def update_site(site: Site, data: SiteInput) -> Site:
    """Change a site's name, region, address and main-venue flag.

    A new name or address is announced, so the invites that give it follow.
    """
    place = (site.name, site.address)
    site.name = data.name.strip()
    site.region = data.region.strip()
    site.address = data.address.strip()
    site.is_main_venue = data.is_main_venue
    # A site being created has no invites yet.
    if site.id is not None and (site.name, site.address) != place:
        site_changed.send(site)
    return site


def all_sites() -> list[Site]:
    """Every site, the main venue first."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.is_main_venue.desc(), Site.name)))


def sites_not_in(event: Event) -> list[Site]:
    """Sites that could still join this event."""
    taken = {es.site_id for es in event.event_sites}
    return [site for site in all_sites() if site.id not in taken]


def _check_capacity(capacity: int) -> None:
    if capacity < 0:
        raise Refusal(Reason.INVALID, _("The capacity cannot be negative."), "capacity")


def add_event_site(event: Event, site: Site, capacity: int) -> EventSite:
    """Let a site take part in an event with a number of seats."""
    if any(es.site_id == site.id for es in event.event_sites):
        raise Refusal(Reason.TAKEN, _("This site already takes part in this event."), "site")
    _check_capacity(capacity)
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
    _check_capacity(capacity)
    # Lock first, so a registration arriving now cannot slip under the new limit.
    lock_event_site(event_site.id)
    confirmed = confirmed_count(event.id, event_site.site_id)
    if capacity < confirmed:
        raise Refusal(
            Reason.CONFLICT,
            _(
                "%(site)s already has %(count)d confirmed people; the capacity cannot be "
                "lower. Cancel or move people first.",
                site=event_site.site.name,
                count=confirmed,
            ),
            "capacity",
        )
    grew = capacity > event_site.capacity
    event_site.capacity = capacity
    db.session.flush()
    return refill_site(event, event_site.site_id) if grew else []


def remove_event_site(event: Event, event_site: EventSite) -> Site:
    """Take a site out of an event, only while no registration refers to it."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count(Registration.id))
        .where(Registration.event_id == event.id, Registration.site_id == event_site.site_id)
        .group_by(Registration.status)
    ).all()
    counts = {status: number for status, number in rows}
    active = sum(n for status, n in counts.items() if status != RegistrationStatus.CANCELLED)
    if active:
        raise Refusal(
            Reason.CONFLICT,
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
        raise Refusal(
            Reason.CONFLICT,
            _(
                "%(site)s has cancelled registrations on record, so it stays in the event. "
                "Set its capacity to 0 to take no more people.",
                site=event_site.site.name,
            ),
        )
    site = event_site.site
    event.event_sites.remove(event_site)
    db.session.flush()
    return site
