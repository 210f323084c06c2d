"""English, Russian and Turkmen throughout: pages, emails, and complete catalogues."""

import subprocess
import sys
from email import message_from_string, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as _

from app.extensions import db
from app.mail.outbox import OutboxMessage
from tests.conftest import get_csrf, make_event

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"


def translated(language: str, text: str) -> str:
    with force_locale(language):
        return _(text)


@pytest.mark.parametrize("language", ["ru", "tk"])
def test_pages_switch_language_and_remember_it(client, app, language):
    event = make_event()
    expected = translated(language, "Where you can take part")
    assert expected != "Where you can take part"
    page = client.get(f"/events/{event.slug}?lang={language}").get_data(as_text=True)
    assert expected in page and f'<html lang="{language}">' in page
    # The choice sticks for the rest of the visit.
    again = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert translated(language, "How will you take part?") in again


def test_browser_language_is_used_when_nothing_was_chosen(client, app):
    event = make_event()
    page = client.get(f"/events/{event.slug}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert translated("ru", "Where you can take part") in page.get_data(as_text=True)


def test_the_registrations_language_drives_its_email(client, app):
    event = make_event()
    data = {
        "csrf_token": get_csrf(client, f"/events/{event.slug}/register?lang=ru"),
        "participation": "ahal",
        "name": "Aýgül Orazowa",
        "email": "aygul@example.org",
        "organization": "Türkmenistanyň Döwlet, hukuk we demokratiýa instituty",
        "org_kind": "state",
        "language": "tk",
        "consent": "y",
    }
    assert client.post(f"/events/{event.slug}/register", data=data).status_code == 302
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    parsed = message_from_string(message.raw_message, policy=policy.default)
    with force_locale("tk"):
        subject = _("You are registered: %(title)s", title=event.title)
    assert parsed["Subject"] == subject
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert translated("tk", "Thank you for registering. Your place is confirmed.") in body


@pytest.mark.parametrize("language", ["ru", "tk"])
def test_form_messages_speak_the_pages_language(client, app, language):
    """WTForms' own messages ("This field is required.") follow the page, Turkmen too."""
    event = make_event()
    path = f"/events/{event.slug}/register?lang={language}"
    data = {"csrf_token": get_csrf(client, path), "participation": "ahal", "email": "nope"}
    page = client.post(path, data=data).get_data(as_text=True)
    for english in ("This field is required.", "Invalid email address."):
        assert english not in page
        assert translated(language, english) in page


@pytest.mark.parametrize("language", ["ru", "tk"])
def test_the_sign_in_prompt_speaks_the_pages_language(client, app, language):
    client.get(f"/?lang={language}")
    page = client.get("/manage/", follow_redirects=True).get_data(as_text=True)
    expected = translated(language, "Please sign in to see this page.")
    assert expected != "Please sign in to see this page." and expected in page
    assert "Please log in to access this page." not in page


def test_every_string_in_the_code_is_translated(tmp_path):
    """A new string without a Russian or Turkmen translation fails here."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(template),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with template.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    for language in ("ru", "tk"):
        with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        done = {
            m.id
            for m in catalog
            if m.id
            and m.string
            and not m.fuzzy
            and (all(m.string) if isinstance(m.string, tuple) else True)
        }
        missing = sorted(str(i) for i in wanted - done)
        assert missing == [], f"{language}: untranslated: {missing[:10]}"
