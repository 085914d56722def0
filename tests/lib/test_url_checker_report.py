"""The URL checker run for real through the runner on the Sandbox, whose ads link to the demo
site (served here by the loopback site server): outputs, resuming after a killed worker,
notifications over several runs."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.demo_site import BROKEN_PATHS, DEMO_SITE_PREFIX
from ppc_robot.lib.models import (
    JobLevel,
    JobRun,
    Notification,
    OutputType,
    RunStatus,
    UrlCheck,
    utcnow,
)
from ppc_robot.lib.reports.url_checker import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job
from tests.stubs.sites import Page
from tests.support import runs as run_fixtures
from tests.support.demo_site import demo_site_server
from tests.support.runs import KEY, SCHEDULED
from tests.support.urlcheck_worker import runner_settings
from tests.support.xlsx import read_workbook

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


@pytest.fixture
def site():
    server = demo_site_server()
    yield server
    server.stop()


def _config(site, **extra):
    return {"PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_BASE_URL": site.url,
            "PPC_ROBOT_URLCHECK_MIN_INTERVAL": "0", "PPC_ROBOT_URLCHECK_RETRY_WAIT": "0.1",
            **extra}


@pytest.fixture
def settings(tmp_path, site):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config=_config(site))


def checker_job(session, user, login, output=OutputType.CSV, **parameters):
    definition = make_definition(session, user, task_type="url_checker", output_type=output,
                                 parameters=default_parameters() | parameters)
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.level, job.service_account_id, job.all_client_accounts = (
        JobLevel.SERVICE_ACCOUNT, login.id, True)
    session.commit()
    return job


def queue_run(session, job, scheduled_at=SCHEDULED):
    run = JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=scheduled_at)
    session.add(run)
    session.commit()
    return run


def run_job(session, factory, settings, job, scheduled_at=SCHEDULED):
    run = queue_run(session, job, scheduled_at)
    execute_run(factory, run.id, settings)
    session.expire_all()
    run = session.get(JobRun, run.id)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    return run


def _path(url: str) -> str:
    return url.split(DEMO_SITE_PREFIX, 1)[1].split("?", 1)[0]


def _statuses(session, run):
    return {c.url: (c.status, c.error) for c in session.scalars(
        select(UrlCheck).where(UrlCheck.run_id == run.id))}


def test_the_run_finds_the_demo_sites_broken_pages_and_writes_the_four_sheets(
        session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    job = checker_job(session, user, login, output=OutputType.XLSX)

    run = run_job(session, factory, settings, job)

    found = _statuses(session, run)
    broken = {url for url, (status, _) in found.items() if status in ("broken", "malformed")}
    assert {_path(u) for u in broken if DEMO_SITE_PREFIX in u} == set(BROKEN_PATHS)
    assert "www.acme-pets.example/summer sale" in broken
    assert found["www.acme-pets.example/summer sale"] == (
        "malformed", "The URL contains spaces or control characters.")
    assert found[f"{site.url}{DEMO_SITE_PREFIX}/winter"][0] == "redirect"
    assert found[f"{site.url}{DEMO_SITE_PREFIX}/slow"] == ("ok", "")
    assert found[f"{site.url}{DEMO_SITE_PREFIX}/product/discontinued"] == (
        "broken", "Soft 404: the page says “Stránka nenalezena”.")
    workbook = read_workbook(run.output_file)
    assert list(workbook) == ["Broken", "Redirects", "Inconclusive", "All URLs"]
    labels = {"OK", "Redirect", "Broken", "Inconclusive", "Malformed"}
    assert len([r for r in workbook["All URLs"][1:] if r and r[0] in labels]) == len(found) == run.rows
    assert len([r for r in workbook["Broken"][1:] if r and r[0] in labels]) == len(broken)
    assert workbook["Redirects"][1][4] == (f"301 → {site.url}{DEMO_SITE_PREFIX}/promo/winter | "
                                           f"302 → {site.url}{DEMO_SITE_PREFIX}/shoes")
    assert workbook["Inconclusive"][1][0] == "None."


def test_paused_entities_are_left_out_unless_asked_for(session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    without = run_job(session, factory, settings, checker_job(session, user, login))
    with_paused = run_job(session, factory, settings,
                          checker_job(session, user, login, include_paused=True))

    def uses(run):
        return [u for c in session.scalars(select(UrlCheck).where(UrlCheck.run_id == run.id))
                for u in c.uses]

    assert not any(u["paused"] for u in uses(without))
    assert any(u["paused"] for u in uses(with_paused))


def test_the_csv_lists_every_url_once_with_every_use(session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    job = checker_job(session, user, login, entities=["keyword"])

    run = run_job(session, factory, settings, job)

    with open(run.output_file, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    urls = [row["URL"] for row in rows]
    assert len(urls) == len(set(urls)) == run.rows
    assert all(" — keyword " in row["Where used"] for row in rows)
    assert sum(int(row["Used"]) for row in rows) > len(rows)  # two keywords per ad group


def _notifications(session, user, code):
    return session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.category == 4, Notification.code == code)
        .order_by(Notification.id)).all()


def test_a_url_broken_twice_is_one_notification_resolved_when_it_works_again(
        session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    job = checker_job(session, user, login)
    target = f"{DEMO_SITE_PREFIX}/sale-2019"

    run_job(session, factory, settings, job)
    run_job(session, factory, settings, job, SCHEDULED + timedelta(days=1))
    session.expire_all()
    twice = [n for n in _notifications(session, user, 2) if target in n.message_params["url"]]
    seen_twice = [(n.id, n.occurrences, n.resolved_at) for n in twice]
    site.pages[target] = Page()
    run_job(session, factory, settings, job, SCHEDULED + timedelta(days=2))
    session.expire_all()
    after = [n for n in _notifications(session, user, 2) if target in n.message_params["url"]]

    assert len(seen_twice) >= 1 and {(occurrences, resolved) for _, occurrences, resolved
                                      in seen_twice} == {(2, None)}
    assert [n.id for n in after] == [id_ for id_, _, _ in seen_twice]
    assert all(n.resolved_at is not None for n in after)
    assert twice[0].message_params["error"] == "HTTP 404 Not Found."
    assert {d["Entity"] for d in twice[0].details} <= {"ad", "ad_mobile", "keyword", "sitelink"}
    others = [n for n in _notifications(session, user, 2) if target not in n.message_params["url"]]
    assert others and all(n.resolved_at is None for n in others)
    summary = _notifications(session, user, 0)
    assert len(summary) == 1 and summary[0].occurrences == 3
    assert summary[0].details[0]["Problem"] <= summary[0].details[-1]["Problem"]
    assert _notifications(session, user, 1) == []  # redirects only when asked


def test_redirects_are_notified_when_asked(session, factory, settings, sandbox, site):
    user, login, _ = sandbox

    run_job(session, factory, settings, checker_job(session, user, login, notify_redirects=True))

    session.expire_all()
    redirects = _notifications(session, user, 1)
    assert len(redirects) == 1
    assert redirects[0].details[0]["URL"] == f"{site.url}{DEMO_SITE_PREFIX}/winter"


def _database_url(engine):
    return engine.url.render_as_string(hide_password=False)


def test_a_run_whose_worker_dies_resumes_and_checks_each_url_once(
        session, factory, sandbox, site, engine, tmp_path):
    user, login, _ = sandbox
    config = _config(site, PPC_ROBOT_URLCHECK_CONCURRENCY="1")
    settings = runner_settings(tmp_path / "outputs", config)
    reference = run_job(session, factory, settings, checker_job(session, user, login))
    session.commit()
    expected = site.targets.copy()
    site.targets.clear()
    job = checker_job(session, user, login)
    run = queue_run(session, job)
    victim = f"{DEMO_SITE_PREFIX}/garden"
    worker: dict[str, subprocess.Popen] = {}
    progress: dict[str, tuple[int, int]] = {}

    async def kill_at_victim(method: str, target: str) -> None:
        if target != victim or "killed" in worker:
            return
        worker["killed"] = worker["process"]
        with factory() as own:
            # The URLs before the victim in this run's stored list (accounts are collected
            # concurrently, so the order differs from run to run).
            # The malformed URLs have their result from the collection on.
            position = select(UrlCheck.position).where(
                UrlCheck.run_id == run.id, UrlCheck.url.endswith(victim)).scalar_subquery()
            before = own.scalar(select(func.count()).select_from(UrlCheck).where(
                UrlCheck.run_id == run.id,
                (UrlCheck.position < position) | (UrlCheck.status == "malformed")))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # what the worker checked before is written
            with factory() as own:
                written = own.scalar(select(func.count()).select_from(UrlCheck).where(
                    UrlCheck.run_id == run.id, UrlCheck.checked_at.is_not(None)))
            if written == before:
                break
            await asyncio.sleep(0.02)
        progress["at_kill"] = (written, before)
        os.kill(worker["process"].pid, signal.SIGKILL)

    site.on_request = kill_at_victim
    worker["process"] = subprocess.Popen(
        [sys.executable, "-m", "tests.support.urlcheck_worker", _database_url(engine), str(run.id),
         str(tmp_path / "outputs"), json.dumps(config)])
    assert worker["process"].wait(60) == -signal.SIGKILL
    written, before = progress["at_kill"]
    assert written == before  # every URL checked before the victim was written
    with factory() as own:
        checked_before = own.scalar(select(func.count()).select_from(UrlCheck).where(
            UrlCheck.run_id == run.id, UrlCheck.checked_at.is_not(None)))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the dead worker's lease runs out
        with factory() as own:
            if own.get_one(JobRun, run.id).lease_expires_at < utcnow():
                break
        time.sleep(0.05)

    outcome = execute_run(factory, run.id, settings)

    session.expire_all()
    finished = session.get(JobRun, run.id)
    assert outcome == "succeeded" and finished.attempt == 2
    assert "resumed:" in finished.log and 0 < checked_before < finished.rows
    assert finished.rows == reference.rows
    assert _statuses(session, finished).keys() == _statuses(session, reference).keys()
    expected[("GET", victim)] += 1  # the request in flight when the worker died
    assert site.targets == expected


def test_only_the_last_runs_keep_their_url_lists(session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    job = checker_job(session, user, login, entities=["sitelink"])
    short = dataclasses.replace(settings, app_config={**settings.app_config,
                                                      "PPC_ROBOT_URLCHECK_KEEP_RUNS": "2"})

    runs = [run_job(session, factory, short, job, SCHEDULED + timedelta(days=n)) for n in range(3)]

    kept = set(session.scalars(select(UrlCheck.run_id).distinct()))
    assert kept == {runs[1].id, runs[2].id}


def test_two_runs_list_the_urls_in_the_same_order(session, factory, settings, sandbox, site):
    user, login, _ = sandbox
    job = checker_job(session, user, login, entities=["ad", "sitelink"])

    runs = [run_job(session, factory, settings, job, SCHEDULED + timedelta(days=n)) for n in range(2)]

    def listed(run):
        return list(session.scalars(select(UrlCheck.url).where(UrlCheck.run_id == run.id)
                                    .order_by(UrlCheck.position)))

    assert listed(runs[0]) == listed(runs[1]) and listed(runs[0])
