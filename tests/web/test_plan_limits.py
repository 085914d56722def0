"""Plan limits hold on every page that can pass them, not only in the job editor."""

from __future__ import annotations

from ppc_robot.lib.jobs import set_jobs_enabled
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
