"""The accounts overview's budget and target notifications ("Budgets and targets").

Raised by an overview job whose parameters enable them, keyed by the job and the client (or
the client account), so each is raised once while it holds, counted again on each run that
still finds it, and resolved by the job's next run that finds it fine:

- budget_overspend / budget_underspend: the client's month-to-date spend is more than its
  pacing tolerance (Client.pacing_tolerance, %) over or under the pro-rated budget;
- budget_account_no_spend: an account of a client with a budget spent nothing yesterday;
- target_missed_days: a client's CPA, ROAS or PNO was worse than its target on each of the
  last N days (N the job's `target_days`).

The clock is the run's scheduled time, so a re-run of an old run judges the same days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from ppc_robot.lib.message_values import money_value, number_value, percent_value
from ppc_robot.lib.notifications import emit, resolve
from ppc_robot.lib.pacing import PacingStatus
from ppc_robot.lib.reports.accounts_overview_table import (
    Overview,
    OverviewAccount,
    StoredDay,
    missed_targets,
)
from ppc_robot.lib.runner import RunContext

METRIC_LABELS = {"cpa": "CPA", "roas": "ROAS", "pno": "PNO"}


def _figure(metric: str, value: Decimal | None, currency: str) -> dict[str, str] | str:
    """A CPA, PNO or ROAS as a message parameter, written in each reader's language."""
    if metric == "cpa":
        return money_value(value, currency)
    if metric == "pno":
        return percent_value(value)
    return number_value(value)


def notify(context: RunContext, overview: Overview, accounts: Sequence[OverviewAccount],
           days: Mapping[tuple[int, date], StoredDay], target_days: int) -> None:
    """Raise what holds and resolve what no longer does; commits (the runner's own step)."""
    now = context.scheduled_at
    user, job = context.user_id, context.job_id
    through = overview.window.through
    with context.session_factory() as session:
        for row in overview.rows:
            if row.kind == "client" and row.goals is not None and row.pacing is not None:
                goals, pacing = row.goals, row.pacing
                entity = f"client:{goals.client_id}"
                raised = {PacingStatus.OVER: "budget_overspend",
                          PacingStatus.UNDER: "budget_underspend"}.get(pacing.status)
                for name in ("budget_overspend", "budget_underspend"):
                    if name == raised:
                        emit(session, user, name, job_id=job, run_id=context.run_id,
                             entity_id=entity, now=now, params={
                                 "client": goals.name,
                                 "spent": money_value(pacing.spend, goals.currency),
                                 "budget": money_value(pacing.expected, goals.currency),
                                 "monthly": money_value(pacing.budget, goals.currency)})
                    else:
                        resolve(session, user, name, job_id=job, entity_id=entity, now=now)
                missed = missed_targets(goals, accounts, days, through, target_days)
                for metric, label in METRIC_LABELS.items():
                    metric_entity = f"{entity}:{metric}"
                    if metric in missed:
                        value, target = missed[metric]
                        emit(session, user, "target_missed_days", job_id=job,
                             run_id=context.run_id, entity_id=metric_entity, now=now, params={
                                 "client": goals.name, "metric": label, "days": target_days,
                                 "value": _figure(metric, value, goals.currency),
                                 "target": _figure(metric, target, goals.currency)})
                    else:
                        resolve(session, user, "target_missed_days", job_id=job,
                                entity_id=metric_entity, now=now)
            elif row.kind == "account" and row.client_account_id is not None:
                budgeted = row.goals is not None and bool(row.goals.budget)
                if budgeted and not row.yesterday.cost:
                    assert row.goals is not None
                    emit(session, user, "budget_account_no_spend", job_id=job,
                         run_id=context.run_id, client_account_id=row.client_account_id,
                         now=now, params={"account": row.account, "client": row.goals.name,
                                          "day": through.isoformat()})
                else:
                    resolve(session, user, "budget_account_no_spend", job_id=job,
                            client_account_id=row.client_account_id, now=now)
        session.commit()
