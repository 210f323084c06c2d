"""Hostile input: NUL bytes and control characters, the login redirect, replayed client_ids,
and integers out of bounds. Each answers with a clear 4xx or a message at its field, never
a 500, and writes nothing.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkin.services import admit_checkin
from app.extensions import db
from app.models import (
    ApiToken,
    CheckIn,
    Registration,
    Reminder,
    Role,
    Site,
    hash_api_token,
    utcnow,
)
from app.web import int_arg, parse_int
from tests.conftest import (
    PASSWORD,
    Auth,
    bearer,
    checkin_rows,
    csrf_token_from,
    get_csrf,
    make_event,
    make_registration,
    make_staff,
    new_id,
    post_checkin,
    token_for,
)

FIXTURES = Path(__file__).parent / "fixtures"
NUL_MESSAGE = "The request contains a NUL character, which is not allowed."
CONTROL_MESSAGE = "Remove the control characters from this text."


def database_snapshot() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request wrote nothing."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(row) for row in connection.execute(table.select()))
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def world(app) -> dict[str, str]:
    """An event with a person, a check-in, reminders and an API token: values for every URL."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    admin = make_staff("admin@example.org", Role.ADMIN)
    coordinator = make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    not_arrived = make_registration(event, name="Jeren Ataýewa", site="ahal")
    checkin = admit_checkin(event, person.site, person.badge_code, new_id(), admin).checkin
    reminders = Reminder.defaults_for(event)
    token = ApiToken(user=coordinator, token_hash=hash_api_token("not-used"), label="door")
    db.session.add_all([*reminders, token])
    db.session.commit()
    return {
        "slug": event.slug,
        "token": person.manage_token,
        "site_slug": "ahal",
        "client_id": checkin.client_id,
        "registration_id": str(person.id),
        "site_id": str(person.site_id),
        "item_id": str(event.agenda_items[0].id),
        "user_id": str(coordinator.id),
        "token_id": str(token.id),
        "reminder_id": str(reminders[0].id),
        "filename": "css/app.css",
        "code": not_arrived.badge_code,
    }


def build_path(rule, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, f"{rule.endpoint} ({rule.rule}) needs a value for <{name}>"
        return values[name]

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule.rule)


def assert_refused_for_nul(response, path: str, detail: str = "") -> None:
    """400 with the API's error JSON under /api/, else the error page, both saying why."""
    where = f"{path} {detail}".strip()
    assert response.status_code == 400, (where, response.status_code)
    if urlsplit(path).path.startswith("/api/"):
        assert response.is_json, where
        body = response.get_json()
        assert (body["status"], body["reason"]) == ("error", "bad_request"), where
        assert body["message"] == NUL_MESSAGE, where
    else:
        assert NUL_MESSAGE in response.get_data(as_text=True), where


# --- NUL bytes: every route, every form, the API -----------------------------------


def test_a_nul_in_any_path_part_or_the_query_string_answers_400_and_writes_nothing(
    app, client, auth, world
):
    auth.login("admin@example.org")
    before = database_snapshot()
    tried = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        paths = [build_path(rule, world) + "?q=a%00b", build_path(rule, world) + "?site=%00"]
        for argument in rule.arguments:
            paths.append(build_path(rule, {**world, argument: "%00"}))
        for path in paths:
            assert_refused_for_nul(client.get(path), path)
            tried.append(path)
    assert len(tried) > 120
    assert database_snapshot() == before


def test_a_nul_in_a_path_part_of_the_other_methods_answers_400(app, client, auth, world):
    auth.login("admin@example.org")
    token = get_csrf(client, "/manage/")
    before = database_snapshot()
    tried = 0
    for rule in app.url_map.iter_rules():
        for method in rule.methods & {"POST", "DELETE"}:
            for argument in rule.arguments:
                path = build_path(rule, {**world, argument: "%00"})
                response = client.open(
                    path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
                )
                assert_refused_for_nul(response, path, method)
                tried += 1
    assert tried > 20
    assert database_snapshot() == before


