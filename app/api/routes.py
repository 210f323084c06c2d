"""The JSON API under /api/v1, for scanners and scripts.

Every answer is JSON, errors included: ``{"status": "error", "reason": ...,
"message": ...}`` with a 4xx status. The contract is described by
``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from app.api.auth import (
    api_user,
    authenticate,
    caller_door,
    resolves_token_itself,
    token_refused,
)
from app.api.openapi import CLIENT_ID_PATTERN, openapi_spec
from app.api.serializers import (
    checkin_to_dict,
    entry_to_dict,
    manage_url,
    outcome_status,
    outcome_to_dict,
    registration_to_dict,
    roster_to_dict,
)
from app.attendance.counting import parse_day
from app.attendance.services import site_attendance
from app.auth.access import allowed_site_ids, can_access_site
from app.checkin.roster import (
    event_and_site,
    people_elsewhere,
    roster_changes,
    search_registrations,
    site_roster,
)
from app.checkin.services import admit_at_door, counted_session_at, undo_checkin
from app.checkin.walk_ins import register_walk_in, staff_register
from app.database import autocommit_unless_in_transaction, retry_if_connection_lost
from app.extensions import db
from app.guards import has_control_character
from app.models import CheckInMethod, Event, Gender, Mode, OrgKind, Site, utcnow
from app.refusals import Reason, Refusal
from app.registrations.services import RegistrationInput
from app.timezones import parse_iso_time

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)

#: A device-generated id: a UUID, or anything of that shape and size.
CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
SEARCH_LIMIT = 20
EARLIEST_CURSOR = datetime(2000, 1, 1, tzinfo=UTC)
#: The most digits a session's id may be sent with as a string.
SESSION_DIGITS = 20


#: The HTTP status of each refusal; a reason not listed is a conflict with the data (409).
STATUS_FOR_REASON = {
    Reason.INVALID: 422,
    Reason.UNKNOWN_SITE: 422,
    Reason.NOT_FOUND: 404,
    Reason.FORBIDDEN: 403,
}


#: The registration rules name the form's fields; in a body these are the ones at fault.
BODY_FIELD_FOR_FORM_FIELD = {"participation": "site"}


@bp.errorhandler(Refusal)
def _refused(refusal: Refusal):
    db.session.rollback()
    body = {"status": "error", "reason": str(refusal.reason), "message": refusal.message}
    if refusal.field:
        body["field"] = BODY_FIELD_FOR_FORM_FIELD.get(refusal.field, refusal.field)
    return jsonify(body), STATUS_FOR_REASON.get(refusal.reason, 409)


# --- request parsing ---------------------------------------------------------


def _json_body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise Refusal(Reason.INVALID, _("Send a JSON object as the request body."))
    return body


def _string(body: dict, name: str, *, required: bool = False, max_length: int = 200) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise Refusal(Reason.INVALID, _("%(field)s is required.", field=name), name)
        return ""
    if not isinstance(value, str):
        raise Refusal(Reason.INVALID, _("%(field)s must be a string.", field=name), name)
    # The limit holds for the text as sent, as the description's maxLength says.
    if len(value) > max_length:
        raise Refusal(Reason.INVALID, _("%(field)s is too long.", field=name), name)
    value = value.strip()
    if required and not value:
        raise Refusal(Reason.INVALID, _("%(field)s is required.", field=name), name)
    return value


def _one_line(body: dict, name: str, *, required: bool = False, max_length: int = 200) -> str:
    """A name or other one-line text: a string without control characters (as on the forms)."""
    value = _string(body, name, required=required, max_length=max_length)
    if has_control_character(value):
        raise Refusal(Reason.INVALID, _("%(field)s contains control characters.", field=name), name)
    return value


def _boolean(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Refusal(Reason.INVALID, _("%(field)s must be true or false.", field=name), name)
    return value


def _client_id(body: dict) -> str:
    value = body.get("client_id")
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        raise Refusal(
            Reason.INVALID,
            _("client_id must be a string of 8 to 64 letters, digits or dashes, like a UUID."),
            "client_id",
        )
    return value


def _scanned_at(body: dict) -> datetime | None:
    value = body.get("scanned_at")
    if value is None or value == "":
        return None
    moment = parse_iso_time(value)
    if moment is None:
        raise Refusal(Reason.INVALID, _("scanned_at must be an ISO 8601 time."), "scanned_at")
    if moment.tzinfo is None:
        raise Refusal(
            Reason.INVALID,
            _("scanned_at needs a time zone, e.g. 2025-05-20T10:03:00Z."),
            "scanned_at",
        )
    return moment


def _enum(enum_class, body: dict, name: str, default=None):
    raw = body.get(name)
    if raw is None or raw == "":
        return default
    try:
        return enum_class(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        message = _("%(field)s must be one of: %(allowed)s.", field=name, allowed=allowed)
        raise Refusal(Reason.INVALID, message, name) from None


def _device(body: dict) -> str:
    value = body.get("device")
    if value is not None and not isinstance(value, str):
        raise Refusal(Reason.INVALID, _("%(field)s must be a string.", field="device"), "device")
    if value and value.strip():
        return value.strip()[:200]
    return (request.headers.get("X-Device") or request.user_agent.string or "")[:200]


def _session_id(body: dict) -> int | None:
    """The optional ``session``: an agenda item id, as a number or a string of digits."""
    value = body.get("session")
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= SESSION_DIGITS and value.isascii():
        value = int(value) if value.isdigit() else None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)  # 7.0 is the number 7, as JSON Schema has it
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Refusal(
            Reason.INVALID,
            _("session must be the id of an agenda item, a whole number."),
            "session",
        )
    return value


def _event_or_404(slug: str) -> Event:
    event, _site = event_and_site(slug, None)
    if event is None:
        raise Refusal(Reason.NOT_FOUND, _("There is no such event."))
    return event


def _site_param(event: Event, required: bool) -> Site | None:
    """The ?site= of a URL: 404 when not in this event, 403 when not the user's."""
    slug = request.args.get("site", "").strip()
    if not slug:
        if required:
            raise Refusal(Reason.INVALID, _("Give the site: ?site=<slug>."), "site")
        return None
    _event, site = event_and_site(event.slug, slug)
    if site is None:
        raise Refusal(Reason.NOT_FOUND, _("This site does not take part in this event."))
    if not can_access_site(api_user(), site.id):
        raise Refusal(Reason.FORBIDDEN, _("You may not see this site."))
    return site


