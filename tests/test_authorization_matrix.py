"""Every staff page and API endpoint, for every role, against an allowed and a foreign site.

The routes come from ``app.url_map``, so a route added later is covered as
soon as it is classified in ``ACCESS`` below; an unclassified one fails
``test_every_staff_and_api_route_is_classified`` by name.

The event takes place at two sites, Ahal (A) and Balkan (B). The people of
site A carry the marker ``Secretname`` in their names; a coordinator of site B
must never see it, in any page, JSON answer or download.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

import openpyxl
import PIL.Image
import pypdf
import pytest
import sqlalchemy as sa

from app.checkin.services import admit_checkin
from app.extensions import db
from app.models import (
    ApiToken,
    Certificate,
    CheckIn,
    Registration,
    Reminder,
    Role,
    hash_api_token,
)
from tests.conftest import Auth, csrf_token_from, make_event, make_registration, make_staff

PUBLIC = "public"  # anyone, signed in or not
STAFF = "staff"  # every staff member; coordinators only for their own sites
ORGANIZER = "organizer"  # organisers and admins; coordinators get 403
ADMIN = "admin"  # admins only

#: Who may use each route under /manage/ and /api/.
ACCESS: dict[str, str] = {
    "auth.login": PUBLIC,
    "auth.logout": STAFF,
    "auth.logout_everywhere": STAFF,
    "privacy.audit_log": ADMIN,
    "privacy.anonymise_event_view": ORGANIZER,
    "privacy.erase_registration_view": ORGANIZER,
    "events_manage.index": STAFF,
    "events_manage.new_event": ORGANIZER,
    "events_manage.edit_event": ORGANIZER,
    "sites.sites": ORGANIZER,
    "sites.new_site": ORGANIZER,
    "sites.edit_site": ORGANIZER,
    "sites.event_sites": ORGANIZER,
    "sites.set_capacity": ORGANIZER,
    "sites.remove_site": ORGANIZER,
    "events_manage.agenda": ORGANIZER,
    "events_manage.edit_agenda_item": ORGANIZER,
    "events_manage.delete_agenda_item": ORGANIZER,
    "registrations_manage.registrations": ORGANIZER,
    "registrations_manage.edit_registration": ORGANIZER,
    "registrations_manage.cancel_registration_view": ORGANIZER,
    "messages.campaigns": ORGANIZER,
    "messages.campaign_status": ORGANIZER,
    "messages.new_campaign": ORGANIZER,
    "messages.resend": ORGANIZER,
    "reminders.reminders": ORGANIZER,
    "reminders.update_reminder": ORGANIZER,
    "reminders.remove_reminder": ORGANIZER,
    "staff.staff": ADMIN,
    "staff.new_staff": ADMIN,
    "staff.edit_staff": ADMIN,
    "staff.reset_password": ADMIN,
    "staff.revoke_token": ADMIN,
    "checkin.service_worker": PUBLIC,
    "checkin.choose_site": STAFF,
    "checkin.site_page": STAFF,
    "checkin.manifest": STAFF,
    "checkin.upload_queue": STAFF,
    "attendance.dashboard": STAFF,
    "attendance.dashboard_data": STAFF,
    "attendance.attendance_csv": STAFF,
    "attendance.attendance_xlsx": STAFF,
    "attendance.attendance_pdf": STAFF,
    "attendance.registrations_csv": STAFF,
    "attendance.registrations_xlsx": STAFF,
    "attendance.report": ORGANIZER,
    "attendance.report_download": ORGANIZER,
    "attendance.report_pdf": ORGANIZER,
    "attendance.completion": ORGANIZER,
    "attendance.completion_csv": ORGANIZER,
    "attendance.import_report": ORGANIZER,
    "attendance.confirm_import": ORGANIZER,
    "attendance.paper_sheet": STAFF,
    "attendance.undo_paper_checkin": STAFF,
    "certificates.manage": ORGANIZER,
    "certificates.issue": ORGANIZER,
    "certificates.revoke_stale": ORGANIZER,
    "certificates.revoke": ORGANIZER,
    "certificates.settings": ORGANIZER,
    "certificates.remove_signature": ORGANIZER,
    "certificates.signature": ORGANIZER,
    "certificates.sheet": ORGANIZER,
    "invites.badge_sheet": STAFF,
    "api.openapi": PUBLIC,
    "api.create_checkin": STAFF,
    "api.delete_checkin": STAFF,
    "api.create_registration": STAFF,
    "api.find_registrations": STAFF,
    "api.roster": STAFF,
    "api.attendance": STAFF,
}

#: Staff routes that list people and take ?site=<slug> to narrow the list to one site.
PEOPLE_BY_SITE = {
    "attendance.attendance_csv",
    "attendance.attendance_xlsx",
    "attendance.attendance_pdf",
    "attendance.registrations_csv",
    "attendance.registrations_xlsx",
    "invites.badge_sheet",
    "attendance.paper_sheet",
    "api.find_registrations",
    "api.roster",
}

#: Staff routes that take ?site=<slug>: naming a foreign site answers 403 or 404.
SITE_QUERY = PEOPLE_BY_SITE | {
    "attendance.dashboard",
    "attendance.dashboard_data",
    "api.attendance",
}

#: Extra query arguments a route needs to show anything.
EXTRA_QUERY = {"api.find_registrations": {"q": "secretname"}}

#: Routes where a coordinator of site A must see site A's people: proves the leak check reads
#: each format (HTML, JSON, CSV, XLSX, PDF) and would notice a name.
SHOWS_PEOPLE = PEOPLE_BY_SITE | {"checkin.site_page"}

MARKER = "Secretname"
SAFE = {"GET"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def add_defaults(event):
    """The event's default reminders, added as creating an event adds them."""
    reminders = Reminder.defaults_for(event)
    db.session.add_all(reminders)
    return reminders


