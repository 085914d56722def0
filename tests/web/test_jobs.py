from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models import Job, JobDefinition, JobLevel, ScheduleKind
from tests.factories import make_client_account, make_job


def editor_data(workspace, **overrides):
    data = {
        "name": "Acme weekly",
        "folder_id": workspace.folder.id,
        "task_type": "performance",
        "definition_id": 0,
        "definition_name": "",
        "output_type": "xlsx",
        "output_path": "{job} {date}",
        "client_account_ids": [workspace.client_account.id],
        "tag_ids": [workspace.tag.id],
        "schedule_kind": "weekly",
        "schedule_minute": "0",
        "schedule_time": "08:00",
        "schedule_weekdays": ["0", "2"],
        "schedule_day": "1",
        "schedule_cron": "",
        "time_zone": "Europe/Prague",
        "is_enabled": "y",
        "params-dimensions": ["date", "campaign"],
        "params-metrics": ["clicks", "cost"],
        "params-date_range": "last_7_days",
        "params-comparison": "none",
        "params-sort_by": "cost",
        "params-sort_order": "desc",
        "params-sheets": "merged",
        "params-name_contains": "",
    }
    data.update(overrides)
    return data


def fresh(session):
    """End the test's read transaction and forget loaded rows, to see what the app committed."""
    session.rollback()
    session.expire_all()


def counts(session):
    fresh(session)
    return (session.scalar(select(func.count()).select_from(Job)),
            session.scalar(select(func.count()).select_from(JobDefinition)))


def test_creating_a_job_with_a_new_definition(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}", editor_data(workspace))

    assert response.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Acme weekly"))
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert job.folder_id == workspace.folder.id
    assert job.schedule_kind is ScheduleKind.WEEKLY
    assert job.schedule == {"weekdays": [0, 2], "time": "08:00"}
    assert job.next_run_at is not None
    assert [a.id for a in job.client_accounts] == [workspace.client_account.id]
    assert job.definition.parameters["metrics"] == ["clicks", "cost"]
    assert job.definition.task_type_version == 2
    page = client.get(response.headers["Location"])
    assert "Weekly on Monday and Wednesday at 08:00 (Europe/Prague)" in page.text
    assert page.text.count("<li>") >= 5


def test_a_second_job_shares_the_definition_and_an_edit_reaches_both(client, login, submit, session, workspace):
    login(workspace.user)
    first = workspace.job

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, name="Second", definition_id=first.definition_id))
    assert response.status_code == 302
    second = session.scalar(select(Job).where(Job.name == "Second"))
    assert second.definition_id == first.definition_id

    edit = submit(f"/jobs/{second.id}/edit",
                  editor_data(workspace, name="Second", definition_id=first.definition_id,
                              **{"params-date_range": "last_30_days"}))

    assert edit.status_code == 302
    fresh(session)
    assert first.definition.parameters["date_range"] == "last_30_days"
    page = client.get(f"/jobs/{first.id}/edit")
    assert "reach all 2 jobs" in page.text


