"""The check-in page for one event and site, built on the JSON API."""

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import allowed_site_ids, can_access_site, staff_required
from app.checkin.roster import event_and_site, site_roster
from app.web import event_or_404

bp = Blueprint("checkin", __name__, url_prefix="/manage")


@bp.route("/checkin-sw.js")
def service_worker():
    """The check-in page's service worker, served here so that its scope covers /manage/."""
    script = Path(current_app.static_folder, "js", "checkin-sw.js").read_bytes()
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.route("/events/<slug>/checkin")
@staff_required
def choose_site(slug: str):
    """Pick the site to check people in at; a coordinator with one site goes straight there."""
    event = event_or_404(slug)
    allowed = allowed_site_ids(current_user)
    sites = [es.site for es in event.event_sites if allowed is None or es.site_id in allowed]
    if not sites:
        abort(403)
    if len(sites) == 1 and allowed is not None:
        return redirect(url_for("checkin.site_page", slug=slug, site_slug=sites[0].slug))
    return render_template("checkin/choose_site.html", event=event, sites=sites)


@bp.route("/events/<slug>/checkin/<site_slug>")
@staff_required
def site_page(slug: str, site_slug: str):
    """Scan, search, admit walk-ins and watch arrivals at one site."""
    event, site = event_and_site(slug, site_slug)
    if event is None or site is None:
        abort(404)
    if not can_access_site(current_user, site.id):
        abort(403)
    roster = site_roster(event, site)
    sessions = [item for item in event.agenda_items if item.counts_attendance]
    pending_only = request.args.get("pending") == "1"
    entries = roster.not_arrived if pending_only else roster.entries
    text = {
        "admitted": _("Admitted"),
        "already_checked_in": _("Already checked in"),
        "admitted_to_session": _("Admitted to the session"),
        "already_in_session": _("Already checked in to this session"),
        "wrong_site": _("Registered for another site"),
        "not_admitted": _("Not admitted"),
        "unknown_code": _("Unknown code"),
        "queued": _("Saved offline"),
        "queued_detail": _("It will be sent when the connection is back."),
        "offline_unconfirmed": _("offline — to be confirmed"),
        "changes_title": _("Scans changed once sent: %(count)s"),
        "change_already": _("%(name)s was already admitted at %(time)s by %(staff)s"),
        "change_already_other_device": _(
            "%(name)s was already admitted at %(time)s by %(staff)s on another device"
        ),
        "change_other": _("%(name)s: %(result)s"),
        "undone": _("Check-in undone"),
        "undo": _("Undo"),
        "admit_here": _("Admit here"),
        "check_in": _("Check in"),
        "checked_in_at": _("Checked in at %(time)s, %(site)s, by %(staff)s"),
        "registered_for": _("Registered for: %(site)s"),
        "registered_online": _("Registered to take part online"),
        "arrived_at": _("Arrived %(time)s"),
        "arrived_elsewhere": _("Arrived %(time)s at %(site)s"),
        "not_yet": _("Not yet arrived"),
        "no_results": _("Nobody found."),
        "nobody_here": _("Nobody here yet."),
        "error": _("Something went wrong. Please try again."),
        "offline_waiting": _("Offline: %(count)s waiting to be sent"),
        "state_online": _("Online: scans are sent at once"),
        "state_offline": _("No connection: scans are kept on this device"),
        "state_sending": _("Sending %(count)s waiting…"),
        "state_sent": _("All sent"),
        "camera_start": _("Start camera"),
        "camera_stop": _("Stop camera"),
        "camera_unavailable": _(
            "No camera available here. Cameras need HTTPS (or localhost); type the code instead."
        ),
        "walk_in_done": _("Walk-in registered and admitted"),
        "forced": _("Admitted at this site instead of the registered one"),
    }
    return render_template(
        "checkin/site.html",
        event=event,
        site=site,
        roster=roster,
        entries=entries,
        sessions=sessions,
        pending_only=pending_only,
        text=text,
    )
