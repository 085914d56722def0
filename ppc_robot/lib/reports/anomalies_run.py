"""Running anomaly detection: bring the store up to date, read it, judge, write, notify.

The stale days of the compared weeks are pulled first, as the accounts overview does (its
`refresh_store`, one request per account through the run's platform clients), then the accounts'
and campaigns' days are read in a constant number of queries and judged by
`lib/alerts/anomalies.py`. The output is the table of anomalies, with the accounts and
campaigns that have too little history listed as such. What the run delivered (yesterday of
each account read) is recorded for "numbers moved after delivery".
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from ppc_robot.lib.alerts.anomalies import METRIC_LABELS, Detection, detect_anomalies
from ppc_robot.lib.alerts.anomalies_notify import notify_anomalies
from ppc_robot.lib.alerts.anomalies_read import AccountInfo, read_days
from ppc_robot.lib.alerts.restatements import cover_period
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.pacing import settled_day
from ppc_robot.lib.reports.shared import Preview, ReportRun, TableLayout, register_report_run
from ppc_robot.lib.reports.shared.outputs import frame_schema
from ppc_robot.lib.reports.shared.store import refresh_store
from ppc_robot.lib.runner import RunResult

COLUMNS = [
    Column("client_account", "Client account"),
    Column("campaign", "Campaign"),
    Column("metric", "Metric"),
    Column("day", "Day"),
    Column("actual", "Actual", ColumnKind.DECIMAL),
    Column("expected", "Expected", ColumnKind.DECIMAL),
    Column("low", "Lower bound", ColumnKind.DECIMAL),
    Column("high", "Upper bound", ColumnKind.DECIMAL),
    Column("change", "Change", ColumnKind.PERCENT),
    Column("currency", "Currency"),
    Column("finding", "Finding"),
]
PLACES = Decimal("0.01")
FINDINGS = {"above": "above the usual range", "below": "below the usual range",
            "no impressions": "no impressions after spending on this weekday before"}


def anomalies_frame(detection: Detection) -> pl.DataFrame:
    """The anomalies, biggest change first, then the accounts and campaigns not judged."""
    records: list[dict[str, Any]] = []
    ordered = sorted(detection.anomalies, key=lambda a: (
        -(abs(a.change) if a.change is not None else Decimal(10 ** 9)), a.entity.label, a.metric))
    for anomaly in ordered:
        entity = anomaly.entity
        change = anomaly.change
        records.append({
            "client_account": entity.account, "campaign": entity.campaign or "",
            "metric": METRIC_LABELS[anomaly.metric], "day": anomaly.day.isoformat(),
            "actual": anomaly.actual.quantize(PLACES),
            "expected": anomaly.expected.quantize(PLACES), "low": anomaly.low.quantize(PLACES),
            "high": anomaly.high.quantize(PLACES),
            "change": None if change is None else change.quantize(Decimal("0.0001")),
            "currency": entity.currency if anomaly.metric == "cost" else "",
            "finding": FINDINGS[anomaly.reason]})
    for unjudged in detection.unjudged:
        entity = unjudged.entity
        records.append({
            "client_account": entity.account, "campaign": entity.campaign or "", "metric": "",
            "day": "", "actual": None, "expected": None, "low": None, "high": None,
            "change": None, "currency": "", "finding": f"not enough history: {unjudged.reason}"})
    return pl.DataFrame(records, schema=frame_schema(COLUMNS), orient="row")


def execute_anomalies(run: ReportRun) -> RunResult:
    """Refresh the compared days, judge yesterday, write the anomalies, notify."""
    parameters = run.parameters
    context = run.context
    weeks = int(parameters["weeks"])
    yesterday = settled_day(run.local_day)
    first = yesterday - timedelta(days=7 * weeks)
    accounts = run.accounts()
    cover_period(run, [a.client_account_id for a in accounts], yesterday, yesterday,
                 delivered=False)
    refreshed = refresh_store(run, accounts, first, yesterday)
    infos = [AccountInfo(a.client_account_id, a.name, a.currency) for a in refreshed]
    with context.session_factory() as session:
        days = read_days(session, infos, yesterday, weeks)
    detection = detect_anomalies(days, yesterday, weeks=weeks,
                                 sensitivity=Decimal(str(parameters["sensitivity"])),
                                 min_volume=int(parameters["min_volume"]))
    frame = anomalies_frame(detection)
    layout = TableLayout("Anomalies", COLUMNS, notes=[
        f"{yesterday.isoformat()} against the same weekday of the {weeks} weeks before; "
        f"{len(detection.anomalies)} anomalies, {len(detection.unjudged)} without enough "
        f"history, {detection.below_volume} under the minimum volume."])
    output, state = run.write(layout, iter([frame]), preview=Preview(COLUMNS, ""))
    cover_period(run, [info.client_account_id for info in infos], yesterday, yesterday,
                 delivered=True)
    if parameters.get("notifications"):
        notify_anomalies(context, detection)
    run.log(N_("%(anomalies)d anomalies among %(entities)d accounts and campaigns")
            % {"anomalies": len(detection.anomalies), "entities": len(days.entities)})
    return run.done(rows=frame.height, output_file=output, output_state=state)


register_report_run("anomalies", execute_anomalies)