@pytest.mark.parametrize(
    "overrides, field_id, message",
    [
        ({"schedule_kind": "cron", "schedule_cron": "61 * * * *"}, "schedule_cron",
         "not a valid cron expression"),
        ({"schedule_weekdays": []}, "schedule_weekdays", "Pick at least one day of the week."),
        ({"schedule_kind": "daily", "schedule_time": "02:30"}, "schedule_time",
         "does not exist in Europe/Prague"),
        ({"params-foo": "1"}, "params-", "has no parameter “foo”"),
        ({"params-date_range": "custom", "params-date_from": "2026-02-01",
          "params-date_to": "2026-01-01"}, "params-date_to", "The last day comes before the first."),
        ({"name": ""}, "name", "Give the job a name."),
        ({"output_type": "google_sheets", "output_path": "not an id"}, "output_path",
         "docs.google.com address"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(client, login, submit, session, workspace,
                                                      overrides, field_id, message):
    login(workspace.user)
    before = counts(session)
    data = editor_data(workspace, name="Kept name", **overrides) if "name" not in overrides \
        else editor_data(workspace, **overrides)

    response = submit(f"/jobs/new/{workspace.folder.id}", data)

    assert response.status_code == 422
    assert message in response.text
    assert counts(session) == before
    if "name" not in overrides:
        assert 'value="Kept name"' in response.text
    if overrides.get("schedule_cron"):
        assert 'value="61 * * * *"' in response.text


def test_a_bad_edit_leaves_the_shared_definition_untouched(client, login, submit, session, workspace):
    login(workspace.user)
    job = workspace.job
    before = dict(job.definition.parameters)

    response = submit(f"/jobs/{job.id}/edit", editor_data(
        workspace, definition_id=job.definition_id, schedule_kind="cron", schedule_cron="nope",
        **{"params-date_range": "last_30_days"}))

    assert response.status_code == 422
    fresh(session)
    assert job.definition.parameters == before


@pytest.mark.parametrize("field", ["folder_id", "definition_id", "client_account_ids", "tag_ids",
                                   "service_account_id", "client_id"])
def test_another_users_id_in_an_editor_field_is_404(client, login, submit, session, workspace,
                                                    other_workspace, field):
    login(workspace.user)
    theirs = {
        "folder_id": other_workspace.folder.id,
        "definition_id": other_workspace.definition.id,
        "client_account_ids": [workspace.client_account.id, other_workspace.client_account.id],
        "tag_ids": [other_workspace.tag.id],
        "service_account_id": other_workspace.service_account.id,
        "client_id": other_workspace.client.id,
    }[field]
    before = counts(session)

    response = submit(f"/jobs/{workspace.job.id}/edit", editor_data(workspace, name="", **{field: theirs}))

    assert response.status_code == 404
    assert counts(session) == before


def test_preview_shows_the_schedule_in_words_and_five_runs_without_saving(client, login, submit, session, workspace):
    workspace.user.time_zone = "Europe/Prague"
    session.commit()
    login(workspace.user)
    before = counts(session)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, schedule_kind="daily", schedule_time="06:15", preview="1"))

    assert response.status_code == 200
    assert "Daily at 06:15 (Europe/Prague)" in response.text
    assert response.text.count("06:15</li>") == 5
    assert counts(session) == before


def test_detach_gives_the_job_its_own_definition(client, login, session, workspace):
    shared = workspace.job.definition
    other = make_job(session, workspace.user, workspace.folder, definition=shared)
    session.commit()
    login(workspace.user)
    token = _token(client, f"/jobs/{other.id}")

    response = client.post(f"/jobs/{other.id}/detach", data={"csrf_token": token})

    assert response.status_code == 302
    fresh(session)
    assert other.definition_id != shared.id
    assert workspace.job.definition_id == shared.id
    assert other.definition.parameters == shared.parameters


def test_duplicate_and_delete(client, login, session, workspace):
    login(workspace.user)
    token = _token(client, f"/jobs/{workspace.job.id}")

    copy = client.post(f"/jobs/{workspace.job.id}/duplicate", data={"csrf_token": token})
    copy_id = int(copy.headers["Location"].split("/")[2])
    deleted = client.post(f"/jobs/{copy_id}/delete", data={"csrf_token": token})

    assert copy.status_code == 302 and deleted.status_code == 302
    fresh(session)
    assert session.get(Job, copy_id) is None
    assert session.get(Job, workspace.job.id) is not None


def _token(client, url):
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get(url).text)


def test_every_demo_job_page_and_editor_renders_with_upgraded_parameters(app, client, login, session):
    from ppc_robot.lib.demo import seed_demo

    demo = seed_demo(session)
    session.commit()
    login(demo.user)
    jobs = session.scalars(select(Job).where(Job.user_id == demo.user.id).order_by(Job.id)).all()

    pages = [client.get(f"/jobs/{job.id}") for job in jobs] + [client.get(f"/jobs/{job.id}/edit") for job in jobs]

    assert len(jobs) == 8  # the anomalies, URL checker and alert rules jobs included
    assert all(page.status_code == 200 for page in pages)
    assert "Saved with version 1" in pages[0].text  # stored as saved, shown upgraded
    weekly = next(job for job in jobs if "weekly" in job.name)
    assert re.search(r"Rows by</dt>\s*<dd class=\"col-sm-8\">[^<]*Client account",
                     client.get(f"/jobs/{weekly.id}").text)
    assert "Weekly on Monday at 08:00 (Europe/Prague)" in client.get("/folders/search?q=weekly").text