class FormFinder(HTMLParser):
    """The forms of a page, each with the (name, value) pairs a browser would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name")
        if tag == "form":
            self._form = {
                "action": attributes.get("action", ""),
                "method": attributes.get("method", "get").lower(),
                "enctype": attributes.get("enctype", ""),
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is None or not name:
            if tag == "option" and self._select and self._select_value is None:
                self._select_value = attributes.get("value", "")
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in ("file", "submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self._form["fields"].append((name, attributes.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = name, None
        elif tag == "textarea":
            self._textarea = name
            self._form["fields"].append((name, ""))
        if tag == "option" and self._select and "selected" in attributes:
            self._select_value = attributes.get("value", "")

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            name, text = self._form["fields"][-1]
            self._form["fields"][-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            self._form["fields"].append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms_of(page_url: str, html: str):
    """(url, enctype, fields) for each form of a page that posts."""
    finder = FormFinder()
    finder.feed(html)
    for form in finder.forms:
        if form["method"] == "post":
            yield urljoin(page_url, form["action"] or page_url), form["enctype"], form["fields"]


def pages_with_forms(app, client, values: dict[str, str]):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = build_path(rule, values)
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            yield url, response.get_data(as_text=True)


def upload_report(client, slug: str):
    """The preview of an uploaded Zoom report: the page with the confirmation form."""
    url = f"/manage/events/{slug}/attendance/import"
    response = client.post(
        url,
        data={
            "csrf_token": get_csrf(client, url),
            "report": (io.BytesIO((FIXTURES / "zoom_participants.csv").read_bytes()), "z.csv"),
            "threshold": "50",
            "threshold_unit": "percent",
            "timezone": "Asia/Ashgabat",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return url + "/confirm", response.get_data(as_text=True)


def sweep_forms(client, pages) -> set:
    """Send every form once per field, with a NUL in that field; return the forms sent."""
    sent = set()
    for page_url, html in pages:
        for url, enctype, fields in post_forms_of(page_url, html):
            key = (url, tuple(name for name, _value in fields))
            if key in sent:
                continue
            sent.add(key)
            before = database_snapshot()
            targets = [i for i, (name, _v) in enumerate(fields) if not name.endswith("csrf_token")]
            for index in targets or [i for i, (name, _v) in enumerate(fields)]:
                name = fields[index][0]
                poisoned = [
                    (n, f"{v}\x00x" if i == index else v) for i, (n, v) in enumerate(fields)
                ]
                data = MultiDict(poisoned)
                response = client.post(url, data=data, content_type=enctype or None)
                assert_refused_for_nul(response, url, f"field {name}")
            assert database_snapshot() == before, url
    return sent


def test_a_nul_in_any_field_of_any_form_answers_400_and_writes_nothing(app, client, world):
    # Signed out: the login form, the registration form and the personal page.
    public = sweep_forms(client, pages_with_forms(app, client, world))
    assert {urlsplit(url).path for url, _names in public} >= {
        "/manage/login",
        "/events/seminar/register",
        f"/r/{world['token']}",
    }

    # Signed in as an admin: every staff form, the import's confirmation included.
    Auth(client).login("admin@example.org")
    pages = [*pages_with_forms(app, client, world), upload_report(client, world["slug"])]
    staff = sweep_forms(client, pages)
    assert len(staff) > 25
    assert any(url.endswith("/attendance/import/confirm") for url, _names in staff)


def checkin_body(world) -> dict:
    return {
        "code": world["code"],
        "site": "ahal",
        "client_id": new_id(),
        "device": "Door phone",
        "method": "qr",
        "scanned_at": utcnow().isoformat(),
    }


def walk_in_body(world) -> dict:
    return {
        "name": "Merdan Annaýew",
        "email": "merdan@example.org",
        "site": "ahal",
        "organization": "Ahal centre",
        "position": "Lawyer",
        "phone": "+993 12 345678",
        "language": "tk",
        "org_kind": "public",
        "gender": "male",
        "mode": "in_person",
        "check_in": True,
        "client_id": new_id(),
    }


API_BODIES = {
    "/api/v1/events/seminar/checkins": checkin_body,
    "/api/v1/events/seminar/registrations": walk_in_body,
}


def with_nul(body: dict, field: str) -> dict:
    """The body with a NUL in one string field, in a key, or deep inside a nested value."""
    if field == "a key":
        return {**body, "extra\x00": "x"}
    if field == "a nested value":
        return {**body, "extra": [{"deep": ["a\x00"]}]}
    value = body[field]
    return {**body, field: value[:3] + "\x00" + value[3:]}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (path, field)
        for path, make_body in API_BODIES.items()
        for field in [
            *(name for name, value in make_body({"code": ""}).items() if isinstance(value, str)),
            "a key",
            "a nested value",
        ]
    ],
)
def test_a_nul_in_an_api_body_answers_400_json_and_writes_nothing(
    app, client, world, organizer, path, field
):
    token = token_for(organizer)
    body = API_BODIES[path](world)
    before = database_snapshot()
    poisoned = with_nul(body, field)
    assert_refused_for_nul(client.post(path, json=poisoned, headers=bearer(token)), path)
    # The API reads any body as JSON, whatever its content type.
    raw = json.dumps(poisoned).encode()
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        response = client.post(path, data=raw, content_type=content_type, headers=bearer(token))
        assert_refused_for_nul(response, path)
    assert database_snapshot() == before

    # Without the NUL the same body is admitted: only the NUL was refused.
    assert client.post(path, json=body, headers=bearer(token)).status_code == 201


def test_json_nested_too_deeply_to_parse_answers_400(client, world, organizer):
    response = client.post(
        "/api/v1/events/seminar/checkins",
        data="[" * 100_000,
        content_type="application/json",
        headers=bearer(token_for(organizer)),
    )
    assert response.status_code == 400
    assert response.get_json()["status"] == "error"


# --- control characters in names and one-line texts ---------------------------------


def registration_form(client, **overrides) -> dict:
    data = {
        "csrf_token": get_csrf(client, "/events/seminar/register"),
        "participation": "ahal",
        "name": "Ňurgeldi Şükürow",
        "email": "nurgeldi@example.org",
        "phone": "+993 12 345678",
        "organization": "Ahal information centre",
        "position": "Head of centre",
        "org_kind": "info_centre",
        "gender": "male",
        "language": "tk",
        "consent": "y",
    }
    return {**data, **overrides}


def registrations() -> list[Registration]:
    return db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()


@pytest.mark.parametrize("character", ["\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f"])
@pytest.mark.parametrize("field", ["name", "organization", "position"])
def test_control_characters_in_the_registration_form_get_a_message_at_the_field(
    client, app, field, character
):
    make_event("seminar")
    value = f"Ahal{character}centre"
    response = client.post(
        "/events/seminar/register", data=registration_form(client, **{field: value})
    )
    assert response.status_code == 200
    assert f'id="{field}-error">{CONTROL_MESSAGE}</p>' in response.get_data(as_text=True)
    assert registrations() == []


def test_control_characters_in_staff_forms_get_a_message_at_the_field(
    client, app, signed_in_organizer
):
    event = make_event("seminar")
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    site = db.session.scalar(sa.select(Site).where(Site.slug == "ahal"))

    url = f"/manage/sites/{site.id}/edit"
    response = client.post(
        url,
        data={"csrf_token": get_csrf(client, url), "name": "Ahal\x1b[31m", "region": "Ahal"},
    )
    assert f'id="name-error">{CONTROL_MESSAGE}</p>' in response.get_data(as_text=True)

    url = f"/manage/events/seminar/registrations/{person.id}"
    response = client.post(
        url,
        data={
            "csrf_token": get_csrf(client, url),
            "participation": "ahal",
            "name": "Aýna\x07Orazowa",
            "email": person.email,
            "org_kind": "state",
            "language": "en",
        },
    )
    assert f'id="name-error">{CONTROL_MESSAGE}</p>' in response.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Ahal information centre"
    assert db.session.get(Registration, person.id).name == "Aýna Orazowa"


def test_tabs_and_ordinary_text_are_still_accepted(client, app):
    make_event("seminar")
    response = client.post(
        "/events/seminar/register",
        data=registration_form(client, name="Ňurgeldi Şükürow", position="Head\tof centre"),
    )
    assert response.status_code == 302
    assert [r.name for r in registrations()] == ["Ňurgeldi Şükürow"]


@pytest.mark.parametrize("field", ["name", "organization", "position", "phone"])
def test_control_characters_in_an_api_registration_get_422_at_the_field(
    client, world, organizer, field
):
    body = {**walk_in_body(world), "check_in": False, field: "Ahal\x1bcentre"}
    response = client.post(
        "/api/v1/events/seminar/registrations", json=body, headers=bearer(token_for(organizer))
    )
    assert response.status_code == 422
    answer = response.get_json()
    assert (answer["reason"], answer["field"]) == ("invalid", field)
    assert len(registrations()) == 2

    body[field] = "Ahal centre"
    answer = client.post(
        "/api/v1/events/seminar/registrations", json=body, headers=bearer(token_for(organizer))
    )
    assert answer.status_code == 201


# --- the redirect after signing in ---------------------------------------------------


def sign_in(client, next_target: str):
    make_staff("organizer@example.org")
    return client.post(
        f"/manage/login?next={next_target}",
        data={
            "email": "organizer@example.org",
            "password": PASSWORD,
            "csrf_token": get_csrf(client, "/manage/login"),
        },
    )


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D/evil.example",
        "%09//evil.example",
        "%20//evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "/%5C/evil.example",
        "///evil.example",
        "https:evil.example",
        "https://evil.example/manage/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_signing_in_never_redirects_to_another_site(client, app, target):
    response = sign_in(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/"


def test_signing_in_returns_to_the_page_asked_for(client, app):
    response = sign_in(client, "/manage/sites%3Fpage%3D2")
    assert response.headers["Location"] == "/manage/sites?page=2"


# --- replaying a client_id -----------------------------------------------------------


@pytest.fixture
def two_sites(app):
    event = make_event("seminar", {"mary": 20, "lebap": 20})
    mary = make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    lebap = make_staff("lebap@example.org", Role.COORDINATOR, sites=("lebap",))
    person = make_registration(event, name="Maral Secretowa", site="mary", organization="Mary NGO")
    return event, person, token_for(mary), token_for(lebap)


def assert_taken_and_revealing_nothing(response) -> None:
    assert response.status_code == 409
    body = response.get_json()
    assert (body["status"], body["reason"], body["field"]) == ("error", "taken", "client_id")
    text = response.get_data(as_text=True)
    for secret in ("Maral", "Secretowa", "Mary", "mary", "manage_url", "checkin"):
        assert secret not in text, secret


def test_a_client_id_of_another_sites_checkin_answers_409_revealing_nothing(client, two_sites):
    _event, person, mary_token, lebap_token = two_sites
    client_id = new_id()
    first = post_checkin(
        client, mary_token, code=person.badge_code, site="mary", client_id=client_id
    )
    assert first.status_code == 201

    for code in ("x", person.badge_code):
        replay = post_checkin(client, lebap_token, code, "lebap", client_id=client_id)
        assert_taken_and_revealing_nothing(replay)
    assert len(checkin_rows()) == 1

    # Its own coordinator still gets the first answer back.
    again = post_checkin(
        client, mary_token, code=person.badge_code, site="mary", client_id=client_id
    )
    assert again.status_code == 200
    assert again.get_json()["registration"]["name"] == "Maral Secretowa"


def test_a_client_id_of_another_event_answers_409(client, two_sites):
    event, person, mary_token, _lebap_token = two_sites
    other = make_event("other", {"mary": 20})
    client_id = new_id()
    path = f"/api/v1/events/{other.slug}/checkins"
    other_person = make_registration(other, name="Other Person", site="mary")
    body = {"code": other_person.badge_code, "site": "mary", "client_id": client_id}
    assert client.post(path, json=body, headers=bearer(mary_token)).status_code == 201

    replay = post_checkin(
        client, mary_token, code=person.badge_code, site="mary", client_id=client_id
    )
    assert replay.status_code == 409
    assert replay.get_json()["reason"] == "taken"
    assert "Other Person" not in replay.get_data(as_text=True)


def test_a_walk_in_client_id_of_another_site_answers_409_revealing_nothing(client, two_sites):
    _event, _person, mary_token, lebap_token = two_sites
    client_id = new_id()
    walk_in = {
        "name": "Maral Secretowa",
        "email": "walk-in@example.org",
        "site": "mary",
        "check_in": True,
        "client_id": client_id,
    }
    path = "/api/v1/events/seminar/registrations"
    assert client.post(path, json=walk_in, headers=bearer(mary_token)).status_code == 201

    replay = {**walk_in, "name": "Anyone", "email": "anyone@example.org", "site": "lebap"}
    response = client.post(path, json=replay, headers=bearer(lebap_token))
    assert_taken_and_revealing_nothing(response)
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 1


# --- integers from requests ----------------------------------------------------------


def test_the_integer_parser_takes_ascii_digits_within_bounds_only(app):
    assert parse_int("42") == 42
    assert parse_int(" 7 ") == 7
    for text in ("²", "٣", "1_000", "4e2", "+3", "-1", "", None, "9" * 20, "9" * 5000):
        assert parse_int(text) is None, text
    assert parse_int("-1", minimum=-5) == -1
    assert parse_int("11", maximum=10) is None
    with app.test_request_context("/?page=²&size=3&big=99999999999999999999"):
        assert int_arg("page", 1, minimum=1, maximum=100) == 1
        assert int_arg("size", 1, minimum=1, maximum=100) == 3
        assert int_arg("big", 5, minimum=1, maximum=100) == 5
        assert int_arg("missing", 9) == 9


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000, "²", "-7"])
def test_a_page_number_out_of_bounds_shows_a_page(client, app, signed_in_organizer, page):
    event = make_event("seminar")
    make_registration(event, name="Aýna Orazowa", site="ahal")
    response = client.get(f"/manage/events/seminar/registrations?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["²", "9" * 5000, "99999999999999999999", "-3", "1e3"])
def test_a_hand_match_that_is_no_registration_id_is_ignored(
    client, app, signed_in_organizer, value
):
    from datetime import UTC, datetime

    make_event("seminar", starts_at=datetime(2025, 3, 14, 5, 0, tzinfo=UTC))
    confirm_url, html = upload_report(client, "seminar")
    key = re.search(r'data-unmatched="([0-9a-f]+)"', html).group(1)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf_token_from(html), "payload": payload, f"match-{key}": value}

    preview = client.post(confirm_url, data={**data, "preview": "1"})
    assert preview.status_code == 200
    assert f'data-unmatched="{key}"' in preview.get_data(as_text=True)

    done = client.post(confirm_url, data={**data, "confirm": "1"})
    assert done.status_code == 302
    assert checkin_rows() == []
