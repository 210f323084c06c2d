"""Staff sessions end when they should: at sign-out, at a new password, everywhere at once."""

import pytest
from flask.testing import FlaskClient

from app.models import Role
from tests.conftest import PASSWORD, Auth, get_csrf, make_staff, post_form

NEW_PASSWORD = "a brand new secret"


class Browser(FlaskClient):
    """A test client whose every request has a context of its own, as on a real server.

    Otherwise the requests of several browsers share the test's app context, and with
    it ``g``, where the form token of the first browser is kept.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def browser(app) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)


def signed_in(app, email: str, password: str = PASSWORD) -> Browser:
    """A browser of its own, signed in as ``email``."""
    client = browser(app)
    assert Auth(client).login(email, password).status_code == 302
    assert client.get("/manage/").status_code == 200
    return client


def signed_out(client) -> bool:
    response = client.get("/manage/")
    return response.status_code == 302 and "/manage/login" in response.headers["Location"]


def copy_of_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie, as a thief would."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = browser(app)
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


@pytest.fixture
def organizer(app):
    return make_staff("organizer@example.org", Role.ORGANIZER)


def test_a_copied_session_cookie_stops_working_at_sign_out(app, organizer):
    client = signed_in(app, "organizer@example.org")
    thief = copy_of_session(app, client)
    assert thief.get("/manage/").status_code == 200

    response = Auth(client).logout()

    assert response.headers["Location"].endswith("/manage/login")
    assert signed_out(client)
    assert signed_out(thief)
    assert not signed_out(signed_in(app, "organizer@example.org"))


def test_a_password_reset_by_an_admin_ends_the_users_sessions(app, organizer):
    make_staff("admin@example.org", Role.ADMIN)
    admin = signed_in(app, "admin@example.org")
    laptop = signed_in(app, "organizer@example.org")
    page = f"/manage/staff/{organizer.id}"

    response = post_form(
        admin,
        f"{page}/password",
        {"password-password": NEW_PASSWORD, "password-password_again": NEW_PASSWORD},
        page=page,
    )

    assert response.status_code == 302
    assert signed_out(laptop)
    assert "Every session opened with the old password has ended." in admin.get(page).get_data(
        as_text=True
    )
    assert not signed_out(admin)
    assert not signed_out(signed_in(app, "organizer@example.org", NEW_PASSWORD))


def test_an_admin_changing_their_own_password_stays_signed_in_only_here(app):
    admin = make_staff("admin@example.org", Role.ADMIN)
    here = signed_in(app, "admin@example.org")
    elsewhere = signed_in(app, "admin@example.org")
    page = f"/manage/staff/{admin.id}"

    post_form(
        here,
        f"{page}/password",
        {"password-password": NEW_PASSWORD, "password-password_again": NEW_PASSWORD},
        page=page,
    )

    assert not signed_out(here)
    assert signed_out(elsewhere)


def test_a_new_password_from_the_command_line_ends_the_sessions(app, runner, organizer):
    laptop = signed_in(app, "organizer@example.org")
    result = runner.invoke(
        args=["users", "create", organizer.email, "--role", "organizer", "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert signed_out(laptop)


def test_signing_out_everywhere_ends_every_session_of_the_account(app, organizer):
    laptop = signed_in(app, "organizer@example.org")
    phone = signed_in(app, "organizer@example.org")
    other_staff = signed_in(app, make_staff("admin@example.org", Role.ADMIN).email)
    page = laptop.get("/manage/").get_data(as_text=True)
    assert "Sign out everywhere" in page
    assert "ends your sessions on every device" in page

    response = laptop.post(
        "/manage/logout/everywhere", data={"csrf_token": get_csrf(laptop, "/manage/")}
    )

    assert response.headers["Location"].endswith("/manage/login")
    assert "You are signed out on every device." in laptop.get("/manage/login").get_data(
        as_text=True
    )
    assert signed_out(laptop)
    assert signed_out(phone)
    assert not signed_out(other_staff)
    assert not signed_out(signed_in(app, "organizer@example.org"))


def test_signing_out_everywhere_needs_the_form_token(app, organizer):
    laptop = signed_in(app, "organizer@example.org")
    assert laptop.post("/manage/logout/everywhere").status_code == 400
    assert not signed_out(laptop)


def test_a_session_from_before_versioned_sessions_is_signed_out(app, organizer):
    client = browser(app)
    with client.session_transaction() as session:
        session["_user_id"] = str(organizer.id)  # what a session held before the upgrade
        session["_fresh"] = True
    assert signed_out(client)
