"""The Sandbox serves a year of campaign days, and the demo's clients pace as the demo says:
one over its budget, one under, one on target, read from the filled store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.demo import DEMO_CLIENTS, seed_demo, set_demo_goals
from ppc_robot.lib.models import Client, ClientAccount
from ppc_robot.lib.models.stats import AccountDay
from ppc_robot.lib.platforms import ReportRequest
from ppc_robot.lib.platforms.sandbox import SANDBOX_ACCOUNTS, SandboxClient
from ppc_robot.lib.stats import StatsSettings, refresh_due_statistics
from ppc_robot.lib.stats.schedule import add_months
from tests.support import runs as run_fixtures

factory = run_fixtures.factory


def test_the_sandbox_serves_campaign_days_thirteen_months_back_with_stable_ids():
    request = ReportRequest(SANDBOX_ACCOUNTS[0], date(2025, 11, 1), date(2025, 11, 3),
                            ("date", "campaign"))

    rows = list(SandboxClient().fetch_report(request))
    again = list(SandboxClient().fetch_report(request))

    assert rows == again
    assert {r.date for r in rows} == {date(2025, 11, 1), date(2025, 11, 2), date(2025, 11, 3)}
    assert all(r.campaign and r.campaign_id and r.campaign_id.isdigit() for r in rows)
    names = {r.campaign_id: r.campaign for r in rows}
    assert len(names) == len(set(names.values())) >= 2


@pytest.mark.parametrize("now", [datetime(2026, 12, 3, 23, 0, tzinfo=UTC),
                                 datetime(2026, 2, 20, 9, 0, tzinfo=UTC),
                                 datetime(2026, 7, 2, 8, 0, tzinfo=UTC)])
def test_the_demo_clients_overspend_underspend_and_stay_on_target(factory, session, now):
    with factory() as session:
        demo = seed_demo(session)
        set_demo_goals(session, demo.user, now)
        session.commit()
        user_id = demo.user.id

    refresh_due_statistics(factory, StatsSettings(), now)

    with factory() as session:
        paces = {}
        for name, _currency, external_id, _pace, _targets in DEMO_CLIENTS:
            client = session.scalars(select(Client).where(Client.user_id == user_id,
                                                          Client.name == name)).one()
            account = session.scalars(select(ClientAccount).where(
                ClientAccount.user_id == user_id,
                ClientAccount.external_id == external_id)).one()
            assert account.client_id == client.id
            today = _local_today(account.time_zone, now)
            first = today.replace(day=1)
            last = today - timedelta(days=1)
            spent = session.scalar(select(func.sum(AccountDay.cost_micros)).where(
                AccountDay.client_account_id == account.id, AccountDay.day.between(first, last)))
            month_days = (add_months(first, 1) - first).days
            share = Decimal((last - first).days + 1) / month_days
            paces[name] = Decimal(spent) / 1_000_000 / (client.monthly_budget * share)
            assert client.target_cpa or client.target_roas or client.target_pno
            assert client.pacing_tolerance == 10
            oldest = session.scalar(select(func.min(AccountDay.day)).where(
                AccountDay.client_account_id == account.id))
            assert oldest <= add_months(today, -13)

    assert paces["Acme Shoes"] > Decimal("1.10")
    assert paces["Garden Centre Brno"] < Decimal("0.90")
    assert abs(paces["Bike Rental Vienna"] - 1) <= Decimal("0.10")


def _local_today(time_zone: str, now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(time_zone)).date()
