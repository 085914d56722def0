"""Running the custom alert rules: refresh the store's stale days, evaluate, write, notify.

The rules read the statistics store: before reading, each account's stale days of the
rules' periods (and the periods their changes compare with) are pulled again
(shared/store.py). Days are the job's calendar days.

Each hit raises the "custom_rule_hit" notification, keyed by the job, the client account and
the rule's name with the campaign: the same hit on the next run counts another occurrence of
the open notification instead of raising a new one, and an open one of the job that the run
no longer finds (the rule stopped matching, or was removed or renamed) is resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import polars as pl
from sqlalchemy import select

from ppc_robot.lib.alerts import (
    Hit,
    describe_hit,
    evaluate_rules,
    hit_text,
    read_accounts,
    rules_of,
)
from ppc_robot.lib.alerts.model import LEVELS
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Notification
from ppc_robot.lib.notifications import dedup_key, emit, notification_type
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.pacing import money_from_micros
from ppc_robot.lib.reports.shared import Preview, ReportRun, TableLayout, register_report_run
from ppc_robot.lib.reports.shared.outputs import frame_schema
from ppc_robot.lib.reports.shared.store import refresh_store
from ppc_robot.lib.runner import RunContext, RunResult

HIT = "custom_rule_hit"
COLUMNS = [
    Column("rule", "Rule"),
    Column("level", "Level"),
    Column("client_account", "Client account"),
    Column("campaign", "Campaign"),
    Column("currency", "Currency"),
    Column("period", "Period"),
    Column("matched", "What matched"),
    Column("cost", "Cost", ColumnKind.MONEY),
    Column("clicks", "Clicks", ColumnKind.INTEGER),
    Column("impressions", "Impressions", ColumnKind.INTEGER),
    Column("conversions", "Conversions", ColumnKind.DECIMAL),
    Column("conversion_value", "Conversion value", ColumnKind.MONEY),
]
CENT = Decimal("0.01")


def hits_frame(hits: Sequence[Hit]) -> pl.DataFrame:
    """The table of hits: one row per rule and entity, the period's figures beside."""
    records = [{
        "rule": hit.rule.name, "level": LEVELS[hit.rule.level], "client_account": hit.account.name,
        "campaign": hit.campaign, "currency": hit.account.currency, "period": hit.period.label(),
        "matched": hit_text(hit),
        "cost": money_from_micros(hit.sums.cost_micros).quantize(CENT),
        "clicks": hit.sums.clicks, "impressions": hit.sums.impressions,
        "conversions": hit.sums.conversions,
        "conversion_value": money_from_micros(hit.sums.value_micros).quantize(CENT),
    } for hit in hits]
    return pl.DataFrame(records, schema=frame_schema(COLUMNS), orient="row")


def notify_hits(context: RunContext, hits: Sequence[Hit], read: Sequence[int]) -> None:
    """Raise (or count again) each hit and resolve the job's open hits, on the accounts the
    run read (`read`: an account left out is not judged), that no longer hold; commits (the
    runner's own step)."""
    kind = notification_type(HIT)
    now = context.scheduled_at
    user, job = context.user_id, context.job_id
    with context.session_factory() as session:
        still = set()
        for hit in hits:
            emit(session, user, kind, job_id=job, run_id=context.run_id,
                 client_account_id=hit.account.client_account_id, entity_id=hit.key, now=now,
                 params={"rule": hit.rule.name, "values": describe_hit(hit),
                         "account": hit.entity})
            still.add(dedup_key(kind, client_account_id=hit.account.client_account_id,
                                job_id=job, entity_id=hit.key))
        for notification in session.scalars(select(Notification).where(
                Notification.user_id == user, Notification.job_id == job,
                Notification.category == kind.category, Notification.code == kind.code,
                Notification.resolved_at.is_(None),
                Notification.client_account_id.in_(list(read)))):
            if notification.dedup_key not in still:
                notification.resolved_at = now
        session.commit()


def execute_alert_rules(run: ReportRun) -> RunResult:
    """Refresh the stale days the rules read, evaluate them, write the hits, notify."""
    context = run.context
    today = run.local_day
    rules = rules_of(run.parameters)
    periods = [period for rule in rules for period in rule.windows(today).values()]
    first = min(p.first for p in periods)
    through = max(p.last for p in periods)
    readable = refresh_store(run, run.accounts(), first, through)
    with context.session_factory() as session:
        accounts = read_accounts(session, [a.client_account_id for a in readable])
        hits = evaluate_rules(session, rules, accounts, today)
    currencies = {hit.account.currency for hit in hits}
    currency = currencies.pop() if len(currencies) == 1 else None
    layout = TableLayout("Alert rule hits", COLUMNS, currency=currency, notes=[
        f"{len(rules)} rule(s) over {len(accounts)} client account(s); "
        f"{len(hits)} hit(s) on {today.isoformat()}."])
    output, state = run.write(layout, iter([hits_frame(hits)]),
                              preview=Preview(COLUMNS, currency or ""))
    notify_hits(context, hits, [a.client_account_id for a in accounts])
    run.log(N_("%(count)d rule hits") % {"count": len(hits)})
    return run.done(rows=len(hits), output_file=output, output_state=state)


register_report_run("alert_rules", execute_alert_rules)
