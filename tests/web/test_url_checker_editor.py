"""The job editor offers the URL checker: phrases prefilled, refusals beside the fields."""

from __future__ import annotations

from sqlalchemy import select

from ppc_robot.lib.models import Job


def checker_data(workspace, **params):
    return {"name": "Landing pages", "folder_id": workspace.folder.id,
            "task_type": "url_checker", "definition_id": 0, "output_type": "xlsx",
            "output_path": "{job} {date}", "client_account_ids": [workspace.client_account.id],
            "schedule_kind": "manual", "time_zone": "UTC",
            **{f"params-{k}": v for k, v in params.items()}}


def test_the_editor_offers_the_url_checker_with_its_phrases_prefilled(client, login, workspace):
    login(workspace.user)

    page = client.get(f"/jobs/new/{workspace.folder.id}?type=url_checker")

    assert "Soft-404 phrases" in page.text and "Stránka nenalezena" in page.text
    assert "Text to monitor" in page.text and "Sitelinks" in page.text
    # how the pages are requested, which the phrases and the text to monitor change
    assert "pages are then read with GET" in page.text
    assert "each URL gets a HEAD request first, and a GET only when HEAD is refused" in page.text


def test_bad_parameters_are_refused_beside_their_fields(client, login, submit, workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=url_checker"

    no_entities = submit(url, checker_data(workspace, total_timeout="500"))

    assert no_entities.status_code == 422
    assert "Pick at least one kind of landing page." in no_entities.text
    assert "a number of seconds" in no_entities.text


def test_the_parameters_are_saved_with_an_empty_phrase_list_and_regex_text(
        client, login, submit, session, workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=url_checker"

    saved = submit(url, checker_data(workspace, entities=["ad", "sitelink"], soft_404_phrases="",
                                     monitor_text=" Price (USD) [new]* ", total_timeout="20"))

    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Landing pages"))
    assert job.definition.parameters == {
        "entities": ["ad", "sitelink"], "include_paused": False, "soft_404_phrases": "",
        "monitor_text": "Price (USD) [new]*", "connect_timeout": 10, "total_timeout": 20,
        "notify_redirects": False}
