"""The site's icon: every page names one that exists, and /favicon.ico finds it too."""

import re
from xml.etree import ElementTree

import pytest

from tests.conftest import make_event

_ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)" type="([^"]+)">')


def assert_is_the_svg_icon(response):
    with response:  # a static file stays open until its response is closed
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        root = ElementTree.fromstring(response.get_data())  # noqa: S314  our own file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize(
    ("url", "status"),
    [("/", 200), ("/events/seminar", 200), ("/manage/login", 200), ("/events/nowhere", 404)],
)
def test_every_page_links_an_icon_that_loads(client, app, url, status):
    make_event()
    page = client.get(url)
    assert page.status_code == status
    match = _ICON_LINK.search(page.get_data(as_text=True))
    assert match, f"{url} names no icon"
    href, declared_type = match.groups()
    assert declared_type == "image/svg+xml"
    assert_is_the_svg_icon(client.get(href))


def test_favicon_ico_leads_to_the_icon(client, app):
    response = client.get("/favicon.ico", follow_redirects=True)
    assert_is_the_svg_icon(response)