@dataclass
class World:
    event_slug: str
    site_a: str
    site_b: str
    values: dict[str, str]
    checkin_a: str
    code_a: str


@pytest.fixture
def world(app) -> World:
    event = make_event("matrix", {"ahal": 20, "balkan": 20})
    make_staff("admin@example.org", Role.ADMIN)
    organizer = make_staff("organizer@example.org", Role.ORGANIZER)
    coordinator_a = make_staff("coord-a@example.org", Role.COORDINATOR, sites=("ahal",))
    make_staff("coord-b@example.org", Role.COORDINATOR, sites=("balkan",))
    person_a = make_registration(
        event,
        name=f"Aýna {MARKER}",
        email="a1@example.org",
        site="ahal",
        organization="Ahal hidden organisation",
    )
    make_registration(event, name=f"Merdan {MARKER}ow", email="a2@example.org", site="ahal")
    make_registration(event, name="Berdi Balkanly", email="b1@example.org", site="balkan")
    checkin = admit_checkin(
        event, person_a.site, person_a.badge_code, str(uuid.uuid4()), organizer
    ).checkin
    [reminder, _later] = add_defaults(event)
    token = ApiToken(user=coordinator_a, token_hash=hash_api_token("not-used"), label="door")
    db.session.add(token)
    # A certificate and a signature, so that the certificates' pages have something to show.
    db.session.add(Certificate(event=event, registration=person_a))
    signature = io.BytesIO()
    PIL.Image.new("RGB", (40, 20), "white").save(signature, "PNG")
    event.certificate_signature = signature.getvalue()
    event.certificate_signature_type = "image/png"
    db.session.commit()
    values = {
        "slug": event.slug,
        "site_slug": "ahal",
        "client_id": checkin.client_id,
        "registration_id": str(person_a.id),
        "site_id": str(person_a.site_id),
        "item_id": str(event.agenda_items[0].id),
        "user_id": str(coordinator_a.id),
        "token_id": str(token.id),
        "reminder_id": str(reminder.id),
    }
    return World(event.slug, "ahal", "balkan", values, checkin.client_id, person_a.badge_code)


def staff_and_api_rules(app):
    return [
        rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/manage/", "/api/"))
    ]


def test_every_staff_and_api_route_is_classified(app):
    missing = sorted(
        f"{rule.endpoint} ({rule.rule})"
        for rule in staff_and_api_rules(app)
        if rule.endpoint not in ACCESS
    )
    assert not missing, (
        "Classify these routes in ACCESS in tests/test_authorization_matrix.py "
        "(public, staff, organizer or admin): " + ", ".join(missing)
    )
    stale = sorted(set(ACCESS) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"ACCESS names routes that no longer exist: {stale}"


def build_path(rule, values: dict[str, str]) -> str:
    names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule.rule)
    unknown = [name for name in names if name not in values]
    assert not unknown, (
        f"{rule.endpoint} ({rule.rule}) has URL parts the matrix cannot fill: {unknown}; "
        "add a value for them in the world fixture"
    )
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


def with_query(path: str, query: dict[str, str]) -> str:
    if not query:
        return path
    return path + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def visible_text(response) -> str:
    """What a person could read in the answer, whatever its format."""
    data = response.get_data()
    text = response.headers.get("Location", "")
    if response.mimetype == "application/pdf" and data.startswith(b"%PDF"):
        reader = pypdf.PdfReader(io.BytesIO(data))
        return text + "\n".join(page.extract_text() or "" for page in reader.pages)
    if "spreadsheetml" in response.mimetype and data.startswith(b"PK"):
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        workbook.close()
        return text + "\n".join(cells)
    return text + data.decode("utf-8", "replace")


