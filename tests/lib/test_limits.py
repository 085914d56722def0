"""Plan limits enforced in lib, where objects are made (no form involved)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.jobs import JobError, create_job
from ppc_robot.lib.limits import (
    PlanLimitError,
    check_client_account_limit,
    check_schedule_interval,
    check_slack_allowed,
    jobs_paused_for,
    limits_for,
    paused_user_ids,
    schedule_interval_minutes,
)
from ppc_robot.lib.models import Job, ScheduleKind, utcnow
from ppc_robot.web.models import Subscription, SubscriptionStatus
from tests.factories import make_definition, make_job, make_plan, make_user


def subscribe(session, user, plan, **overrides):
    subscription = Subscription(user_id=user.id, plan_id=plan.id, **overrides)
    session.add(subscription)
    session.flush()
    return subscription


def test_the_51st_job_on_a_50_job_plan_is_refused_naming_the_limit_and_the_plan(session):
    user = make_user(session)
    subscribe(session, user, make_plan(session, name="Fifty", max_jobs=50))
    definition = make_definition(session, user)
    for n in range(50):
        make_job(session, user, definition=definition, name=f"Job {n}")

    with pytest.raises(JobError, match="“Fifty” allows at most 50 jobs .limit: maximum jobs"):
        create_job(session, root_folder(session, user), definition, "Job 51")

    assert session.query(Job).filter_by(user_id=user.id).count() == 50


def test_a_user_without_a_subscription_has_no_limits(session):
    user = make_user(session)

    for _ in range(3):
        make_job(session, user)

    assert limits_for(session, user.id) is None
    assert jobs_paused_for(session, user.id) is False


def test_the_job_limit_counts_only_the_users_own_jobs(session):
    user, other = make_user(session), make_user(session)
    subscribe(session, user, make_plan(session, max_jobs=1))
    make_job(session, other)
    make_job(session, other)

    job = make_job(session, user)

    assert job.user_id == user.id


@pytest.mark.parametrize(("kind", "schedule", "refused"), [
    (ScheduleKind.HOURLY, {}, True),
    (ScheduleKind.DAILY, {"time": "07:00"}, False),
    (ScheduleKind.CRON, {"cron": "*/30 * * * *"}, True),
    (ScheduleKind.CRON, {"cron": "0 6 * * *"}, False),
    (ScheduleKind.MANUAL, {}, False),
])
def test_schedules_more_frequent_than_the_plan_allows_are_refused(session, kind, schedule, refused):
    user = make_user(session)
    subscribe(session, user, make_plan(session, name="Daily", min_schedule_interval_minutes=1440))

    if refused:
        with pytest.raises(JobError, match="limit: shortest schedule interval"):
            make_job(session, user, schedule_kind=kind, schedule=schedule)
    else:
        assert make_job(session, user, schedule_kind=kind, schedule=schedule).id


def test_interval_of_a_cron_schedule_is_its_shortest_gap():
    assert schedule_interval_minutes(ScheduleKind.CRON, {"cron": "0 8,9 * * *"}) == 60
    assert schedule_interval_minutes(ScheduleKind.MANUAL, {}) is None


def test_linking_past_the_client_account_limit_is_refused(session, workspace):
    subscribe(session, workspace.user, make_plan(session, name="Solo", max_client_accounts=1))

    check_client_account_limit(session, workspace.user.id, adding=0)
    with pytest.raises(PlanLimitError, match="“Solo” allows at most 1 linked client accounts"):
        check_client_account_limit(session, workspace.user.id, adding=1)


def test_slack_is_refused_on_a_plan_without_it(session):
    user = make_user(session)
    subscribe(session, user, make_plan(session, name="Mail only", allows_slack=False))

    with pytest.raises(PlanLimitError, match="does not include Slack"):
        check_slack_allowed(session, user.id)
    check_schedule_interval(session, user.id, None)


@pytest.mark.parametrize(("status", "end_in", "paused"), [
    (SubscriptionStatus.ACTIVE, None, False),
    (SubscriptionStatus.TRIALING, timedelta(days=1), False),
    (SubscriptionStatus.TRIALING, timedelta(seconds=-1), True),
    (SubscriptionStatus.PAST_DUE, timedelta(days=3), False),
    (SubscriptionStatus.CANCELLED, None, True),
])
def test_a_lapsed_subscription_pauses_the_jobs_and_keeps_them(session, status, end_in, paused):
    user = make_user(session)
    job = make_job(session, user)
    end = utcnow() + end_in if end_in is not None else None
    subscribe(session, user, make_plan(session), status=status, period_end=end)

    assert jobs_paused_for(session, user.id) is paused
    assert (user.id in paused_user_ids(session)) is paused
    assert session.get(Job, job.id) is not None


def test_a_deactivated_users_jobs_are_paused_and_kept(session):
    user = make_user(session)
    job = make_job(session, user)

    user.is_active = False
    session.flush()

    assert jobs_paused_for(session, user.id) is True
    assert paused_user_ids(session) == {user.id}
    assert session.get(Job, job.id) is not None
