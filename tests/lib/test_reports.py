from __future__ import annotations

import pytest

from ppc_robot.lib.reports import (
    ParametersError,
    ReportError,
    ReportParametersForm,
    ReportType,
    current_parameters,
    get_report_type,
    register_report_type,
    report_types,
    validate_parameters,
)
from ppc_robot.lib.reports.catalogue import _REGISTRY

PERFORMANCE = get_report_type("performance")


def test_the_defaults_of_every_report_type_are_valid():
    for report_type in report_types():
        defaults = report_type.default_parameters()

        assert validate_parameters(report_type, defaults) == defaults


def test_performance_parameters_round_trip_through_json_and_the_form():
    parameters = {**PERFORMANCE.default_parameters(), "date_range": "custom",
                  "date_from": "2026-01-01", "date_to": "2026-01-31", "min_cost": "12.50",
                  "row_limit": 500, "dimensions": ["month", "client_account"], "sheets": "per_account"}

    clean = validate_parameters(PERFORMANCE, parameters)
    form = PERFORMANCE.form(parameters=clean)

    assert clean == parameters
    assert form.parameters() == clean


@pytest.mark.parametrize(
    "changes, field, message",
    [({"foo": 1}, "", "has no parameter “foo”"),
     ({"dimensions": []}, "dimensions", "at least one dimension"),
     ({"metrics": ["clicks", "bounce_rate"]}, "metrics", "not a valid choice"),
     ({"date_range": "custom"}, "date_from", "Give the first day."),
     ({"date_range": "custom", "date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to",
      "comes before"),
     ({"row_limit": 0}, "row_limit", "a row limit from 1 to 100,000"),
     ({"min_cost": "-1"}, "min_cost", "an amount from 0 to"),
     ({"comparison": "last_decade"}, "comparison", "Not a valid choice")],
)
def test_bad_parameters_are_refused_per_field(changes, field, message):
    parameters = {**PERFORMANCE.default_parameters(), **changes}

    with pytest.raises(ParametersError) as refused:
        validate_parameters(PERFORMANCE, parameters)

    assert field in refused.value.errors
    assert any(message in m for m in refused.value.errors[field])


def test_version_1_parameters_are_upgraded_not_broken():
    upgraded = current_parameters("performance", 1, {"date_range": "last_7_days",
                                                     "dimensions": ["account", "campaign"]})

    assert upgraded["dimensions"] == ["client_account", "campaign"]
    assert upgraded["date_range"] == "last_7_days"
    assert validate_parameters(PERFORMANCE, upgraded) == upgraded


def test_unknown_types_and_future_versions_are_refused():
    with pytest.raises(ReportError, match="no report type “nope”"):
        get_report_type("nope")
    with pytest.raises(ReportError, match="newer"):
        current_parameters("performance", 99, {})


def test_a_new_type_registers_and_validates_without_other_changes():
    from wtforms import IntegerField
    from wtforms.validators import InputRequired

    class UrlCheckForm(ReportParametersForm):
        max_urls = IntegerField("Max URLs", [InputRequired()])

    url_check = ReportType("url_check", "URL checker", 3, UrlCheckForm,
                           default_parameters=lambda: {"max_urls": 100},
                           upgrades={1: lambda p: {"max_urls": p.get("limit", 50)},
                                     2: lambda p: {"max_urls": p["max_urls"] * 2}})
    try:
        register_report_type(url_check)

        assert get_report_type("url_check") is url_check
        assert url_check.upgrade(1, {"limit": 10}) == {"max_urls": 20}
        assert validate_parameters(url_check, {"max_urls": 5}) == {"max_urls": 5}
        with pytest.raises(ValueError, match="already registered"):
            register_report_type(ReportType("url_check", "Other", 1, UrlCheckForm))
    finally:
        _REGISTRY.pop("url_check", None)
