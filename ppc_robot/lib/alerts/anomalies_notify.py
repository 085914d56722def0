"""Anomaly notifications ("Performance anomalies"): one per anomaly, resolved when back in range.

Keyed by the job, the client account and `<campaign id or "account">:<metric>`, so the same
anomaly on the next run is counted on its open notification, never raised twice. The details
hold the days compared, and `anomaly_chart` turns them into the small chart of its page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from ppc_robot.lib.alerts.anomalies import METRIC_LABELS, Anomaly, Detection, Entity
from ppc_robot.lib.message_values import money_value, number_value
from ppc_robot.lib.models import Notification
from ppc_robot.lib.notifications import emit, notification_type
from ppc_robot.lib.runner import RunContext

KIND = "performance_anomaly"


def entity_key(entity: Entity, metric: str) -> str:
    return f"{entity.campaign_id or 'account'}:{metric}"


def figure(value: Decimal, metric: str, currency: str) -> Any:
    """A metric's value as a message parameter (money with its currency, counts rounded),
    written in each reader's language."""
    if metric == "cost":
        return money_value(value, currency)
    if metric == "conversions":
        return number_value(value.quantize(Decimal("0.1")), 1)
    return number_value(value.quantize(Decimal("1")), 0)


def _params(anomaly: Anomaly) -> dict[str, Any]:
    currency = anomaly.entity.currency
    shown = {name: figure(getattr(anomaly, name), anomaly.metric, currency)
             for name in ("actual", "expected", "low", "high")}
    return {"metric": METRIC_LABELS[anomaly.metric], "entity": anomaly.entity.label,
            "day": anomaly.day.isoformat(), "reason": anomaly.reason,
            "unit": currency if anomaly.metric == "cost" else "", **shown}


def _details(anomaly: Anomaly) -> list[dict[str, Any]]:
    rows = [{"Day": day.isoformat(), "Value": str(value), "Compared as": "same weekday"}
            for day, value in anomaly.history]
    rows.append({"Day": anomaly.day.isoformat(), "Value": str(anomaly.actual),
                 "Compared as": "yesterday"})
    return rows


def notify_anomalies(context: RunContext, detection: Detection) -> int:
    """Raise each anomaly, resolve the job's open ones back in range; commits (the runner's own
    step). Returns how many were raised or counted again."""
    now = context.scheduled_at
    kind = notification_type(KIND)
    raised = 0
    with context.session_factory() as session:
        for anomaly in detection.anomalies:
            emitted = emit(session, context.user_id, kind, job_id=context.job_id,
                           run_id=context.run_id,
                           client_account_id=anomaly.entity.client_account_id,
                           entity_id=entity_key(anomaly.entity, anomaly.metric), now=now,
                           params=_params(anomaly), details=_details(anomaly))
            raised += emitted is not None
        back = {(e.client_account_id, entity_key(e, metric)) for e, metric in detection.in_range}
        open_ones = session.execute(select(
            Notification.id, Notification.client_account_id, Notification.entity_id).where(
            Notification.user_id == context.user_id, Notification.job_id == context.job_id,
            Notification.category == kind.category, Notification.code == kind.code,
            Notification.resolved_at.is_(None))).all()
        resolved = [i for i, account_id, entity in open_ones if (account_id, entity) in back]
        if resolved:
            session.execute(update(Notification).where(Notification.id.in_(resolved)).values(
                resolved_at=now))
        session.commit()
    return raised


def anomaly_chart(notification: Notification) -> dict[str, Any] | None:
    """The chart of an anomaly's page (static/js/charts.js): the weeks compared as bars,
    yesterday among them, the expected value and the band as lines; None for other types."""
    kind = notification_type(KIND)
    if (notification.category, notification.code) != kind.key or not notification.details:
        return None
    params = notification.message_params or {}
    labels = [row["Day"] for row in notification.details]
    values = [row["Value"] for row in notification.details]

    def flat(name: str) -> list[str]:
        raw = str(params.get(name, "")).split(" ")[0].replace(",", "")
        return [raw] * len(labels)

    return {"labels": labels, "unit": params.get("unit", ""), "series": [
        {"label": params.get("metric", "Value"), "values": values, "type": "bar"},
        {"label": "Expected", "values": flat("expected"), "dashed": True, "colour": "#198754"},
        {"label": "Lower bound", "values": flat("low"), "dashed": True, "colour": "#adb5bd"},
        {"label": "Upper bound", "values": flat("high"), "dashed": True, "colour": "#adb5bd"},
    ]}
