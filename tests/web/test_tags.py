from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models import ClientAccountTag, Tag, client_accounts_tags, jobs_tags
from tests.factories import make_tag


def fresh(session):
    session.rollback()
    session.expire_all()


def test_tags_page_shows_both_kinds_with_usage_counts_linking_to_filtered_lists(client, login, workspace, other_workspace):
    login(workspace.user)

    page = client.get("/tags/")

    assert workspace.tag.name in page.text and "1 job</a>" in page.text
    assert f"/folders/{workspace.root.id}/all?tag={workspace.tag.id}" in page.text
    assert "e-shop" in page.text and "1 account</a>" in page.text
    assert f"/tags/accounts/{workspace.client_account_tag.id}" in page.text
    assert other_workspace.tag.name not in page.text
    accounts = client.get(f"/tags/accounts/{workspace.client_account_tag.id}")
    assert workspace.client_account.name in accounts.text


@pytest.mark.parametrize("url", ["/tags/new", "/tags/accounts/new"])
def test_creating_tags_of_both_kinds(client, login, submit, session, workspace, url):
    login(workspace.user)

    response = submit(url, {"name": "  Black Friday ", "colour": "#FF0000"})

    assert response.status_code == 302
    model = Tag if url == "/tags/new" else ClientAccountTag
    tag = session.scalar(select(model).where(model.name == "Black Friday"))
    assert tag.colour == "#ff0000" and tag.user_id == workspace.user.id


@pytest.mark.parametrize(
    "data, message",
    [({"name": "", "colour": "#000000"}, "Give the tag a name."),
     ({"name": "Clash", "colour": "#000000"}, "A tag called “Clash” already exists."),
     ({"name": "clash", "colour": "#000000"}, "A tag called “clash” already exists."),
     ({"name": "Fine", "colour": "red"}, "Give the colour as #rrggbb.")],
)
def test_bad_tag_input_is_explained_and_kept(client, login, submit, session, workspace, data, message):
    make_tag(session, workspace.user, name="Clash")
    session.commit()
    login(workspace.user)
    before = session.scalar(select(func.count()).select_from(Tag))

    response = submit(f"/tags/{workspace.tag.id}/edit", data)

    assert response.status_code == 422
    assert message in response.text
    if data["name"]:
        assert f'value="{data["name"]}"' in response.text
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Tag)) == before
    assert session.get(Tag, workspace.tag.id).name == workspace.tag.name


def test_a_czech_user_reads_a_tag_name_clash_in_czech(client, login, submit, session, workspace):
    make_tag(session, workspace.user, name="Clash")
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    response = submit(f"/tags/{workspace.tag.id}/edit", {"name": "clash", "colour": "#000000"})

    assert response.status_code == 422
    assert "Štítek s názvem „clash“ už existuje." in response.text


def test_renaming_and_recolouring(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/tags/accounts/{workspace.client_account_tag.id}/edit",
                      {"name": "Lead gen", "colour": "#123456"})

    assert response.status_code == 302
    fresh(session)
    tag = session.get(ClientAccountTag, workspace.client_account_tag.id)
    assert (tag.name, tag.colour) == ("Lead gen", "#123456")


def test_deleting_detaches_the_tag_everywhere(client, login, submit, session, workspace, other_workspace):
    login(workspace.user)
    tag_id, account_tag_id = workspace.tag.id, workspace.client_account_tag.id

    job_tag = submit(f"/tags/{tag_id}/delete", {})
    account_tag = submit(f"/tags/accounts/{account_tag_id}/delete", {})

    assert job_tag.status_code == 302 and account_tag.status_code == 302
    fresh(session)
    assert session.scalar(select(Tag.id).where(Tag.id == tag_id)) is None
    assert session.scalar(select(jobs_tags.c.job_id).where(jobs_tags.c.tag_id == tag_id)) is None
    assert session.scalar(select(client_accounts_tags.c.client_account_id).where(
        client_accounts_tags.c.tag_id == account_tag_id)) is None
    assert session.get(Tag, other_workspace.tag.id) is not None
    assert session.get(ClientAccountTag, other_workspace.client_account_tag.id) is not None
