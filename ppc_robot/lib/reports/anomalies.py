"""Anomaly detection: yesterday's cost, clicks, impressions and conversions of every account
and campaign against the same weekday of the last weeks, read from the statistics store.

Only its parameters live here; the detection is in `lib/alerts/anomalies.py`, the run (store
refresh, outputs, notifications) in `anomalies_run.py`.
"""

from __future__ import annotations

from wtforms import BooleanField
from wtforms.validators import Optional

from ppc_robot.lib.alerts.anomalies import (
    DEFAULT_MIN_VOLUME,
    DEFAULT_SENSITIVITY,
    DEFAULT_WEEKS,
    MIN_VOLUME,
    SENSITIVITY,
    WEEKS,
)
from ppc_robot.lib.fields import BoundedDecimalField, BoundedIntegerField
from ppc_robot.lib.reports.catalogue import Parameters, ReportParametersForm, ReportType


class AnomaliesParametersForm(ReportParametersForm):
    """Parameters of anomaly detection."""

    weeks = BoundedIntegerField(
        "Weeks of history", validators=[Optional()], bound=WEEKS, default=DEFAULT_WEEKS,
        description="Yesterday is compared with the same weekday of this many weeks (2 to 26).")
    sensitivity = BoundedDecimalField(
        "Sensitivity", validators=[Optional()], bound=SENSITIVITY, default=DEFAULT_SENSITIVITY,
        description="How far from the usual a value may be, in robust standard deviations "
                    "(1 to 10): lower flags more.")
    min_volume = BoundedIntegerField(
        "Minimum clicks a day", validators=[Optional()], bound=MIN_VOLUME,
        default=DEFAULT_MIN_VOLUME,
        description="Accounts and campaigns with fewer clicks on a usual day and yesterday "
                    "are not judged, so small ones do not flood the inbox.")
    notifications = BooleanField(
        "Raise a notification per anomaly", default=True,
        description="Each resolves itself when the metric is back in range.")

    def parameters(self) -> Parameters:
        result = super().parameters()
        result["weeks"] = result["weeks"] or DEFAULT_WEEKS
        result["sensitivity"] = str(result["sensitivity"] or DEFAULT_SENSITIVITY)
        result["min_volume"] = (DEFAULT_MIN_VOLUME if result["min_volume"] is None
                                else result["min_volume"])
        result["notifications"] = bool(result["notifications"])
        return result


def default_parameters() -> Parameters:
    return {"weeks": DEFAULT_WEEKS, "sensitivity": str(DEFAULT_SENSITIVITY),
            "min_volume": DEFAULT_MIN_VOLUME, "notifications": True}


ANOMALIES = ReportType(
    name="anomalies",
    label="Anomaly detection",
    version=1,
    form_class=AnomaliesParametersForm,
    description="Yesterday's cost, clicks, impressions and conversions of every account and "
                "campaign against the same weekday of the last weeks; a notification per "
                "anomaly.",
    default_parameters=default_parameters,
)