def test_a_refused_job_form_also_shows_parameter_errors(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, name="", **{"params-dimensions": []}))

    assert response.status_code == 422
    assert "Give the job a name." in response.text
    assert "Pick at least one dimension." in response.text


@pytest.fixture
def url_check_type():
    """A second report type, registered the way a later issue will add one."""
    from wtforms import IntegerField, SelectMultipleField
    from wtforms.validators import InputRequired, NumberRange

    from ppc_robot.lib.reports import ReportParametersForm, ReportType, register_report_type
    from ppc_robot.lib.reports.catalogue import _REGISTRY

    class UrlCheckForm(ReportParametersForm):
        max_urls = IntegerField("Check at most this many URLs", [InputRequired(), NumberRange(1, 5000)])
        statuses = SelectMultipleField("Report these statuses", choices=[("4xx", "4xx"), ("5xx", "5xx")])

    report_type = register_report_type(ReportType(
        "url_check", "URL checker", 1, UrlCheckForm,
        default_parameters=lambda: {"max_urls": 500, "statuses": ["4xx", "5xx"]}))
    yield report_type
    _REGISTRY.pop("url_check", None)


def test_the_editor_takes_a_newly_registered_report_type_without_changes(client, login, submit, session, workspace, url_check_type):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=url_check"

    page = client.get(url)
    base = {k: v for k, v in editor_data(workspace, task_type="url_check").items()
            if not k.startswith("params-")}
    refused = submit(url, {**base, "params-max_urls": "0"})
    unknown = submit(url, {**base, "params-max_urls": "10", "params-dimensions": "date"})
    saved = submit(url, {"name": "Broken links", "folder_id": workspace.folder.id, "task_type": "url_check",
                         "definition_id": 0, "output_type": "csv", "schedule_kind": "manual",
                         "time_zone": "UTC", "params-max_urls": "250", "params-statuses": ["4xx"]})

    assert "Check at most this many URLs" in page.text and 'value="4xx"' in page.text
    assert refused.status_code == 422 and "Number must be between 1 and 5000." in refused.text
    assert unknown.status_code == 422 and "URL checker has no parameter “dimensions”" in unknown.text
    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Broken links"))
    assert job.definition.task_type == "url_check"
    assert job.definition.parameters == {"max_urls": 250, "statuses": ["4xx"]}


# The job's level.

def test_a_job_reading_every_account_of_a_login(client, login, submit, session, workspace):
    login_account = workspace.service_account
    make_client_account(session, login_account, name="Second")
    session.commit()
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}", editor_data(
        workspace, level="service_account", service_account_id=login_account.id))

    assert response.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Acme weekly"))
    assert (job.level, job.service_account_id, job.all_client_accounts) == (
        JobLevel.SERVICE_ACCOUNT, login_account.id, True)
    assert job.client_accounts == []  # the ticked account gave way to the login
    words = f"All of login Sandbox – {login_account.name} (2)"
    assert words in client.get(response.headers["Location"]).text
    assert words in client.get(f"/folders/{workspace.folder.id}").text
    editor = client.get(f"/jobs/{job.id}/edit").text
    assert re.search(r'value="service_account"[^>]*checked|checked[^>]*value="service_account"', editor)
    assert re.search(rf'<option selected value="{login_account.id}"|'
                     rf'<option value="{login_account.id}" selected', editor)


def test_a_job_reading_every_account_of_a_client_then_chosen_ones_again(client, login, submit, session, workspace):
    login(workspace.user)

    created = submit(f"/jobs/new/{workspace.folder.id}", editor_data(
        workspace, level="client", client_id=workspace.client.id))
    job = session.scalar(select(Job).where(Job.name == "Acme weekly"))
    shown = client.get(f"/jobs/{job.id}").text
    switched = submit(f"/jobs/{job.id}/edit", editor_data(
        workspace, level="client_account", client_id=workspace.client.id))

    assert created.status_code == 302 and switched.status_code == 302
    assert "All of client Acme (1)" in shown
    fresh(session)
    assert (job.level, job.client_id, job.all_client_accounts) == (JobLevel.CLIENT_ACCOUNT, None, False)
    assert [a.id for a in job.client_accounts] == [workspace.client_account.id]


