"""Admins manage staff accounts, roles, sites, passwords and API tokens."""

import secrets

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Role, StaffUser, hash_api_token
from tests.conftest import PASSWORD, get_csrf, make_site, make_staff, post_form


@pytest.fixture
def admin(auth):
    user = make_staff("admin@example.org", Role.ADMIN)
    auth.login("admin@example.org")
    return user


def staff_by_email(email: str) -> StaffUser | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))


def new_staff_data(**overrides) -> dict:
    data = {
        "email": "Mary@Example.org",
        "name": "Maral Orazowa",
        "role": "coordinator",
        "sites": [],
        "is_active": "y",
        "password": "a long enough secret",
        "password_again": "a long enough secret",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_coordinator_who_can_sign_in(client, admin, auth):
    mary, lebap = make_site("mary"), make_site("lebap")
    db.session.commit()
    response = post_form(
        client, "/manage/staff/new", new_staff_data(sites=[str(mary.id), str(lebap.id)])
    )
    assert response.status_code == 302
    user = staff_by_email("mary@example.org")
    assert user.role == Role.COORDINATOR
    assert {s.slug for s in user.sites} == {"mary", "lebap"}
    assert user.check_password("a long enough secret")
    listing = client.get("/manage/staff").get_data(as_text=True)
    assert "mary@example.org" in listing
    assert "Lebap information centre, Mary information centre" in listing

    auth.logout()
    response = auth.login("mary@example.org", "a long enough secret")
    assert response.headers["Location"].endswith("/manage/")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "admin@example.org"}, "email", "already exists"),
        ({"email": "ADMIN@example.org"}, "email", "already exists"),
        ({"email": "nope"}, "email", "Invalid email address."),
        ({"sites": []}, "sites", "A coordinator needs at least one site."),
        ({"sites": ["99999"]}, "sites", "not a valid choice"),
        ({"role": "superuser"}, "role", "Not a valid choice"),
        ({"password": "short", "password_again": "short"}, "password", "Use 10 to 200"),
        ({"password_again": "something else"}, "password_again", "The passwords differ."),
    ],
)
def test_bad_staff_input_is_a_field_error(client, admin, overrides, field, message):
    make_site("mary")
    db.session.commit()
    data = new_staff_data(**overrides)
    response = post_form(client, "/manage/staff/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message.lower() in html.lower()
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 1


def test_organisers_need_no_site_and_keep_none(client, admin):
    mary = make_site("mary")
    db.session.commit()
    response = post_form(
        client,
        "/manage/staff/new",
        new_staff_data(email="org@example.org", role="organizer", sites=[str(mary.id)]),
    )
    assert response.status_code == 302
    user = staff_by_email("org@example.org")
    assert user.role == Role.ORGANIZER
    assert user.sites == []


def test_edit_role_sites_and_active_flag(client, admin, auth):
    make_site("mary")
    dashoguz = make_site("dashoguz")
    user = make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    url = f"/manage/staff/{user.id}"
    page = client.get(url).get_data(as_text=True)
    assert "mary@example.org" in page

    response = post_form(
        client,
        url,
        {"staff-name": "Maral", "staff-role": "coordinator", "staff-sites": [str(dashoguz.id)]},
    )
    assert response.status_code == 302
    user = staff_by_email("mary@example.org")
    assert [s.slug for s in user.sites] == ["dashoguz"]
    # An unchecked box is not sent: the account is now inactive.
    assert user.is_active_user is False

    auth.logout()
    response = auth.login("mary@example.org")
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_the_last_active_admin_cannot_lose_the_role(client, admin):
    url = f"/manage/staff/{admin.id}"
    response = post_form(
        client, url, {"staff-name": "Admin", "staff-role": "organizer", "staff-is_active": "y"}
    )
    assert response.status_code == 200
    assert "last active admin" in response.get_data(as_text=True)
    assert staff_by_email("admin@example.org").role == Role.ADMIN

    # With a second admin, the first may step down.
    make_staff("second@example.org", Role.ADMIN)
    response = post_form(
        client, url, {"staff-name": "Admin", "staff-role": "organizer", "staff-is_active": "y"}
    )
    assert response.status_code == 302
    assert staff_by_email("admin@example.org").role == Role.ORGANIZER


def test_reset_password(client, admin, auth):
    user = make_staff("org@example.org", Role.ORGANIZER)
    url = f"/manage/staff/{user.id}/password"
    page = f"/manage/staff/{user.id}"
    response = post_form(
        client,
        url,
        {"password-password": "brand new secret", "password-password_again": "brand new secret"},
        page=page,
    )
    assert response.status_code == 302
    assert staff_by_email("org@example.org").check_password("brand new secret")

    response = post_form(
        client, url, {"password-password": "short", "password-password_again": "short"}, page=page
    )
    assert "Use 10 to 200 characters." in client.get(page).get_data(as_text=True)
    assert staff_by_email("org@example.org").check_password("brand new secret")

    auth.logout()
    assert auth.login("org@example.org", PASSWORD).status_code == 200  # the old one fails
    assert auth.login("org@example.org", "brand new secret").status_code == 302


def test_list_and_revoke_api_tokens(client, admin):
    user = make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    token = ApiToken(
        user=user, token_hash=hash_api_token(secrets.token_urlsafe(32)), label="Scanner at the door"
    )
    db.session.add(token)
    db.session.commit()
    page = f"/manage/staff/{user.id}"
    assert "Scanner at the door" in client.get(page).get_data(as_text=True)

    response = post_form(client, f"{page}/tokens/{token.id}/revoke", {}, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert "Revoked" in client.get(page).get_data(as_text=True)


def test_tokens_of_someone_else_are_404(client, admin):
    user = make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    other = make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    token = ApiToken(user=other, token_hash=hash_api_token("x" * 40))
    db.session.add(token)
    db.session.commit()
    page = f"/manage/staff/{user.id}"
    response = post_form(client, f"{page}/tokens/{token.id}/revoke", {}, page=page)
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert client.get("/manage/staff/99999").status_code == 404


def test_revoke_with_a_bad_csrf_token_is_400(client, admin):
    token = ApiToken(user=admin, token_hash=hash_api_token("y" * 40))
    db.session.add(token)
    db.session.commit()
    response = client.post(
        f"/manage/staff/{admin.id}/tokens/{token.id}/revoke", data={"csrf_token": "bad"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_names_with_html_are_escaped_on_the_staff_list(client, admin):
    make_staff("evil@example.org", Role.ORGANIZER)
    user = staff_by_email("evil@example.org")
    user.name = "<img src=x onerror=alert(1)>"
    db.session.commit()
    html = client.get("/manage/staff").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.COORDINATOR])
def test_only_admins_reach_the_staff_pages(client, auth, role):
    user = make_staff("someone@example.org", role, sites=("mary",))
    auth.login("someone@example.org")
    for url in ("/manage/staff", "/manage/staff/new", f"/manage/staff/{user.id}"):
        assert client.get(url).status_code == 403, url
    token = get_csrf(client, "/manage/")
    response = client.post(
        "/manage/staff/new", data={**new_staff_data(role="admin"), "csrf_token": token}
    )
    assert response.status_code == 403
    response = client.post(
        f"/manage/staff/{user.id}",
        data={"staff-role": "admin", "staff-is_active": "y", "csrf_token": token},
    )
    assert response.status_code == 403
    assert staff_by_email("someone@example.org").role == role
    assert staff_by_email("mary@example.org") is None