# --- endpoints ----------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The API's description, OpenAPI 3.1."""
    return jsonify(openapi_spec())


def _if_valid(parse, body: object):
    """What ``parse(body)`` gives, or None where it would refuse: read before the checks."""
    try:
        return parse(body) if isinstance(body, dict) else None
    except Refusal:
        return None


@bp.post("/events/<slug>/checkins")
@resolves_token_itself
def create_checkin(slug: str):
    """Admit the holder of a badge code at a site, or say why not."""
    # Safe to repeat: a try whose connection was lost after its insert committed
    # is answered as a replay of its client_id.
    return retry_if_connection_lost(lambda: _record_checkin(slug))


def _record_checkin(slug: str):
    # Two statements: one reads the caller, the event, its site, the agenda item
    # and the badge with its admissions (caller_door), the other inserts the
    # check-in. A check-in writes that one row, whose INSERT is atomic on its
    # own, and the read sees what is committed, as inside a READ COMMITTED
    # transaction; so a scanner's check-in runs without BEGIN and COMMIT, and
    # the two statements are all that goes on the wire. Signed in with the
    # session cookie, the user was loaded inside a transaction already: then
    # BEGIN and COMMIT go too.
    autocommit_unless_in_transaction()
    # The token is checked first, so a malformed body from an unknown token is
    # answered 401 as before; the site, session and code are read for that
    # statement as the checks below will read them.
    raw = request.get_json(force=True, silent=True)
    site_hint = _if_valid(lambda body: _string(body, "site", required=True, max_length=64), raw)
    code_hint = _if_valid(lambda body: _string(body, "code", required=True, max_length=2000), raw)
    door = caller_door(slug, site_hint or "", _if_valid(_session_id, raw), code_hint)
    if door is None:
        db.session.rollback()
        return token_refused()
    body = _json_body()
    code = _string(body, "code", required=True, max_length=2000)
    _string(body, "site", required=True, max_length=64)
    client_id = _client_id(body)
    force = _boolean(body, "force")
    scanned_at = _scanned_at(body)
    method = _enum(CheckInMethod, body, "method", CheckInMethod.QR)
    if method not in (CheckInMethod.QR, CheckInMethod.SEARCH):
        raise Refusal(Reason.INVALID, _("method must be qr or search."), "method")
    session_id = _session_id(body)
    if door.event is None:
        raise Refusal(Reason.NOT_FOUND, _("There is no such event."))
    if door.site is None:
        raise Refusal(Reason.UNKNOWN_SITE, _("This site does not take part in this event."), "site")
    session = counted_session_at(door) if session_id is not None else None
    outcome = admit_at_door(
        door,
        code,
        client_id,
        scanned_at=scanned_at,
        force=force,
        method=method,
        device=_device(body),
        session=session,
    )
    answer, status = outcome_to_dict(outcome), outcome_status(outcome)
    db.session.commit()
    return jsonify(answer), status


@bp.delete("/events/<slug>/checkins/<client_id>")
def delete_checkin(slug: str, client_id: str):
    """Undo a check-in; it stays on record as annulled."""
    event = _event_or_404(slug)
    checkin = undo_checkin(event, client_id, api_user())
    answer = {"status": "ok", "checkin": checkin_to_dict(checkin)}
    db.session.commit()
    return jsonify(answer)


