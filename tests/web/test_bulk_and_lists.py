"""The folder browser's job lists (folder, everything below, search) and bulk actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import Job, jobs_tags
from tests.conftest import csrf_token_from
from tests.factories import make_folder, make_job, make_tag


def fresh(session):
    session.rollback()
    session.expire_all()


def post_bulk(client, folder_id, data):
    token = csrf_token_from(client.get(f"/folders/{folder_id}").text)
    return client.post("/jobs/bulk", data={"csrf_token": token, "next": f"/folders/{folder_id}", **data})


def test_folder_page_lists_jobs_with_their_details(client, login, session, workspace):
    login(workspace.user)

    page = client.get(f"/folders/{workspace.subfolder.id}")

    assert workspace.job.name in page.text
    assert "Performance report" in page.text
    assert "Manually" in page.text
    assert f'name="job_ids" value="{workspace.job.id}"' in page.text
    assert "Everything below" in page.text


def test_filter_by_tag_shows_only_tagged_jobs(client, login, session, workspace):
    untagged = make_job(session, workspace.user, workspace.subfolder, name="Untagged one")
    session.commit()
    login(workspace.user)

    page = client.get(f"/folders/{workspace.subfolder.id}?tag={workspace.tag.id}")

    assert workspace.job.name in page.text
    assert untagged.name not in page.text
    # The filter shows the tag it applies; the bulk bar offers every tag, none preselected.
    assert page.text.count(f'<option value="{workspace.tag.id}" selected>') == 1
    assert page.text.count(f'<option value="{workspace.tag.id}">') == 1


def test_tag_names_are_escaped_in_the_pickers(client, login, session, workspace):
    make_tag(session, workspace.user, name="<b>bold</b> & co")
    session.commit()
    login(workspace.user)

    page = client.get(f"/folders/{workspace.subfolder.id}")

    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co</option>" in page.text
    assert "<b>bold</b>" not in page.text


def test_filter_by_another_users_tag_is_404(client, login, workspace, other_workspace):
    login(workspace.user)

    assert client.get(f"/folders/{workspace.subfolder.id}?tag={other_workspace.tag.id}").status_code == 404
    assert client.get(f"/folders/{workspace.root.id}/all?tag={other_workspace.tag.id}").status_code == 404


def test_everything_below_lists_jobs_of_the_whole_subtree_with_paths(client, login, session, workspace):
    deep = make_folder(session, workspace.subfolder, "Deep")
    make_job(session, workspace.user, deep, name="Deep job")
    make_job(session, workspace.user, workspace.root, name="Top job")
    session.commit()
    login(workspace.user)

    page = client.get(f"/folders/{workspace.folder.id}/all")

    assert "Deep job" in page.text and workspace.job.name in page.text
    assert "Top job" not in page.text
    assert "Home / Clients / Acme / Deep" in page.text


def test_search_finds_jobs_anywhere_with_their_folder_path_and_only_mine(client, login, session, workspace, other_workspace):
    deep = make_folder(session, workspace.subfolder, "Deep")
    make_job(session, workspace.user, deep, name="Garden weekly 50%")
    make_job(session, other_workspace.user, other_workspace.folder, name="Garden theirs")
    session.commit()
    login(workspace.user)

    page = client.get("/folders/search?q=garden")
    literal = client.get("/folders/search?q=50%25")
    wildcard = client.get("/folders/search?q=5_%25")

    assert "Garden weekly 50%" in page.text and "Home / Clients / Acme / Deep" in page.text
    assert "Garden theirs" not in page.text
    assert "Garden weekly 50%" in literal.text
    assert "Garden weekly" not in wildcard.text


def test_pagination_splits_a_large_folder(client, login, session, workspace):
    for n in range(55):
        make_job(session, workspace.user, workspace.folder, name=f"Bulk {n:03d}")
    session.commit()
    login(workspace.user)

    first = client.get(f"/folders/{workspace.folder.id}")
    second = client.get(f"/folders/{workspace.folder.id}?page=2")

    assert first.text.count("data-job-id=") == 50
    assert second.text.count("data-job-id=") == 5
    assert "Page 2 of 2" in second.text


def test_search_pages_on_without_counting_and_gives_the_total_on_its_last_page(client, login, session, workspace):
    for n in range(60):
        make_job(session, workspace.user, workspace.folder, name=f"Weekly {n:03d}")
    session.commit()
    login(workspace.user)

    first = client.get("/folders/search?q=weekly")
    second = client.get("/folders/search?q=weekly&page=2")
    stale = client.get("/folders/search?q=weekly&page=9")

    assert first.text.count("data-job-id=") == 50
    assert "More than 50 jobs whose name contains “weekly”" in first.text
    assert "Page 1</span>" in first.text and 'href="/folders/search?page=2&amp;q=weekly"' in first.text
    assert second.text.count("data-job-id=") == 10
    assert "60 jobs whose name contains “weekly”." in second.text and "Page 2 of 2" in second.text
    assert stale.status_code == 200 and "Page 2 of 2" in stale.text


def test_list_pages_make_the_same_number_of_queries_at_10_and_at_100_jobs(client, login, session, workspace, count_queries):
    tags = [make_tag(session, workspace.user) for _ in range(3)]
    login(workspace.user)
    urls = [f"/folders/{workspace.folder.id}", f"/folders/{workspace.root.id}/all",
            "/folders/search?q=job", f"/folders/{workspace.root.id}/all?tag={tags[1].id}"]

    def add_jobs(start, stop):
        for n in range(start, stop):
            make_job(session, workspace.user, workspace.folder, name=f"Job {n}", tags=tags[: n % 4])
        session.commit()

    def measure():
        counts = {}
        for url in urls:
            with count_queries() as counter:
                page = client.get(url)
            assert page.status_code == 200
            counts[url] = counter.count
        return counts

    add_jobs(0, 10)
    at_10 = measure()
    add_jobs(10, 100)
    at_100 = measure()

    assert at_100 == at_10
    assert max(at_100.values()) <= 12


def test_bulk_move_tag_untag_disable_enable(client, login, session, workspace):
    second = make_job(session, workspace.user, workspace.subfolder, name="Second")
    target = make_folder(session, workspace.root, "Target")
    tag = make_tag(session, workspace.user)
    session.commit()
    login(workspace.user)
    ids = [workspace.job.id, second.id]

    tagged = post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "tag", "tag_id": tag.id})
    disabled = post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "disable"})
    picker = post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "move"})
    moved = post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "move", "target_id": target.id})

    assert [r.status_code for r in (tagged, disabled, moved)] == [302, 302, 302]
    assert picker.status_code == 200 and "Move into" in picker.text
    fresh(session)
    jobs = session.scalars(select(Job).where(Job.id.in_(ids))).all()
    assert {j.folder_id for j in jobs} == {target.id}
    assert all(tag in j.tags for j in jobs)
    assert not any(j.is_enabled for j in jobs) and all(j.next_run_at is None for j in jobs)

    untagged = post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "untag", "tag_id": tag.id})
    assert untagged.status_code == 302
    fresh(session)
    assert session.scalar(select(jobs_tags.c.job_id).where(jobs_tags.c.tag_id == tag.id)) is None


def test_bulk_without_jobs_or_tag_is_explained(client, login, session, workspace):
    login(workspace.user)

    nothing = post_bulk(client, workspace.subfolder.id, {"action": "enable"})
    no_tag = post_bulk(client, workspace.subfolder.id, {"job_ids": [workspace.job.id], "action": "tag"})

    assert nothing.status_code == 422 and "Select at least one job." in nothing.text
    assert no_tag.status_code == 422 and "Choose a tag." in no_tag.text


@pytest.mark.parametrize("field", ["job_ids", "tag_id", "target_id"])
def test_another_users_id_in_a_bulk_form_is_404_and_changes_nothing(client, login, session, workspace, other_workspace, field):
    login(workspace.user)
    data = {"job_ids": [workspace.job.id], "action": "tag", "tag_id": workspace.tag.id}
    if field == "job_ids":
        data["job_ids"] = [workspace.job.id, other_workspace.job.id]
    elif field == "tag_id":
        data["tag_id"] = other_workspace.tag.id
    else:
        data.update(action="move", target_id=other_workspace.folder.id)
    before = session.execute(select(Job.id, Job.folder_id).order_by(Job.id)).all()
    before_tags = session.execute(select(jobs_tags).order_by(jobs_tags.c.job_id)).all()

    response = post_bulk(client, workspace.subfolder.id, data)

    assert response.status_code == 404
    fresh(session)
    assert session.execute(select(Job.id, Job.folder_id).order_by(Job.id)).all() == before
    assert session.execute(select(jobs_tags).order_by(jobs_tags.c.job_id)).all() == before_tags


def test_bulk_refuses_a_foreign_next_url(client, login, session, workspace):
    login(workspace.user)
    token = csrf_token_from(client.get(f"/folders/{workspace.subfolder.id}").text)

    response = client.post("/jobs/bulk", data={"csrf_token": token, "job_ids": [workspace.job.id],
                                               "action": "enable", "next": "//evil.example/"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/folders/"


def test_definitions_page_lists_each_definition_with_its_jobs(client, login, session, workspace, other_workspace):
    sharing = make_job(session, workspace.user, workspace.folder, name="Sharing one",
                       definition=workspace.definition)
    session.commit()
    login(workspace.user)

    page = client.get("/definitions/")

    assert "shared by 2 jobs" in page.text
    assert workspace.job.name in page.text and sharing.name in page.text
    assert other_workspace.job.name not in page.text


@pytest.mark.parametrize(("locale", "tagged_text", "disabled_text"), [
    ("en", "2 jobs tagged “vip”.", "2 jobs disabled."),
    ("cs", "2 úlohy označeny štítkem „vip“.", "2 úlohy vypnuty."),
])
def test_bulk_messages_count_the_jobs_in_the_readers_language(client, login, session, workspace,
                                                              locale, tagged_text, disabled_text):
    workspace.user.locale = locale
    second = make_job(session, workspace.user, workspace.subfolder, name="Second")
    tag = make_tag(session, workspace.user, name="vip")
    session.commit()
    login(workspace.user)
    ids = [workspace.job.id, second.id]

    post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "tag", "tag_id": tag.id})
    tagged = client.get(f"/folders/{workspace.subfolder.id}").text
    post_bulk(client, workspace.subfolder.id, {"job_ids": ids, "action": "disable"})
    disabled = client.get(f"/folders/{workspace.subfolder.id}").text

    assert tagged_text in tagged and disabled_text in disabled
