"""The job page says a definition's parameters as a person would, never by internal names."""

from __future__ import annotations

import re

import pytest
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField

from ppc_robot.lib.reports import ReportParametersForm, ReportType, describe_definition
from ppc_robot.lib.reports.performance import default_parameters
from tests.factories import make_definition, make_job


def shown_parameters(html):
    """(label, value) of every parameter row of the job page's definition card."""
    card = html[html.index('class="row mb-0 definition"'):]
    card = card[:card.index("</dl>")]
    rows = re.findall(r'<dt class="col-sm-4 fw-normal text-muted">([^<]*)</dt>\s*'
                      r'<dd class="col-sm-8">([^<]*)</dd>', card)
    return {label.strip(): value.strip() for label, value in rows}


def test_the_performance_report_in_words(client, login, session, workspace):
    parameters = default_parameters() | {
        "date_range": "last_7_days", "comparison": "previous_period", "sheets": "per_account",
        "dimensions": ["date", "client_account"], "metrics": ["cost", "ctr"], "min_clicks": 1500,
    }
    definition = make_definition(session, workspace.user, task_type="performance", version=2,
                                 parameters=parameters)
    job = make_job(session, workspace.user, definition=definition, output_path="{job} {date}")
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}").text

    assert shown_parameters(page) == {
        "Rows by": "Date, Client account",
        "Metrics": "Cost, CTR",
        "Date range": "Last 7 days",
        "Compare with": "Previous period",
        "Only rows with clicks at least": "1,500",
        "Sort by": "Cost",
        "Order": "Highest first",
        "Accounts": "One sheet per account",
    }
    for internal in ("last_7_days", "per_account", "previous_period", "client_account", "desc"):
        assert internal not in page
    assert "Excel workbook (XLSX), named “{job} {date}”" in page
    assert "version" not in page.lower()  # the newest version: nothing to say about it


def test_the_accounts_overview_in_words(client, login, session, workspace):
    definition = make_definition(session, workspace.user, task_type="accounts_overview",
                                 parameters={"notifications": True, "target_days": 5})
    job = make_job(session, workspace.user, definition=definition)
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}").text

    assert shown_parameters(page) == {
        "Raise budget and target notifications": "Yes",
        "Days in a row before a missed target is notified": "5",
    }
    assert "target_days" not in page and "True" not in page


def test_an_older_version_is_named_with_the_newer_one(client, login, session, workspace):
    definition = make_definition(session, workspace.user, task_type="performance", version=1,
                                 parameters={"date_range": "yesterday", "dimensions": ["account"]})
    job = make_job(session, workspace.user, definition=definition)
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}").text

    assert "Saved with version 1;" in page and "version 2 is out" in page
    assert shown_parameters(page)["Rows by"] == "Client account"  # upgraded as a run reads it


class _AnyTypeForm(ReportParametersForm):
    """A report type another engineer might add: nothing here knows about it."""

    grouped = SelectMultipleField("Grouped", choices={"A": [("a1", "First")], "B": [("b1", "Second")]})
    single = SelectField("Single", choices=[("x_y", "Ex and why")])
    flag = BooleanField("Flag")
    day = DateField("Day")


@pytest.mark.parametrize(("parameters", "words"), [
    ({"grouped": ["b1", "a1"], "single": "x_y", "flag": False, "day": "2026-02-01"},
     [("Grouped", "Second, First"), ("Single", "Ex and why"), ("Flag", "No"), ("Day", "1 February 2026")]),
    ({"grouped": [], "single": "x_y", "flag": True, "day": None},
     [("Single", "Ex and why"), ("Flag", "Yes")]),
])
def test_any_report_type_is_described_from_its_form(parameters, words):
    any_type = ReportType("any", "Any", 1, _AnyTypeForm)

    assert any_type.describe(parameters) == words


def test_an_unknown_report_type_shows_what_is_stored():
    words = describe_definition("gone", 3, {"date_range": "yesterday", "metrics": ["cost", "ctr"]})

    assert (words.label, words.parameters, words.newer_version) == (
        "gone", [("Date range", "yesterday"), ("Metrics", "cost, ctr")], None)


def test_a_czech_reader_gets_the_words_in_czech(client, login, session, workspace):
    workspace.user.locale = "cs"
    parameters = default_parameters() | {"date_range": "last_7_days", "min_clicks": 1500}
    definition = make_definition(session, workspace.user, task_type="performance", version=2,
                                 parameters=parameters)
    overview = make_definition(session, workspace.user, task_type="accounts_overview",
                               parameters={"notifications": False, "target_days": 5})
    job = make_job(session, workspace.user, definition=definition)
    overview_job = make_job(session, workspace.user, definition=overview)
    session.commit()
    login(workspace.user)

    words = shown_parameters(client.get(f"/jobs/{job.id}").text)
    overview_words = shown_parameters(client.get(f"/jobs/{overview_job.id}").text)

    assert "Posledních 7 dní" in words.values()
    assert "1\xa0500" in words.values()  # Czech groups thousands with a (non-breaking) space
    assert overview_words["Hlásit upozornění na rozpočet a cíle"] == "Ne"


def test_a_date_is_written_out_in_the_readers_language():
    any_type = ReportType("any", "Any", 1, _AnyTypeForm)
    parameters = {"grouped": ["a1"], "single": "x_y", "flag": True, "day": "2026-02-01"}

    assert any_type.describe(parameters, "cs")[-2:] == [("Flag", "Ano"), ("Day", "1. února 2026")]