@pytest.mark.parametrize(
    "level, field_id, message",
    [("service_account", "service_account_id", "Choose the login whose client accounts the job reads."),
     ("client", "client_id", "Choose the client whose client accounts the job reads."),
     ("everything", "level", "Not a valid choice")],
)
def test_a_level_without_its_object_is_explained_beside_the_field(client, login, submit, session, workspace,
                                                                   level, field_id, message):
    login(workspace.user)
    before = counts(session)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, name="Kept name", level=level))

    assert response.status_code == 422
    assert counts(session) == before
    assert 'value="Kept name"' in response.text
    assert message in beside(response.text, field_id)


def beside(html, field_id):
    """The markup of the field with this id (its first choice for radios) and what follows it."""
    start = html.index(f'id="{field_id}')
    return html[start:start + 1500]


def test_duplicate_keeps_the_level(client, login, session, workspace):
    job = workspace.job
    job.level, job.service_account_id, job.all_client_accounts = (
        JobLevel.SERVICE_ACCOUNT, workspace.service_account.id, True)
    session.commit()
    login(workspace.user)

    copy = client.post(f"/jobs/{job.id}/duplicate", data={"csrf_token": _token(client, f"/jobs/{job.id}")})

    copy_id = int(copy.headers["Location"].split("/")[2])
    fresh(session)
    duplicate = session.get(Job, copy_id)
    assert (duplicate.level, duplicate.service_account_id, duplicate.all_client_accounts) == (
        JobLevel.SERVICE_ACCOUNT, workspace.service_account.id, True)
    assert "All of login Sandbox" in client.get(f"/jobs/{copy_id}").text


# The live schedule preview.

PREVIEW = "/jobs/schedule-preview"


def preview_args(**overrides):
    args = {"schedule_kind": "weekly", "schedule_minute": "0", "schedule_time": "07:30",
            "schedule_weekdays": ["0", "2"], "schedule_day": "1", "schedule_cron": "",
            "time_zone": "Europe/Prague"}
    args.update(overrides)
    return args


def test_the_preview_answers_words_and_five_runs_in_the_users_zone_writing_nothing(
        client, login, session, workspace, count_queries):
    workspace.user.time_zone = "America/New_York"
    session.commit()
    login(workspace.user)

    with count_queries() as counter:
        response = client.get(PREVIEW, query_string=preview_args())

    assert response.status_code == 200
    assert "Weekly on Monday and Wednesday at 07:30 (Europe/Prague)" in response.text
    runs = re.findall(r"<li>([^<]*)</li>", response.text)
    assert len(runs) == 5
    assert all(r[:3] in ("Mon", "Wed") and " 07:30 (your time " in r and "America/New_York" in r
               for r in runs)
    assert "<html" not in response.text  # a fragment for the editor, not a page
    assert not [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_czech_user_previews_the_schedule_in_czech(client, login, session, workspace):
    workspace.user.time_zone = "America/New_York"
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    response = client.get(PREVIEW, query_string=preview_args())
    gap = client.get(PREVIEW, query_string=preview_args(schedule_kind="daily", schedule_time="02:30"))

    assert "Každý týden (pondělí a středa) v 07:30 (Europe/Prague)" in response.text
    runs = re.findall(r"<li>([^<]*)</li>", response.text)
    assert len(runs) == 5
    assert all(r[:3] in ("po ", "st ") and " 07:30 (váš čas " in r and "America/New_York" in r
               for r in runs)
    assert "Čas 02:30 v pásmu Europe/Prague dne " in gap.text
    assert "protože se posouvají hodiny dopředu" in gap.text


def test_a_czech_user_reads_the_job_pages_schedule_in_czech(
        client, login, session, workspace):
    job = make_job(session, workspace.user, workspace.folder, schedule_kind="daily",
                   schedule={"time": "06:30"}, time_zone="Europe/Prague")
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}")

    assert "Denně v 06:30 (Europe/Prague)" in page.text
    assert "Daily at" not in page.text


