"""Running the performance report: fetch every account's rows, compute, write the output.

Rows stream from each platform into polars frames (a chunk at a time, never a dict per row),
which wait on disk in the run's work folder; performance_table groups, compares, filters and
sorts them a part at a time, and the parts stream to the output and the preview. The layout
(columns, a sheet per account, the preview) is below; accounts, logins, the concurrent fetch
and the output writers are the shared ones (lib/reports/shared).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any

import polars as pl

from ppc_robot.lib.alerts.restatements import cover_period
from ppc_robot.lib.exchange_rates import CONVERTED_LOG, ExchangeRateError, RateTable, rates_for_run
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import OutputType
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.outputs.columns import SUM, Change, Difference, Ratio, Total
from ppc_robot.lib.periods import Period, comparison_of, period_of
from ppc_robot.lib.platforms import PlatformClient, ReportRequest
from ppc_robot.lib.reports.performance import DIMENSIONS, METRICS
from ppc_robot.lib.reports.performance_table import (
    BASE,
    MICROS,
    MONEY_COLUMNS,
    Chunk,
    ReportTable,
    Spill,
    compute,
)
from ppc_robot.lib.reports.shared import (
    AccountCall,
    AccountToRead,
    ChartSeries,
    Preview,
    ReportRun,
    TableLayout,
    register_report_run,
    retried,
)
from ppc_robot.lib.runner import ErrorClass, RunFailed, RunResult

CHUNK_ROWS = 10_000
CONVERTED = ("cost", "conversion_value")  # the money a reporting currency converts
PLATFORM_DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")
TEXT_COLUMNS = ("campaign", "ad_group", "keyword", "device")


def _micros(value: Decimal) -> int:
    # Platform amounts have at most six decimals (micros), so this is exact.
    return int(value * MICROS)


def _converted(columns: dict[str, list[Any]], currency: str,
               rates: RateTable | None) -> tuple[dict[str, list[Any]], str, str | None]:
    """The chunk's money in the reporting currency, each day at its rate (kept to the micro,
    rounded to the currency's minor unit only at output), the original cost beside it; returns
    the columns, their currency and the original one (None when not converted)."""
    if rates is None:
        return columns, currency, None
    factors = {day: rates.factor(day, currency) for day in set(columns["date"])}
    converted = dict(columns, cost_original=columns["cost"])
    for name in CONVERTED:
        converted[name] = [int((Decimal(micros) * factors[day]).to_integral_value(ROUND_HALF_EVEN))
                           for micros, day in zip(columns[name], columns["date"], strict=True)]
    return converted, rates.target, currency


def _chunks(account: AccountToRead, request: ReportRequest, client: PlatformClient,
            in_flight: threading.Semaphore, rates: RateTable | None = None) -> Iterator[pl.DataFrame]:
    columns: dict[str, list[Any]] = {name: [] for name in PLATFORM_DIMENSIONS + BASE}
    appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                 for name, row_list in columns.items()]
    with in_flight:  # the platform calls; the last frame is built after the slot is free
        for row in client.fetch_report(request):
            for append, name, is_money in appenders:
                value = getattr(row, name)
                append(_micros(value) if is_money else value)
            if len(columns["date"]) >= CHUNK_ROWS:
                yield _frame(*_converted(columns, account.currency, rates), account.name, account.platform)
                columns = {name: [] for name in columns}
                appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                             for name, row_list in columns.items()]
    if columns["date"]:
        yield _frame(*_converted(columns, account.currency, rates), account.name, account.platform)


def _frame(columns: dict[str, list[Any]], currency: str, original: str | None, account: str,
           platform: str) -> pl.DataFrame:
    """One chunk of platform rows: money as integer micros, repeated texts as categoricals;
    converted to a reporting currency, with the original currency and cost."""
    schema = {
        "date": pl.Date, "campaign": pl.String, "ad_group": pl.String, "keyword": pl.String,
        "device": pl.String, "impressions": pl.Int64, "clicks": pl.Int64, "cost": pl.Int64,
        "conversions": pl.Int64, "conversion_value": pl.Int64,
    }
    if original is not None:
        schema["cost_original"] = pl.Int64
    frame = pl.DataFrame(columns, schema=schema)
    return frame.with_columns(
        [pl.col(name).cast(pl.Categorical) for name in TEXT_COLUMNS]
        + [pl.lit(account, pl.Categorical).alias("client_account"),
           pl.lit(platform, pl.Categorical).alias("platform"),
           pl.lit(currency, pl.Categorical).alias("currency")]
        + ([pl.lit(original, pl.Categorical).alias("original_currency")] if original is not None else [])
    )


def _fetch(call: AccountCall, *, periods: Sequence[Period], dimensions: Sequence[str],
           spill: Spill, rates: RateTable | None = None) -> list[Chunk]:
    """All rows of one account over `periods`, spilled to disk; rate limits and 5xx are retried."""
    wanted = [d for d in PLATFORM_DIMENSIONS if d in dimensions or d == "date"]
    chunks: list[Chunk] = []
    for period in periods:
        request = ReportRequest(account=call.account.remote(), date_from=period.first,
                                date_to=period.last, dimensions=tuple(wanted))

        def attempt(request: ReportRequest = request) -> list[Chunk]:
            # Kept only when the whole period arrived: a retry must not count rows twice.
            period_chunks: list[Chunk] = []
            try:
                for frame in _chunks(call.account, request, call.client(), call.slot, rates):
                    period_chunks.append(spill.write(frame))
            except Exception:
                spill.discard(period_chunks)
                raise
            return period_chunks

        chunks.extend(retried(attempt))
    return chunks


LABELS = dict(DIMENSIONS) | dict(METRICS) | {"currency": "Currency"}
KINDS = {
    "date": ColumnKind.DATE, "week": ColumnKind.DATE, "month": ColumnKind.TEXT,
    "impressions": ColumnKind.INTEGER, "clicks": ColumnKind.INTEGER,
    "cost": ColumnKind.MONEY, "conversions": ColumnKind.DECIMAL, "conversion_value": ColumnKind.MONEY,
    "ctr": ColumnKind.PERCENT, "cpc": ColumnKind.MONEY, "cpm": ColumnKind.MONEY,
    "conversion_rate": ColumnKind.PERCENT, "cpa": ColumnKind.MONEY, "roas": ColumnKind.RATIO,
    "pno": ColumnKind.PERCENT,
}
BETTER = {"cpa": "lower", "pno": "lower", "roas": "higher"}
# How each metric totals: sums, and ratios recomputed from the sums (never averaged).
RATIOS = {
    "ctr": ("clicks", "impressions", Decimal(1)), "cpc": ("cost", "clicks", Decimal(1)),
    "cpm": ("cost", "impressions", Decimal(1000)), "conversion_rate": ("conversions", "clicks", Decimal(1)),
    "cpa": ("cost", "conversions", Decimal(1)), "roas": ("conversion_value", "cost", Decimal(1)),
    "pno": ("cost", "conversion_value", Decimal(1)),
}


def _total(metric: str, suffix: str = "") -> Total:
    if metric in RATIOS:
        numerator, denominator, scale = RATIOS[metric]
        return Ratio(numerator + suffix, denominator + suffix, scale)
    return SUM


def total_inputs(has_previous: bool) -> list[Column]:
    """The base metrics the totals' ratios read, shown or not (the frames always carry them)."""
    suffixes = ("", "_previous") if has_previous else ("",)
    return [Column(m + s, f"{LABELS[m]}{' (before)' if s else ''}", KINDS[m], total=SUM)
            for s in suffixes for m in BASE]


