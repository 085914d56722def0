"""Bounds on stored numbers, enforced in lib whatever path the value comes by."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ppc_robot.lib.bounds import OutOfRangeError, parse_int
from ppc_robot.lib.clients import save_client
from ppc_robot.lib.models import Client
from ppc_robot.lib.reports import ParametersError, get_report_type, validate_parameters
from ppc_robot.web.membership.plans import save_plan


@pytest.mark.parametrize(("field", "value"), [
    ("monthly_budget", Decimal("1e308")), ("monthly_budget", Decimal("NaN")),
    ("monthly_budget", Decimal("sNaN")), ("target_cpa", Decimal("-1")),
    ("target_cpa", Decimal("Infinity")), ("target_pno", Decimal("15")),
    ("target_roas", Decimal("1e6")), ("target_pno", Decimal("-0.0001")),
])
def test_a_client_goal_out_of_bounds_is_refused(session, user, field, value):
    client = Client(user_id=user.id)

    with pytest.raises(OutOfRangeError) as refused:
        save_client(session, client, name="Acme Two", currency="EUR", **{field: value})

    assert refused.value.field == field
    assert client.id is None


def test_client_goals_at_their_bounds_are_kept(session, user):
    client = save_client(session, Client(user_id=user.id), name="Big", currency="EUR",
                         monthly_budget=Decimal("999999999999.99"), target_cpa=Decimal(0),
                         target_pno=Decimal(1), target_roas=Decimal(100000))

    assert client.target_pno == Decimal(1)


@pytest.mark.parametrize(("field", "value"), [
    ("max_jobs", 2**63), ("max_jobs", -1), ("max_client_accounts", 10**7 + 1),
    ("min_schedule_interval_minutes", 0), ("max_invites", 10**20),
])
def test_a_plan_limit_out_of_bounds_is_refused(session, field, value):
    values = {"name": "Huge", "max_jobs": 10, "max_client_accounts": 10,
              "min_schedule_interval_minutes": 60, "max_invites": 0, field: value}

    with pytest.raises(OutOfRangeError) as refused:
        save_plan(session, None, **values)

    assert refused.value.field == field


@pytest.mark.parametrize(("name", "value"), [
    ("min_cost", "1e308"), ("min_impressions", 10**20), ("min_conversions", "NaN"),
    ("row_limit", 2**63), ("min_clicks", -5),
])
def test_report_parameters_out_of_bounds_are_refused_without_a_request(name, value):
    report = get_report_type("performance")
    parameters = {**report.default_parameters(), name: value}

    with pytest.raises(ParametersError) as refused:
        validate_parameters(report, parameters)

    assert name in refused.value.errors


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), (" 12 ", 12), ("", None), (" \t", None), (None, None), ("x", None), ("1.5", None),
    ("-1", None), ("99999999999999999999", None), ("١٢", None), ("1_000", None), ("+3", None),
])
def test_parse_int_takes_plain_whole_numbers_in_bounds_only(text, expected):
    assert parse_int(text) == expected
