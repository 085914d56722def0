"""Ownership, CSRF and login sweeps over every route; and proof that they bite."""

from __future__ import annotations

import pytest
from flask import Blueprint, abort
from sqlalchemy import select

from ppc_robot.lib.models import Folder
from ppc_robot.web import create_app
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import csrf, db
from tests.conftest import app_config
from tests.web.sweeps import (
    anonymous_violations,
    csrf_violations,
    ownership_violations,
    undeclared_arguments,
)


def test_every_route_argument_is_known_to_the_sweeps(app, workspace):
    assert undeclared_arguments(app, set(workspace.ids())) == []


def test_another_users_objects_answer_404_on_every_route(app, client, login, workspace, other_workspace):
    login(workspace.user)

    violations = ownership_violations(app, client, other_workspace.ids(), workspace.ids())

    assert violations == []


def test_every_post_route_refuses_a_missing_or_forged_csrf_token(app, client, login, workspace):
    login(workspace.user)

    assert csrf_violations(app, client, workspace.ids()) == []


def test_every_private_page_sends_anonymous_visitors_to_log_in(app, client, workspace):
    assert anonymous_violations(app, client, workspace.ids()) == []


@pytest.fixture
def careless_app(database_url, tmp_path):
    """An app with unscoped routes and a CSRF-exempt one, as a forgetful change would add."""
    app = create_app(app_config(database_url, tmp_path / "instance"))
    careless = Blueprint("careless", __name__, url_prefix="/careless")
    careless.before_request(require_login)

    @careless.route("/<int:folder_id>")
    def peek(folder_id):
        folder = db.session.scalar(select(Folder).where(Folder.id == folder_id))
        return folder.name if folder else abort(404)

    @careless.route("/<int:folder_id>/rename", methods=["POST"])
    @csrf.exempt
    def rename(folder_id):
        owned(Folder, folder_id).name = "renamed"
        db.session.commit()
        return "ok"

    @careless.route("/<folder_id>/label")
    def label(folder_id):
        # A string argument: no converter bounds it, and nothing looks the folder up.
        return f"Folder {folder_id}"

    app.register_blueprint(careless)
    return app


def test_the_sweeps_catch_an_unscoped_route_and_a_csrf_exempt_one(careless_app, workspace, other_workspace):
    client = careless_app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = workspace.user.session_token

    leaks = ownership_violations(careless_app, client, other_workspace.ids(), workspace.ids())
    forgeries = csrf_violations(careless_app, client, workspace.ids())

    assert leaks == [
        f"GET /careless/{other_workspace.folder.id}/label answered 200, not 404",
        "GET /careless/-1/label answered 200, not 404",
        "GET /careless/2147483648/label answered 200, not 404",
        "GET /careless/9223372036854775808/label answered 200, not 404",
        "GET /careless/99999999999999999999/label answered 200, not 404",
        f"GET /careless/{other_workspace.folder.id} answered 200, not 404",
    ]
    assert forgeries == [
        f"POST /careless/{workspace.folder.id}/rename with token None answered 200, not 400",
        f"POST /careless/{workspace.folder.id}/rename with token 'forged' answered 200, not 400",
    ]