def _registration_input(body: dict, event: Event) -> RegistrationInput:
    name = _one_line(body, "name", required=True, max_length=200)
    email = _one_line(body, "email", required=True, max_length=254)
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Refusal(Reason.INVALID, _("This is not a valid email address."), "email") from None
    site_slug = _string(body, "site", max_length=64) or None
    mode = _enum(Mode, body, "mode", Mode.IN_PERSON if site_slug else Mode.ONLINE)
    language = _string(body, "language", max_length=8) or "en"
    if language not in current_app.config["LANGUAGES"]:
        raise Refusal(Reason.INVALID, _("Unknown language."), "language")
    return RegistrationInput(
        name=name,
        email=email,
        mode=mode,
        site_slug=site_slug if mode == Mode.IN_PERSON else None,
        phone=_one_line(body, "phone", max_length=40),
        organization=_one_line(body, "organization", max_length=300),
        position=_one_line(body, "position", max_length=200),
        org_kind=_enum(OrgKind, body, "org_kind", OrgKind.OTHER),
        gender=_enum(Gender, body, "gender"),
        language=language,
        consent=_boolean(body, "consent"),
    )


@bp.post("/events/<slug>/registrations")
def create_registration(slug: str):
    """Register a walk-in (``check_in: true`` admits them at once) or import a person."""
    body = _json_body()
    event = _event_or_404(slug)
    data = _registration_input(body, event)
    user = api_user()
    walk_in_asked = _boolean(body, "check_in")
    # An import does not use them, but a malformed one is refused rather than ignored.
    client_id = _client_id(body) if walk_in_asked or body.get("client_id") is not None else ""
    scanned_at = _scanned_at(body)
    device = _device(body)
    if walk_in_asked:
        site_slug = _string(body, "site", required=True, max_length=64)
        _event, site = event_and_site(slug, site_slug)
        if site is None:
            raise Refusal(
                Reason.UNKNOWN_SITE,
                _("This site does not take part in this event."),
                "site",
            )
        walk_in = register_walk_in(
            event,
            site,
            data,
            user,
            client_id,
            scanned_at=scanned_at,
            device=device,
        )
        answer = {
            "status": "ok",
            "created": not walk_in.checkin.replayed,
            "code": walk_in.registration.badge_code,
            "manage_url": manage_url(walk_in.registration),
            "registration": registration_to_dict(walk_in.registration),
            "checkin": outcome_to_dict(walk_in.checkin),
        }
        db.session.commit()
        return jsonify(answer), 200 if walk_in.checkin.replayed else 201
    outcome = staff_register(event, data, user)
    answer = {
        "status": "ok",
        "created": outcome.created,
        "code": outcome.registration.badge_code,
        "manage_url": manage_url(outcome.registration),
        "registration": registration_to_dict(outcome.registration),
    }
    db.session.commit()
    return jsonify(answer), 201 if outcome.created else 200


@bp.get("/events/<slug>/registrations")
def find_registrations(slug: str):
    """Search people by name, organisation or email, ignoring case and diacritics."""
    event = _event_or_404(slug)
    site = _site_param(event, required=False)
    query = request.args.get("q", "")[:200]
    site_ids = {site.id} if site else allowed_site_ids(api_user())
    entries = search_registrations(event, site_ids, query, limit=SEARCH_LIMIT)
    return jsonify(
        status="ok",
        query=query,
        results=[entry_to_dict(entry, with_email=True) for entry in entries],
    )


@bp.get("/events/<slug>/roster")
def roster(slug: str):
    """Everyone a scanner at this site needs to know, to work offline."""
    event = _event_or_404(slug)
    site = _site_param(event, required=True)
    since = _since(request.args.get("since"))
    now = utcnow()
    roster = site_roster(event, site)
    changes = roster_changes(event, roster, since) if since else None
    elsewhere = people_elsewhere(event, site, changed_since=since)
    return jsonify(roster_to_dict(event, roster, now, elsewhere, changes))


def _since(value: str | None) -> datetime | None:
    """The ``since`` cursor: the ``cursor`` of an earlier roster answer."""
    if not value:
        return None
    moment = parse_iso_time(value)
    if moment is None or moment.tzinfo is None:
        raise Refusal(
            Reason.INVALID, _("since must be the cursor of an earlier roster answer."), "since"
        )
    # A cursor from before any event means everything; the floor keeps the arithmetic in range.
    return max(moment, EARLIEST_CURSOR)


@bp.get("/events/<slug>/attendance")
def attendance(slug: str):
    """Per site and online: registered, attended and not arrived, for the event or a day."""
    event = _event_or_404(slug)
    site = _site_param(event, required=False)
    day = parse_day(request.args.get("day"))
    site_ids = {site.id} if site else allowed_site_ids(api_user())
    return jsonify(status="ok", **site_attendance(event, site_ids, day).to_dict())
