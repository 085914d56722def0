"""Times written into notification messages are in the recipient's zone, which they name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ppc_robot.lib.models import JobRun, Notification, utcnow
from ppc_robot.lib.runner.settings import RunnerSettings
from ppc_robot.lib.runner.worker import raise_overdue
from ppc_robot.lib.times import local_log, named_local_text
from tests.factories import make_job, make_user


def test_an_overdue_run_is_reported_in_the_users_zone(session, tmp_path):
    user = make_user(session, time_zone="Asia/Tokyo")
    job = make_job(session, user, name="Daily")
    scheduled = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    session.add(JobRun(user_id=user.id, job_id=job.id, scheduled_at=scheduled))
    session.commit()

    raise_overdue(session, RunnerSettings(outputs_dir=tmp_path, start_grace_seconds=60))

    notification = session.scalar(select(Notification).where(Notification.user_id == user.id))
    tokyo = scheduled.astimezone(UTC) + timedelta(hours=9)
    assert f"did not run at {tokyo:%Y-%m-%d %H:%M} (Asia/Tokyo)" in notification.message
    assert "UTC" not in notification.message


def test_a_named_time_names_utc_for_an_unknown_zone():
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)

    assert named_local_text(moment, "Europe/Prague") == "2026-03-29 01:30 (Europe/Prague)"
    assert named_local_text(moment, "Nowhere/Land") == "2026-03-29 00:30 (UTC)"


def test_a_run_log_is_shown_in_the_zone_including_old_logs_without_a_date():
    started = datetime(2026, 12, 3, 23, 59, 30, tzinfo=UTC)
    log = "2026-12-03T23:59:31Z attempt 1 started\n23:59:59 old line\n00:00:02 after midnight"

    shown = local_log(log, "Asia/Tokyo", started)

    assert shown == "08:59:31 attempt 1 started\n08:59:59 old line\n09:00:02 after midnight"


def test_a_notification_mail_names_the_zone_of_its_times(session):
    from ppc_robot.lib.notifications import emit
    from ppc_robot.lib.notifications.messages import describe, immediate_mail

    user = make_user(session, time_zone="Asia/Tokyo")
    job = make_job(session, user, name="Daily")
    notification = emit(session, user.id, "report_failed", params={"job": "Daily", "reason": "x"},
                        job_id=job.id)
    session.commit()
    [item] = describe(session, [notification], "https://robot.example.test")

    mail = immediate_mail(user, item, "https://robot.example.test", message_id="<m@x>")

    detected = named_local_text(notification.created_at, "Asia/Tokyo")
    assert f"Detected: {detected}" in mail.text
    assert detected in mail.html
