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
from decimal import Decimal
from functools import partial
from typing import Any

import polars as pl

from ppc_robot.lib.alerts.restatements import cover_period
from ppc_robot.lib.models import OutputType
from ppc_robot.lib.outputs import Column, ColumnKind
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
from ppc_robot.lib.reports.periods import Period, comparison_of, period_of
from ppc_robot.lib.reports.shared import (
    AccountCall,
    AccountToRead,
    Preview,
    ReportRun,
    TableLayout,
    register_report_run,
    retried,
)
from ppc_robot.lib.runner import RunResult

CHUNK_ROWS = 10_000
PLATFORM_DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")
TEXT_COLUMNS = ("campaign", "ad_group", "keyword", "device")


def _micros(value: Decimal) -> int:
    # Platform amounts have at most six decimals (micros), so this is exact.
    return int(value * MICROS)


def _chunks(account: AccountToRead, request: ReportRequest, client: PlatformClient,
            in_flight: threading.Semaphore) -> Iterator[pl.DataFrame]:
    columns: dict[str, list[Any]] = {name: [] for name in PLATFORM_DIMENSIONS + BASE}
    appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                 for name, row_list in columns.items()]
    with in_flight:  # the platform calls; the last frame is built after the slot is free
        for row in client.fetch_report(request):
            for append, name, is_money in appenders:
                value = getattr(row, name)
                append(_micros(value) if is_money else value)
            if len(columns["date"]) >= CHUNK_ROWS:
                yield _frame(columns, account.name, account.platform, account.currency)
                columns = {name: [] for name in columns}
                appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                             for name, row_list in columns.items()]
    if columns["date"]:
        yield _frame(columns, account.name, account.platform, account.currency)


def _frame(columns: dict[str, list[Any]], account: str, platform: str, currency: str) -> pl.DataFrame:
    """One chunk of platform rows: money as integer micros, repeated texts as categoricals."""
    frame = pl.DataFrame(columns, schema={
        "date": pl.Date, "campaign": pl.String, "ad_group": pl.String, "keyword": pl.String,
        "device": pl.String, "impressions": pl.Int64, "clicks": pl.Int64, "cost": pl.Int64,
        "conversions": pl.Int64, "conversion_value": pl.Int64,
    })
    return frame.with_columns(
        [pl.col(name).cast(pl.Categorical) for name in TEXT_COLUMNS]
        + [pl.lit(account, pl.Categorical).alias("client_account"),
           pl.lit(platform, pl.Categorical).alias("platform"),
           pl.lit(currency, pl.Categorical).alias("currency")]
    )


def _fetch(call: AccountCall, *, periods: Sequence[Period], dimensions: Sequence[str],
           spill: Spill) -> list[Chunk]:
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
                for frame in _chunks(call.account, request, call.client(), call.slot):
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


def _columns(has_previous: bool, parameters: dict[str, Any], *, show_currency: bool) -> list[Column]:
    names = list(parameters["dimensions"]) + (["currency"] if show_currency else [])
    columns = [Column(n, LABELS.get(n, n), KINDS.get(n, ColumnKind.TEXT)) for n in names]
    for metric in parameters["metrics"]:
        kind = KINDS.get(metric, ColumnKind.DECIMAL)
        columns.append(Column(metric, LABELS[metric], kind, better=BETTER.get(metric)))
        if has_previous:
            columns.append(Column(f"{metric}_previous", f"{LABELS[metric]} (before)", kind))
            change_kind = ColumnKind.DECIMAL if kind is ColumnKind.MONEY else kind
            columns.append(Column(f"{metric}_change", f"{LABELS[metric]} change", change_kind))
            columns.append(Column(f"{metric}_change_pct", f"{LABELS[metric]} change %", ColumnKind.PERCENT))
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
    return Preview(columns, currency, chart_metric=metric if "date" in table.keys else None,
                   chart_label=LABELS.get(metric, metric))


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
    )
    return run.write(layout, table.frames(), preview=preview)


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
    with run.work_folder() as work:
        fetch = partial(_fetch, periods=periods, dimensions=parameters["dimensions"],
                        spill=Spill(work / "rows"))
        fetched = run.fetch(accounts, fetch, calls_per_account=len(periods),
                            describe=lambda chunks: f"{sum(c.rows for c in chunks)} rows")
        chunks = [chunk for _, account_chunks in fetched for chunk in account_chunks]
        raw = pl.scan_ipc([c.path for c in chunks]) if chunks else _frame(
            {n: [] for n in PLATFORM_DIMENSIONS + BASE}, "", "", "").lazy()
        table = compute(raw, sum(c.rows for c in chunks), keyed, period, comparison, work)
        output, state = _write(run, table, parameters, period, _preview(table, keyed))
    cover_period(run, [a.client_account_id for a, _ in fetched], period.first, period.last,
                 delivered=True)
    run.log(f"{table.height} rows written")
    return run.done(rows=table.height, output_file=output, output_state=state)


register_report_run("performance", execute_performance)
