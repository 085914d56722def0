"""Plan limits hold on every page that can pass them, not only in the job editor."""

from __future__ import annotations

from ppc_robot.lib.jobs import set_jobs_enabled
from ppc_robot.lib.limits import client_account_count
from ppc_robot.lib.models import Job, ScheduleKind
from ppc_robot.web.models import Subscription
from tests.conftest import csrf_token_from
from tests.factories import make_job, make_plan


def test_bulk_enable_of_a_schedule_the_plan_forbids_is_refused_and_explained(
        client, login, session, workspace):
    job = make_job(session, workspace.user, workspace.folder, name="Every hour",
                   schedule_kind=ScheduleKind.HOURLY)
    set_jobs_enabled(session, [job], False)
    plan = make_plan(session, name="Daily", min_schedule_interval_minutes=1440)
    session.add(Subscription(user_id=workspace.user.id, plan_id=plan.id))
    session.commit()
    login(workspace.user)
    token = csrf_token_from(client.get(f"/folders/{workspace.folder.id}").text)

    response = client.post("/jobs/bulk", data={
        "csrf_token": token, "next": f"/folders/{workspace.folder.id}", "action": "enable",
        "job_ids": [job.id]})

    assert response.status_code == 422
    assert "“Every hour” stays off" in response.text
    assert "limit: shortest schedule interval" in response.text
    session.rollback()
    assert session.get(Job, job.id).is_enabled is False


def _on_plan(session, user, **limits):
    plan = make_plan(session, name="Small", **limits)
    session.add(Subscription(user_id=user.id, plan_id=plan.id))
    session.commit()
    return plan


def test_the_sync_command_links_no_client_account_past_the_plan(app, session, workspace):
    _on_plan(session, workspace.user, max_client_accounts=2)  # the workspace has one

    result = app.test_cli_runner().invoke(args=["sync-accounts"])

    assert result.exit_code == 0, result.output
    assert "left out: your plan “Small” allows at most 2 linked client accounts" in result.output
    session.rollback()
    assert client_account_count(session, workspace.user.id) == 2


def test_linking_the_sandbox_past_the_plan_says_what_was_left_out(client, login, session,
                                                                   workspace):
    _on_plan(session, workspace.user, max_client_accounts=1)
    login(workspace.user)
    token = csrf_token_from(client.get("/accounts/").text)

    response = client.post("/accounts/link/sandbox", data={"csrf_token": token},
                           follow_redirects=True)

    assert response.status_code == 200
    assert "0 added" in response.text and "left out" in response.text
    session.rollback()
    assert client_account_count(session, workspace.user.id) == 1


def test_turning_slack_on_without_it_in_the_plan_is_refused_on_the_page(client, login, session,
                                                                        workspace):
    _on_plan(session, workspace.user, allows_slack=False)
    login(workspace.user)
    token = csrf_token_from(client.get("/notifications/settings").text)

    response = client.post("/notifications/settings/slack", data={
        "csrf_token": token, "slack-is_enabled": "y", "slack-min_level": "error",
        "slack-webhook_url": "https://hooks.slack.com/services/T0001/B0001/abcdefgh12"})

    assert response.status_code == 422
    assert "does not include Slack" in response.text
