"""The performance report in one reporting currency: every day's money at that day's ECB rate
(a weekend at Friday's), the original currency and the rate beside it; a rate the ECB does not
have fails the run clearly after one fetch."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ppc_robot.lib.models import OutputType, RunStatus
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.sandbox import SandboxClient
from ppc_robot.lib.runner import RunnerSettings
from tests.lib.test_accounts_overview import (
    add_client,
    overview_job,
    read_csv,
    run_job,
    sandbox_truth,
)
from tests.lib.test_performance_report import run_report
from tests.stubs.ecb import EcbStub
from tests.support import runs as run_fixtures
from tests.support.runs import KEY
from tests.support.xlsx import read_workbook

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
FIRST, LAST = date(2026, 11, 18), date(2026, 11, 24)  # last 7 days of a run on 25 November
CENT = Decimal("0.01")


@pytest.fixture
def ecb():
    stub = EcbStub()
    stub.publish(date(2026, 10, 1), date(2026, 11, 30),
                 {"CZK": Decimal("24.300"), "USD": Decimal("1.0500"), "GBP": Decimal("0.8700")},
                 step={"CZK": Decimal("0.013"), "USD": Decimal("0.0011")})
    stub.start()
    yield stub
    stub.stop()


@pytest.fixture
def settings(tmp_path, ecb):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_ECB_URL": ecb.url})


def platform_cost(account, day):
    remote = RemoteAccount(account.external_id, account.name, account.currency, account.time_zone)
    return sum((row.cost for row in SandboxClient().fetch_report(ReportRequest(remote, day, day, ("date",)))),
               Decimal(0))


def published_rate(ecb, day, currency):
    while day not in ecb.rates:  # a weekend or holiday: the last rate published before it
        day -= timedelta(days=1)
    return ecb.rates[day][currency]


def test_money_is_converted_each_day_at_its_ecb_rate_with_the_original_currency_and_rate_shown(
        session, factory, settings, sandbox, ecb):
    user, _, accounts = sandbox
    czk, eur = accounts[0], accounts[1]
    assert (czk.currency, eur.currency) == ("CZK", "EUR")

    run = run_report(session, factory, settings, user, [czk, eur], dimensions=["date"],
                     metrics=["cost"], date_range="last_7_days", reporting_currency="USD",
                     sort_by="date", sort_order="asc")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    with Path(run.output_file).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 14  # a row per day and original currency
    assert {r["Currency"] for r in rows} == {"USD"}
    for row in rows:
        day = date.fromisoformat(row["Date"])
        account = czk if row["Original currency"] == "CZK" else eur
        original = platform_cost(account, day)
        usd = published_rate(ecb, day, "USD")
        factor = usd / published_rate(ecb, day, "CZK") if account is czk else usd
        assert Decimal(row["Cost in original currency"]) == original.quantize(CENT)
        assert abs(Decimal(row["Cost"]) - original * factor) <= Decimal("0.005") + Decimal("1E-6")
        assert Decimal(row["Cost"]) == Decimal(row["Cost"]).quantize(CENT)
        assert abs(Decimal(row["Rate to USD"]) - factor) < Decimal("0.0000006")
    saturday = [r for r in rows if r["Date"] == "2026-11-21" and r["Original currency"] == "CZK"][0]
    friday = [r for r in rows if r["Date"] == "2026-11-20" and r["Original currency"] == "CZK"][0]
    assert saturday["Rate to USD"] == friday["Rate to USD"]  # no ECB rate on a Saturday
    assert ecb.requests[0].path == "/eurofxref-hist.xml"  # the empty table: the history, once


def test_an_xlsx_in_a_reporting_currency_has_one_total(session, factory, settings, sandbox, ecb):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:3], output=OutputType.XLSX,
                     dimensions=["campaign"], metrics=["clicks", "cost"], date_range="last_7_days",
                     reporting_currency="EUR")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    sheet = read_workbook(Path(run.output_file))["Performance"]
    header = sheet[0]
    assert header[:5] == ["Campaign", "Currency", "Original currency", "Rate to EUR",
                          "Cost in original currency"]
    data = [r for r in sheet[1:] if r and r[0] and r[0] != "Total" and len(r) >= len(header)]
    totals = [r for r in sheet[1:] if r and r[0] == "Total"]
    assert len(totals) == 1 and totals[0][1] == "EUR"  # every row in one currency: one total
    assert {r[2] for r in data} == {"CZK", "EUR"}
    cost = header.index("Cost")
    assert abs(float(totals[0][cost]) - sum(float(r[cost]) for r in data)) < 1e-6


def test_a_currency_the_ecb_has_no_rate_for_fails_the_run_after_one_fetch(
        session, factory, settings, sandbox, ecb):
    user, _, accounts = sandbox
    for rates in ecb.rates.values():
        rates.pop("CZK")

    run = run_report(session, factory, settings, user, accounts[:2], dimensions=["date"],
                     metrics=["cost"], date_range="last_7_days", reporting_currency="EUR")

    assert run.status == RunStatus.FAILED
    assert "No ECB rate for CZK on 2026-11-18" in run.error_message
    assert len(ecb.requests) == 1


def test_the_accounts_overview_converts_each_day_and_paces_every_account_of_a_client(
        session, factory, settings, sandbox, ecb):
    user, login, accounts = sandbox
    add_client(session, user, "Acme", "CZK", accounts[:2], monthly_budget=Decimal(50000))
    job = overview_job(session, user, login=login, reporting_currency="EUR")

    run = run_job(session, factory, settings, job)

    rows = read_csv(run.output_file)
    by_account = {r["Client account"]: r for r in rows if r["Row"] == "Account"}
    yesterday = date(2026, 11, 24)
    for account in accounts:
        row = by_account[account.name]
        expected = Decimal(0)
        day = date(2026, 11, 1)
        while day <= yesterday:
            cost, _, _ = sandbox_truth(account, day, day)
            czk = published_rate(ecb, day, "CZK")
            expected += cost / czk if account.currency == "CZK" else cost
            day += timedelta(days=1)
        assert (row["Currency"], row["Original currency"]) == ("EUR", account.currency)
        assert abs(Decimal(row["Spend month to date"]) - expected) <= Decimal("0.006"), account.name
    acme_cz, acme_sk = by_account[accounts[0].name], by_account[accounts[1].name]
    # 50 000 CZK at the last day's rate; both accounts (CZK and EUR) now count against it.
    budget = (Decimal(50000) / published_rate(ecb, yesterday, "CZK")).quantize(CENT)
    assert Decimal(acme_cz["Monthly budget"]) == Decimal(acme_sk["Monthly budget"]) == budget
    assert acme_sk["Pacing (%)"] == acme_cz["Pacing (%)"] != ""
    assert Decimal("0.03") < Decimal(acme_cz["Rate to EUR"]) < Decimal("0.05")
    assert acme_sk["Rate to EUR"] == "1.000000"


def test_overview_notifications_in_a_reporting_currency_state_converted_amounts(
        session, factory, settings, sandbox, ecb):
    from tests.lib.test_accounts_overview import open_notifications

    user, login, accounts = sandbox
    add_client(session, user, "Acme", "CZK", accounts[:2], monthly_budget=Decimal(100))
    job = overview_job(session, user, login=login, reporting_currency="EUR", notifications=True)

    run_job(session, factory, settings, job)

    [over] = open_notifications(session, "budget_overspend")
    assert over.message_params["client"] == "Acme"
    assert over.message_params["spent"]["currency"] == over.message_params["budget"]["currency"] == "EUR"
    budget = (Decimal(100) / published_rate(ecb, date(2026, 11, 24), "CZK")).quantize(CENT)
    assert over.message_params["monthly"] == {"money": str(budget), "currency": "EUR"}
    assert f"€{budget} for the month" in over.message
