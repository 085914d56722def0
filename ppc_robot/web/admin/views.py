"""The admin area: users, plans, subscriptions, invites, queue health, outbox, audit log.

Every POST writes one audit log row (who, what, when) in the same commit as the change.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.admin import (
    audit_entries,
    queue_health,
    record_admin_action,
    search_users,
    set_user_active,
    settings_problems,
    user_overview,
)
from ppc_robot.lib.bounds import OutOfRangeError
from ppc_robot.lib.models import User
from ppc_robot.lib.times import zone_of
from ppc_robot.lib.users import end_sessions
from ppc_robot.web.access import require_admin
from ppc_robot.web.admin.forms import AdminInviteForm, ConfirmForm, PlanForm, UserPlanForm
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.mailer import outbox, send_invite
from ppc_robot.web.membership.invites import (
    InviteError,
    PendingInviteError,
    all_invites,
    create_invite,
    invite_status,
    renew_invite,
    revoke_invite,
)
from ppc_robot.web.membership.plans import (
    PlanError,
    all_plans,
    all_subscriptions,
    assign_plan,
    save_plan,
    usage_for,
    users_over_limits,
)
from ppc_robot.web.models import Invite, Plan, SubscriptionStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)

PLAN_FIELDS = ("name", "max_jobs", "max_client_accounts", "min_schedule_interval_minutes",
               "allows_slack", "max_invites", "is_default")


def _audit(action: str, target: Any, **details: Any) -> None:
    record_admin_action(
        db.session(), current_user, action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None), details=details, ip_address=request.remote_addr,
    )


def _invite_ttl() -> timedelta:
    return timedelta(days=current_app.config["PPC_ROBOT_INVITE_TTL_DAYS"])


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("admin/index.html", health=queue_health(db.session()),
                           problems=settings_problems(db.session()))


@bp.route("/users")
def users() -> ResponseReturnValue:
    query = request.args.get("q", "")
    found = search_users(db.session(), query)
    return render_template("admin/users.html", users=found, query=query)


@bp.route("/users/<int:user_id>")
def user(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    subscription, lines = usage_for(db.session(), person)
    form = UserPlanForm(all_plans(db.session()),
                        plan_id=subscription.plan_id if subscription else None)
    return render_template("admin/user.html", person=person, subscription=subscription,
                           lines=lines, overview=user_overview(db.session(), person),
                           plan_form=form, confirm=ConfirmForm())


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        if person.id == current_user.id:
            flash(_("You cannot deactivate yourself."), "danger")
        else:
            set_user_active(db.session(), person, not person.is_active)
            _audit("user.activate" if person.is_active else "user.deactivate", person,
                   email=person.email)
            db.session.commit()
            if person.is_active:
                flash(_("%(email)s is active again.", email=person.email), "success")
            else:
                flash(_("%(email)s is deactivated; his data is kept.", email=person.email),
                      "success")
    return redirect(url_for(".user", user_id=person.id))


@bp.route("/users/<int:user_id>/admin", methods=["POST"])
def user_admin(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        if person.id == current_user.id:
            flash(_("You cannot change your own admin rights."), "danger")
        else:
            person.is_admin = not person.is_admin
            end_sessions(person)  # a change of privilege starts a new session
            _audit("user.make_admin" if person.is_admin else "user.remove_admin", person,
                   email=person.email)
            db.session.commit()
            if person.is_admin:
                flash(_("%(email)s is now an admin.", email=person.email), "success")
            else:
                flash(_("%(email)s is no longer an admin.", email=person.email), "success")
    return redirect(url_for(".user", user_id=person.id))


@bp.route("/users/<int:user_id>/plan", methods=["POST"])
def user_plan(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = UserPlanForm(all_plans(db.session()))
    if form.validate_on_submit():
        plan = db.get_or_404(Plan, form.plan_id.data)
        # The date's midnight where the admin is: the pages show it in his zone too.
        end = (datetime.combine(form.period_end.data, time(), tzinfo=zone_of(current_user.time_zone))
               if form.period_end.data else None)
        assign_plan(db.session(), person, plan, status=SubscriptionStatus(form.status.data),
                    period_end=end)
        _audit("user.change_plan", person, email=person.email, plan=plan.name,
               status=form.status.data)
        db.session.commit()
        flash(_('%(email)s is on the plan “%(name)s” (%(data)s).', email=person.email, name=plan.name, data=form.status.data), "success")
    else:
        flash(_("Choose a plan and a status."), "danger")
    return redirect(url_for(".user", user_id=person.id))


@bp.route("/plans")
def plans() -> ResponseReturnValue:
    return render_template("admin/plans.html", plans=all_plans(db.session()))


@bp.route("/plans/new", methods=["GET", "POST"])
def plan_create() -> ResponseReturnValue:
    form = PlanForm()
    if form.validate_on_submit():
        try:
            plan = save_plan(db.session(), None, **{f: form[f].data for f in PLAN_FIELDS})
        except PlanError as exc:
            form.name.errors.append(refusal(exc))
        except OutOfRangeError as exc:
            form[exc.field].errors.append(refusal(exc))
        else:
            _audit("plan.create", plan, name=plan.name)
            db.session.commit()
            flash(_('Plan “%(name)s” created.', name=plan.name), "success")
            return redirect(url_for(".plans"))
    html = render_template("admin/plan_form.html", form=form, plan=None)
    return html, 422 if form.errors else 200


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
def plan_edit(plan_id: int) -> ResponseReturnValue:
    plan = db.get_or_404(Plan, plan_id)
    form = PlanForm(obj=plan)
    if form.validate_on_submit():
        try:
            save_plan(db.session(), plan, **{f: form[f].data for f in PLAN_FIELDS})
        except PlanError as exc:
            form.name.errors.append(refusal(exc))
        except OutOfRangeError as exc:
            form[exc.field].errors.append(refusal(exc))
        else:
            _audit("plan.edit", plan, **{f: form[f].data for f in PLAN_FIELDS})
            over = users_over_limits(db.session(), plan)
            db.session.commit()
            flash(_('Plan “%(name)s” saved.', name=plan.name), "success")
            if over:
                flash(_("Saved below current usage: %(users)s", users=" ".join(over)), "warning")
            return redirect(url_for(".plans"))
    html = render_template("admin/plan_form.html", form=form, plan=plan)
    return html, 422 if form.errors else 200


@bp.route("/subscriptions")
def subscriptions() -> ResponseReturnValue:
    return render_template("admin/subscriptions.html",
                           subscriptions=all_subscriptions(db.session()))


@bp.route("/invites", methods=["GET", "POST"])
def invites() -> ResponseReturnValue:
    form = AdminInviteForm(all_plans(db.session()))
    pending = None
    if form.validate_on_submit():
        plan = db.session.get(Plan, form.plan_id.data) if form.plan_id.data else None
        try:
            invite, token = create_invite(db.session(), current_user, form.email.data,
                                          ttl=_invite_ttl(), plan=plan)
        except PendingInviteError as exc:
            form.email.errors.append(refusal(exc))
            pending = exc.invite
        except InviteError as exc:
            form.email.errors.append(refusal(exc))
        else:
            _audit("invite.create", invite, email=invite.email)
            sent = send_invite(invite, token, current_user.name or current_user.email)
            db.session.commit()
            if sent:
                flash(_('Invite sent to %(email)s.', email=invite.email), "success")
            return redirect(url_for(".invites"))
    rows = [(invite, invite_status(invite)) for invite in all_invites(db.session())]
    html = render_template("admin/invites.html", form=form, rows=rows, pending=pending,
                           confirm=ConfirmForm())
    return html, 422 if form.errors else 200


@bp.route("/invites/<int:invite_id>/revoke", methods=["POST"])
def invite_revoke(invite_id: int) -> ResponseReturnValue:
    invite = db.get_or_404(Invite, invite_id)
    if ConfirmForm().validate_on_submit():
        try:
            revoke_invite(db.session(), invite)
        except InviteError as exc:
            flash(refusal(exc), "danger")
        else:
            _audit("invite.revoke", invite, email=invite.email)
            db.session.commit()
            flash(_('The invite of %(email)s is revoked.', email=invite.email), "success")
    return redirect(url_for(".invites"))


@bp.route("/invites/<int:invite_id>/resend", methods=["POST"])
def invite_resend(invite_id: int) -> ResponseReturnValue:
    invite = db.get_or_404(Invite, invite_id)
    if ConfirmForm().validate_on_submit():
        try:
            token = renew_invite(db.session(), invite, ttl=_invite_ttl())
        except InviteError as exc:
            flash(refusal(exc), "danger")
        else:
            _audit("invite.resend", invite, email=invite.email)
            sent = send_invite(invite, token, current_user.name or current_user.email)
            db.session.commit()
            if sent:
                flash(_('Invite sent to %(email)s again; the older link no longer works.', email=invite.email),
                      "success")
    return redirect(url_for(".invites"))


@bp.route("/outbox")
def outbox_list() -> ResponseReturnValue:
    return render_template("admin/outbox.html", messages=outbox())


@bp.route("/audit")
def audit() -> ResponseReturnValue:
    return render_template("admin/audit.html", entries=audit_entries(db.session()))