def test_the_czech_editor_names_the_days_of_the_week_in_czech(client, login, session, workspace):
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/new/{workspace.folder.id}")

    assert page.status_code == 200
    assert "pondělí" in page.text and "neděle" in page.text
    assert "Monday" not in page.text


def test_the_preview_of_a_manual_schedule_says_so(client, login, workspace):
    login(workspace.user)

    response = client.get(PREVIEW, query_string=preview_args(schedule_kind="manual"))

    assert "Manually" in response.text and "No scheduled runs" in response.text


BAD_SCHEDULES = [
    ({"schedule_time": "7.30"}, "schedule_time", "Give the time as HH:MM, for example 07:30."),
    ({"schedule_weekdays": []}, "schedule_weekdays", "Pick at least one day of the week."),
    ({"schedule_weekdays": ["9"]}, "schedule_weekdays", "is not a valid choice"),
    ({"schedule_kind": "hourly", "schedule_minute": "75"}, "schedule_minute",
     "Give a minute from 0 to 59."),
    ({"schedule_kind": "hourly", "schedule_minute": "soon"}, "schedule_minute",
     "Give a minute from 0 to 59."),
    ({"schedule_kind": "hourly", "schedule_minute": "99999999999999999999"}, "schedule_minute",
     "Give a minute from 0 to 59."),
    ({"schedule_kind": "monthly", "schedule_day": "32"}, "schedule_day",
     "Give a day of the month from 1 to 31."),
    ({"schedule_kind": "cron", "schedule_cron": "61 * * * *"}, "schedule_cron",
     "not a valid cron expression"),
    ({"schedule_kind": "daily", "schedule_time": "02:30"}, "schedule_time",
     "does not exist in Europe/Prague"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone from the list."),
    ({"schedule_kind": "yearly"}, "schedule_kind", "Not a valid choice"),
]


@pytest.mark.parametrize("overrides, field, message", BAD_SCHEDULES)
def test_bad_schedule_input_previews_the_editors_own_message(client, login, submit, workspace,
                                                            overrides, field, message):
    login(workspace.user)

    preview = client.get(PREVIEW, query_string=preview_args(**overrides))
    editor = submit(f"/jobs/new/{workspace.folder.id}", editor_data(
        workspace, **{**preview_args(**overrides), "preview": "1"}))

    assert preview.status_code == 200
    assert f'data-field="{field}"' in preview.text and message in preview.text
    assert editor.status_code == 422 and message in editor.text


def test_the_preview_is_for_logged_in_users_only(client):
    response = client.get(PREVIEW, query_string=preview_args())

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_editor_loads_the_preview_script_and_shows_the_current_schedule(client, login, workspace):
    login(workspace.user)

    new = client.get(f"/jobs/new/{workspace.folder.id}").text
    edit = client.get(f"/jobs/{workspace.job.id}/edit").text

    assert 'src="/static/js/schedule-preview.js"' in new
    assert f'data-preview-url="{PREVIEW}"' in new and "Manually" in new
    assert "schedule-preview-words" in edit


@pytest.mark.parametrize(
    "args, shown",
    [({}, "Choose a time zone from the list."),
     ({"schedule_kind": "cron", "schedule_cron": "0 0 31 2 *", "time_zone": "UTC"},
      "That cron expression never runs."),
     ({"schedule_kind": "cron", "schedule_cron": "* * * * * * *", "time_zone": "UTC"},
      "not a valid cron expression"),
     ({"schedule_kind": ["daily", "weekly"], "schedule_time": "25:00", "time_zone": "UTC"},
      "Give the time as HH:MM"),
     ({"schedule_kind": "daily", "time_zone": "../../etc/passwd"}, "Choose a time zone"),
     ({"schedule_kind": "monthly", "schedule_day": "-5", "time_zone": "UTC"},
      "Give a day of the month from 1 to 31.")],
)
def test_odd_preview_requests_are_answered_never_with_a_500(client, login, workspace, args, shown):
    login(workspace.user)

    response = client.get(PREVIEW, query_string=args)

    assert response.status_code == 200
    assert shown in response.text
