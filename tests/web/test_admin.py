"""The admin area: every action recorded, users, plans, invites, queue health, outbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ppc_robot.lib.admin import record_admin_action
from ppc_robot.lib.jobs import JobError
from ppc_robot.lib.models import AuditLogEntry, Job, JobRun, RunStatus, User
from ppc_robot.web.models import Plan, Subscription, SubscriptionStatus
from tests.conftest import csrf_token_from
from tests.factories import make_invite, make_job, make_plan, make_user


@pytest.fixture
def admin(session):
    admin = make_user(session, is_admin=True, email="root@example.test")
    session.commit()
    return admin


def fresh(session):
    """See what the app committed: end the read snapshot and forget loaded rows."""
    session.rollback()
    session.expire_all()


def admin_posts(ws):
    """A valid POST for every admin POST route, by endpoint."""
    return {
        "admin.user_active": (f"/admin/users/{ws.user.id}/active", {}, "user.deactivate"),
        "admin.user_admin": (f"/admin/users/{ws.user.id}/admin", {}, "user.make_admin"),
        "admin.user_plan": (f"/admin/users/{ws.user.id}/plan",
                            {"plan_id": ws.plan.id, "status": "active"}, "user.change_plan"),
        "admin.plan_create": ("/admin/plans/new", {"name": "Gold", "max_invites": 0,
                                                   "min_schedule_interval_minutes": 60},
                              "plan.create"),
        "admin.plan_edit": (f"/admin/plans/{ws.plan.id}",
                            {"name": ws.plan.name, "max_jobs": 10, "max_invites": 0,
                             "min_schedule_interval_minutes": 60}, "plan.edit"),
        "admin.invites": ("/admin/invites", {"email": "new@example.test", "plan_id": 0},
                          "invite.create"),
        "admin.invite_revoke": (f"/admin/invites/{ws.invite.id}/revoke", {}, "invite.revoke"),
        "admin.invite_resend": (f"/admin/invites/{ws.invite.id}/resend", {}, "invite.resend"),
    }


def test_every_admin_post_route_has_a_case_here(app, workspace):
    posts = {r.endpoint for r in app.url_map.iter_rules()
             if r.endpoint.startswith("admin.") and "POST" in r.methods}

    assert posts == set(admin_posts(workspace))


ENDPOINTS = ["admin.user_active", "admin.user_admin", "admin.user_plan", "admin.plan_create",
             "admin.plan_edit", "admin.invites", "admin.invite_revoke", "admin.invite_resend"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_admin_action_writes_one_audit_row(session, client, login, admin, workspace,
                                                 endpoint):
    url, data, action = admin_posts(workspace)[endpoint]
    login(admin)
    token = csrf_token_from(client.get("/admin/").text)

    response = client.post(url, data={"csrf_token": token, **data})

    assert response.status_code == 302
    fresh(session)
    entries = session.scalars(select(AuditLogEntry)).all()
    assert [(e.action, e.actor_id, e.actor_email) for e in entries] == [
        (action, admin.id, admin.email)]
    assert entries[0].created_at is not None
    assert action in client.get("/admin/audit").text


def test_deactivating_a_user_ends_his_sessions_and_keeps_his_data(app, session, client, login,
                                                                  admin, workspace):
    his = app.test_client()
    with his.session_transaction() as flask_session:
        flask_session["_user_id"] = workspace.user.session_token
    assert his.get("/").status_code == 200
    login(admin)

    token = csrf_token_from(client.get(f"/admin/users/{workspace.user.id}").text)
    client.post(f"/admin/users/{workspace.user.id}/active", data={"csrf_token": token})

    fresh(session)
    assert his.get("/").status_code == 302
    assert session.get(User, workspace.user.id).is_active is False
    assert session.scalar(select(Job.id).where(Job.user_id == workspace.user.id)) is not None


def test_an_admin_cannot_deactivate_himself(session, client, login, admin):
    login(admin)
    token = csrf_token_from(client.get("/admin/").text)

    response = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": token},
                           follow_redirects=True)

    assert "You cannot deactivate yourself." in response.text
    fresh(session)
    assert session.get(User, admin.id).is_active


def test_lowering_a_plan_below_usage_is_allowed_with_a_warning_naming_the_users(
    session, client, login, submit, admin, workspace
):
    plan = make_plan(session, name="Team", max_jobs=5)
    session.add(Subscription(user_id=workspace.user.id, plan_id=plan.id))
    make_job(session, workspace.user)
    session.commit()
    login(admin)

    response = submit(f"/admin/plans/{plan.id}", {"name": "Team", "max_jobs": 1,
                                                  "min_schedule_interval_minutes": 60,
                                                  "max_invites": 0}, follow_redirects=True)

    assert f"{workspace.user.email} has 2 jobs (limit 1)." in response.text
    fresh(session)
    assert session.get(Plan, plan.id).max_jobs == 1
    with pytest.raises(JobError, match="“Team” allows at most 1 jobs"):
        make_job(session, workspace.user)


def test_changing_a_users_plan_applies_its_limits_in_lib(session, client, login, submit, admin,
                                                         workspace):
    small = make_plan(session, name="One job", max_jobs=1)
    session.commit()
    login(admin)
    token = csrf_token_from(client.get(f"/admin/users/{workspace.user.id}").text)

    client.post(f"/admin/users/{workspace.user.id}/plan",
                data={"csrf_token": token, "plan_id": small.id, "status": "past_due"})

    fresh(session)
    subscription = session.scalar(select(Subscription))
    assert (subscription.plan_id, subscription.status) == (small.id, SubscriptionStatus.PAST_DUE)
    with pytest.raises(JobError, match="“One job” allows at most 1 jobs"):
        make_job(session, workspace.user)


def test_user_search_finds_by_part_of_the_address(client, login, admin, workspace,
                                                  other_workspace):
    login(admin)

    page = client.get("/admin/users", query_string={"q": workspace.user.email[:6].upper()})

    assert workspace.user.email in page.text


def test_the_user_page_shows_his_jobs_accounts_and_usage(client, login, admin, workspace):
    login(admin)

    page = client.get(f"/admin/users/{workspace.user.id}").text

    assert workspace.job.name in page
    assert workspace.client_account.name in page
    assert "Linked client accounts" in page


def test_the_queue_page_shows_the_numbers_from_the_runs(session, client, login, admin, workspace):
    session.get(JobRun, workspace.run.id).status = RunStatus.QUEUED
    session.commit()
    login(admin)

    page = client.get("/admin/").text

    assert re.search(r'id="queued">\s*1\s*<', page)
    assert re.search(r'id="failed">\s*0\s*<', page)


def test_the_health_page_names_platform_settings_to_correct(session, client, login, admin):
    from ppc_robot.lib.admin import alert_admins
    from ppc_robot.lib.models import Platform
    from ppc_robot.lib.platforms import PlatformSettingsError

    login(admin)
    assert "No platform has refused" in client.get("/admin/").text
    refusal = PlatformSettingsError("Google Ads refused this installation's developer token "
                                    "(DEVELOPER_TOKEN_INVALID).",
                                    "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN")
    alert_admins(session, Platform.GOOGLE_ADS, refusal)
    alert_admins(session, Platform.GOOGLE_ADS, refusal)
    session.commit()

    page = client.get("/admin/").text

    assert "<code>PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN</code>" in page
    assert "DEVELOPER_TOKEN_INVALID" in page and "No platform has refused" not in page


def test_the_outbox_lists_mail_written_there(client, login, submit, admin):
    login(admin)
    submit("/admin/invites", {"email": "outboxed@example.test", "plan_id": 0})

    page = client.get("/admin/outbox").text

    assert "outboxed@example.test" in page and "You are invited to PPC Robot" in page


def test_a_non_admin_gets_404_on_every_admin_page(app, client, login, workspace):
    login(workspace.user)
    ids = workspace.ids()
    token = csrf_token_from(client.get("/").text)

    answers = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = rule.build({a: ids[a] for a in rule.arguments}, append_unknown=False)[1]
            answers[url] = client.get(url).status_code if "GET" in rule.methods else \
                client.post(url, data={"csrf_token": token}).status_code

    assert answers and set(answers.values()) == {404}


@pytest.mark.parametrize("path", ["/admin/users", "/admin/subscriptions", "/admin/invites",
                                  "/admin/plans", "/admin/audit"])
def test_admin_lists_make_the_same_number_of_queries_for_2_and_6_rows(
    session, client, login, admin, count_queries, path
):
    def grow(to):
        while session.query(User).count() < to + 1:
            person = make_user(session)
            plan = make_plan(session)
            session.add(Subscription(user_id=person.id, plan_id=plan.id))
            session.flush()
            make_invite(session, admin)
            record_admin_action(session, admin, "plan.create", target_type="Plan",
                                target_id=plan.id)
        session.commit()

    login(admin)
    counts = []
    for size in (2, 6):
        grow(size)
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)

    assert counts[0] == counts[1]
