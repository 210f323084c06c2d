"""The headers every answer carries: the Content-Security-Policy and Permissions-Policy,
no caching of personal pages and files, and 503 with Retry-After while the database is
out of reach.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from werkzeug.routing import Rule

from app import create_app
from app.extensions import db
from app.models import Role
from tests.conftest import (
    PERSONAL_DOWNLOADS,
    Config,
    bearer,
    make_event,
    make_registration,
    make_staff,
    new_id,
    post_form,
    requires_postgres,
)

# --- every answer --------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.fixture
def world(app, auth):
    """A seminar with an in-person and an online participant; an admin signed in."""
    event = make_event()
    in_person = make_registration(event, name="Aýna Orazowa", site="ahal")
    online = make_registration(event, name="Merdan Annaýew", site=None)
    admin = make_staff("admin@example.org", Role.ADMIN, sites=("ahal",))
    values = {
        "slug": event.slug,
        "site_slug": "ahal",
        "token": in_person.manage_token,
        "code": "A" * 32,
        "registration_id": in_person.id,
        "item_id": event.agenda_items[0].id,
        "site_id": in_person.site_id,
        "user_id": admin.id,
        "filename": "css/app.css",
    }
    tokens = {"in_person": in_person.manage_token, "online": online.manage_token}
    db.session.remove()
    auth.login("admin@example.org")
    return values, tokens


def every_get_url(app, values: dict) -> list[str]:
    """One URL for each GET view of the app, its parts filled in from ``values``."""
    adapter = app.url_map.bind("localhost")
    rules: list[Rule] = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    return sorted(
        adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments})
        for rule in rules
    )


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy refuses to run or apply."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            # A data block (application/json) is never run, so the policy allows it.
            if attributes.get("type") != "application/json":
                self.found.append("an inline <script>")
        if tag == "style":
            self.found.append("a <style> block")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            elif name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            elif name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"a javascript: URL on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_every_answer_carries_the_content_security_policy_and_permissions_policy(
    app, client, world
):
    values, _tokens = world
    urls = every_get_url(app, values) + [
        "/no-such-page",
        "/api/v1/no-such-thing",
        "/static/js/checkin/main.js",
        "/static/favicon.svg",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
        if url.startswith("/static/") and response.mimetype in ("text/css", "text/javascript"):
            # Included by a page, whose policies apply to it: it carries none of its own.
            # (The service worker, a script that runs on its own, keeps them.)
            assert "Content-Security-Policy" not in response.headers, url
            response.close()
            continue
        policy = directives(response.headers.get("Content-Security-Policy", ""))
        assert policy.get("script-src") == ["'self'"], url
        assert policy.get("style-src") == ["'self'"], url
        assert policy.get("default-src") == ["'self'"], url
        assert policy.get("object-src") == ["'none'"], url
        assert policy.get("frame-ancestors") == ["'none'"], url
        assert policy.get("base-uri") == ["'none'"], url
        assert policy.get("form-action") == ["'self'"], url
        assert response.headers.get("Permissions-Policy") == (
            "camera=(self), microphone=(), geolocation=()"
        ), url
        response.close()


def test_a_refused_post_carries_the_headers_too(client, world):
    response = client.post("/r/unknown/cancel", data={})
    assert response.status_code == 400  # no CSRF token
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Permissions-Policy" in response.headers


def test_no_page_holds_a_script_or_style_the_policy_would_refuse(app, client, world):
    values, tokens = world
    urls = every_get_url(app, values) + [f"/r/{tokens['online']}", f"/r/{tokens['online']}/join"]
    pages = 0
    for url in urls:
        response = client.get(url)
        if response.mimetype == "text/html":
            pages += 1
            assert inline_code(response.get_data(as_text=True)) == [], url
        response.close()
    assert pages > 20
    # The dashboard's charts are put into the page by its script: they must obey it too.
    charts = client.get(f"/manage/events/{values['slug']}/dashboard.json").get_json()["charts"]
    assert charts
    for chart in charts.values():
        assert inline_code(chart) == []


# --- personal pages and files ----------------------------------------------------


def assert_private(response, what: str) -> None:
    assert response.headers.get("Cache-Control") == "no-store", what
    assert response.headers.get("Referrer-Policy") == "no-referrer", what


def test_a_participants_pages_and_files_are_never_cached_nor_sent_as_a_referrer(app, client, world):
    _values, tokens = world
    token, online = tokens["in_person"], tokens["online"]
    for url in (
        f"/r/{token}",
        f"/r/{token}/invite.ics",
        f"/r/{token}/badge.png",
        f"/r/{token}/badge.svg",
        f"/r/{token}/badge.pdf",
        f"/r/{online}",
        f"/r/{online}/join",
        "/r/no-such-token",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_private(response, url)
        response.close()
    answer = post_form(client, f"/r/{online}", {"participation": "online"})
    assert_private(answer, "the change form's answer")
    answer = post_form(client, f"/r/{token}/cancel", {}, page=f"/r/{token}")
    assert answer.status_code == 302
    assert_private(answer, "the cancel form's answer")


def test_the_join_redirect_to_the_meeting_sends_no_referrer(app, client):
    event = make_event(starts_in=timedelta(minutes=5))
    person = make_registration(event, site=None)
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 302
    assert_private(response, "the join redirect")


def test_staff_downloads_of_people_are_never_cached(app, client, world):
    values, _tokens = world
    slug = values["slug"]
    for name in (*PERSONAL_DOWNLOADS, "report.csv", "report.pdf", "badges.pdf"):
        response = client.get(f"/manage/events/{slug}/{name}")
        assert response.status_code == 200, name
        assert_private(response, name)
        response.close()


def test_public_pages_stay_cacheable(client, world):
    values, _tokens = world
    for url in (f"/events/{values['slug']}", f"/events/{values['slug']}/event.ics", "/"):
        response = client.get(url)
        assert response.headers.get("Cache-Control") != "no-store", url
        assert response.headers["Referrer-Policy"] == "same-origin", url


# --- the database out of reach ---------------------------------------------------


def app_with_database(url: str):
    class Unreachable(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {}

    return create_app(Unreachable)


def assert_answers_503_while_the_database_is_unreachable(url: str) -> None:
    unreachable = app_with_database(url)
    client = unreachable.test_client()

    scan = client.post(
        "/api/v1/events/seminar/checkins",
        json={"code": "ABCD-EFGH", "site": "ahal", "client_id": new_id()},
        headers=bearer("a-scanner-token"),
    )
    assert scan.status_code == 503
    assert scan.headers["Retry-After"] == "5"
    assert scan.get_json()["status"] == "error"
    assert scan.get_json()["reason"] == "unavailable"

    page = client.get("/events/seminar")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert page.mimetype == "text/html"
    assert "briefly unavailable" in page.get_data(as_text=True)

    # A signed-in staff member: who they are cannot be looked up, the page still answers.
    with client.session_transaction() as session:
        session["_user_id"] = "1:0"
    staff_page = client.get("/manage/")
    assert staff_page.status_code == 503
    assert "briefly unavailable" in staff_page.get_data(as_text=True)
    with unreachable.app_context():
        db.engine.dispose()


@requires_postgres
def test_with_postgresql_down_scanners_and_pages_get_503_and_retry_after():
    # Port 1: nothing listens there, as while the database restarts.
    assert_answers_503_while_the_database_is_unreachable(
        "postgresql+psycopg://hybriddesk@127.0.0.1:1/hybriddesk?connect_timeout=2"
    )


def test_with_the_sqlite_file_out_of_reach_scanners_and_pages_get_503(tmp_path):
    missing = tmp_path / "no-such-directory" / "hybriddesk.sqlite"
    assert_answers_503_while_the_database_is_unreachable(f"sqlite:///{missing}")
