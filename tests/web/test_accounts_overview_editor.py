"""The job editor offers the accounts overview and saves its parameters."""

from __future__ import annotations

from sqlalchemy import select

from ppc_robot.lib.models import Job


def overview_data(workspace, **params):
    return {"name": "Morning overview", "folder_id": workspace.folder.id,
            "task_type": "accounts_overview", "definition_id": 0, "output_type": "xlsx",
            "output_path": "{job} {date}", "client_account_ids": [workspace.client_account.id],
            "schedule_kind": "manual", "time_zone": "UTC",
            **{f"params-{k}": v for k, v in params.items()}}


def test_the_editor_offers_the_accounts_overview_and_saves_its_parameters(
        client, login, submit, session, workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=accounts_overview"

    page = client.get(url)
    listing = client.get(f"/jobs/new/{workspace.folder.id}")
    refused = submit(url, overview_data(workspace, notifications="y", target_days="0"))
    saved = submit(url, overview_data(workspace, notifications="y", target_days="5"))

    assert "Accounts overview" in listing.text
    assert "Raise budget and target notifications" in page.text
    assert refused.status_code == 422 and "Give a number of days" in refused.text
    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Morning overview"))
    assert job.definition.task_type == "accounts_overview"
    assert job.definition.parameters == {"notifications": True, "target_days": 5,
                                         "reporting_currency": ""}
