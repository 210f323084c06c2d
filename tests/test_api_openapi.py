"""The OpenAPI description: valid, complete, and true to what the API answers."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from app.extensions import db
from app.models import ApiToken, Role, hash_api_token
from tests.conftest import make_event, make_registration, make_staff

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_description_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_api_route_is_described_with_its_methods(app, spec):
    described = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        routes |= {(path, method) for method in rule.methods - IGNORED_METHODS}
    assert routes, "no API routes found"
    assert routes == described, (
        f"routes not described: {sorted(routes - described)}; "
        f"described but missing: {sorted(described - routes)}"
    )


def _assert_matches(spec: dict, path: str, method: str, response) -> None:
    """The response body validates against the schema described for its status, and the
    headers described as required are there."""
    operation = spec["paths"][path][method]
    described = operation["responses"].get(str(response.status_code))
    assert described, f"{method.upper()} {path} answered {response.status_code}, not described"
    schema = described["content"]["application/json"]["schema"]
    # Resolve "#/components/..." against the whole description.
    document = {**schema, "components": spec["components"]}
    OAS31Validator(document).validate(response.get_json())
    for name, header in described.get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{response.status_code} without {name}"


def test_real_answers_match_the_described_schemas(client, spec):
    event = make_event("seminar", {"ashgabat": 5, "ahal": 5})
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    make_registration(event, name="Online Person", site=None)
    user = make_staff("organizer@example.org", Role.ORGANIZER)
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_api_token(token)))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client_id = str(uuid.uuid4())

    def call(
        method: str,
        path: str,
        body: dict | None = None,
        query: str = "",
        headers=headers,
        slug: str = "seminar",
        as_method: str | None = None,
    ):
        """Send a request to a described path; keep the answer with its description."""
        url = "/api/v1" + path.format(slug=slug, client_id=client_id) + query
        sent = (as_method or method).upper()
        return path, method, client.open(url, method=sent, json=body, headers=headers)

    checkins = "/events/{slug}/checkins"
    registrations = "/events/{slug}/registrations"
    admission = {"code": person.badge_code, "site": "ahal", "client_id": client_id}
    walk_in = {
        "name": "Walk In",
        "email": "walk@example.org",
        "site": "ashgabat",
        "check_in": True,
        "client_id": str(uuid.uuid4()),
    }
    checks = [
        call("post", checkins, admission),
        call("post", checkins, admission),
        call("post", checkins, {**admission, "client_id": str(uuid.uuid4())}),
        call("post", checkins, {"code": "NOPE", "site": "ahal", "client_id": str(uuid.uuid4())}),
        call("post", checkins, {"code": "NOPE"}),
        call("post", checkins, {}, headers=None),
        call("post", registrations, walk_in),
        call(
            "post",
            registrations,
            {"name": "Import", "email": "import@example.org", "mode": "online"},
        ),
        call("get", registrations, query="?q=ayna"),
        call("get", "/events/{slug}/roster", query="?site=ahal"),
        call("get", "/events/{slug}/roster"),
        call("get", "/events/{slug}/attendance"),
        call("get", "/events/{slug}/attendance", query="?site=nowhere"),
        call("delete", "/events/{slug}/checkins/{client_id}"),
        call("post", checkins, admission, slug="nowhere"),
        call("post", registrations, {"name": "X", "email": "x@example.org", "site": "mars"}),
        call("get", "/events/{slug}/roster", query="?site=ahal", as_method="put"),
    ]
    statuses = [response.status_code for _path, _method, response in checks]
    assert statuses == [201, 200, 409, 404, 422, 401, 201, 201, 200, 200, 422, 200, 404, 200] + [
        404,
        422,
        405,
    ]
    for path, method, response in checks:
        _assert_matches(spec, path, method, response)


def test_every_operation_describes_its_errors_with_their_headers(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "405", "503"} <= set(responses), (method, path)
            assert "Allow" in responses["405"]["headers"]
            assert "Retry-After" in responses["503"]["headers"]
            if operation.get("security") != []:
                assert {"401", "403"} <= set(responses), (method, path)
                assert "WWW-Authenticate" in responses["401"]["headers"]