def _columns(has_previous: bool, parameters: dict[str, Any], *, show_currency: bool) -> list[Column]:
    target = parameters.get("reporting_currency") or ""
    names = list(parameters["dimensions"]) + (["currency"] if show_currency or target else [])
    columns = [Column(n, LABELS.get(n, n), KINDS.get(n, ColumnKind.TEXT)) for n in names]
    if target:  # where each row's money came from, and at what rate
        columns += [Column("original_currency", "Original currency"),
                    Column("rate", f"Rate to {target}", ColumnKind.RATE),
                    Column("cost_original", "Cost in original currency", ColumnKind.DECIMAL)]
    for metric in parameters["metrics"]:
        kind = KINDS.get(metric, ColumnKind.DECIMAL)
        columns.append(Column(metric, LABELS[metric], kind, better=BETTER.get(metric),
                              total=_total(metric)))
        if has_previous:
            previous = f"{metric}_previous"
            columns.append(Column(previous, f"{LABELS[metric]} (before)", kind,
                                  total=_total(metric, "_previous")))
            change_kind = ColumnKind.DECIMAL if kind is ColumnKind.MONEY else kind
            columns.append(Column(f"{metric}_change", f"{LABELS[metric]} change", change_kind,
                                  total=Difference(metric, previous)))
            columns.append(Column(f"{metric}_change_pct", f"{LABELS[metric]} change %", ColumnKind.PERCENT,
                                  total=Change(metric, previous)))
    return columns


def shown_parameters(parameters: dict[str, Any], output_type: OutputType) -> dict[str, Any]:
    """The parameters whose dimensions the output shows.

    One sheet per account needs the rows by account, chosen as a dimension or not: an XLSX
    workbook names the account on the sheet's tab; a CSV file or a Google Sheet, one table,
    names it in a column.
    """
    dimensions = list(parameters["dimensions"])
    if (parameters.get("sheets") == "per_account" and "client_account" not in dimensions
            and output_type is not OutputType.XLSX):
        return parameters | {"dimensions": [*dimensions, "client_account"]}
    return parameters


def _preview(table: ReportTable, parameters: dict[str, Any]) -> Preview:
    """The job page's preview: the first rows and, with a date dimension, the first metric per day."""
    metric = parameters["metrics"][0]
    columns = _columns(table.has_previous, parameters, show_currency=len(table.currencies) > 1)
    currency = table.currencies[0] if len(table.currencies) == 1 else ""
    by_day = "date" in table.keys
    return Preview(columns, currency, chart_metric=metric if by_day else None,
                   chart_label=LABELS.get(metric, metric),
                   chart_series=chart_series(parameters["metrics"], has_previous=table.has_previous,
                                             currency=currency) if by_day else ())


