"""Every form and query string of the app, posted with hostile values: no 500, nothing lost.

The fuzzer (tests/web/fuzz.py) walks Flask's URL map as the sweeps do, so a new route or a
new field is fuzzed without being listed here.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import User, utcnow
from ppc_robot.web.ratelimits import reset_rate_limits
from tests.factories import make_workspace
from tests.support import platforms as platform_fixtures
from tests.web.fuzz import Fuzzer, Mutation, encode, forms_of, reset_tables

sklik_stub = platform_fixtures.sklik_stub

FORMLESS = {
    "/login", "/signup",  # a logged-in user is sent on; fuzzed from a visitor below
    "/email/confirm", "/password/reset",  # need a link's token in the session
    "/jobs/<int:job_id>/detach",  # offered only for a shared definition
    "/settings/email/confirm-again",  # offered only while the address is unconfirmed
    "/runs/mail/<int:output_delivery_id>/revoke",  # offered only while a mailed link works
}
# Counted per address and per account by design: a refused login or reset request is recorded.
COUNTERS = {"web_login_failures": {"*"}}
# Stamped by a successful login, whatever else the request did.
STAMPS = {"robot_users": {"last_login_at"}}


class Scene:
    """The fuzzed user (an admin, so the admin area is fuzzed too) and another user.

    Ids are read once per reset: an accepted change may delete the objects behind them.
    """

    def __init__(self, app: Any, client: Any, engine: Any, session: Any) -> None:
        self.app, self.client, self.engine, self.session = app, client, engine, session
        self.reset()

    def reset(self) -> None:
        self.session.rollback()
        self.session.expunge_all()
        reset_tables(self.engine)
        mine = make_workspace(self.session, is_admin=True)
        mine.user.email_verified_at = utcnow()  # so the e-mail channel can be turned on
        theirs = make_workspace(self.session)
        self.session.commit()
        self.ids = mine.ids()
        self.user_id, self.other_user_id, self.root_id = mine.user.id, theirs.user.id, mine.root.id
        self.objects = [(type(o), o.id) for o in (
            mine.root, mine.folder, mine.subfolder, mine.tag, mine.definition, mine.job,
            mine.service_account, mine.client_account, mine.client_account_tag, mine.client,
            mine.run, mine.notification, mine.channel, mine.delivery, mine.snooze, mine.plan,
            mine.invite)]

    def login(self) -> bool:
        """Log the fuzzed user in unless his session is still good; True when it was not."""
        reset_rate_limits(self.app)
        self.session.rollback()
        token = self.session.scalar(select(User.session_token).where(User.id == self.user_id))
        with self.client.session_transaction() as flask_session:
            if flask_session.get("_user_id") == token:
                return False
            flask_session.clear()
            flask_session["_user_id"] = token
            flask_session["_fresh"] = True
        return True

    def log_out(self) -> bool:
        reset_rate_limits(self.app)
        with self.client.session_transaction() as flask_session:
            started = "_user_id" in flask_session
            flask_session.pop("_user_id", None)
        return started

    def intact(self) -> bool:
        """Every object of the fuzzed user is there, and he is still an active admin."""
        self.session.rollback()
        user = self.session.execute(select(User.is_active, User.is_admin)
                                    .where(User.id == self.user_id)).one_or_none()
        if user is None or not (user.is_active and user.is_admin):
            return False
        return all(self.session.scalar(select(model.id).where(model.id == object_id))
                   for model, object_id in self.objects)

    def pages(self) -> list[str]:
        """The pages that show what the forms store: each must still open after a change."""
        return ["/", f"/folders/{self.root_id}/all", f"/jobs/{self.ids['job_id']}/edit",
                "/clients/", "/accounts/client-accounts", "/admin/plans"]

    def fuzzer(self, **options: Any) -> Fuzzer:
        settings: dict[str, Any] = {
            "ids": lambda: self.ids, "other_user_id": lambda: self.other_user_id,
            "login": self.login, "reset": self.reset, "intact": self.intact,
            "pages": self.pages, "skip": {"static", "bootstrap.static"}, "ignore": STAMPS}
        settings.update(options)
        return Fuzzer(self.app, self.client, self.engine, **settings)


@pytest.fixture
def scene(app, client, engine, session) -> Scene:
    return Scene(app, client, engine, session)


def test_every_form_and_query_string_survives_hostile_values(app, scene, sklik_stub,
                                                            monkeypatch):
    # Linking Sklik calls the platform with the token typed: the stand-in answers at once.
    monkeypatch.setitem(app.config, "PPC_ROBOT_SKLIK_URL", sklik_stub.base_url)
    monkeypatch.setitem(app.config, "PPC_ROBOT_RETRY_ATTEMPTS", 1)

    fuzzer = scene.fuzzer()

    report = fuzzer.run()

    print(f"fuzz: {len(report.routes)} routes, {report.requests} requests, "
          f"{report.resets} resets, {report.seconds:.1f} s")
    assert report.violations == []
    assert len(report.routes) > 100 and report.requests > 2000
    # Fuzzed with their whole-form variants only: no page draws their form for this user.
    assert set(fuzzer.formless) <= FORMLESS, sorted(set(fuzzer.formless) - FORMLESS)


def test_the_public_forms_survive_hostile_values_from_a_visitor(app, client, engine, scene,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "PPC_ROBOT_OPEN_REGISTRATION", True)
    public = {"auth.login", "auth.forgot", "auth.reset", "auth.email_confirm", "signup.form",
              "help.notifications", "help.notification_type"}
    fuzzer = scene.fuzzer(login=scene.log_out, intact=lambda: True, token_page="/login",
                          pages=lambda: ["/login", "/signup"], ignore={**COUNTERS, **STAMPS})

    report = fuzzer.run(only=public)

    assert report.violations == []
    assert {"POST /login", "POST /signup", "POST /password/forgot"} <= report.routes


# --- the fuzzer itself


def test_the_form_reader_sees_what_a_browser_would_send():
    html = """
    <form id="bulk" method="post" action="/jobs/bulk">
      <input type="hidden" name="csrf_token" value="t">
      <select name="tag_id"><option value="">Tag…</option><option value="4">a</option></select>
      <button type="submit" name="action" value="move">Move</button>
      <button type="submit" name="action" value="tag">Tag</button>
      <textarea name="note">hi</textarea>
    </form>
    <input type="checkbox" name="job_ids" value="7" form="bulk">
    <form method="get"><select name="level" multiple><option value="error">E</option></select>
    </form>"""

    bulk, filters = forms_of(html, "/folders/1")

    assert (bulk.action, bulk.method) == ("/jobs/bulk", "post")
    assert sorted(bulk.values) == [("action", "move"), ("csrf_token", "t"), ("job_ids", "7"),
                                   ("note", "hi"), ("tag_id", "")]
    assert (filters.action, filters.method, filters.values) == ("/folders/1", "get",
                                                                [("level", "error")])


def test_hostile_bodies_carry_raw_bytes_lists_and_nuls():
    pairs = [("csrf_token", "t"), ("name", "Acme")]

    assert encode(Mutation("x", "replace", "name", (b"\xff\x00",)).apply(pairs)) == (
        "csrf_token=t&name=%FF%00")
    assert encode(Mutation("x", "twice", "name", ("a\x00",)).apply(pairs)) == (
        "csrf_token=t&name=Acme&name=a%00")
    assert encode(Mutation("x", "missing", "name").apply(pairs)) == "csrf_token=t"


def test_the_fuzzer_catches_a_500_and_a_refusal_that_loses_data(database_url, tmp_path, engine,
                                                                session):
    from flask import Blueprint, request

    from ppc_robot.lib.models import Folder
    from ppc_robot.web import create_app
    from ppc_robot.web.access import owned, require_login
    from ppc_robot.web.extensions import db
    from tests.conftest import app_config

    careless_app = create_app(app_config(database_url, tmp_path / "instance"))
    careless = Blueprint("careless", __name__, url_prefix="/careless")
    careless.before_request(require_login)

    @careless.route("/<int:folder_id>", methods=["GET", "POST"])
    def rename(folder_id):
        folder = owned(Folder, folder_id)
        if request.method == "POST":
            folder.name = f"Copy {request.form.get('copies', '')[:20]}"
            db.session.commit()  # before looking at the input: a refusal that loses data
            return f"{int(request.form.get('copies') or 0) * 2}", 422
        return '<form method="post"><input name="copies" value="1"></form>'

    careless_app.register_blueprint(careless)
    client = careless_app.test_client()
    scene = Scene(careless_app, client, engine, session)
    report = scene.fuzzer(pages=lambda: [], ignore={}).run(only={"careless.rename"})

    assert "POST /careless/<int:folder_id> [copies=blank] answered 422 but changed " \
           "['robot_folders']" in report.violations
    assert any(v.startswith("POST /careless/<int:folder_id> [copies=100 KB] raised ValueError")
               for v in report.violations)
