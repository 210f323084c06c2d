"""The JSON shapes the API answers with; plain functions from models to dicts."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _

from app.checkin.roster import ElsewhereGroup, RosterChanges, RosterEntry, SiteRoster
from app.checkin.services import CheckinOutcome
from app.labels import REFUSAL_REASON, REGISTRATION_STATUS
from app.models import CheckIn, Event, RefusalReason, Registration, Site


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def site_to_dict(site: Site | None) -> dict | None:
    if site is None:
        return None
    return {"slug": site.slug, "name": site.name}


def registration_to_dict(registration: Registration) -> dict:
    """What a door scanner shows about a person: no email, phone or secrets."""
    site = registration.site
    return {
        "name": registration.name,
        "organization": registration.organization,
        "position": registration.position,
        "mode": registration.mode.value,
        "site": site.slug if site else None,
        "site_name": site.name if site else None,
        "status": registration.status.value,
        "status_label": str(REGISTRATION_STATUS[registration.status]),
    }


def checkin_to_dict(checkin: CheckIn) -> dict:
    staff = checkin.staff_user
    return {
        "client_id": checkin.client_id,
        "result": checkin.result.value,
        "reason": checkin.reason.value if checkin.reason else None,
        "method": checkin.method.value,
        "forced": checkin.forced,
        "site": checkin.site.slug if checkin.site else None,
        "site_name": checkin.site.name if checkin.site else None,
        "scanned_at": iso(checkin.scanned_at),
        "received_at": iso(checkin.received_at),
        "staff": (staff.name or staff.email) if staff else None,
        "device": checkin.device,
        "annulled_at": iso(checkin.annulled_at),
    }


def _refusal_message(reason: RefusalReason, registration: Registration | None) -> str:
    if reason == RefusalReason.NOT_ADMITTED and registration is not None:
        return _(
            "Not admitted: the registration is %(status)s.",
            status=str(REGISTRATION_STATUS[registration.status]).lower(),
        )
    return str(REFUSAL_REASON[reason])


def outcome_to_dict(outcome: CheckinOutcome) -> dict:
    """The body of a check-in answer, admitted or refused."""
    reason = outcome.reason
    body: dict = {"status": "ok" if outcome.admitted else "error"}
    if reason is not None:
        body["reason"] = reason.value
        body["message"] = _refusal_message(reason, outcome.registration)
    body["replayed"] = outcome.replayed
    body["checkin"] = checkin_to_dict(outcome.checkin)
    if outcome.registration is not None:
        body["registration"] = registration_to_dict(outcome.registration)
    if outcome.previous is not None:
        body["previous"] = checkin_to_dict(outcome.previous)
    return body


def outcome_status(outcome: CheckinOutcome) -> int:
    """201 for a new admission, 200 for a replayed one, 404 or 409 for refusals."""
    if outcome.admitted:
        return 200 if outcome.replayed else 201
    if outcome.reason == RefusalReason.UNKNOWN_CODE:
        return 404
    return 409


def manage_url(registration: Registration) -> str:
    path = url_for("registrations.manage", token=registration.manage_token)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def entry_to_dict(entry: RosterEntry, *, with_email: bool = False) -> dict:
    """One person on a roster or in search results, with the badge code to check them in."""
    registration = entry.registration
    data = {"code": registration.badge_code, **registration_to_dict(registration)}
    if with_email:
        data["email"] = registration.email
    arrival = entry.arrival
    data["checkin"] = (
        {
            "client_id": arrival.client_id,
            "scanned_at": iso(arrival.scanned_at),
            "site": arrival.site.slug if arrival.site else None,
            "site_name": arrival.site.name if arrival.site else None,
        }
        if arrival is not None
        else None
    )
    return data


def event_to_dict(event: Event) -> dict:
    return {
        "slug": event.slug,
        "title": event.title,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "timezone": event.timezone,
    }


def roster_to_dict(
    event: Event,
    roster: SiteRoster,
    generated_at: datetime,
    elsewhere: list[ElsewhereGroup],
    changes: RosterChanges | None = None,
) -> dict:
    """The whole roster, or with ``changes`` only the people changed and those removed.

    ``elsewhere`` holds the people of other sites (all, or those changed) by code hash.
    ``cursor`` is what to send as ``since`` next time; the counts are always the whole
    site's.
    """
    entries = roster.entries if changes is None else changes.entries
    body = {
        "status": "ok",
        "event": event_to_dict(event),
        "site": site_to_dict(roster.site),
        "generated_at": iso(generated_at),
        "counts": {
            "expected": roster.expected,
            "arrived": roster.arrived,
            "not_arrived": len(roster.not_arrived),
            "from_other_sites": roster.from_other_sites,
        },
        "registrations": [
            {
                # The email too, for searching the list offline as the server searches.
                **entry_to_dict(entry, with_email=True),
                "expected": roster.is_expected(entry),
                "arrived_here": roster.arrived_here(entry),
                "sessions": entry.sessions,
            }
            for entry in entries
        ],
        "elsewhere": [
            {
                "site": group.site_slug,
                "site_name": group.site_name,
                "state": group.state.value,
                "codes": group.code_hashes,
            }
            for group in elsewhere
        ],
        "cursor": iso(generated_at),
    }
    if changes is not None:
        body["removed"] = changes.removed
    return body
