"""The check-in page's text.js folds and normalises exactly as the server does.

Offline, the page finds people and badge codes in the list it keeps, so its
foldForSearch and normalizeCode must agree with fold_for_search and
normalize_code; these tests run the real module in Chromium on the demo's
names and on harder input, and search the page offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.checkin import transliteration
from app.checkin.roster import code_hash
from app.checkin.services import normalize_code
from app.extensions import db
from app.models import Registration, Role, Site
from app.text import fold_for_search
from tests.browser.conftest import open_ahal_checkin
from tests.conftest import make_event, make_registration, make_staff

MODULES = Path(__file__).parents[2] / "static" / "js" / "checkin"

NAMES = [
    # Russian, Kazakh and Turkmen written in Cyrillic.
    "Мәхri",
    "Ольга Шевченко",
    "Дашогуз",
    "Мария Щербакова-Ёлкина",
    "Әсел Қасымова, Нұрлан Өмірбеков, Ұлжан Үсенова, Ғалым Һ. Ibragimov",
    "Җемал Аңназарова, Өвез Үстүнов",
    "ЪЫЬЭЮЯ ъыьэюя",
    # Turkmen, Latin-1 and Latin Extended-A.
    "Şükürowa",
    "ÇÄÝNIK žeňiş Öwez Ýazmyradow ünüs",
    "François Müller-Lüdenscheidt, Ærø Ångström, Straße",
    "Łukasz Żółć, Đorđe Čolić, İstanbul ılık, Ĳsselmeer",
    "S\u0327u\u0308ku\u0308rowa",  # typed decomposed
    # Whitespace of every kind, punctuation and nothing at all.
    "  Aýna\tOrazowa \u00a0",
    "Ольга\u2003Шевченко\u2009",
    "Ahal\r\ninformation\x1ccentre\x85for\u3000human rights",
    "\ufeffMerdan Annaýew",
    "«Neutral Turkmenistan» — “newspaper”, O’Connor…",
    "MIXED case ÀÉÎ",
    "",
    " \t\u00a0 ",
]

CODES = [
    "abcd efgh ijkl",
    "\tAbCd\u00a0eFgH\n",
    "ab\u3000cd\u2028ef\x1fgh",
    "x\ufeffy",
    "straße",
    "",
]


@pytest.fixture
def demo(app, runner):
    """The demo seminar, seeded as `flask seed-demo` does."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    people = db.session.scalars(sa.select(Registration)).all()
    texts = [text for person in people for text in (person.name, person.organization, person.email)]
    texts += db.session.scalars(sa.select(Site.name)).all()
    codes = [person.badge_code for person in people]
    db.session.remove()
    return texts, codes


def test_the_transliteration_table_is_generated_from_unidecode():
    written = transliteration.TARGET.read_text(encoding="utf-8")
    assert written == transliteration.render(), (
        "transliteration.js is out of date: run python -m app.checkin.transliteration"
    )


def test_text_js_folds_and_normalises_as_the_server(phone, live_server, demo):
    demo_texts, demo_codes = demo
    texts = demo_texts + NAMES
    codes = CODES + [
        variant
        for code in demo_codes
        for variant in (code, code.lower(), " ".join(code), f" {code[:4]}\t{code[4:].lower()} ")
    ]
    assert len(demo_texts) > 30 and any("Ş" in text for text in demo_texts)

    phone.goto(f"{live_server}/manage/login")
    folded, normalised, hashed = phone.evaluate(
        """async ([texts, codes]) => {
            const { codeHash, foldForSearch, normalizeCode } =
                await import("/static/js/checkin/text.js");
            return [
                texts.map((t) => foldForSearch(t)),
                codes.map((c) => normalizeCode(c)),
                await Promise.all(codes.map((c) => codeHash(c))),
            ];
        }""",
        [texts, codes],
    )

    assert [
        (text, js) for text, js in zip(texts, folded, strict=True) if js != fold_for_search(text)
    ] == []
    assert [
        (code, js) for code, js in zip(codes, normalised, strict=True) if js != normalize_code(code)
    ] == []
    # A code of another site is recognised offline by the hash the roster sends.
    assert [
        (code, js)
        for code, js in zip(codes, hashed, strict=True)
        if js != code_hash(normalize_code(code))
    ] == []
    # What both give, for the record: Cyrillic transliterated, every kind of space collapsed.
    assert fold_for_search("Ольга\u2003Шевченко\u2009") == "ol'ga shevchenko"
    assert fold_for_search("  Aýna\tOrazowa \u00a0") == "ayna orazowa"


@pytest.fixture
def desk(app, live_server):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    make_registration(event, name="Gulnara Amanova", email="gulnara@example.org")
    make_registration(event, name="Сердар Хыдыров", email="serdar@example.org")
    make_registration(event, name="Bahar Gurbanowa", email="chair.dashoguz@example.org")
    make_registration(event, name="Ňurgeldi Şükürow", organization="Ahal information centre")
    db.session.remove()
    return live_server


# Each query with whom it finds, online (the server) and offline (the page's list) alike.
SEARCHES = [
    ("Аманова", ["Gulnara Amanova"]),  # typed in Cyrillic, written in Latin
    ("khydyrov", ["Сердар Хыдыров"]),  # typed in Latin, written in Cyrillic
    ("chair.dashoguz@example", ["Bahar Gurbanowa"]),  # only the email has it
    ("Şükür ahal", ["Ňurgeldi Şükürow"]),
    ("example.org", ["Bahar Gurbanowa", "Gulnara Amanova", "Ňurgeldi Şükürow", "Сердар Хыдыров"]),
]


def search_all(page, label: str) -> None:
    from playwright.sync_api import expect

    found = page.locator("#search-results .person-name")
    for query, names in SEARCHES:
        page.fill("#search-input", "")
        expect(found).to_have_count(0)
        page.fill("#search-input", query)
        expect(found, f"{query!r} {label}").to_have_text(names)


def test_offline_search_finds_people_as_the_server_does(desk, phone):
    from playwright.sync_api import expect

    base_url = desk
    page = phone
    open_ahal_checkin(page, base_url)
    expect(page.locator("#checkin")).to_have_attribute("data-offline-ready", "1")
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
    expect(page.locator("#roster")).to_contain_text("Сердар Хыдыров")
    search_all(page, "online")

    page.context.set_offline(True)
    search_all(page, "offline")

    # Reloaded without a connection, the page and every module come from the
    # service worker's copy; the script has run once it fills the offline status.
    page.reload()
    expect(page.locator("#offline-status")).not_to_be_empty()
    search_all(page, "offline, after a reload")
