"""The report catalogue: every report type a job definition can name.

A report type declares its name, label, current version, a plain WTForms form for its
parameters (lib never imports Flask-WTF: the runner re-validates parameters without a
request), its default parameters and one upgrade function per older version, so a saved
definition is migrated, never broken, when its type evolves. The job editor renders any
registered type's form without knowing it.

One module per type (`performance.py` its parameters; `performance_run.py` its fetch, layout
and executor; `performance_table.py` its computation); what every type needs when it runs is
in `shared/`, whose docstring says how to add a type.
"""

from __future__ import annotations

from ppc_robot.lib.reports.accounts_overview import ACCOUNTS_OVERVIEW
from ppc_robot.lib.reports.alert_rules import ALERT_RULES
from ppc_robot.lib.reports.anomalies import ANOMALIES
from ppc_robot.lib.reports.catalogue import (
    ParametersError,
    ReportError,
    ReportParametersForm,
    ReportType,
    current_parameters,
    describe_definition,
    get_report_type,
    register_report_type,
    report_types,
    validate_form,
    validate_parameters,
)
from ppc_robot.lib.reports.performance import PERFORMANCE
from ppc_robot.lib.reports.url_checker import URL_CHECKER

register_report_type(PERFORMANCE)
register_report_type(ACCOUNTS_OVERVIEW)
register_report_type(ANOMALIES)
register_report_type(URL_CHECKER)
register_report_type(ALERT_RULES)

__all__ = [
    "ACCOUNTS_OVERVIEW",
    "ALERT_RULES",
    "ANOMALIES",
    "PERFORMANCE",
    "URL_CHECKER",
    "ParametersError",
    "ReportError",
    "ReportParametersForm",
    "ReportType",
    "current_parameters",
    "describe_definition",
    "get_report_type",
    "register_report_type",
    "report_types",
    "validate_form",
    "validate_parameters",
]
