"""Organiser pages: events, their sites, agenda and registrations; admin: staff accounts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.auth.access import admin_required, organizer_required, staff_required
from app.events.routes import event_or_404
from app.extensions import db
from app.manage import services
from app.manage.forms import (
    ONLINE,
    AddEventSiteForm,
    AgendaItemForm,
    CapacityForm,
    EditEventForm,
    EditSiteForm,
    EventForm,
    NewStaffForm,
    PasswordForm,
    RegistrationEditForm,
    RegistrationFilterForm,
    SiteForm,
    StaffForm,
    options,
)
from app.manage.services import ManageError
from app.models import (
    AgendaItem,
    ApiToken,
    Event,
    EventFormat,
    EventStatus,
    Mode,
    Registration,
    RegistrationStatus,
    Role,
    Site,
    StaffUser,
)
from app.registrations.services import cancel_registration, seats_taken

bp = Blueprint("manage", __name__, url_prefix="/manage")


# --- helpers ---------------------------------------------------------------


def _show_errors(form: FlaskForm, error: ManageError) -> None:
    """Put each refusal at the field it concerns, or flash it."""
    for name, message in error.errors.items():
        field = form[name] if name and name in form else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


def _refuse(error: ManageError) -> None:
    db.session.rollback()
    for message in error.errors.values():
        flash(message, "error")


def _on_get(obj):
    """The object to prefill a form from, on GET only.

    On POST only what was sent counts: a field missing from a tampered request
    must not fall back to the stored value, e.g. a UTC time read as local time.
    """
    return obj if request.method == "GET" else None


def _names(registrations: list[Registration]) -> str:
    return ", ".join(r.name for r in registrations)


# --- home ------------------------------------------------------------------


@bp.route("/")
@staff_required
def index():
    """The staff home: the events this person works on."""
    events = services.events_for_staff(current_user)
    return render_template(
        "manage/index.html",
        events=events,
        counts=services.registration_counts([e.id for e in events]),
    )


# --- events ----------------------------------------------------------------


def _event_input(form: EventForm) -> services.EventInput:
    return services.EventInput(
        title=form.title.data,
        description=form.description.data or "",
        timezone=form.timezone.data.strip(),
        starts_local=form.starts_at.data,
        ends_local=form.ends_at.data,
        format=EventFormat(form.format.data),
        status=EventStatus(form.status.data),
        meeting_url=form.meeting_url.data or "",
        opens_local=form.registration_opens_at.data,
        closes_local=form.registration_closes_at.data,
        organizer_name=form.organizer_name.data or "",
        organizer_email=form.organizer_email.data or "",
    )


@bp.route("/events/new", methods=["GET", "POST"])
@organizer_required
def new_event():
    """Create an event."""
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = services.create_event(form.slug.data, _event_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The event is created. Now add its sites and agenda."), "success")
            return redirect(url_for("manage.event_sites", slug=event.slug))
    return render_template("manage/event_form.html", form=form, event=None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(slug: str):
    """Edit an event; a new time or place, or cancelling, updates everyone's invite."""
    event = event_or_404(slug)
    form = EditEventForm(obj=_on_get(event))
    if request.method == "GET":
        zone = event.zone
        form.format.data = event.format.value
        form.status.data = event.status.value
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            form[name].data = services.utc_to_local(getattr(event, name), zone)
    if form.validate_on_submit():
        try:
            notified = services.update_event(event, _event_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            if notified:
                flash(_("The event is saved, and participants are sent the change."), "success")
            else:
                flash(_("The event is saved."), "success")
            return redirect(url_for("manage.edit_event", slug=slug))
    return render_template("manage/event_form.html", form=form, event=event)


# --- sites -----------------------------------------------------------------


def _site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    return site


def _site_input(form: SiteForm) -> services.SiteInput:
    return services.SiteInput(
        name=form.name.data,
        region=form.region.data or "",
        address=form.address.data or "",
        is_main_venue=form.is_main_venue.data,
    )


@bp.route("/sites")
@organizer_required
def sites():
    """Every site, whichever events it takes part in."""
    return render_template("manage/sites.html", sites=services.all_sites())


@bp.route("/sites/new", methods=["GET", "POST"])
@organizer_required
def new_site():
    """Create a site."""
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = services.create_site(form.slug.data, _site_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Site %(name)s is created.", name=site.name), "success")
            return redirect(url_for("manage.sites"))
    return render_template("manage/site_form.html", form=form, site=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_site(site_id: int):
    """Edit a site's name, region, address and main-venue flag."""
    site = _site_or_404(site_id)
    form = EditSiteForm(obj=_on_get(site))
    if form.validate_on_submit():
        services.update_site(site, _site_input(form))
        db.session.commit()
        flash(_("Site %(name)s is saved.", name=site.name), "success")
        return redirect(url_for("manage.sites"))
    return render_template("manage/site_form.html", form=form, site=site)


@bp.route("/events/<slug>/sites", methods=["GET", "POST"])
@organizer_required
def event_sites(slug: str):
    """The sites taking part in an event and their capacities; POST adds one."""
    event = event_or_404(slug)
    add_form = AddEventSiteForm()
    candidates = services.sites_not_in(event)
    add_form.site.choices = options((s.id, f"{s.name} ({s.slug})") for s in candidates)
    if add_form.validate_on_submit():
        site = db.session.get(Site, add_form.site.data)
        try:
            services.add_event_site(event, site, add_form.capacity.data)
        except ManageError as error:
            db.session.rollback()
            _show_errors(add_form, error)
        else:
            db.session.commit()
            flash(_("%(site)s now takes part.", site=site.name), "success")
            return redirect(url_for("manage.event_sites", slug=slug))
    return render_template(
        "manage/event_sites.html",
        event=event,
        add_form=add_form,
        candidates=candidates,
        capacity_form=CapacityForm(formdata=None),
        remove_form=FlaskForm(formdata=None),
        taken=seats_taken(event),
    )


def _event_site_or_404(event: Event, site_slug: str):
    event_site = services.event_site_or_none(event, site_slug)
    if event_site is None:
        abort(404)
    return event_site


@bp.route("/events/<slug>/sites/<site_slug>/capacity", methods=["POST"])
@organizer_required
def set_capacity(slug: str, site_slug: str):
    """Change one site's capacity; more seats move its waitlist up."""
    event = event_or_404(slug)
    event_site = _event_site_or_404(event, site_slug)
    form = CapacityForm()
    if not form.validate_on_submit():
        for message in form.capacity.errors:
            flash(f"{event_site.site.name}: {message}", "error")
        return redirect(url_for("manage.event_sites", slug=slug))
    try:
        promoted = services.set_site_capacity(event, event_site, form.capacity.data)
    except ManageError as error:
        _refuse(error)
    else:
        db.session.commit()
        flash(
            _(
                "%(site)s now has %(count)d seats.",
                site=event_site.site.name,
                count=event_site.capacity,
            ),
            "success",
        )
        if promoted:
            flash(_("Moved up from the waiting list: %(names)s.", names=_names(promoted)), "info")
    return redirect(url_for("manage.event_sites", slug=slug))


@bp.route("/events/<slug>/sites/<site_slug>/remove", methods=["POST"])
@organizer_required
def remove_site(slug: str, site_slug: str):
    """Take a site out of an event, if nobody is registered there."""
    event = event_or_404(slug)
    event_site = _event_site_or_404(event, site_slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    name = event_site.site.name
    try:
        services.remove_event_site(event, event_site)
    except ManageError as error:
        _refuse(error)
    else:
        db.session.commit()
        flash(_("%(site)s no longer takes part.", site=name), "success")
    return redirect(url_for("manage.event_sites", slug=slug))


# --- agenda ----------------------------------------------------------------


def _agenda_input(form: AgendaItemForm) -> services.AgendaInput:
    return services.AgendaInput(
        title=form.title.data,
        speakers=form.speakers.data or "",
        starts_local=form.starts_at.data,
        ends_local=form.ends_at.data,
    )


def _agenda_item_or_404(event: Event, item_id: int) -> AgendaItem:
    item = next((i for i in event.agenda_items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.route("/events/<slug>/agenda", methods=["GET", "POST"])
@organizer_required
def agenda(slug: str):
    """An event's agenda; POST adds an item."""
    event = event_or_404(slug)
    form = AgendaItemForm()
    if request.method == "GET":
        last = event.agenda_items[-1] if event.agenda_items else None
        start = last.ends_at if last else event.starts_at
        form.starts_at.data = services.utc_to_local(start, event.zone)
        form.ends_at.data = services.utc_to_local(start, event.zone)
    if form.validate_on_submit():
        try:
            item = services.add_agenda_item(event, _agenda_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Added to the agenda: %(title)s.", title=item.title), "success")
            return redirect(url_for("manage.agenda", slug=slug))
    return render_template(
        "manage/agenda.html", event=event, form=form, delete_form=FlaskForm(formdata=None)
    )


@bp.route("/events/<slug>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_agenda_item(slug: str, item_id: int):
    """Edit one agenda item."""
    event = event_or_404(slug)
    item = _agenda_item_or_404(event, item_id)
    form = AgendaItemForm(obj=_on_get(item))
    if request.method == "GET":
        form.starts_at.data = services.utc_to_local(item.starts_at, event.zone)
        form.ends_at.data = services.utc_to_local(item.ends_at, event.zone)
    if form.validate_on_submit():
        try:
            services.update_agenda_item(item, _agenda_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The agenda item is saved."), "success")
            return redirect(url_for("manage.agenda", slug=slug))
    return render_template("manage/agenda_item.html", event=event, item=item, form=form)


@bp.route("/events/<slug>/agenda/<int:item_id>/delete", methods=["POST"])
@organizer_required
def delete_agenda_item(slug: str, item_id: int):
    """Remove one agenda item."""
    event = event_or_404(slug)
    item = _agenda_item_or_404(event, item_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    title = item.title
    services.delete_agenda_item(item)
    db.session.commit()
    flash(_("Removed from the agenda: %(title)s.", title=title), "success")
    return redirect(url_for("manage.agenda", slug=slug))


# --- registrations ---------------------------------------------------------


@bp.route("/events/<slug>/registrations")
@organizer_required
def registrations(slug: str):
    """An event's registrations, filtered, searched and paged."""
    event = event_or_404(slug)
    form = RegistrationFilterForm(request.args)
    form.site.choices = options(
        [("", _("All")), *((es.site.slug, es.site.name) for es in event.event_sites)]
    )
    filters = services.RegistrationFilters()
    if form.validate():
        site = services.event_site_or_none(event, form.site.data) if form.site.data else None
        filters = services.RegistrationFilters(
            site_id=site.site_id if site else None,
            mode=form.mode_value(),
            status=form.status_value(),
            text=form.q.data or "",
        )
    results = services.registrations_page(event, filters, request.args.get("page", 1, type=int))
    return render_template(
        "manage/registrations.html",
        event=event,
        form=form,
        results=results,
        counts=services.status_counts(event),
        filtered=form.site.data or form.mode.data or form.status.data or form.q.data,
    )


def _registration_or_404(event: Event, registration_id: int) -> Registration:
    registration = db.session.scalar(
        sa.select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )
    if registration is None:
        abort(404)
    return registration


def _participation_choices(event: Event) -> list[SelectChoice]:
    return options(
        [*((es.site.slug, es.site.name) for es in event.event_sites), (ONLINE, _("Online"))]
    )


@bp.route("/events/<slug>/registrations/<int:registration_id>", methods=["GET", "POST"])
@organizer_required
def edit_registration(slug: str, registration_id: int):
    """Correct one registration, or move it to another site or mode."""
    event = event_or_404(slug)
    registration = _registration_or_404(event, registration_id)
    form = RegistrationEditForm(obj=_on_get(registration))
    form.participation.choices = _participation_choices(event)
    if request.method == "GET":
        form.participation.data = registration.site.slug if registration.site else ONLINE
        form.org_kind.data = registration.org_kind.value
        form.gender.data = registration.gender.value if registration.gender else ""
    if form.validate_on_submit():
        choice = form.participation.data
        mode, site_slug = (Mode.ONLINE, None) if choice == ONLINE else (Mode.IN_PERSON, choice)
        details = services.RegistrationDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data or "",
            organization=form.organization.data or "",
            position=form.position.data or "",
            org_kind=form.org_kind_value,
            gender=form.gender_value,
            language=form.language.data,
        )
        try:
            services.update_registration(registration, details, mode, site_slug)
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The registration of %(name)s is saved.", name=registration.name), "success")
            return redirect(url_for("manage.registrations", slug=slug))
    return render_template(
        "manage/registration.html",
        event=event,
        registration=registration,
        form=form,
        cancel_form=FlaskForm(formdata=None),
    )


@bp.route("/events/<slug>/registrations/<int:registration_id>/cancel", methods=["POST"])
@organizer_required
def cancel_registration_view(slug: str, registration_id: int):
    """Cancel one registration; the first waitlisted person at that site moves up."""
    event = event_or_404(slug)
    registration = _registration_or_404(event, registration_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if registration.status == RegistrationStatus.CANCELLED:
        flash(_("This registration was already cancelled."), "info")
    else:
        promoted = cancel_registration(registration)
        db.session.commit()
        flash(_("The registration of %(name)s is cancelled.", name=registration.name), "success")
        if promoted:
            flash(_("Moved up from the waiting list: %(names)s.", names=_names(promoted)), "info")
    return redirect(url_for("manage.registrations", slug=slug))


# --- staff (admins only) ---------------------------------------------------


def _staff_or_404(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


def _staff_input(form: StaffForm) -> services.StaffInput:
    return services.StaffInput(
        name=form.name.data or "",
        role=Role(form.role.data),
        site_ids=list(form.sites.data or []),
        is_active=form.is_active.data,
    )


def _site_choices() -> list[SelectChoice]:
    return options((s.id, s.name) for s in services.all_sites())


@bp.route("/staff")
@admin_required
def staff():
    """Every staff account, with role and sites."""
    return render_template("manage/staff.html", users=services.staff_users())


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def new_staff():
    """Create a staff account."""
    form = NewStaffForm()
    form.sites.choices = _site_choices()
    if form.validate_on_submit():
        try:
            user = services.create_staff_user(
                form.email.data, form.password.data, _staff_input(form)
            )
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The account %(email)s is created.", email=user.email), "success")
            return redirect(url_for("manage.staff"))
    return render_template("manage/staff_new.html", form=form)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_staff(user_id: int):
    """Change a staff member's role, sites and access; see and revoke their API tokens."""
    user = _staff_or_404(user_id)
    form = StaffForm(obj=_on_get(user), prefix="staff")
    form.sites.choices = _site_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.sites.data = [site.id for site in user.sites]
        form.is_active.data = user.is_active_user
    if form.validate_on_submit():
        try:
            services.update_staff_user(user, _staff_input(form))
        except ManageError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The account %(email)s is saved.", email=user.email), "success")
            return redirect(url_for("manage.edit_staff", user_id=user.id))
    return render_template(
        "manage/staff_user.html",
        user=user,
        form=form,
        password_form=PasswordForm(formdata=None, prefix="password"),
        revoke_form=FlaskForm(formdata=None),
        tokens=sorted(user.api_tokens, key=lambda t: t.created_at, reverse=True),
        zone=ZoneInfo(current_app.config["DEFAULT_EVENT_TIMEZONE"]),
    )


@bp.route("/staff/<int:user_id>/password", methods=["POST"])
@admin_required
def reset_password(user_id: int):
    """Set a new password for a staff member."""
    user = _staff_or_404(user_id)
    form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        services.reset_staff_password(user, form.password.data)
        db.session.commit()
        flash(_("The password of %(email)s is changed.", email=user.email), "success")
    else:
        for field in (form.password, form.password_again):
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
    return redirect(url_for("manage.edit_staff", user_id=user.id))


@bp.route("/staff/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke_token(user_id: int, token_id: int):
    """Revoke one API token, e.g. of a lost scanner."""
    user = _staff_or_404(user_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if services.revoke_api_token(token):
        db.session.commit()
        flash(_("The token is revoked; it no longer works."), "success")
    else:
        flash(_("This token was already revoked."), "info")
    return redirect(url_for("manage.edit_staff", user_id=user.id))
