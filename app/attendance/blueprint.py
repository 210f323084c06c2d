"""The attendance blueprint and what its staff pages share: the sites a request covers."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from app.auth.access import allowed_site_ids
from app.models import Event, EventSite
from app.web import event_site_or_404

#: The join link, dashboard, report, downloads and report imports: each module of
#: views adds its routes here, so every endpoint is named ``attendance.<view>``.
bp = Blueprint("attendance", __name__)


def site_scope(event: Event) -> tuple[set[int] | None, EventSite | None]:
    """The sites a request covers: ?site=, or all the user may see (None: every site).

    A site not in this event is 404; one the coordinator does not serve is 403.
    """
    allowed = allowed_site_ids(current_user)
    slug = request.args.get("site", "").strip()
    if slug:
        event_site = event_site_or_404(event, slug, current_user)
        return {event_site.site_id}, event_site
    if allowed is None:
        return None, None
    mine = allowed & {es.site_id for es in event.event_sites}
    if not mine:
        abort(403)
    return mine, None
