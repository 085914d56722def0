"""Queue health and the audit log, as the admin area reads them."""

from __future__ import annotations

from datetime import timedelta

from ppc_robot.lib.admin import audit_entries, queue_health, record_admin_action, set_user_active
from ppc_robot.lib.models import Job, JobRun, RunStatus, utcnow
from tests.factories import make_user


def test_queue_health_counts_queued_running_recent_failures_and_workers(session, workspace):
    now = utcnow()
    job = workspace.job
    session.query(JobRun).delete()
    runs = [
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(minutes=30)),
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(minutes=5)),
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(minutes=1),
               status=RunStatus.RUNNING,
               worker="worker-a", heartbeat_at=now),
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(hours=3),
               status=RunStatus.FAILED, finished_at=now - timedelta(hours=2), worker="worker-b", started_at=now),
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(hours=31),
               status=RunStatus.FAILED, finished_at=now - timedelta(hours=30)),
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(hours=4),
               status=RunStatus.PARTIAL, finished_at=now - timedelta(hours=4)),
        # Waiting for a quota window: queued, but not the oldest run waiting for a worker.
        JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now - timedelta(hours=5),
               next_attempt_at=now + timedelta(hours=1)),
    ]
    session.add_all(runs)
    session.flush()

    health = queue_health(session, now=now)

    assert (health.queued, health.running, health.failed_last_24h, health.partial_last_24h) == (3, 1, 1, 1)
    assert health.waiting_for_quota == 1
    assert health.oldest_queued_at == now - timedelta(minutes=30)
    assert health.workers_seen == ["worker-a", "worker-b"]


def test_deactivating_ends_the_sessions_and_keeps_the_data(session, workspace):
    token = workspace.user.session_token

    set_user_active(session, workspace.user, False)

    assert workspace.user.session_token != token
    assert session.query(Job).filter_by(user_id=workspace.user.id).count() == 1


def test_admin_actions_are_listed_newest_first(session):
    admin = make_user(session, is_admin=True)
    record_admin_action(session, admin, "plan.create", target_type="Plan", target_id=1)
    record_admin_action(session, admin, "plan.edit", target_type="Plan", target_id=1,
                        details={"max_jobs": 5})

    entries = audit_entries(session)

    assert [e.action for e in entries] == ["plan.edit", "plan.create"]
    assert entries[0].actor_email == admin.email and entries[0].details == {"max_jobs": 5}
