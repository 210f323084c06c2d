"""The staff list of an event's registrations: filters, search and pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Event, Mode, Registration, RegistrationStatus
from app.registrations.search import registrations_matching
from app.text import fold_for_search

REGISTRATIONS_PER_PAGE = 50
#: Pages past the last are empty; far past it, the offset would overflow the database's integers.
MAX_PAGE = 100_000


@dataclass
class RegistrationFilters:
    site_id: int | None = None
    mode: Mode | None = None
    status: RegistrationStatus | None = None
    #: Free text matched against name, organisation and email, ignoring case and accents.
    text: str = ""


def registrations_query(event: Event, filters: RegistrationFilters) -> sa.Select:
    """The event's registrations matching the filters, oldest first (the waitlist order)."""
    words = fold_for_search(filters.text).split()[:8]
    query = (
        sa.select(Registration)
        .where(registrations_matching(event.id, words))
        .options(joinedload(Registration.site))
        .order_by(Registration.created_at, Registration.id)
    )
    if filters.site_id is not None:
        query = query.where(Registration.site_id == filters.site_id)
    if filters.mode is not None:
        query = query.where(Registration.mode == filters.mode)
    if filters.status is not None:
        query = query.where(Registration.status == filters.status)
    return query


def registrations_page(event: Event, filters: RegistrationFilters, page: int) -> SelectPagination:
    """One page of registrations, in two queries however many there are."""
    return db.paginate(
        registrations_query(event, filters),
        page=min(max(page, 1), MAX_PAGE),
        per_page=REGISTRATIONS_PER_PAGE,
        error_out=False,
    )


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


def status_counts(event: Event) -> dict[str, int]:
    """How many registrations an event has in each status."""
    return registration_counts([event.id]).get(event.id, {})
