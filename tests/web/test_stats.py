"""The store on the login pages: backfill progress, staleness and "Refresh now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.models import ClientAccount, Platform, ServiceAccount
from ppc_robot.lib.models.stats import StatsState
from ppc_robot.lib.stats import StatsSettings, refresh_due_statistics
from tests.conftest import csrf_token_from

NOW = datetime(2026, 8, 5, 5, 0, tzinfo=UTC)


def _link_sandbox(client, session) -> ServiceAccount:
    token = csrf_token_from(client.get("/accounts/").text)
    assert client.post("/accounts/link/sandbox", data={"csrf_token": token}).status_code == 302
    session.rollback()
    return session.scalars(select(ServiceAccount).where(
        ServiceAccount.platform == Platform.SANDBOX, ServiceAccount.external_id == "sandbox")).one()


def test_the_login_pages_show_the_backfill_progress_and_stale_numbers(
        client, session, engine, login, user) -> None:
    login(user)
    sandbox = _link_sandbox(client, session)
    assert "statistics: 0 of 5 accounts backfilled" in client.get(f"/accounts/{sandbox.id}").text
    factory = make_session_factory(engine)

    refresh_due_statistics(factory, StatsSettings(chunk_months=13, backfill_months=13), NOW)
    ids = session.scalars(select(ClientAccount.id).where(
        ClientAccount.service_account_id == sandbox.id)).all()
    with factory() as writing:
        for client_account_id in ids[:2]:  # two still backfilling, one of them failing
            state = writing.get_one(StatsState, client_account_id)
            state.backfill_done_from = datetime(2026, 3, 1).date()
        state.last_error = "Sandbox refused the request."
        state.last_error_at = NOW
        writing.commit()

    page = client.get(f"/accounts/{sandbox.id}").text
    listing = client.get("/accounts/").text
    assert f"statistics: {len(ids) - 2} of {len(ids)} accounts backfilled, through 2026-03" in page
    assert "updated through 2026-08-04" in page
    assert "1 stale: Sandbox refused the request." in page
    assert f"{len(ids) - 2} of {len(ids)} accounts backfilled" in listing


def test_refresh_now_makes_the_logins_accounts_due(client, session, engine, login, user) -> None:
    login(user)
    sandbox = _link_sandbox(client, session)
    factory = make_session_factory(engine)
    refresh_due_statistics(factory, StatsSettings(backfill_months=0), NOW)
    page = client.get(f"/accounts/{sandbox.id}").text

    response = client.post(f"/accounts/{sandbox.id}/statistics/update",
                           data={"csrf_token": csrf_token_from(page)})

    assert response.status_code == 302
    session.rollback()  # a fresh snapshot: the app and the step wrote in their own sessions
    states = session.scalars(select(StatsState)).all()
    assert states and all(s.next_refresh_at <= datetime.now(UTC) + timedelta(seconds=1)
                          for s in states)
    assert "will be updated in a moment" in client.get(response.headers["Location"]).text


def test_refresh_now_of_someone_elses_login_is_not_found(client, login, user, other_user,
                                                         other_workspace) -> None:
    login(user)
    page = client.get("/accounts/").text

    response = client.post(f"/accounts/{other_workspace.service_account.id}/statistics/update",
                           data={"csrf_token": csrf_token_from(page)})

    assert response.status_code == 404


def test_the_demo_store_fills_within_a_minute_of_the_worker_starting(app, session) -> None:
    import dataclasses
    import time

    from ppc_robot.lib.demo import seed_demo
    from ppc_robot.lib.runner import EmbeddedWorker
    from ppc_robot.lib.stats.claims import backfill_pending
    from ppc_robot.web.queue import runner_settings, session_factory

    demo = seed_demo(session)
    session.commit()
    count = len(session.scalars(select(ClientAccount.id).where(
        ClientAccount.user_id == demo.user.id)).all())
    settings = dataclasses.replace(runner_settings(app), tick_seconds=0.2)
    worker = EmbeddedWorker(session_factory(app), settings).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = session.scalars(select(StatsState)).all()
            pending = session.scalars(select(StatsState.client_account_id)
                                      .where(backfill_pending())).all()
            session.rollback()
            if len(states) == count and not pending and all(s.refreshed_at for s in states):
                break
            time.sleep(0.2)
    finally:
        worker.stop()

    states = session.scalars(select(StatsState)).all()
    assert len(states) == count
    assert all(s.refreshed_at and s.backfill_done_from == s.backfill_from for s in states)
