"""Tag management: job tags and client-account tags, with their usage counts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import ClientAccountTag, Tag
from ppc_robot.lib.tags import (
    TagError,
    accounts_with_tag,
    create_tag,
    delete_tag,
    tags_with_usage,
    update_tag,
)
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.jobs.forms import ConfirmForm
from ppc_robot.web.tags.forms import TagForm

bp = Blueprint("tags", __name__, url_prefix="/tags")
bp.before_request(require_login)

KINDS = {Tag: N_("job tag"), ClientAccountTag: N_("client-account tag")}
NEW_TITLES = {Tag: N_("New job tag"), ClientAccountTag: N_("New client-account tag")}
EDIT_TITLES = {Tag: N_("Edit job tag"), ClientAccountTag: N_("Edit client-account tag")}


@bp.route("/")
def index() -> ResponseReturnValue:
    session = db.session()
    return render_template(
        "tags/index.html",
        job_tags=tags_with_usage(session, Tag, current_user),
        account_tags=tags_with_usage(session, ClientAccountTag, current_user),
        root=root_folder(session, current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> ResponseReturnValue:
    return _create(Tag)


@bp.route("/accounts/new", methods=["GET", "POST"])
def create_account_tag() -> ResponseReturnValue:
    return _create(ClientAccountTag)


@bp.route("/<int:tag_id>/edit", methods=["GET", "POST"])
def edit(tag_id: int) -> ResponseReturnValue:
    return _edit(owned(Tag, tag_id))


@bp.route("/accounts/<int:client_account_tag_id>/edit", methods=["GET", "POST"])
def edit_account_tag(client_account_tag_id: int) -> ResponseReturnValue:
    return _edit(owned(ClientAccountTag, client_account_tag_id))


@bp.route("/<int:tag_id>/delete", methods=["GET", "POST"])
def delete(tag_id: int) -> ResponseReturnValue:
    return _delete(owned(Tag, tag_id))


@bp.route("/accounts/<int:client_account_tag_id>/delete", methods=["GET", "POST"])
def delete_account_tag(client_account_tag_id: int) -> ResponseReturnValue:
    return _delete(owned(ClientAccountTag, client_account_tag_id))


@bp.route("/accounts/<int:client_account_tag_id>")
def account_tag(client_account_tag_id: int) -> ResponseReturnValue:
    """The client accounts carrying one tag (where its usage count links)."""
    tag = owned(ClientAccountTag, client_account_tag_id)
    return render_template("tags/account_tag.html", tag=tag,
                           accounts=accounts_with_tag(db.session(), tag))


def _create(model: type[Tag] | type[ClientAccountTag]) -> ResponseReturnValue:
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = create_tag(db.session(), model, current_user, form.name.data, form.colour.data)
        except TagError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Tag “%(name)s” created.', name=tag.name), "success")
            return redirect(url_for(".index"))
    html = render_template("tags/form.html", form=form, title=_(NEW_TITLES[model]),
                           submit=_("Create"))
    return html, 422 if form.errors else 200


def _edit(tag: Tag | ClientAccountTag) -> ResponseReturnValue:
    form = TagForm(obj=tag)
    if form.validate_on_submit():
        try:
            update_tag(db.session(), tag, form.name.data, form.colour.data)
        except TagError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Tag “%(name)s” saved.', name=tag.name), "success")
            return redirect(url_for(".index"))
    html = render_template("tags/form.html", form=form, title=_(EDIT_TITLES[type(tag)]),
                           submit=_("Save"))
    return html, 422 if form.errors else 200


def _delete(tag: Tag | ClientAccountTag) -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        name = tag.name
        delete_tag(db.session(), tag)
        db.session.commit()
        flash(_('Tag “%(name)s” deleted and removed everywhere.', name=name), "success")
        return redirect(url_for(".index"))
    return render_template("tags/delete.html", form=form, tag=tag, kind=KINDS[type(tag)])
