"""The ECB's reference rates: the housekeeping fills the table from the stand-in, conversions on
known days (weekends and TARGET holidays take the last published rate), cross rates via the
euro, and a missing rate asked for once, then refused clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.exchange_rates import (
    EcbFeedError,
    EcbSettings,
    ExchangeRateError,
    parse_ecb_xml,
    rates_for_run,
    update_exchange_rates,
)
from ppc_robot.lib.models import ExchangeRate
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings
from ppc_robot.lib.runner.worker import housekeeping
from tests.factories import make_definition, make_user
from tests.stubs.ecb import EcbStub, feed_xml
from tests.support import runs as run_fixtures

factory = run_fixtures.factory
AFTER_NEW_YEAR = datetime(2027, 1, 4, 18, 0, tzinfo=UTC)
START = {"CZK": Decimal("24.300"), "USD": Decimal("1.0500"), "JPY": Decimal("160.10")}
STEP = {"CZK": Decimal("0.010"), "USD": Decimal("0.0010"), "JPY": Decimal("0.10")}


@pytest.fixture
def ecb():
    stub = EcbStub()
    stub.publish(date(2026, 3, 2), date(2026, 12, 31), START, step=STEP)
    stub.start()
    yield stub
    stub.stop()


def config(ecb):
    return {"PPC_ROBOT_ECB_URL": ecb.url}


def test_housekeeping_fills_the_table_from_the_ecb_history_once_a_job_converts(
        session, factory, ecb, tmp_path):
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", app_config=config(ecb))
    user = make_user(session)
    make_definition(session, user, parameters=default_parameters())  # each account's own currency
    session.commit()
    housekeeping(factory, settings, now=AFTER_NEW_YEAR)
    assert ecb.requests == []  # nobody converts: the ECB is not asked
    make_definition(session, user, parameters=default_parameters() | {"reporting_currency": "EUR"})
    session.commit()

    housekeeping(factory, settings, now=AFTER_NEW_YEAR)

    stored = session.scalar(select(func.count()).select_from(ExchangeRate))
    assert stored == 3 * len(ecb.rates)
    assert [r.path for r in ecb.requests] == ["/eurofxref-hist.xml"]
    christmas_eve = session.get(ExchangeRate, (date(2026, 12, 24), "CZK"))
    assert christmas_eve.rate == ecb.rates[date(2026, 12, 24)]["CZK"]
    assert session.get(ExchangeRate, (date(2026, 12, 25), "CZK")) is None  # a TARGET holiday


def test_a_later_housekeeping_reads_the_daily_feed_once_the_day_is_published(session, factory, ecb):
    published = dict(ecb.rates)
    ecb.rates = {day: rates for day, rates in published.items() if day <= date(2026, 12, 10)}
    update_exchange_rates(session, EcbSettings(ecb.url), datetime(2026, 12, 10, 18, 0, tzinfo=UTC))
    session.commit()
    ecb.rates[date(2026, 12, 11)] = published[date(2026, 12, 11)]

    too_soon = update_exchange_rates(session, EcbSettings(ecb.url),
                                     datetime(2026, 12, 10, 18, 30, tzinfo=UTC))
    added = update_exchange_rates(session, EcbSettings(ecb.url), datetime(2026, 12, 11, 17, 0, tzinfo=UTC))
    again = update_exchange_rates(session, EcbSettings(ecb.url), datetime(2026, 12, 11, 19, 0, tzinfo=UTC))
    session.commit()

    assert (too_soon, added, again) == (0, 3, 0)  # the Friday's three rates, then nothing to ask
    assert [r.path for r in ecb.requests] == ["/eurofxref-hist.xml", "/eurofxref-daily.xml"]
    assert session.get(ExchangeRate, (date(2026, 12, 11), "CZK")).rate == published[date(2026, 12, 11)]["CZK"]


def test_a_table_days_behind_reads_the_last_90_days(session, factory, ecb):
    published = dict(ecb.rates)
    ecb.rates = {day: rates for day, rates in published.items() if day <= date(2026, 12, 1)}
    update_exchange_rates(session, EcbSettings(ecb.url), datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
    ecb.rates = published

    added = update_exchange_rates(session, EcbSettings(ecb.url), datetime(2026, 12, 9, 18, 0, tzinfo=UTC))

    assert added == 3 * len([d for d in published if date(2026, 12, 1) < d <= date(2026, 12, 31)])
    assert ecb.requests[-1].path == "/eurofxref-hist-90d.xml"


@pytest.mark.parametrize(("day", "published"), [
    (date(2026, 11, 20), date(2026, 11, 20)),  # a Friday: its own rate
    (date(2026, 11, 21), date(2026, 11, 20)),  # Saturday: Friday's
    (date(2026, 11, 22), date(2026, 11, 20)),  # Sunday: Friday's
    (date(2026, 12, 25), date(2026, 12, 24)),  # Christmas Day (a TARGET holiday)
    (date(2026, 12, 26), date(2026, 12, 24)),  # St Stephen's Day, a Saturday this year
    (date(2026, 4, 3), date(2026, 4, 2)),  # Good Friday
    (date(2026, 4, 6), date(2026, 4, 2)),  # Easter Monday: still Thursday's
])
def test_a_day_takes_its_rate_or_the_last_one_published_before_it(session, factory, ecb, day,
                                                                   published):
    table = rates_for_run(factory, config(ecb), ["CZK"], [day], "EUR", now=AFTER_NEW_YEAR)

    czk = ecb.rates[published]["CZK"]
    assert table.convert(Decimal("2430.00"), day, "CZK") == Decimal("2430.00") / czk
    assert table.rate(day, "CZK") == czk


def test_czk_to_usd_is_a_cross_rate_through_the_euro_each_day_at_its_own_rate(session, factory, ecb):
    ecb.rates[date(2026, 11, 19)] = {"CZK": Decimal("24.335"), "USD": Decimal("1.0420")}
    ecb.rates[date(2026, 11, 20)] = {"CZK": Decimal("24.290"), "USD": Decimal("1.0466")}
    days = [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)]

    table = rates_for_run(factory, config(ecb), ["CZK"], days, "USD", now=AFTER_NEW_YEAR)

    converted = [table.convert(Decimal("1000"), day, "CZK").quantize(Decimal("0.01")) for day in days]
    # 1000 CZK = 1000 / 24.335 EUR = 1000 × 1.0420 / 24.335 USD; Saturday at Friday's rates.
    assert converted == [Decimal("42.82"), Decimal("43.09"), Decimal("43.09")]
    assert table.factor(days[0], "CZK") == Decimal("1.0420") / Decimal("24.335")


def test_a_missing_rate_is_fetched_once_then_refused_clearly(session, factory, ecb):
    with pytest.raises(ExchangeRateError, match="No ECB rate for XYZ on 2026-11-20"):
        rates_for_run(factory, config(ecb), ["XYZ"], [date(2026, 11, 20)], "EUR", now=AFTER_NEW_YEAR)

    assert len(ecb.requests) == 1  # asked once (the table was empty: the whole history)
    assert session.scalar(select(func.count()).select_from(ExchangeRate)) > 0


def test_an_unreachable_ecb_fails_the_run_with_the_missing_rate(session, factory, ecb):
    ecb.down = True

    with pytest.raises(ExchangeRateError, match="No ECB rate for CZK on 2026-11-20"):
        rates_for_run(factory, config(ecb), ["CZK"], [date(2026, 11, 20)], "EUR", now=AFTER_NEW_YEAR)


def test_the_parser_reads_the_ecb_format_and_refuses_entities():
    rates = {date(2026, 12, 3): {"USD": Decimal("1.0512"), "CZK": Decimal("24.215")}}

    assert parse_ecb_xml(feed_xml(rates)) == rates
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            b'<Envelope>&lol;</Envelope>')
    with pytest.raises(EcbFeedError, match="document type"):
        parse_ecb_xml(bomb)
    with pytest.raises(EcbFeedError, match="no rates"):
        parse_ecb_xml(b"<Envelope/>")


def test_housekeeping_survives_an_unreachable_ecb_and_waits_before_asking_again(
        session, factory, ecb, tmp_path, caplog, monkeypatch):
    from ppc_robot.lib import exchange_rates

    monkeypatch.setattr(exchange_rates, "_last_failure", [])  # this process's memory, this test only
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", app_config=config(ecb))
    make_definition(session, make_user(session), parameters=default_parameters() | {"reporting_currency": "USD"})
    session.commit()
    ecb.down = True

    housekeeping(factory, settings, now=AFTER_NEW_YEAR)
    housekeeping(factory, settings, now=AFTER_NEW_YEAR)

    assert len(ecb.requests) == 1  # not again until PPC_ROBOT_ECB_REFRESH_SECONDS have passed
    assert "ECB rates not updated: The ECB answered 503" in caplog.text
    exchange_rates._last_failure.clear()  # as if the wait had passed
    ecb.down = False
    housekeeping(factory, settings, now=AFTER_NEW_YEAR)
    assert session.scalar(select(func.count()).select_from(ExchangeRate)) == 3 * len(ecb.rates)
