"""Registering people from the door or a script: walk-ins, admitted at once, and staff sign-ups.

Both go through the registration rules (capacity, the waitlist) and, for a
walk-in, through the same admission as a scanned badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.auth.access import can_access_site
from app.checkin.services import CheckinOutcome, admit_checkin, replayed_outcome
from app.extensions import db
from app.models import CheckInMethod, Event, Mode, Registration, RegistrationStatus, Site, StaffUser
from app.refusals import Reason, Refusal
from app.registrations.services import RegistrationInput, register_participant


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
    method: CheckInMethod = CheckInMethod.WALK_IN,
    device: str = "",
    now: datetime | None = None,
) -> WalkInOutcome:
    """Register a person who turned up at the door, and admit them at once.

    ``method`` is ``paper`` for a walk-in written on a sign-in sheet's blank row.

    At a full site nothing is written: the answer is ``site_full``, since a
    walk-in cannot wait on a list while standing in the room. An email that
    is already registered is refused with ``already_registered``; the
    coordinator then checks that person in by name instead.
    """
    if not can_access_site(user, site.id):
        raise Refusal(Reason.FORBIDDEN, _("You may not check people in at this site."))
    # A walk-in re-sent from an offline queue: answer as the first time.
    replayed = replayed_outcome(event, client_id, user)
    if replayed is not None:
        if replayed.registration is None or replayed.checkin.method != method:
            raise Refusal(
                Reason.INVALID,
                _("This client_id was already used for something else."),
                "client_id",
            )
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
        method=method,
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
            raise Refusal(
                Reason.UNKNOWN_SITE, _("This site does not take part in this event."), "site"
            )
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
