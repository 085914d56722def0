from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models import Job, JobDefinition, ScheduleKind
from tests.factories import make_job


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


@pytest.mark.parametrize("field", ["folder_id", "definition_id", "client_account_ids", "tag_ids"])
def test_another_users_id_in_an_editor_field_is_404(client, login, submit, session, workspace,
                                                    other_workspace, field):
    login(workspace.user)
    theirs = {
        "folder_id": other_workspace.folder.id,
        "definition_id": other_workspace.definition.id,
        "client_account_ids": [workspace.client_account.id, other_workspace.client_account.id],
        "tag_ids": [other_workspace.tag.id],
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

    assert len(jobs) == 4
    assert all(page.status_code == 200 for page in pages)
    assert "(version 1)" in pages[0].text  # stored as saved, shown upgraded
    weekly = next(job for job in jobs if "weekly" in job.name)
    assert "client_account" in client.get(f"/jobs/{weekly.id}").text
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