def api_body(endpoint: str, world: World) -> dict:
    """A well-formed body for the API's write endpoints, acting on site A."""
    if endpoint == "api.create_checkin":
        return {
            "code": world.code_a,
            "site": world.site_a,
            "client_id": str(uuid.uuid4()),
            "force": True,
        }
    if endpoint == "api.create_registration":
        return {
            "name": "Intruder",
            "email": "intruder@example.org",
            "site": world.site_a,
            "check_in": True,
            "client_id": str(uuid.uuid4()),
        }
    return {}


ROLES = {
    "anonymous": None,
    "admin": "admin@example.org",
    "organizer": "organizer@example.org",
    "coordinator_a": "coord-a@example.org",
    "coordinator_b": "coord-b@example.org",
}


def signed_in_client(app, email: str | None):
    client = app.test_client()
    if email:
        response = Auth(client).login(email)
        assert response.status_code == 302, f"could not sign in {email}"
        page = client.get("/manage/login", follow_redirects=True)
    else:
        page = client.get("/manage/login")
    return client, csrf_token_from(page.get_data(as_text=True))


def allowed(role: str, access: str) -> bool:
    if access == PUBLIC:
        return True
    if role == "anonymous":
        return False
    if access == ADMIN:
        return role == "admin"
    if access == ORGANIZER:
        return role in ("admin", "organizer")
    return True


def snapshot() -> tuple:
    """Counts that any write would change."""
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Registration, CheckIn)
    ) + (
        db.session.scalar(
            sa.select(sa.func.count(CheckIn.id)).where(CheckIn.annulled_at.is_not(None))
        ),
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_gets_only_what_it_may(app, world, role):
    client, csrf = signed_in_client(app, ROLES[role])
    before = snapshot()
    problems: list[str] = []

    for rule in sorted(staff_and_api_rules(app), key=lambda r: r.rule):
        access = ACCESS.get(rule.endpoint)
        if access is None:
            continue  # reported by test_every_staff_and_api_route_is_classified
        is_api = rule.rule.startswith("/api/")
        path = build_path(rule, world.values)
        may = allowed(role, access)

        for method in sorted(rule.methods - IGNORED_METHODS):
            foreign_write = role == "coordinator_b" and is_api and access == STAFF
            if method not in SAFE and may and not foreign_write:
                continue  # allowed writes are the features' own tests, not the matrix's
            query = dict(EXTRA_QUERY.get(rule.endpoint, {}))
            if rule.endpoint in SITE_QUERY:
                query["site"] = world.site_a
            url = with_query(path, query)
            headers = {"X-CSRFToken": csrf} if is_api else {}
            kwargs = {}
            if method not in SAFE:
                if is_api:
                    kwargs["json"] = api_body(rule.endpoint, world)
                else:
                    kwargs["data"] = {"csrf_token": csrf}
            response = client.open(url, method=method, headers=headers, **kwargs)
            status = response.status_code
            label = f"{role} {method} {url} -> {status}"

            if role == "anonymous" and not may:
                if is_api:
                    if status != 401 or not response.is_json:
                        problems.append(f"{label}: expected a 401 JSON answer")
                elif status != 302 or "/manage/login" not in response.headers.get("Location", ""):
                    problems.append(f"{label}: expected a redirect to the sign-in page")
            elif not may:
                if status != 403:
                    problems.append(f"{label}: expected 403 for {access}-only")
            elif (
                role == "coordinator_b"
                and access == STAFF
                and (
                    "<site_slug>" in rule.rule or rule.endpoint in SITE_QUERY or method not in SAFE
                )
            ):
                # A site-A URL, or a write acting on site A: refused.
                if status not in (403, 404):
                    problems.append(f"{label}: expected 403 or 404 on a foreign site")
            elif status >= 400:
                problems.append(f"{label}: expected success")

            if role in ("anonymous", "coordinator_b") and MARKER in visible_text(response):
                problems.append(f"{label}: shows site A's people")
            if (
                role == "coordinator_a"
                and rule.endpoint in SHOWS_PEOPLE
                and MARKER not in visible_text(response)
            ):
                problems.append(f"{label}: should list site A's people (leak check blind?)")

        # A coordinator of site B, on the plain URL: whatever it answers, no site-A people.
        if role == "coordinator_b" and "GET" in rule.methods and may:
            plain = with_query(path, EXTRA_QUERY.get(rule.endpoint, {}))
            response = client.get(plain)
            if MARKER in visible_text(response):
                problems.append(f"coordinator_b GET {plain}: shows site A's people")

    db.session.expire_all()
    assert snapshot() == before, "a refused request changed data"
    assert not problems, "\n".join(problems)
