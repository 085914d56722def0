"""The dashboard's run lists: failing, next and overdue jobs, read in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ppc_robot.lib.models import RunStatus, ScheduleKind
from ppc_robot.lib.runs import dashboard_runs
from tests.factories import make_job

NOW = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
GRACE = timedelta(minutes=10)


def _job(session, user, name, *, next_run_in=None, last_status=None, last_run_ago=None,
         enabled=True, manual=False):
    job = make_job(session, user, name=name)
    job.schedule_kind = ScheduleKind.MANUAL if manual else ScheduleKind.DAILY
    job.is_enabled = enabled
    job.next_run_at = NOW + next_run_in if next_run_in is not None else None
    job.last_run_status = last_status
    job.last_run_at = NOW - last_run_ago if last_run_ago is not None else None
    return job


def test_failing_next_and_overdue_jobs_are_listed_in_their_order(session, user, other_user):
    _job(session, user, "Failed long ago", last_status=RunStatus.FAILED,
         last_run_ago=timedelta(days=2), manual=True)
    _job(session, user, "Partial and due soon", last_status=RunStatus.PARTIAL,
         last_run_ago=timedelta(hours=1), next_run_in=timedelta(hours=1))
    _job(session, user, "Due later", next_run_in=timedelta(hours=5),
         last_status=RunStatus.SUCCEEDED, last_run_ago=timedelta(hours=1))
    _job(session, user, "Late an hour", next_run_in=-timedelta(hours=1))
    _job(session, user, "Late a day", next_run_in=-timedelta(days=1))
    _job(session, user, "Just inside the grace", next_run_in=-timedelta(minutes=5))
    _job(session, user, "Disabled and late", next_run_in=-timedelta(hours=2), enabled=False)
    _job(session, other_user, "Someone else's failure", last_status=RunStatus.FAILED,
         last_run_ago=timedelta(hours=1), next_run_in=-timedelta(hours=1))
    session.commit()

    runs = dashboard_runs(session, user.id, grace=GRACE, now=NOW)

    assert [job.name for job in runs.failing] == ["Partial and due soon", "Failed long ago"]
    assert [job.name for job in runs.upcoming] == ["Just inside the grace",
                                                   "Partial and due soon", "Due later"]
    assert [job.name for job in runs.overdue] == ["Late a day", "Late an hour"]


def test_each_list_keeps_its_first_entries_only(session, user):
    for n in range(4):
        _job(session, user, f"Next {n}", next_run_in=timedelta(hours=n + 1))
        _job(session, user, f"Late {n}", next_run_in=-timedelta(hours=n + 1))
        _job(session, user, f"Failed {n}", last_status=RunStatus.FAILED,
             last_run_ago=timedelta(hours=n + 1), manual=True)
    session.commit()

    runs = dashboard_runs(session, user.id, grace=GRACE, now=NOW, limit=2)

    assert [job.name for job in runs.failing] == ["Failed 0", "Failed 1"]
    assert [job.name for job in runs.upcoming] == ["Next 0", "Next 1"]
    assert [job.name for job in runs.overdue] == ["Late 3", "Late 2"]
