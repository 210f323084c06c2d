"""Registration for participants, and their personal page at /r/<token>."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from app.forms import ONLINE, mode_and_site
from app.models import Event, RegistrationState, RegistrationStatus
from app.refusals import Reason, Refusal
from app.registrations.forms import ParticipationForm, RegistrationForm, participation_choices
from app.registrations.services import (
    cancel_registration,
    change_participation,
    online_switch_refusal,
    register_participant,
    seats_left,
    switch_to_online,
)
from app.web import (
    public_event_or_404,
    registration_for_token,
    require_button_post,
    save,
    save_and_go_back,
    show_refusal,
)

bp = Blueprint("registrations", __name__)


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _attempt_limit() -> str:
    return current_app.config["REGISTER_ATTEMPT_RATE_LIMIT"]


def _form_accepted(response: Response) -> bool:
    """Whether the form was taken: a registration made, or a personal link sent again.

    Both end in a redirect; a form shown again with its mistakes does not count,
    so a group typing at one shared address is not locked out by its typos.
    """
    return response.status_code == 302


def _registration_form(event: Event) -> tuple[RegistrationForm, dict[int, int]]:
    """The registration form for an event, with the seats left at each site."""
    seats = seats_left(event)
    form = RegistrationForm()
    form.participation.choices = participation_choices(event, seats)
    return form, seats


def _form_kept_when_limited(_limit: RequestLimit) -> Response:
    """Refuse with the form as it was typed, rather than an error page that loses it."""
    event = public_event_or_404(request.view_args["slug"])
    form, seats = _registration_form(event)
    page = render_template(
        "registrations/register.html", event=event, form=form, seats=seats, rate_limited=True
    )
    return make_response(page, 429)


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@limiter.limit(
    _register_limit,
    methods=["POST"],
    deduct_when=_form_accepted,
    on_breach=_form_kept_when_limited,
)
@limiter.limit(
    _attempt_limit, methods=["POST"], scope="attempts", on_breach=_form_kept_when_limited
)
def register(slug: str):
    """The registration form."""
    event = public_event_or_404(slug)
    state = event.registration_state()
    if state != RegistrationState.OPEN:
        return render_template("registrations/closed.html", event=event, registration_state=state)
    form, seats = _registration_form(event)
    if request.method == "GET":
        form.language.data = str(get_locale())
    if form.validate_on_submit():
        try:
            outcome = register_participant(event, form.to_input())
        except Refusal as refusal:
            db.session.rollback()
            show_refusal(refusal, form)
        else:
            db.session.commit()
            if not outcome.created:
                return redirect(url_for("registrations.already_registered", slug=slug))
            # The token travels in the session, not the URL, so the thank-you
            # page cannot be bookmarked into someone else's history.
            session["just_registered"] = outcome.registration.manage_token
            return redirect(url_for("registrations.thanks", slug=slug))
    return render_template("registrations/register.html", event=event, form=form, seats=seats)


@bp.route("/events/<slug>/register/thanks")
def thanks(slug: str):
    """Confirmation page right after registering, with the personal link."""
    token = session.get("just_registered")
    if not token:
        return redirect(url_for("events.show", slug=slug))
    registration = registration_for_token(token)
    return render_template(
        "registrations/thanks.html", registration=registration, event=registration.event
    )


@bp.route("/events/<slug>/register/already")
def already_registered(slug: str):
    """Tells the visitor the link was re-sent, and nothing else."""
    event = public_event_or_404(slug)
    return render_template("registrations/already.html", event=event)


@bp.route("/r/<token>", methods=["GET", "POST"])
def manage(token: str):
    """The participant's own page: view, switch site or mode, cancel."""
    registration = registration_for_token(token)
    event = registration.event
    seats = seats_left(event)
    form = ParticipationForm(prefix="change")
    form.participation.choices = participation_choices(event, seats)
    cancel_form = FlaskForm(prefix="cancel")
    can_change = (
        registration.status != RegistrationStatus.CANCELLED
        and event.registration_state() == RegistrationState.OPEN
    )
    if request.method == "GET":
        form.participation.data = registration.site.slug if registration.site else ONLINE
    elif "change-participation" in request.form:
        if not can_change:
            flash(_("This registration can no longer be changed."), "error")
        elif form.validate_on_submit() and (
            saved := save(
                lambda: change_participation(registration, *mode_and_site(form.participation.data)),
                form=form,
                success=_("Your registration has been updated."),
                redirect_to=url_for("registrations.manage", token=token),
            )
        ):
            return saved
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=event,
        form=form,
        cancel_form=cancel_form,
        can_change=can_change,
        online_switch=_online_switch(registration),
    )


def _online_switch(registration) -> dict | None:
    """What the personal page offers for switching to online: its form, or why not.

    None when the offer does not apply (not a confirmed place at a site, an event
    not followed online, or over); a refusal that only holds today is shown.
    """
    refusal = online_switch_refusal(registration)
    if refusal is not None and refusal.reason != Reason.CONFLICT:
        return None
    return {
        "form": FlaskForm(prefix="online"),
        "refusal": refusal.message if refusal else None,
    }


@bp.route("/r/<token>/online", methods=["POST"])
def switch_online(token: str):
    """Take part online instead of at the site, on the day too."""
    registration = registration_for_token(token)
    require_button_post("online")
    return save_and_go_back(
        lambda: switch_to_online(registration),
        success=_("You now take part online. Your join link is on this page and in your email."),
        back=url_for("registrations.manage", token=token),
    )


@bp.route("/r/<token>/cancel", methods=["POST"])
def cancel(token: str):
    """Cancel one's own registration."""
    registration = registration_for_token(token)
    require_button_post("cancel")
    if registration.status != RegistrationStatus.CANCELLED:
        cancel_registration(registration)
        db.session.commit()
        flash(_("Your registration has been cancelled."), "success")
    return redirect(url_for("registrations.manage", token=token))
