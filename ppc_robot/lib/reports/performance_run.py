"""Running the performance report: fetch every account's rows, compute, write the output.

Rows stream from each platform into polars frames (a chunk at a time, never a dict per row),
which wait on disk in the run's work folder; performance_table groups, compares, filters and
sorts them a part at a time, and the parts stream to the output and the preview. Accounts,
logins, the concurrent fetch and the outputs are the shared ones (lib/reports/shared).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import polars as pl

from ppc_robot.lib.platforms import PlatformClient, ReportRequest
from ppc_robot.lib.reports.performance_output import performance_preview, write_output
from ppc_robot.lib.reports.performance_table import (
    BASE,
    MICROS,
    MONEY_COLUMNS,
    Chunk,
    Spill,
    compute,
)
from ppc_robot.lib.reports.periods import Period, comparison_of, period_of
from ppc_robot.lib.reports.shared import (
    AccountCall,
    AccountToRead,
    ReportRun,
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


def execute_performance(run: ReportRun) -> RunResult:
    parameters = run.parameters
    period = period_of(parameters["date_range"], run.local_day, first=parameters.get("date_from"),
                       last=parameters.get("date_to"))
    comparison = comparison_of(period, parameters.get("comparison") or "none")
    accounts = run.accounts()
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
        output, state = write_output(run, table, parameters, period, performance_preview(table, keyed))
    run.log(f"{table.height} rows written")
    return run.done(rows=table.height, output_file=output, output_state=state)


register_report_run("performance", execute_performance)
