"""Every time a page shows is in the viewer's time zone, and the zone is named where two meet."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import NotificationSnooze, User
from ppc_robot.lib.notifications import emit
from tests.conftest import csrf_token_from
from tests.factories import make_job, make_plan, make_user
from tests.support import runs as run_fixtures
from tests.web.test_runs import run_by_the_worker, sandbox_job

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox

TOKYO = "Asia/Tokyo"  # nine hours from UTC all year: a UTC time shown there is always wrong


def _minutes(start, end, zone):
    """Every HH:MM between `start` and `end` (a minute either side) in `zone`."""
    moment, seen = start - timedelta(minutes=1), set()
    while moment <= end + timedelta(minutes=1):
        seen.add(moment.astimezone(zone).strftime("%H:%M"))
        moment += timedelta(minutes=1)
    return seen


def test_the_run_log_shows_times_in_the_viewers_zone_and_names_it(app, client, login, session,
                                                                  factory, sandbox):
    user, _, accounts = sandbox
    user.time_zone = TOKYO
    job = sandbox_job(session, user, accounts)
    login(user)
    run = run_by_the_worker(app, client, session, factory, job)
    session.commit()  # a fresh snapshot, with the worker's writes
    session.refresh(run)

    page = client.get(f"/runs/{run.id}")

    log = html.unescape(re.search(r'<pre[^>]*run-log[^>]*>(.*?)</pre>', page.text, re.S).group(1))
    times = re.findall(r"^(\d\d:\d\d):\d\d ", log, re.M)
    assert len(times) >= 2, log
    local = _minutes(run.started_at, run.finished_at, ZoneInfo(TOKYO))
    assert set(times) <= local, (times, local)
    assert re.search(r"Log[^<]*\(times in Asia/Tokyo\)", page.text)


def test_the_snooze_message_says_until_when_in_the_users_zone(session, client, login):
    me = make_user(session, time_zone=TOKYO)
    job = make_job(session, me)
    notification = emit(session, me.id, "report_failed", params={"job": job.name, "reason": "x"},
                        job_id=job.id)
    session.commit()
    login(me)
    token = csrf_token_from(client.get(f"/notifications/{notification.id}").text)

    response = client.post(f"/notifications/{notification.id}/snooze", follow_redirects=True,
                           data={"csrf_token": token, "target": "job", "duration": "7d"})

    snooze = session.scalar(select(NotificationSnooze).filter_by(user_id=me.id))
    until = snooze.until.astimezone(ZoneInfo(TOKYO)).strftime("%Y-%m-%d %H:%M")
    assert f"until {until} (Asia/Tokyo)" in html.unescape(response.text)
    assert "UTC" not in re.search(r'alert-success[^>]*>(.*?)<button', response.text, re.S).group(1)


def test_the_admin_user_page_names_whose_zone_each_time_is_in(session, client, login):
    admin = make_user(session, is_admin=True, time_zone=TOKYO)
    person = make_user(session, time_zone="America/New_York")
    session.commit()
    login(admin)

    page = html.unescape(client.get(f"/admin/users/{person.id}").text)

    joined = person.created_at.astimezone(ZoneInfo(TOKYO)).strftime("%Y-%m-%d %H:%M")
    assert "time zone America/New_York" in page
    assert f"joined {joined} (Asia/Tokyo)" in page


@pytest.mark.parametrize("url", ["/admin/users", "/admin/invites", "/admin/"])
def test_admin_lists_show_times_in_the_admins_zone(session, client, login, url):
    admin = make_user(session, is_admin=True, time_zone=TOKYO)
    session.commit()
    login(admin)

    page = client.get(url)

    assert page.status_code == 200
    assert "UTC" not in re.sub(r"<[^>]+>", "", page.text).replace("(UTC)", "")
    assert "times in Asia/Tokyo" in page.text
    assert session.scalar(select(User).where(User.id == admin.id)).time_zone == TOKYO


def test_a_period_end_date_means_midnight_where_the_admin_is(session, client, login):
    from ppc_robot.web.models import Subscription

    admin = make_user(session, is_admin=True, time_zone=TOKYO)
    person = make_user(session)
    plan = make_plan(session)
    session.commit()
    login(admin)
    token = csrf_token_from(client.get(f"/admin/users/{person.id}").text)

    client.post(f"/admin/users/{person.id}/plan", data={
        "csrf_token": token, "plan_id": plan.id, "status": "active", "period_end": "2027-01-31"})

    session.rollback()
    subscription = session.scalar(select(Subscription).where(Subscription.user_id == person.id))
    assert subscription.period_end.astimezone(ZoneInfo(TOKYO)).strftime("%Y-%m-%d %H:%M") == \
        "2027-01-31 00:00"
    assert "until 2027-01-31 00:00" in client.get(f"/admin/users/{person.id}").text
