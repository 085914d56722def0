"""Hostile input answered with a 404 or a message, never a 500: ids, filters, `next`, numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import Client, Folder, Job
from ppc_robot.web.models import Plan
from ppc_robot.web.safety import safe_next
from tests.conftest import csrf_token_from
from tests.factories import make_user

TOO_BIG = ["9223372036854775808", "99999999999999999999", "2147483648"]


def fresh(session):
    session.rollback()
    session.expire_all()


# --- ids in URLs, query strings and forms


@pytest.mark.parametrize("number", [*TOO_BIG, "-1", "0"])
def test_an_out_of_range_id_in_a_url_is_404(client, login, workspace, number):
    login(workspace.user)

    for url in (f"/jobs/{number}", f"/folders/{number}", f"/folders/{number}/move",
                f"/notifications/{number}", f"/help/notifications/{number}/0"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("number", TOO_BIG)
def test_an_out_of_range_id_in_a_query_string_filters_nothing(client, login, workspace, number):
    login(workspace.user)

    for url in (f"/folders/{workspace.subfolder.id}?tag={number}",
                f"/folders/{workspace.subfolder.id}/all?tag={number}&page={number}",
                f"/folders/search?q=Job&page={number}",
                f"/notifications/?job_id={number}&page={number}",
                f"/jobs/new/{workspace.folder.id}?type={number}"):
        response = client.get(url)
        # The notification list answers 422 to a filter it cannot apply, and shows the list.
        assert response.status_code in (200, 422), url
        assert workspace.user.email in response.text


@pytest.mark.parametrize("number", [*TOO_BIG, "-1"])
def test_an_out_of_range_id_in_a_bulk_form_is_refused_and_changes_nothing(
        client, login, session, workspace, number):
    login(workspace.user)
    token = csrf_token_from(client.get(f"/folders/{workspace.subfolder.id}").text)

    for data in ({"job_ids": [workspace.job.id, number], "action": "enable"},
                 {"job_ids": [workspace.job.id], "action": "tag", "tag_id": number},
                 {"job_ids": [workspace.job.id], "action": "move", "target_id": number}):
        response = client.post("/jobs/bulk", data={"csrf_token": token, **data})
        assert response.status_code in (404, 422), data

    fresh(session)
    assert session.get(Job, workspace.job.id).folder_id == workspace.subfolder.id


@pytest.mark.parametrize("number", [*TOO_BIG, "-1"])
def test_an_out_of_range_id_in_the_folder_move_form_is_refused(submit, login, session, workspace,
                                                               number):
    login(workspace.user)

    response = submit(f"/folders/{workspace.subfolder.id}/move", {"target_id": number})

    assert response.status_code in (404, 422)
    fresh(session)
    assert session.get(Folder, workspace.subfolder.id).parent_id == workspace.folder.id


@pytest.mark.parametrize("field", ["folder_id", "definition_id", "client_account_ids", "tag_ids",
                                   "service_account_id", "client_id"])
def test_an_out_of_range_id_in_the_job_editor_is_refused(submit, login, session, workspace, field):
    login(workspace.user)

    response = submit(f"/jobs/{workspace.job.id}/edit",
                      {"name": "Renamed", field: "9223372036854775808"})

    assert response.status_code in (404, 422)
    fresh(session)
    assert session.get(Job, workspace.job.id).name != "Renamed"


@pytest.mark.parametrize("field", ["bulk-client_account_ids", "bulk-tag_id"])
def test_an_out_of_range_id_in_client_account_tagging_is_refused(client, login, workspace, field):
    login(workspace.user)
    token = csrf_token_from(client.get("/accounts/client-accounts").text)
    data = {"csrf_token": token, "bulk-client_account_ids": workspace.client_account.id,
            "bulk-tag_id": workspace.client_account_tag.id, "bulk-action": "add",
            field: "9223372036854775808"}

    response = client.post("/accounts/client-accounts/tag", data=data)

    assert response.status_code in (302, 404)


# --- blank and garbage filter values


@pytest.mark.parametrize("name", ["tag_id", "service_account_id", "client_id"])
@pytest.mark.parametrize("value", [" ", "\t", "", "x", "-1", "99999999999999999999"])
def test_a_blank_or_garbage_client_account_filter_filters_nothing(client, login, workspace, name,
                                                                   value):
    login(workspace.user)

    response = client.get("/accounts/client-accounts", query_string={name: value})

    assert response.status_code == 200
    assert workspace.client_account.name in response.text


# --- `next`

BYPASSES = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "/%09/evil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "/%5Cevil.example", "/%5c%5cevil.example", " /evil", "\t//evil.example",
    "https://evil.example/", "HTTPS://evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,x", "https://ppc.example@evil.example/", "//ppc.example@evil.example",
    "/\x00/evil", "/a\nLocation: //evil.example", "", None, "folders/1", "http:/evil.example",
    "/%252F%252Fevil.example",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_safe_next_refuses_every_way_off_site(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/folders/3", "/folders/3?tag=1&page=2", "/notifications/",
                                    "/folders/search?q=a%20b", "/accounts/@me"])
def test_safe_next_follows_a_path_on_this_site(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r\nX: y"])
def test_bulk_next_with_a_tab_or_newline_goes_home(client, login, workspace, target):
    login(workspace.user)
    token = csrf_token_from(client.get(f"/folders/{workspace.subfolder.id}").text)

    response = client.post("/jobs/bulk", data={"csrf_token": token, "job_ids": [workspace.job.id],
                                               "action": "enable", "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/folders/"


def test_notification_next_with_a_newline_goes_to_the_list(client, login, workspace):
    login(workspace.user)
    token = csrf_token_from(client.get("/notifications/").text)

    response = client.post(f"/notifications/{workspace.notification.id}/read",
                           data={"csrf_token": token, "next": "/\n/evil.example"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"


# --- numbers: money, percentages, counts


@pytest.mark.parametrize(("field", "value", "message"), [
    ("monthly_budget", "1e308", "999,999,999,999.99"),
    ("monthly_budget", "1000000000000", "999,999,999,999.99"),
    ("monthly_budget", "NaN", "Give a number"),
    ("monthly_budget", "sNaN", "Give a number"),
    ("target_cpa", "Infinity", "Give a number"),
    ("target_cpa", "-0.01", "999,999,999,999.99"),
    ("target_pno", "15", "100 %"),
    ("target_pno", "-inf", "Give a number"),
    ("target_roas", "1e6", "100,000"),
])
def test_a_client_goal_out_of_bounds_is_refused_beside_its_field(submit, login, session, workspace,
                                                                  field, value, message):
    login(workspace.user)

    response = submit(f"/clients/{workspace.client.id}/edit",
                      {"name": "Acme", "currency": "EUR", field: value})

    assert response.status_code == 422
    assert message in response.text
    fresh(session)
    assert getattr(session.get(Client, workspace.client.id), field) is None


def test_client_goals_at_their_bounds_are_saved(submit, login, session, workspace):
    login(workspace.user)

    response = submit(f"/clients/{workspace.client.id}/edit", {
        "name": "Acme", "currency": "EUR", "monthly_budget": "999999999999.99",
        "target_cpa": "0", "target_pno": "1", "target_roas": "100000"})

    assert response.status_code == 302
    fresh(session)
    saved = session.get(Client, workspace.client.id)
    assert (saved.monthly_budget, saved.target_pno) == (Decimal("999999999999.99"), Decimal("1"))


@pytest.mark.parametrize(("field", "value"), [
    ("max_jobs", "9223372036854775808"), ("max_jobs", "-1"), ("max_client_accounts", "1e9"),
    ("max_client_accounts", "10000001"), ("min_schedule_interval_minutes", "0"),
    ("min_schedule_interval_minutes", "99999999999"), ("max_invites", "99999999999999999999"),
])
def test_a_plan_limit_out_of_bounds_is_refused(client, session, workspace, field, value):
    admin = make_user(session, is_admin=True)
    session.commit()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = admin.session_token
    url = f"/admin/plans/{workspace.plan.id}"
    token = csrf_token_from(client.get(url).text)
    data = {"csrf_token": token, "name": "Renamed", "max_jobs": "10", "max_client_accounts": "5",
            "min_schedule_interval_minutes": "60", "max_invites": "0", field: value}

    response = client.post(url, data=data)

    assert response.status_code == 422
    fresh(session)
    assert session.scalar(select(Plan.name).where(Plan.id == workspace.plan.id)) != "Renamed"


@pytest.mark.parametrize(("field", "value"), [
    ("min_impressions", "99999999999999999999"), ("min_clicks", "-1"), ("min_cost", "1e308"),
    ("min_conversions", "NaN"), ("row_limit", "9223372036854775808"),
])
def test_a_report_threshold_out_of_bounds_is_refused(submit, login, session, workspace, field,
                                                     value):
    login(workspace.user)

    response = submit(f"/jobs/{workspace.job.id}/edit", {
        "name": "Renamed", "folder_id": workspace.subfolder.id,
        "definition_id": workspace.definition.id, "task_type": "performance",
        "level": "client_account", "client_account_ids": workspace.client_account.id,
        "schedule_kind": "manual", "time_zone": "UTC", "output_type": "xlsx",
        "params-dimensions": "date", "params-metrics": "cost", "params-date_range": "yesterday",
        "params-comparison": "none", "params-sort_by": "cost", "params-sort_order": "desc",
        "params-sheets": "merged", f"params-{field}": value})

    assert response.status_code == 422
    fresh(session)
    assert session.get(Job, workspace.job.id).name != "Renamed"


# --- NUL bytes, refused once for every request


@pytest.mark.parametrize("query", [{"time_zone": "UTC\x00"}, {"schedule\x00kind": "daily"}])
def test_a_nul_byte_in_a_query_string_is_a_clear_400(client, login, workspace, query):
    login(workspace.user)

    response = client.get("/jobs/schedule-preview", query_string=query)

    assert response.status_code == 400
    assert "NUL character" in response.text


def test_a_nul_byte_in_a_form_is_a_clear_400_and_changes_nothing(submit, login, session,
                                                                 workspace):
    login(workspace.user)

    response = submit(f"/folders/{workspace.subfolder.id}/rename", {"name": "Ac\x00me"})

    assert response.status_code == 400
    assert "NUL character" in response.text
    fresh(session)
    assert session.get(Folder, workspace.subfolder.id).name == "Acme"


# --- found by the fuzzer (tests/web/test_fuzz.py)


def _as_admin(client, session):
    admin = make_user(session, is_admin=True)
    session.commit()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = admin.session_token
    return admin


@pytest.mark.parametrize("field", ["max_invites", "min_schedule_interval_minutes"])
@pytest.mark.parametrize("value", [" ", "\t", "\u00a0"])
def test_a_required_plan_limit_of_only_spaces_is_refused(client, session, workspace, field, value):
    _as_admin(client, session)
    url = f"/admin/plans/{workspace.plan.id}"
    token = csrf_token_from(client.get(url).text)
    data = {"csrf_token": token, "name": "Renamed", "min_schedule_interval_minutes": "60",
            "max_invites": "0", field: value}

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert "This field is required." in response.text


def test_a_user_search_longer_than_any_address_finds_nobody(client, session, workspace):
    _as_admin(client, session)

    response = client.get("/admin/users", query_string={"q": "x" * 100_000})

    assert response.status_code == 200
    assert workspace.user.email not in response.text
