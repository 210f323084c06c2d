"""The check-in page as an installable app: its web app manifest and icons."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

from PIL import Image

from app.models import Role
from tests.conftest import make_event, make_staff

MANIFEST = "/manage/events/seminar/checkin/ahal/manifest.webmanifest"


class ManifestLinks(HTMLParser):
    """The <link rel="manifest"> and the theme-color of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.manifests: list[dict] = []
        self.theme_colors: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "manifest":
            self.manifests.append(attributes)
        if tag == "meta" and attributes.get("name") == "theme-color":
            self.theme_colors.append(attributes["content"])


def test_the_checkin_page_installs_at_its_own_site(client, auth, coordinator):
    """The page links a manifest that opens this site's check-in page, with served icons."""
    make_event("seminar", {"ashgabat": 50, "ahal": 10})
    auth.login(coordinator.email)
    page = client.get("/manage/events/seminar/checkin/ahal")
    assert page.status_code == 200
    links = ManifestLinks()
    links.feed(page.get_data(as_text=True))
    assert len(links.manifests) == 1
    link = links.manifests[0]
    assert link["href"] == MANIFEST
    # Sent with the session cookie: the manifest is for signed-in staff only.
    assert link["crossorigin"] == "use-credentials"
    assert "manifest-src 'self'" in page.headers["Content-Security-Policy"]

    response = client.get(link["href"])
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["start_url"] == "/manage/events/seminar/checkin/ahal"
    assert manifest["start_url"].startswith(manifest["scope"])
    assert manifest["display"] == "standalone"
    assert "Ahal" in manifest["name"] and manifest["short_name"]
    assert manifest["theme_color"] == links.theme_colors[0]

    sizes = set()
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200, icon["src"]
            assert image.mimetype == icon["type"] == "image/png"
            with Image.open(io.BytesIO(image.data)) as png:
                width, height = png.size
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add((width, icon["purpose"]))
    # What Chromium asks for before it offers to install: 192 and 512 pixels.
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= sizes


def test_each_site_has_its_own_manifest(client, auth):
    make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("organizer@example.org", Role.ORGANIZER)
    auth.login("organizer@example.org")
    ashgabat = client.get("/manage/events/seminar/checkin/ashgabat/manifest.webmanifest").json
    ahal = client.get(MANIFEST).json
    assert ashgabat["start_url"] == "/manage/events/seminar/checkin/ashgabat"
    assert ashgabat["id"] != ahal["id"]
    assert (
        client.get("/manage/events/seminar/checkin/nowhere/manifest.webmanifest").status_code == 404
    )
    assert client.get("/manage/events/nothing/checkin/ahal/manifest.webmanifest").status_code == 404


def test_the_manifest_is_only_for_the_sites_staff(client, auth):
    """It names the event, which may be a draft: nobody else learns of it."""
    make_event("seminar", {"ashgabat": 50, "ahal": 10})
    anonymous = client.get(MANIFEST)
    assert anonymous.status_code in (302, 401, 403)
    assert anonymous.mimetype != "application/manifest+json"
    make_staff("balkan@example.org", Role.COORDINATOR, sites=("ashgabat",))
    auth.login("balkan@example.org")
    assert client.get(MANIFEST).status_code == 403
