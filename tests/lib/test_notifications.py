from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ppc_robot.lib.models import Notification, NotificationSnooze, utcnow
from ppc_robot.lib.notifications import TYPES, emit, resolve
from tests.factories import make_job


def test_catalogue_pairs_are_unique_and_the_url_checker_is_4_0():
    keys = [t.key for t in TYPES]

    assert len(keys) == len(set(keys))
    assert next(t for t in TYPES if t.key == (4, 0)).name == "url_errors"


def test_the_same_open_problem_is_counted_not_raised_twice(session, workspace):
    user, job = workspace.user, make_job(session, workspace.user)

    first = emit(session, user.id, "report_failed", params={"job": job.name, "reason": "timeout"}, job_id=job.id)
    again = emit(session, user.id, "report_failed", params={"job": job.name, "reason": "still"}, job_id=job.id)

    assert again.id == first.id
    assert again.occurrences == 2
    assert again.message == f"Report “{job.name}” failed: still"


def test_a_resolved_problem_is_raised_afresh_when_it_returns(session, workspace):
    user, job = workspace.user, make_job(session, workspace.user)
    first = emit(session, user.id, "report_failed", params={"job": "x", "reason": "y"}, job_id=job.id)

    assert resolve(session, user.id, "report_failed", job_id=job.id) == 1
    second = emit(session, user.id, "report_failed", params={"job": "x", "reason": "y"}, job_id=job.id)

    assert second.id != first.id
    assert session.get(Notification, first.id).resolved_at is not None


def test_a_snoozed_type_is_not_raised_until_the_snooze_ends(session, workspace):
    user, job = workspace.user, make_job(session, workspace.user)
    session.add(NotificationSnooze(user_id=user.id, category=1, code=0, job_id=job.id, until=utcnow() + timedelta(hours=1)))
    session.flush()
    before = session.scalar(select(func.count()).select_from(Notification))

    snoozed = emit(session, user.id, "report_failed", params={"job": "x", "reason": "y"}, job_id=job.id)
    later = emit(session, user.id, "report_failed", params={"job": "x", "reason": "y"}, job_id=job.id,
                 now=utcnow() + timedelta(hours=2))

    assert snoozed is None
    assert later is not None
    assert session.scalar(select(func.count()).select_from(Notification)) == before + 1
