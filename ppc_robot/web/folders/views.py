"""Folder pages: browse, create, rename, move, delete."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.folders import (
    FolderError,
    ancestors,
    create_folder,
    delete_folder,
    folder_tree,
    move_folder,
    rename_folder,
    root_folder,
    subtree_ids,
    surroundings,
)
from ppc_robot.lib.jobs import folder_jobs, jobs_below, search_jobs
from ppc_robot.lib.models import Folder, Tag
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.folders.forms import FolderDeleteForm, FolderForm, FolderMoveForm
from ppc_robot.web.i18n import current_locale, refusal
from ppc_robot.web.safety import query_int

bp = Blueprint("folders", __name__, url_prefix="/folders")
bp.before_request(require_login)


@bp.route("/")
def index() -> ResponseReturnValue:
    return redirect(url_for(".show", folder_id=root_folder(db.session(), current_user).id))


@bp.route("/<int:folder_id>")
def show(folder_id: int) -> ResponseReturnValue:
    folder = owned(Folder, folder_id)
    session = db.session()
    tag = _tag_filter()
    path, children = surroundings(session, folder)
    jobs = folder_jobs(session, folder, tag=tag, page=_page_number(), locale=current_locale())
    return render_template(
        "folders/show.html", folder=folder, path=path, children=children, jobs=jobs, tags=jobs.tags, tag=tag,
    )


@bp.route("/<int:folder_id>/all")
def below(folder_id: int) -> ResponseReturnValue:
    """Every job in the folder and all folders below it (the closure table)."""
    folder = owned(Folder, folder_id)
    session = db.session()
    tag = _tag_filter()
    jobs = jobs_below(session, folder, tag=tag, page=_page_number(), locale=current_locale())
    return render_template(
        "folders/below.html", folder=folder, path=ancestors(session, folder), jobs=jobs, tags=jobs.tags, tag=tag,
    )


@bp.route("/search")
def search() -> ResponseReturnValue:
    session = db.session()
    query = request.args.get("q", "").strip()[:200]
    jobs = search_jobs(session, current_user, query, page=_page_number(), locale=current_locale())
    return render_template("folders/search.html", query=query, jobs=jobs, tags=jobs.tags)


def _page_number() -> int:
    return query_int("page", 1, minimum=1, maximum=1_000_000) or 1


def _tag_filter() -> Tag | None:
    tag_id = query_int("tag")
    return owned(Tag, tag_id) if tag_id else None


@bp.route("/<int:folder_id>/new", methods=["GET", "POST"])
def create(folder_id: int) -> ResponseReturnValue:
    parent = owned(Folder, folder_id)
    form = FolderForm()
    if form.validate_on_submit():
        try:
            folder = create_folder(db.session(), parent, form.name.data)
        except FolderError as exc:
            db.session.rollback()
            form.name.errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Folder “%(name)s” created.', name=folder.name), "success")
            return redirect(url_for(".show", folder_id=folder.id))
    path = ancestors(db.session(), parent)
    html = render_template("folders/create.html", form=form, parent=parent, path=path)
    return html, 422 if form.errors else 200


@bp.route("/<int:folder_id>/rename", methods=["GET", "POST"])
def rename(folder_id: int) -> ResponseReturnValue:
    folder = owned(Folder, folder_id)
    form = FolderForm(obj=folder)
    if form.validate_on_submit():
        try:
            rename_folder(db.session(), folder, form.name.data)
        except FolderError as exc:
            db.session.rollback()
            form.name.errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Folder renamed to “%(name)s”.', name=folder.name), "success")
            return redirect(url_for(".show", folder_id=folder.id))
    path = ancestors(db.session(), folder)
    html = render_template("folders/rename.html", form=form, folder=folder, path=path)
    return html, 422 if form.errors else 200


@bp.route("/<int:folder_id>/move", methods=["GET", "POST"])
def move(folder_id: int) -> ResponseReturnValue:
    folder = owned(Folder, folder_id)
    session = db.session()
    form = FolderMoveForm(folder_tree(session, current_user), subtree_ids(session, folder))
    if form.validate_on_submit():
        target = owned(Folder, form.target_id.data)
        try:
            move_folder(session, folder, target)
        except FolderError as exc:
            db.session.rollback()
            form.target_id.errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Folder “%(name)s” moved into “%(name2)s”.', name=folder.name, name2=target.name), "success")
            return redirect(url_for(".show", folder_id=folder.id))
    path = ancestors(session, folder)
    html = render_template("folders/move.html", form=form, folder=folder, path=path)
    return html, 422 if form.errors else 200


@bp.route("/<int:folder_id>/delete", methods=["GET", "POST"])
def delete(folder_id: int) -> ResponseReturnValue:
    folder = owned(Folder, folder_id)
    form = FolderDeleteForm()
    if form.validate_on_submit():
        parent_id = folder.parent_id
        name = folder.name
        try:
            delete_folder(db.session(), folder, move_contents_up=form.move_contents_up.data)
        except FolderError as exc:
            db.session.rollback()
            form.move_contents_up.errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('Folder “%(name)s” deleted.', name=name), "success")
            return redirect(url_for(".show", folder_id=parent_id))
    path = ancestors(db.session(), folder)
    html = render_template("folders/delete.html", form=form, folder=folder, path=path)
    return html, 422 if form.errors else 200
