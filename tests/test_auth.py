"""Staff sign-in: passwords, roles, rate limits and safe redirects."""

import pytest

from app import create_app
from app.extensions import db
from app.models import Role
from tests.conftest import Config, get_csrf, make_event, make_staff


def test_sign_in_and_out(client, auth, app):
    make_staff("organizer@example.org", Role.ORGANIZER)
    response = auth.login("organizer@example.org")
    assert response.status_code == 302 and response.headers["Location"].endswith("/manage/")
    assert client.get("/manage/").status_code == 200
    auth.logout()
    assert client.get("/manage/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, auth, app):
    make_staff("organizer@example.org")
    for email, password in [("organizer@example.org", "wrong"), ("nobody@example.org", "x")]:
        page = auth.login(email, password).get_data(as_text=True)
        assert "Wrong email or password." in page
    assert client.get("/manage/").status_code == 302


def test_inactive_staff_cannot_sign_in(client, auth, app):
    user = make_staff("gone@example.org")
    user.is_active_user = False
    db.session.commit()
    assert "Wrong email or password." in auth.login("gone@example.org").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_login_never_redirects_to_another_host(client, app, target):
    make_staff("organizer@example.org")
    token = get_csrf(client, "/manage/login")
    from tests.conftest import PASSWORD

    response = client.post(
        f"/manage/login?next={target}",
        data={"email": "organizer@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/manage/"


def test_login_without_csrf_is_refused(client, app):
    make_staff("organizer@example.org")
    from tests.conftest import PASSWORD

    response = client.post(
        "/manage/login", data={"email": "organizer@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert client.get("/manage/").status_code == 302


class LimitedConfig(Config):
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "3 per minute"
    REGISTER_RATE_LIMIT = "2 per minute"
    REGISTER_ATTEMPT_RATE_LIMIT = "2 per minute"


def test_login_and_registration_are_rate_limited(app):
    limited = create_app(LimitedConfig)
    client = limited.test_client()
    with limited.app_context():
        make_staff("organizer@example.org")
        event = make_event()
        token = get_csrf(client, "/manage/login")
        guess = {"email": "organizer@example.org", "password": "guess", "csrf_token": token}
        codes = [client.post("/manage/login", data=guess).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/manage/login").status_code == 200  # reading the form is not limited
        page = client.post("/manage/login", data=guess).get_data(as_text=True)
        assert "Too many attempts" in page

        register = f"/events/{event.slug}/register"
        codes = [client.post(register, data={"csrf_token": token}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        db.session.remove()
        db.engine.dispose()
