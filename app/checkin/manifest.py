"""The check-in page as an app on a phone's home screen: one web app manifest per site.

Each event's site gets its own manifest, so that a coordinator's home screen opens straight
at their door and two sites installed on one phone are two apps. A manifest names the event,
which may still be a draft: it is shown to signed-in staff of that site only, and the page
links it with ``crossorigin="use-credentials"`` so that the browser sends the session.
"""

from flask import abort, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import can_access_site, staff_required
from app.checkin.roster import event_and_site
from app.checkin.routes import bp

#: The accent colour of static/css/app.css, for the title bar of the installed page.
THEME_COLOR = "#0b5cad"
#: (file under static/icons/, size, purpose), drawn from the favicon by tools/make_icons.py.
ICONS = (
    ("icon-192.png", "192x192", "any"),
    ("icon-512.png", "512x512", "any"),
    ("icon-maskable-512.png", "512x512", "maskable"),
)


@bp.route("/events/<slug>/checkin/<site_slug>/manifest.webmanifest")
@staff_required
def manifest(slug: str, site_slug: str):
    """The web app manifest that installs one site's check-in page."""
    event, site = event_and_site(slug, site_slug)
    if event is None or site is None:
        abort(404)
    if not can_access_site(current_user, site.id):
        abort(403)
    start_url = url_for("checkin.site_page", slug=event.slug, site_slug=site.slug)
    response = jsonify(
        {
            "id": start_url,
            "name": _("Check-in: %(site)s — %(event)s", site=site.name, event=event.title),
            "short_name": _("Check-in: %(site)s", site=site.name),
            "start_url": start_url,
            # The sign-in page stays inside the app when a session has run out.
            "scope": url_for("events_manage.index"),
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": "#ffffff",
            "icons": [
                {
                    "src": url_for("static", filename=f"icons/{name}"),
                    "sizes": sizes,
                    "type": "image/png",
                    "purpose": purpose,
                }
                for name, sizes, purpose in ICONS
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response
