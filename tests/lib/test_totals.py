"""Totals rows per currency: ratios from the sums, in the XLSX (recalculated by LibreOffice and
as cached), the Google Sheets stand-in and the preview, on the performance report and the
accounts overview; sorting within each currency."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ppc_robot.lib.models import OutputType, RunStatus
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.outputs.columns import SUM, Change, Difference, Ratio
from ppc_robot.lib.outputs.totals import Totals
from ppc_robot.lib.runs import preview_path
from tests.lib.test_accounts_overview import add_client, overview_job, run_job
from tests.lib.test_performance_report import run_report
from tests.lib.test_performance_report import settings as settings  # noqa: F401 - fixture
from tests.support import runs as run_fixtures
from tests.support.xlsx import read_workbook, recalculated_with_libreoffice

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


def number(text: str) -> float:
    """A cell LibreOffice wrote unformatted (a percentage keeps its sign: "5.01%")."""
    text = text.replace("\u00a0", "").strip()
    return float(text[:-1]) / 100 if text.endswith("%") else float(text or 0)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def test_ratios_total_from_the_sums_never_as_an_average_of_the_rows():
    columns = [Column("currency", "Currency"), Column("clicks", "Clicks", ColumnKind.INTEGER, total=SUM),
               Column("ctr", "CTR", ColumnKind.PERCENT, total=Ratio("clicks", "impressions")),
               Column("ctr_previous", "CTR before", ColumnKind.PERCENT,
                      total=Ratio("clicks_previous", "impressions_previous")),
               Column("ctr_change", "CTR change", ColumnKind.PERCENT, total=Difference("ctr", "ctr_previous")),
               Column("ctr_change_pct", "CTR change %", ColumnKind.PERCENT, total=Change("ctr", "ctr_previous"))]
    inputs = [Column(n, n, ColumnKind.INTEGER, total=SUM)
              for n in ("impressions", "clicks_previous", "impressions_previous")]
    totals = Totals(columns, inputs)
    frame = pl.DataFrame({"currency": ["CZK", "CZK", "EUR"], "clicks": [1, 99, 5],
                          "impressions": [10, 9900, 50], "clicks_previous": [2, 48, 5],
                          "impressions_previous": [10, 990, 100],
                          "ctr": [0.1, 0.01, 0.1], "ctr_previous": [0.2, 0.0485, 0.05],
                          "ctr_change": [0.0] * 3, "ctr_change_pct": [0.0] * 3})

    totals.add(frame.head(2))
    totals.add(frame.tail(1))

    czk, eur = totals.rows()
    assert (czk.currency, eur.currency) == ("CZK", "EUR")
    assert czk.values["clicks"] == 100 and czk.values["ctr"] == Decimal(100) / Decimal(9910)  # not 5.5 %
    assert czk.values["ctr_previous"] == Decimal(50) / Decimal(1000)
    assert czk.values["ctr_change"] == czk.values["ctr"] - czk.values["ctr_previous"]
    assert czk.values["ctr_change_pct"] == (czk.values["ctr"] - Decimal("0.05")) / Decimal("0.05")
    assert eur.values["clicks"] == 5 and eur.values["ctr"] == Decimal("0.1")
    assert totals.cells(czk, columns)[:2] == ("Total CZK", Decimal(100))


def _by_currency(table: list[list[str]], header: list[str]) -> tuple[dict[str, list[dict[str, str]]],
                                                                   dict[str, dict[str, str]]]:
    rows = [dict(zip(header, r, strict=False)) for r in table[1:] if r and any(r)]
    data: dict[str, list[dict[str, str]]] = {}
    totals: dict[str, dict[str, str]] = {}
    for row in rows:
        if row[header[0]] == "Total":
            totals[row["Currency"]] = row
        elif row.get("Currency"):
            data.setdefault(row["Currency"], []).append(row)
    return data, totals


def test_performance_xlsx_totals_per_currency_equal_the_rows_as_libreoffice_recalculates_them(
        session, factory, settings, sandbox, tmp_path):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:3], output=OutputType.XLSX,
                     dimensions=["campaign"], metrics=["clicks", "cost", "ctr", "roas"],
                     date_range="last_7_days", comparison="previous_period", sort_by="cost")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    path = Path(run.output_file)
    recalculated = recalculated_with_libreoffice(path, tmp_path)
    cached = read_workbook(path)["Performance"]
    header = recalculated[0]
    # The inputs of the ratios that are not shown, in hidden columns at the end.
    assert header[-4:] == ["Impressions", "Conversion value", "Impressions (before)",
                           "Conversion value (before)"]
    data, totals = _by_currency(recalculated, header)
    assert set(totals) == set(data) == {"CZK", "EUR"}
    for currency, rows in data.items():
        total = totals[currency]

        def summed(name: str, rows: list[dict[str, str]] = rows) -> float:
            return sum(number(r[name]) for r in rows)

        assert int(total["Clicks"]) == summed("Clicks")
        assert close(number(total["Cost"]), summed("Cost"))
        assert close(number(total["Cost (before)"]), summed("Cost (before)"))
        assert close(number(total["CTR"]), summed("Clicks") / summed("Impressions"))
        assert close(number(total["ROAS"]), summed("Conversion value") / summed("Cost"))
        assert close(number(total["Cost change"]), summed("Cost") - summed("Cost (before)"))
        assert close(number(total["CTR change %"]),
                     (number(total["CTR"]) - number(total["CTR (before)"])) / number(total["CTR (before)"]))
    # The file carries the same values for viewers that do not recalculate.
    cached_data, cached_totals = _by_currency(cached, cached[0])
    for currency, total in totals.items():
        for name in ("Clicks", "Cost", "CTR", "ROAS", "CTR change %"):
            assert close(number(cached_totals[currency][name]), number(total[name])), (currency, name)
    with zipfile.ZipFile(path) as archive:
        assert b"SUBTOTAL(9," in archive.read("xl/worksheets/sheet1.xml")  # follows the filter


def test_sorting_by_money_ranks_within_each_currency_in_the_output_and_the_preview(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:3], dimensions=["campaign"],
                     metrics=["cost", "clicks"], date_range="last_7_days", sort_by="cost")

    table = pl.read_csv(run.output_file)
    currencies = table["Currency"].to_list()
    assert currencies == sorted(currencies) and set(currencies) == {"CZK", "EUR"}
    for currency in ("CZK", "EUR"):
        costs = table.filter(pl.col("Currency") == currency)["Cost"].to_list()
        assert costs == sorted(costs, reverse=True)
    preview = json.loads(preview_path(settings.outputs_dir, run).read_text(encoding="utf-8"))
    shown = [row[preview["header"].index("Currency")] for row in preview["rows"]]
    assert shown == sorted(shown)
    assert [row[:2] for row in preview["totals"]] == [["Total", "CZK"], ["Total", "EUR"]]
    clicks = {row[1]: int(row[3].replace("\u202f", "")) for row in preview["totals"]}
    assert clicks == {c: table.filter(pl.col("Currency") == c)["Clicks"].sum() for c in ("CZK", "EUR")}


@pytest.fixture
def overview_settings(tmp_path):
    from ppc_robot.lib.runner import RunnerSettings
    from tests.support.runs import KEY

    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})


def test_overview_xlsx_totals_sum_the_account_rows_per_currency_as_recalculated(
        session, factory, overview_settings, sandbox, tmp_path):
    user, login, accounts = sandbox
    add_client(session, user, "Acme", "CZK", accounts[:2], monthly_budget=Decimal(50000))
    job = overview_job(session, user, login=login, output=OutputType.XLSX)

    run = run_job(session, factory, overview_settings, job)

    table = recalculated_with_libreoffice(Path(run.output_file), tmp_path)
    header = table[0]
    rows = [dict(zip(header, r, strict=False)) for r in table[1:] if r and r[0] in ("Account", "Client", "Total")]
    totals = {r["Currency"]: r for r in rows if r["Row"] == "Total"}
    assert set(totals) == {"CZK", "EUR"}
    assert any(r["Row"] == "Client" for r in rows)  # a client row, left out of the totals
    for currency, total in totals.items():
        members = [r for r in rows if r["Row"] == "Account" and r["Currency"] == currency]
        for name in ("Spend yesterday", "Spend last 7 days", "Spend month to date", "Conversion value (month)"):
            assert close(number(total[name]), sum(number(r[name]) for r in members)), (currency, name)
        cost = sum(number(r["Spend month to date"]) for r in members)
        value = sum(number(r["Conversion value (month)"]) for r in members)
        assert close(number(total["ROAS"]), value / cost) and close(number(total["PNO"]), cost / value)
        assert total["Monthly budget"] == ""  # a client's budget is not added up


def test_the_overview_preview_ends_with_the_totals_per_currency(
        session, factory, overview_settings, sandbox):
    from tests.lib.test_accounts_overview import read_csv

    user, login, accounts = sandbox
    job = overview_job(session, user, login=login)

    run = run_job(session, factory, overview_settings, job)

    rows = [r for r in read_csv(run.output_file) if r["Row"] == "Account"]
    preview = json.loads(preview_path(overview_settings.outputs_dir, run).read_text(encoding="utf-8"))
    spend = preview["header"].index("Spend month to date")
    shown = {row[4]: row[spend] for row in preview["totals"]}
    assert [row[0] for row in preview["totals"]] == ["Total", "Total"]
    for currency in ("CZK", "EUR"):
        expected = sum(Decimal(r["Spend month to date"]) for r in rows if r["Currency"] == currency)
        amount, unit = shown[currency].replace("\u202f", "").split(" ")
        assert (Decimal(amount), unit) == (expected, currency)


@pytest.mark.parametrize("currencies", [("CZK", "CZK", "EUR", "EUR"), ("CZK", "EUR", "CZK", "EUR")])
def test_xlsx_totals_per_currency_in_blocks_or_interleaved_as_libreoffice_recalculates(
        tmp_path, currencies):
    from ppc_robot.lib.outputs import Sheet, write_xlsx

    columns = [Column("campaign", "Campaign"), Column("currency", "Currency"),
               Column("clicks", "Clicks", ColumnKind.INTEGER, total=SUM),
               Column("cost", "Cost", ColumnKind.MONEY, total=SUM),
               Column("cpc", "CPC", ColumnKind.MONEY, total=Ratio("cost", "clicks"))]
    rows = [(f"C{n}", currency, 10 * (n + 1), Decimal(100 + n), Decimal(100 + n) / (10 * (n + 1)))
            for n, currency in enumerate(currencies)]
    frame = pl.DataFrame(rows, schema={"campaign": pl.String, "currency": pl.String, "clicks": pl.Int64,
                                       "cost": pl.Decimal(38, 6), "cpc": pl.Decimal(38, 6)}, orient="row")
    totals = Totals(columns)
    totals.add(frame)
    path = tmp_path / "totals.xlsx"

    write_xlsx(path, [Sheet("Table", columns, rows, totals=totals)])

    table = recalculated_with_libreoffice(path, tmp_path)
    found = {r[1]: r for r in table if r and r[0] == "Total"}
    for currency in ("CZK", "EUR"):
        mine = [r for r in rows if r[1] == currency]
        clicks, cost = sum(r[2] for r in mine), sum(r[3] for r in mine)
        assert int(found[currency][2]) == clicks
        assert close(number(found[currency][3]), float(cost))
        assert close(number(found[currency][4]), float(cost / clicks))
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert (b"OFFSET(" in sheet) is (currencies[1] == "EUR")  # interleaved rows: tested one by one
