"""Plan limits enforced in lib, where objects are made (no form involved)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account, sync_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.jobs import JobError, create_job, duplicate_job, set_jobs_enabled
from ppc_robot.lib.limits import (
    PlanLimitError,
    check_client_account_limit,
    check_schedule_interval,
    check_slack_allowed,
    client_account_count,
    jobs_paused_for,
    limits_for,
    paused_user_ids,
    schedule_interval_minutes,
)
from ppc_robot.lib.models import (
    ClientAccount,
    Job,
    NotificationDelivery,
    NotificationLevel,
    Platform,
    ScheduleKind,
    utcnow,
)
from ppc_robot.lib.notifications import emit
from ppc_robot.lib.notifications.channels import (
    ChannelChoice,
    ChannelSettingsError,
    save_slack_settings,
)
from ppc_robot.lib.platforms.sandbox import SANDBOX_ACCOUNTS
from ppc_robot.web.models import Subscription, SubscriptionStatus
from tests.factories import make_definition, make_job, make_plan, make_user
from tests.support.platforms import stub_settings

VAULT = Vault([generate_key()])


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


# Every path that can change what a plan limits enforces it, not only the editor.

def test_bulk_enable_refuses_a_schedule_the_plan_forbids_and_enables_none(session):
    user = make_user(session)
    hourly = make_job(session, user, schedule_kind=ScheduleKind.HOURLY)
    daily = make_job(session, user, schedule_kind=ScheduleKind.DAILY, schedule={"time": "07:00"})
    set_jobs_enabled(session, [hourly, daily], False)
    subscribe(session, user, make_plan(session, name="Daily", min_schedule_interval_minutes=1440))

    with pytest.raises(JobError, match=f"“{hourly.name}”.*limit: shortest schedule interval"):
        set_jobs_enabled(session, [daily, hourly], True)

    assert (hourly.is_enabled, daily.is_enabled) == (False, False)


def test_bulk_enable_of_allowed_schedules_and_bulk_disable_pass(session):
    user = make_user(session)
    hourly = make_job(session, user, schedule_kind=ScheduleKind.HOURLY)
    subscribe(session, user, make_plan(session, min_schedule_interval_minutes=1440))

    set_jobs_enabled(session, [hourly], False)  # turning off is always allowed
    manual = make_job(session, user)
    set_jobs_enabled(session, [manual], True)

    assert hourly.is_enabled is False and manual.is_enabled is True


def test_duplicating_past_the_job_limit_is_refused(session):
    user = make_user(session)
    job = make_job(session, user)
    subscribe(session, user, make_plan(session, name="One", max_jobs=1))

    with pytest.raises(JobError, match="“One” allows at most 1 jobs"):
        duplicate_job(session, job)


def test_duplicating_a_schedule_the_plan_now_forbids_is_refused(session):
    user = make_user(session)
    job = make_job(session, user, schedule_kind=ScheduleKind.HOURLY)
    subscribe(session, user, make_plan(session, min_schedule_interval_minutes=1440))

    with pytest.raises(JobError, match="limit: shortest schedule interval"):
        duplicate_job(session, job)


def test_linking_adds_client_accounts_only_up_to_the_plan_and_says_so(session):
    user = make_user(session)
    subscribe(session, user, make_plan(session, name="Solo", max_client_accounts=2))

    login, result = link_service_account(session, user, Platform.SANDBOX, {}, vault=VAULT,
                                         settings=stub_settings())

    assert client_account_count(session, user.id) == 2 == len(result.added)
    assert len(result.left_out) == len(SANDBOX_ACCOUNTS) - 2
    assert "“Solo” allows at most 2 linked client accounts" in result.summary()


def test_a_sync_adds_no_client_account_past_the_plan(session):
    user = make_user(session)
    login, _ = link_service_account(session, user, Platform.SANDBOX, {}, vault=VAULT,
                                    settings=stub_settings())
    gone = session.scalars(select(ClientAccount).where(ClientAccount.user_id == user.id)).all()
    for account in gone[:3]:
        session.delete(account)
    session.flush()
    subscribe(session, user, make_plan(session, max_client_accounts=len(gone) - 2))

    result = sync_service_account(session, login, vault=VAULT, settings=stub_settings())

    assert client_account_count(session, user.id) == len(gone) - 2
    assert (len(result.added), len(result.left_out)) == (1, 2)


def test_turning_slack_on_is_refused_on_a_plan_without_it(session):
    user = make_user(session)
    subscribe(session, user, make_plan(session, name="Mail only", allows_slack=False))
    choice = ChannelChoice(is_enabled=True, min_level=NotificationLevel.ERROR, categories=[])

    with pytest.raises(ChannelSettingsError, match="does not include Slack") as refused:
        save_slack_settings(session, user, choice, vault=VAULT,
                            webhook_url="https://hooks.slack.com/services/T0001/B0001/abcdefgh12")

    assert refused.value.field == "is_enabled"
    off = ChannelChoice(is_enabled=False, min_level=NotificationLevel.ERROR, categories=[])
    assert save_slack_settings(session, user, off, vault=VAULT, webhook_url=None).is_enabled is False


def test_a_slack_channel_left_on_delivers_nothing_once_the_plan_drops_slack(session):
    user = make_user(session)
    plan = make_plan(session, allows_slack=True)
    subscribe(session, user, plan)
    choice = ChannelChoice(is_enabled=True, min_level=NotificationLevel.ERROR, categories=[])
    setting = save_slack_settings(session, user, choice, vault=VAULT,
                                  webhook_url="https://hooks.slack.com/services/T0001/B0001/abcdefgh12")
    plan.allows_slack = False
    session.flush()

    notification = emit(session, user.id, "report_failed", params={"job": "X", "reason": "y"})

    deliveries = session.scalars(select(NotificationDelivery.channel).where(
        NotificationDelivery.notification_id == notification.id)).all()
    assert setting.is_enabled is True
    assert deliveries == []
