"""Running the accounts overview: bring the store up to date, read it, write, notify.

The overview reads the statistics store, not the platforms' reports; before reading, the
stale days of its period are pulled again (shared/store.py), so its numbers are the
platform's.

Days are the job's calendar days: "yesterday" is the day before the run's day in the job's
zone, for every account of the run.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from sqlalchemy import select

from ppc_robot.lib.alerts.restatements import cover_period
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import AccountDay, Client, ClientAccount, OutputType
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.outputs.columns import SUM, Ratio
from ppc_robot.lib.pacing import settled_day
from ppc_robot.lib.reports.accounts_overview_currency import in_reporting_currency
from ppc_robot.lib.reports.accounts_overview_notify import notify
from ppc_robot.lib.reports.accounts_overview_table import (
    ClientGoals,
    Overview,
    OverviewAccount,
    StoredDay,
    compute_overview,
    period_start,
)
from ppc_robot.lib.reports.accounts_overview_xlsx import write_overview_xlsx
from ppc_robot.lib.reports.shared import (
    AccountToRead,
    Preview,
    ReportRun,
    TableLayout,
    output_name,
    register_report_run,
)
from ppc_robot.lib.reports.shared.store import refresh_store
from ppc_robot.lib.runner import RunResult

COLUMNS = [
    Column("row", "Row"),
    Column("client", "Client"),
    Column("client_account", "Client account"),
    Column("platform", "Platform"),
    Column("currency", "Currency"),
    Column("cost_yesterday", "Spend yesterday", ColumnKind.MONEY, total=SUM),
    Column("cost_7_days", "Spend last 7 days", ColumnKind.MONEY, total=SUM),
    Column("cost_month", "Spend month to date", ColumnKind.MONEY, total=SUM),
    # A client's budget, pacing and forecast repeat on each of its accounts: no total.
    Column("budget", "Monthly budget", ColumnKind.MONEY),
    Column("expected", "Budget pro-rated", ColumnKind.MONEY),
    Column("pacing", "Pacing", ColumnKind.PERCENT),
    Column("forecast", "Month-end forecast", ColumnKind.MONEY),
    Column("conversions", "Conversions (month)", ColumnKind.DECIMAL, total=SUM),
    Column("conversion_value", "Conversion value (month)", ColumnKind.MONEY, total=SUM),
    Column("cpa", "CPA", ColumnKind.MONEY, better="lower", total=Ratio("cost_month", "conversions")),
    Column("target_cpa", "Target CPA", ColumnKind.MONEY),
    Column("roas", "ROAS", ColumnKind.RATIO, better="higher",
           total=Ratio("conversion_value", "cost_month")),
    Column("target_roas", "Target ROAS", ColumnKind.RATIO),
    Column("pno", "PNO", ColumnKind.PERCENT, better="lower",
           total=Ratio("cost_month", "conversion_value")),
    Column("target_pno", "Target PNO", ColumnKind.PERCENT),
]
# The totals sum the account rows (a client row repeats its accounts' sums).
COUNTED = ("row", "Account")
TEXT = ("row", "client", "client_account", "platform", "currency", "original_currency")


def overview_columns(reporting_currency: str = "") -> list[Column]:
    """The overview's columns; in a reporting currency, each account's own currency and rate
    after the currency."""
    if not reporting_currency:
        return COLUMNS
    at = [c.name for c in COLUMNS].index("currency") + 1
    return COLUMNS[:at] + [Column("original_currency", "Original currency"),
                           Column("rate", f"Rate to {reporting_currency}", ColumnKind.RATE)] + COLUMNS[at:]
MONEY_PLACES = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
RATE_PLACES = Decimal("0.000001")


def _read(run: ReportRun, accounts: list[AccountToRead], first: date, through: date,
          ) -> tuple[list[OverviewAccount], dict[int, ClientGoals], dict[tuple[int, date], StoredDay]]:
    ids = [a.client_account_id for a in accounts]
    with run.context.session_factory() as session:
        owners = dict(session.execute(select(ClientAccount.id, ClientAccount.client_id).where(
            ClientAccount.id.in_(ids))).all())
        clients = {c.id: ClientGoals(c.id, c.name, c.currency, c.monthly_budget,
                                     Decimal(c.pacing_tolerance), c.target_cpa, c.target_roas,
                                     c.target_pno)
                   for c in session.scalars(select(Client).where(
                       Client.id.in_({v for v in owners.values() if v is not None})))}
        days = {(account_id, day): StoredDay(cost, conversions, value)
                for account_id, day, cost, conversions, value in session.execute(select(
                    AccountDay.client_account_id, AccountDay.day, AccountDay.cost_micros,
                    AccountDay.conversions, AccountDay.conversion_value_micros).where(
                    AccountDay.client_account_id.in_(ids), AccountDay.day >= first,
                    AccountDay.day <= through))}
    read = [OverviewAccount(a.client_account_id, a.name, a.platform, a.currency,
                            owners.get(a.client_account_id)) for a in accounts]
    return read, clients, days


def overview_frame(overview: Overview, columns: list[Column] = COLUMNS, *,
                   rounded: bool = True) -> pl.DataFrame:
    """The rows as one frame (money rounded to cents, ratios to four places) for CSV/Sheets;
    not `rounded`, the values as computed (what the XLSX writes)."""
    records = []
    for row in overview.rows:
        values = row.values()
        for column in columns:
            value = values[column.name]
            if rounded and isinstance(value, Decimal):
                places = (MONEY_PLACES if column.kind is ColumnKind.MONEY else RATE_PLACES
                          if column.kind is ColumnKind.RATE else RATIO_PLACES)
                values[column.name] = value.quantize(places)
        records.append({c.name: values[c.name] for c in columns})
    schema = {c.name: (pl.String if c.name in TEXT else pl.Decimal(38, 2)
                       if rounded and c.kind is ColumnKind.MONEY else pl.Decimal(38, 4 if rounded else 12))
              for c in columns}
    return pl.DataFrame(records, schema=schema, orient="row")


def execute_accounts_overview(run: ReportRun) -> RunResult:
    """Refresh the stale days of the period, read the store, write the overview, notify."""
    parameters = run.parameters
    context = run.context
    today = run.local_day
    through = settled_day(today)
    first = period_start(today, int(parameters.get("target_days") or 3))
    accounts = run.accounts()
    cover_period(run, [a.client_account_id for a in accounts], first, through, delivered=False)
    readable = refresh_store(run, accounts, first, through)
    read, clients, days = _read(run, readable, first, through)
    reporting = str(parameters.get("reporting_currency") or "")
    columns = overview_columns(reporting)
    if reporting:
        converted = in_reporting_currency(run, read, clients, days, first, through, reporting)
        # Notifications read the same converted figures as the overview.
        read, clients, days = converted.accounts, converted.clients, converted.days
        overview = compute_overview(read, clients, days, today)
        converted.annotate(overview)
    else:
        overview = compute_overview(read, clients, days, today)
    notes = [f"Month {overview.window.month_start:%Y-%m} through {through.isoformat()}; "
             "budget and pacing per client, totals per currency."]
    layout = TableLayout("Accounts overview", columns, notes=notes, count_where=COUNTED)
    preview = Preview(columns, "")
    if OutputType(context.output_type) is OutputType.XLSX:
        name = output_name(context.output_path, context.job_name, today)
        context.output_dir.mkdir(parents=True, exist_ok=True)
        target = context.output_dir / f"{context.run_id}-{name}.xlsx"
        partial = target.with_name(f".{target.name}.part")
        write_overview_xlsx(partial, columns, overview, overview_frame(overview, columns, rounded=False),
                            COUNTED, notes + [f"Missing client account “{m.name}”: {m.reason}"
                                              for m in run.missing])
        partial.replace(target)
        output, state = str(target), None
        preview.totals = layout.totals(columns, None)
        for _ in preview.watch(iter([overview_frame(overview, columns)])):
            pass
        preview.save(context)
    else:
        output, state = run.write(layout, iter([overview_frame(overview, columns)]), preview=preview)
    cover_period(run, [a.client_account_id for a in readable], first, through, delivered=True)
    if parameters.get("notifications"):
        notify(context, overview, read, days, int(parameters.get("target_days") or 3))
    rows = sum(1 for r in overview.rows if r.kind == "account")
    run.log(N_("%(count)d client accounts in the overview") % {"count": rows})
    return run.done(rows=rows, output_file=output, output_state=state)


register_report_run("accounts_overview", execute_accounts_overview)
