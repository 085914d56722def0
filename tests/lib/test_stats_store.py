"""The store's upserts: one row per key with the latest numbers, whatever the order or overlap
of writes; account rows are the sums of campaign rows; vanished campaigns go."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models.stats import AccountDay, CampaignDay
from ppc_robot.lib.platforms import ReportRow
from ppc_robot.lib.stats import AccountRef, store_days
from tests.factories import make_client_account, make_service_account, make_user
from tests.support import runs as run_fixtures

factory = run_fixtures.factory
NOW = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 11, 26), date(2026, 12, 2)


def _rows(scale: int, campaigns: tuple[str, ...] = ("Brand", "Generic")) -> list[ReportRow]:
    rows = []
    day = FIRST
    while day <= LAST:
        for n, name in enumerate(campaigns, start=1):
            rows.append(ReportRow(date=day, campaign=name, campaign_id=str(100 + n),
                                  impressions=100 * scale, clicks=10 * scale,
                                  cost=Decimal("12.345678") * scale,
                                  conversions=Decimal("1.5") * scale,
                                  conversion_value=Decimal("99.99") * scale))
        day += timedelta(days=1)
    return rows


@pytest.fixture
def account(session):
    user = make_user(session)
    login = make_service_account(session, user)
    client_account = make_client_account(session, login, currency="EUR")
    session.commit()
    return AccountRef(client_account.id, user.id, "EUR")


def _campaign_rows(factory, account):
    with factory() as session:
        return session.execute(select(CampaignDay.campaign_id, CampaignDay.day,
                                      CampaignDay.cost_micros, CampaignDay.clicks)
                               .where(CampaignDay.client_account_id == account.client_account_id)
                               .order_by(CampaignDay.campaign_id, CampaignDay.day)).all()


def _account_rows(factory, account):
    with factory() as session:
        return session.scalars(select(AccountDay).where(
            AccountDay.client_account_id == account.client_account_id)
            .order_by(AccountDay.day)).all()


def test_money_is_stored_exactly_in_micros_with_the_currency(factory, account):
    with factory() as session:
        store_days(session, account, FIRST, LAST, _rows(1), NOW)
        session.commit()

    days = _account_rows(factory, account)
    assert len(days) == 7
    assert days[0].cost_micros == 2 * 12_345_678
    assert days[0].conversion_value_micros == 2 * 99_990_000
    assert days[0].conversions == Decimal("3")
    assert days[0].currency == "EUR"
    assert days[0].fetched_at == NOW


def test_a_repeated_refresh_leaves_one_row_per_key_with_the_latest_numbers(factory, account):
    for scale in (1, 2, 3):
        with factory() as session:
            store_days(session, account, FIRST, LAST, _rows(scale), NOW + timedelta(minutes=scale))
            session.commit()

    rows = _campaign_rows(factory, account)
    assert len(rows) == 2 * 7
    assert {r.clicks for r in rows} == {30}
    days = _account_rows(factory, account)
    assert len(days) == 7
    assert all(d.clicks == 60 and d.cost_micros == 2 * 3 * 12_345_678 for d in days)


def test_account_rows_are_the_sums_of_the_campaign_rows(factory, account):
    with factory() as session:
        store_days(session, account, FIRST, LAST, _rows(2, ("A", "B", "C")), NOW)
        session.commit()

    with factory() as session:
        sums = dict(session.execute(select(CampaignDay.day, func.sum(CampaignDay.cost_micros))
                                    .group_by(CampaignDay.day)).all())
    assert {d.day: d.cost_micros for d in _account_rows(factory, account)} == sums


def test_a_campaign_gone_from_a_repulled_day_is_deleted_for_that_day_only(factory, account):
    with factory() as session:
        store_days(session, account, FIRST - timedelta(days=7), LAST,
                   _rows(1) + [ReportRow(date=FIRST - timedelta(days=1), campaign="Old",
                                         campaign_id="9", clicks=5)], NOW)
        session.commit()

    with factory() as session:
        store_days(session, account, FIRST, LAST, _rows(1, ("Brand",)), NOW)
        session.commit()

    rows = _campaign_rows(factory, account)
    assert {(r.campaign_id, r.day) for r in rows if r.day >= FIRST} == {
        ("101", FIRST + timedelta(days=n)) for n in range(7)}
    assert ("9", FIRST - timedelta(days=1)) in {(r.campaign_id, r.day) for r in rows}
    assert _account_rows(factory, account)[-1].clicks == 10


def test_a_day_without_campaigns_is_stored_as_zero(factory, account):
    with factory() as session:
        store_days(session, account, FIRST, LAST, [], NOW)
        session.commit()

    days = _account_rows(factory, account)
    assert [d.day for d in days] == [FIRST + timedelta(days=n) for n in range(7)]
    assert all(d.cost_micros == 0 for d in days)


def test_two_refreshes_at_once_leave_one_row_per_key(factory, account):
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def refresh(scale: int) -> None:
        try:
            start.wait(timeout=10)
            with factory() as session:
                store_days(session, account, FIRST, LAST, _rows(scale), NOW)
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=refresh, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    rows = _campaign_rows(factory, account)
    assert len(rows) == 14
    assert len({r.clicks for r in rows}) == 1  # every row from the same, last, refresh
    days = _account_rows(factory, account)
    assert len(days) == 7
    assert all(d.clicks == 2 * rows[0].clicks for d in days)


def test_a_refresh_killed_midway_leaves_the_earlier_numbers_whole(factory, account):
    with factory() as session:
        store_days(session, account, FIRST, LAST, _rows(1), NOW)
        session.commit()

    def dying_rows():
        yield from _rows(5)[:3]
        raise ConnectionError("killed")

    with factory() as session, pytest.raises(ConnectionError):
        store_days(session, account, FIRST, LAST, dying_rows(), NOW)
        session.commit()
    with factory() as session:
        store_days(session, account, FIRST, LAST, _rows(7), NOW)
        session.commit()

    rows = _campaign_rows(factory, account)
    assert len(rows) == 14 and {r.clicks for r in rows} == {70}
    assert len(_account_rows(factory, account)) == 7
