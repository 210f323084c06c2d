"""Staff pages for sites, and for the sites taking part in an event with their seats."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.access import organizer_required
from app.extensions import db
from app.forms import options
from app.models import Site
from app.registrations.services import seats_taken, waitlist_note
from app.sites import services
from app.sites.forms import AddEventSiteForm, CapacityForm, EditSiteForm, SiteForm
from app.web import (
    event_or_404,
    event_site_or_404,
    on_get,
    require_button_post,
    save,
    save_and_go_back,
)

bp = Blueprint("sites", __name__, url_prefix="/manage")


@bp.route("/sites")
@organizer_required
def sites():
    """Every site, whichever events it takes part in."""
    return render_template("sites/list.html", sites=services.all_sites())


@bp.route("/sites/new", methods=["GET", "POST"])
@organizer_required
def new_site():
    """Create a site."""
    form = SiteForm()
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.create_site(form.slug.data, form.to_input()),
            form=form,
            success=lambda site: _("Site %(name)s is created.", name=site.name),
            redirect_to=url_for("sites.sites"),
        )
    ):
        return saved
    return render_template("sites/edit.html", form=form, site=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_site(site_id: int):
    """Edit a site's name, region, address and main-venue flag."""
    site = db.get_or_404(Site, site_id)
    form = EditSiteForm(obj=on_get(site))
    if form.validate_on_submit() and (
        saved := save(
            lambda: services.update_site(site, form.to_input()),
            form=form,
            success=lambda site: _("Site %(name)s is saved.", name=site.name),
            redirect_to=url_for("sites.sites"),
        )
    ):
        return saved
    return render_template("sites/edit.html", form=form, site=site)


@bp.route("/events/<slug>/sites", methods=["GET", "POST"])
@organizer_required
def event_sites(slug: str):
    """The sites taking part in an event and their capacities; POST adds one."""
    event = event_or_404(slug)
    add_form = AddEventSiteForm()
    candidates = services.sites_not_in(event)
    add_form.site.choices = options((s.id, f"{s.name} ({s.slug})") for s in candidates)
    if add_form.validate_on_submit() and (
        saved := save(
            lambda: services.add_event_site(
                event, db.session.get(Site, add_form.site.data), add_form.capacity.data
            ),
            form=add_form,
            success=lambda es: _("%(site)s now takes part.", site=es.site.name),
            redirect_to=url_for("sites.event_sites", slug=slug),
        )
    ):
        return saved
    return render_template(
        "sites/event_sites.html",
        event=event,
        add_form=add_form,
        candidates=candidates,
        capacity_form=CapacityForm(formdata=None),
        remove_form=FlaskForm(formdata=None),
        taken=seats_taken(event),
    )


@bp.route("/events/<slug>/sites/<site_slug>/capacity", methods=["POST"])
@organizer_required
def set_capacity(slug: str, site_slug: str):
    """Change one site's capacity; more seats move its waitlist up."""
    event = event_or_404(slug)
    event_site = event_site_or_404(event, site_slug, current_user)
    back = url_for("sites.event_sites", slug=slug)
    form = CapacityForm()
    if not form.validate_on_submit():
        for message in form.capacity.errors:
            flash(f"{event_site.site.name}: {message}", "error")
        return redirect(back)
    return save_and_go_back(
        lambda: services.set_site_capacity(event, event_site, form.capacity.data),
        success=lambda _promoted: _(
            "%(site)s now has %(count)d seats.",
            site=event_site.site.name,
            count=event_site.capacity,
        ),
        notes=waitlist_note,
        back=back,
    )


@bp.route("/events/<slug>/sites/<site_slug>/remove", methods=["POST"])
@organizer_required
def remove_site(slug: str, site_slug: str):
    """Take a site out of an event, if nobody is registered there."""
    event = event_or_404(slug)
    event_site = event_site_or_404(event, site_slug, current_user)
    require_button_post()
    return save_and_go_back(
        lambda: services.remove_event_site(event, event_site),
        success=lambda site: _("%(site)s no longer takes part.", site=site.name),
        back=url_for("sites.event_sites", slug=slug),
    )