CHART_MONEY = ("cost", "conversion_value")
CHART_COUNTS = ("clicks", "impressions", "conversions")


def chart_series(metrics: Sequence[str], *, has_previous: bool, currency: str) -> list[ChartSeries]:
    """The run page's chart: the first money metric on the left axis (only in one currency:
    amounts of several are never added), the first count on its own right axis, and each one's
    comparison period dashed. Only metrics that add up by day (a ratio summed over accounts
    would be wrong)."""
    money = [m for m in metrics if m in CHART_MONEY] if currency else []
    counts = [m for m in metrics if m in CHART_COUNTS]
    chosen = (money[:1] + counts[:1]) if money else counts[:2]
    series = []
    for axis, metric in zip(("y", "y2"), chosen, strict=False):
        is_money = metric in CHART_MONEY
        series.append(ChartSeries(metric, LABELS[metric], axis, is_money=is_money))
        if has_previous:
            series.append(ChartSeries(f"{metric}_previous", f"{LABELS[metric]} (before)", axis,
                                      is_money=is_money, is_dashed=True))
    return series


def _write(run: ReportRun, table: ReportTable, parameters: dict[str, Any], period: Period,
                 preview: Preview) -> tuple[str, dict[str, Any] | None]:
    """Write the report where the job sends it; returns the file (or address) and output state."""
    parameters = shown_parameters(parameters, OutputType(run.context.output_type))
    single_currency = table.currencies[0] if len(table.currencies) == 1 else None
    per_account = parameters.get("sheets") == "per_account"
    layout = TableLayout(
        "Performance", _columns(table.has_previous, parameters, show_currency=single_currency is None),
        notes=[f"Period: {period.label()}"], currency=single_currency,
        chart_metric=parameters["metrics"][0] if parameters["dimensions"] == ["date"] else None,
        goals=run.goals(),
        # A sheet per account (the table has its rows by account, as a dimension or not).
        sheet_per="client_account" if per_account else None,
        sheet_columns=_columns(table.has_previous, parameters, show_currency=False) if per_account else None,
        total_inputs=total_inputs(table.has_previous),
    )
    return run.write(layout, table.frames(), preview=preview)


def _rates(run: ReportRun, accounts: Sequence[AccountToRead], periods: Sequence[Period]) -> RateTable | None:
    """The ECB rates converting the accounts' money to the reporting currency on every day of
    the periods; None without a reporting currency. Raises RunFailed naming a missing rate."""
    target = run.parameters.get("reporting_currency") or ""
    if not target or not accounts:
        return None
    days = [p.first + timedelta(days=n) for p in periods for n in range((p.last - p.first).days + 1)]
    try:
        rates = rates_for_run(run.context.session_factory, run.context.settings.app_config,
                              {a.currency for a in accounts}, days, target)
    except ExchangeRateError as exc:
        raise RunFailed(str(exc), ErrorClass.DATA) from exc
    run.log(CONVERTED_LOG % {"currency": target})
    return rates


def execute_performance(run: ReportRun) -> RunResult:
    """Fetch the period (and the comparison period) of every account, compute, write."""
    parameters = run.parameters
    period = period_of(parameters["date_range"], run.local_day, first=parameters.get("date_from"),
                       last=parameters.get("date_to"))
    comparison = comparison_of(period, parameters.get("comparison") or "none")
    accounts = run.accounts()
    cover_period(run, [a.client_account_id for a in accounts], period.first, period.last,
                 delivered=False)
    periods = [period] + ([comparison[0]] if comparison else [])
    keyed = parameters
    if parameters.get("sheets") == "per_account" and "client_account" not in parameters["dimensions"]:
        # One sheet per account: the rows by account, whether or not it is a column as well.
        keyed = parameters | {"dimensions": [*parameters["dimensions"], "client_account"]}
    rates = _rates(run, accounts, periods)
    with run.work_folder() as work:
        fetch = partial(_fetch, periods=periods, dimensions=parameters["dimensions"],
                        spill=Spill(work / "rows"), rates=rates)
        fetched = run.fetch(accounts, fetch, calls_per_account=len(periods),
                            describe=lambda chunks: N_("%(count)d rows") % {"count": sum(c.rows for c in chunks)})
        chunks = [chunk for _, account_chunks in fetched for chunk in account_chunks]
        raw = pl.scan_ipc([c.path for c in chunks]) if chunks else _frame(*_converted(
            {n: [] for n in PLATFORM_DIMENSIONS + BASE}, "", rates), "", "").lazy()
        table = compute(raw, sum(c.rows for c in chunks), keyed, period, comparison, work)
        output, state = _write(run, table, parameters, period, _preview(table, keyed))
    cover_period(run, [a.client_account_id for a, _ in fetched], period.first, period.last,
                 delivered=True)
    run.log(N_("%(count)d rows written") % {"count": table.height})
    return run.done(rows=table.height, output_file=output, output_state=state)


register_report_run("performance", execute_performance)
