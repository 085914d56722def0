"""Clients: client accounts grouped across platforms, with budget and targets."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ppc_robot.lib.bounds import OutOfRangeError
from ppc_robot.lib.client_accounts import (
    ClientAccountFilter,
    client_accounts_of,
    owned_client_accounts,
)
from ppc_robot.lib.client_performance import client_performance
from ppc_robot.lib.clients import (
    ClientError,
    accounts_moving_to,
    clients_of,
    delete_client,
    jobs_of_client,
    save_client,
)
from ppc_robot.lib.models import Client, utcnow
from ppc_robot.lib.pacing import local_today
from ppc_robot.lib.times import zone_of
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.clients.forms import ClientForm
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal

bp = Blueprint("clients", __name__, url_prefix="/clients")
bp.before_request(require_login)


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("clients/index.html", clients=clients_of(db.session(), current_user))


@bp.route("/<int:client_id>")
def show(client_id: int) -> ResponseReturnValue:
    client = owned(Client, client_id)
    session = db.session()
    accounts = client_accounts_of(session, current_user, ClientAccountFilter(client_id=client.id))
    now = utcnow()
    performance = client_performance(session, client, accounts,
                                     local_today(now, zone_of(current_user.time_zone)), now)
    return render_template("clients/show.html", client=client, accounts=accounts,
                           jobs=jobs_of_client(session, client), performance=performance)


def _form_page(client: Client, template: str) -> ResponseReturnValue:
    session = db.session()
    accounts = client_accounts_of(session, current_user)
    form = ClientForm(accounts, client, obj=client if client.id else None)
    if not form.is_submitted() and client.id:
        form.client_account_ids.data = [a.id for a in accounts if a.client_id == client.id]
    if form.validate_on_submit():
        chosen = owned_client_accounts(session, current_user, form.client_account_ids.data or [])
        moving = accounts_moving_to(session, client, chosen)
        moved = " ".join(f"“{account.name}” moved here from client “{holder.name}”."
                         for account, holder in moving)
        try:
            save_client(session, client, name=form.name.data, currency=form.currency.data,
                        monthly_budget=form.monthly_budget.data, target_cpa=form.target_cpa.data,
                        target_roas=form.target_roas.data, target_pno=form.target_pno.data,
                        pacing_tolerance=form.pacing_tolerance.data, client_accounts=chosen)
        except ClientError as exc:
            db.session.rollback()
            form.name.errors.append(refusal(exc))
        except OutOfRangeError as exc:
            db.session.rollback()
            form[exc.field].errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Client “%(name)s” saved.', name=client.name), "success")
            if moved:
                flash(moved, "info")
            return redirect(url_for(".show", client_id=client.id))
    html = render_template(template, form=form, client=client)
    return html, 422 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
def create() -> ResponseReturnValue:
    return _form_page(Client(user_id=current_user.id), "clients/create.html")


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
def edit(client_id: int) -> ResponseReturnValue:
    return _form_page(owned(Client, client_id), "clients/edit.html")


@bp.route("/<int:client_id>/delete", methods=["GET", "POST"])
def delete(client_id: int) -> ResponseReturnValue:
    client = owned(Client, client_id)
    form = FlaskForm()
    if form.validate_on_submit():
        name = client.name
        delete_client(db.session(), client)
        db.session.commit()
        flash(_('Client “%(name)s” deleted; its client accounts are kept.', name=name), "success")
        return redirect(url_for(".index"))
    return render_template("clients/delete.html", form=form, client=client)
