"""Every route, fed nonsense, answers with a clear 4xx (or a page), never a 500."""

import pytest

from app.models import Role
from tests.conftest import get_csrf, make_event, make_registration, make_staff

NONSENSE = ["seminar", "nope", "ň" * 300, "..%2F..%2Fetc", "0", "-1"]
QUERY = "?site=nowhere&page=-3&q=%3Cscript%3E&status=bogus&mode=42&pending=maybe&print=x"


def _urls(app, value):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", value).replace(f"<path:{argument}>", value)
        for converter in ("int:", "string:"):
            path = path.replace(f"<{converter}", "<")
        if "<" in path:  # typed converters such as <int:id>
            path = path.split("<")[0] + "1"
        yield rule, path


@pytest.mark.parametrize("value", NONSENSE)
def test_get_routes_never_answer_500(app, client, auth, value):
    event = make_event("seminar")
    make_registration(event)
    make_staff("admin@example.org", Role.ADMIN)
    auth.login("admin@example.org")
    tried = 0
    for rule, path in _urls(app, value):
        if "GET" not in rule.methods:
            continue
        response = client.get(path + QUERY)
        assert response.status_code < 500, (rule.endpoint, path, response.status_code)
        tried += 1
    assert tried > 30


def test_post_routes_with_an_empty_form_never_answer_500(app, client, auth):
    event = make_event("seminar")
    registration = make_registration(event)
    make_staff("admin@example.org", Role.ADMIN)
    auth.login("admin@example.org")
    token = get_csrf(client, "/manage/")
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"} or rule.endpoint in (
            "auth.logout",
            "auth.logout_everywhere",
        ):
            continue
        path = rule.rule
        for argument in rule.arguments:
            value = {"slug": "seminar", "token": registration.manage_token}.get(argument, "1")
            path = path.replace(f"<{argument}>", value)
            path = path.replace(f"<int:{argument}>", value)
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            response = client.open(
                path,
                method=method,
                data={"csrf_token": token},
                headers={"X-CSRFToken": token},
            )
            assert response.status_code < 500, (rule.endpoint, method, path, response.status_code)
            tried += 1
    assert tried > 15
