"""Real worker processes: the embedded `flask worker` and Celery on Redis, killed at random."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models import Job, JobRun, Notification, RunStatus, utcnow
from tests.factories import make_definition, make_job, make_user
from tests.worker.conftest import require_redis

RUNS = 500
BATCH_SECONDS = 300
KILLS = 8


class Chaos:
    """Kills the named worker at random moments (2 to 5 s apart, KILLS times) and restarts it."""

    def __init__(self, processes, name, command=None, seed=20261125):
        self.processes, self.name, self.command = processes, name, command
        self.chance = random.Random(seed)
        self.kills = 0
        self.next_at = time.monotonic() + self.chance.uniform(2, 5)

    def __call__(self):
        if self.kills < KILLS and time.monotonic() >= self.next_at:
            self.processes.kill(self.name)
            self.processes.start(self.name, self.command)
            self.kills += 1
            self.next_at = time.monotonic() + self.chance.uniform(2, 5)


def queue_runs(session, count, seconds=0.02):
    user = make_user(session)
    definition = make_definition(session, user, task_type="sleepy", parameters={"seconds": seconds})
    jobs = [make_job(session, user, definition=definition) for _ in range(10)]
    now = utcnow()
    session.add_all(JobRun(user_id=user.id, job_id=jobs[n % 10].id,
                           scheduled_at=now - timedelta(seconds=n)) for n in range(count))
    session.commit()
    return user


def wait_until_all_finished(session, count, *, chaos=None, timeout=BATCH_SECONDS, processes=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = session.scalar(select(func.count()).select_from(JobRun).where(
            JobRun.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED])))
        session.rollback()
        if finished == count:
            return
        if chaos:
            chaos()
        time.sleep(0.2)
    logs = processes.tail() if processes else ""
    states = session.execute(select(JobRun.id, JobRun.status, JobRun.attempt, JobRun.worker).limit(5)).all()
    raise AssertionError(f"only {finished} of {count} runs finished in {timeout} s; {states}\n{logs}")


def assert_each_run_done_once(session, outputs_dir, count):
    runs = session.scalars(select(JobRun)).all()
    assert len(runs) == count
    assert [r for r in runs if r.status not in (RunStatus.SUCCEEDED, RunStatus.FAILED)] == []
    assert [r.id for r in runs if r.status == RunStatus.FAILED and not r.error_message] == []
    outputs = sorted(p.name for p in outputs_dir.rglob("run-*.txt"))
    succeeded = [r for r in runs if r.status == RunStatus.SUCCEEDED]
    assert len(outputs) == len(set(outputs)) == len(succeeded)
    # one open failure notification per failing job at most, never one per attempt
    keys = Counter(session.scalars(select(Notification.dedup_key).where(Notification.resolved_at.is_(None))))
    assert all(n == 1 for n in keys.values())


def test_celery_worker_and_beat_from_the_procfile_run_queued_jobs(session, processes, worker_env, tmp_path):
    require_redis()
    queue_runs(session, 20)

    processes.start("worker")
    processes.start("beat")
    wait_until_all_finished(session, 20, timeout=120, processes=processes)

    assert_each_run_done_once(session, tmp_path / "outputs", 20)
    assert set(session.scalars(select(JobRun.status))) == {RunStatus.SUCCEEDED}
    assert set(session.scalars(select(Job.last_run_status))) == {RunStatus.SUCCEEDED}


def test_500_runs_survive_celery_workers_killed_at_random(session, processes, tmp_path):
    require_redis()
    queue_runs(session, RUNS, seconds=0.15)
    processes.start("worker")
    processes.start("beat")
    chaos = Chaos(processes, "worker")

    wait_until_all_finished(session, RUNS, chaos=chaos, processes=processes)

    assert chaos.kills >= 3
    assert_each_run_done_once(session, tmp_path / "outputs", RUNS)


def test_500_runs_survive_the_embedded_worker_killed_at_random(session, processes, tmp_path):
    queue_runs(session, RUNS, seconds=0.15)
    command = ["flask", "--app", "ppc_robot.web:create_app", "worker"]
    processes.start("embedded", command)
    chaos = Chaos(processes, "embedded", command, seed=11252026)

    wait_until_all_finished(session, RUNS, chaos=chaos, processes=processes)

    assert chaos.kills >= 3
    assert_each_run_done_once(session, tmp_path / "outputs", RUNS)


@pytest.mark.parametrize("backend", ["celery"])
def test_run_now_from_the_web_app_reaches_the_celery_worker(backend, session, processes, database_url, tmp_path, worker_env):
    require_redis()
    from ppc_robot.web import create_app
    from ppc_robot.web.queue import enqueue_run
    from tests.conftest import app_config

    user = make_user(session)
    job = make_job(session, user, definition=make_definition(session, user, task_type="sleepy"))
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=utcnow())
    session.add(run)
    session.commit()
    web = create_app(app_config(database_url, tmp_path / "web", PPC_ROBOT_QUEUE=backend,
                                CELERY_BROKER_URL=worker_env["CELERY_BROKER_URL"],
                                CELERY_TASK_DEFAULT_QUEUE=worker_env["CELERY_TASK_DEFAULT_QUEUE"]))
    processes.start("worker")  # no beat: the run must arrive through run-now's own message

    with web.app_context():
        enqueue_run(run.id)
    wait_until_all_finished(session, 1, timeout=60, processes=processes)

    session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED
