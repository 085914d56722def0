from __future__ import annotations

import pytest
from sqlalchemy import select

from ppc_robot.lib.folders import create_folder
from ppc_robot.lib.models import Folder, FolderPath, Job
from tests.factories import make_job


def tree_snapshot(session):
    session.expire_all()
    folders = session.execute(select(Folder.id, Folder.parent_id, Folder.name).order_by(Folder.id)).all()
    paths = session.execute(select(FolderPath.ancestor_id, FolderPath.descendant_id, FolderPath.depth).order_by(FolderPath.ancestor_id, FolderPath.descendant_id)).all()
    return folders, paths


def test_folder_page_shows_breadcrumbs_subfolders_and_jobs(client, login, workspace):
    login(workspace.user)

    page = client.get(f"/folders/{workspace.subfolder.id}")

    assert page.status_code == 200
    assert 'class="breadcrumb"' in page.text
    assert ">Home</a>" in page.text and ">Clients</a>" in page.text
    assert workspace.job.name in page.text
    assert workspace.tag.name in page.text


def test_creating_a_folder(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/folders/{workspace.folder.id}/new", {"name": "  Garden Centre "})

    assert response.status_code == 302
    created = session.scalar(select(Folder).where(Folder.name == "Garden Centre"))
    assert created.parent_id == workspace.folder.id
    assert response.headers["Location"] == f"/folders/{created.id}"


@pytest.mark.parametrize(
    "name, message",
    [("", "Give the folder a name."), ("x" * 101, "Field cannot be longer than 100 characters."),
     ("Acme", "A folder called “Acme” already exists here.")],
)
def test_bad_folder_names_are_explained_beside_the_field(client, login, submit, session, workspace, name, message):
    login(workspace.user)
    before = tree_snapshot(session)

    response = submit(f"/folders/{workspace.folder.id}/new", {"name": name})

    assert response.status_code == 422
    assert message in response.text
    assert "invalid-feedback" in response.text
    if name:
        assert f'value="{name}"' in response.text
    assert tree_snapshot(session) == before


def test_renaming_to_a_sibling_name_is_refused(client, login, submit, session, workspace):
    other = create_folder(session, workspace.folder, "Other")
    session.commit()
    login(workspace.user)

    response = submit(f"/folders/{other.id}/rename", {"name": "Acme"})

    assert response.status_code == 422
    assert "already exists here" in response.text
    session.refresh(other)
    assert other.name == "Other"


def test_moving_a_folder_into_its_own_subfolder_is_refused_on_the_form(client, login, submit, session, workspace):
    login(workspace.user)
    before = tree_snapshot(session)

    response = submit(f"/folders/{workspace.folder.id}/move", {"target_id": workspace.subfolder.id})

    assert response.status_code == 422
    assert "cannot be moved into itself or one of its sub-folders" in response.text
    assert tree_snapshot(session) == before


def test_moving_a_folder(client, login, submit, session, workspace):
    target = create_folder(session, workspace.root, "Archive")
    session.commit()
    login(workspace.user)

    response = submit(f"/folders/{workspace.subfolder.id}/move", {"target_id": target.id})

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Folder, workspace.subfolder.id).parent_id == target.id


def test_moving_into_another_users_folder_is_404(client, login, submit, session, workspace, other_workspace):
    login(workspace.user)
    before = tree_snapshot(session)

    response = submit(f"/folders/{workspace.subfolder.id}/move", {"target_id": other_workspace.folder.id})

    assert response.status_code == 404
    assert tree_snapshot(session) == before


def test_the_move_picker_disables_the_folders_own_subtree(client, login, workspace):
    login(workspace.user)

    page = client.get(f"/folders/{workspace.folder.id}/move")

    assert f'<option disabled value="{workspace.subfolder.id}"' in page.text
    assert f'<option value="{workspace.root.id}"' in page.text


def test_deleting_a_folder_with_contents_needs_the_move_up_choice(client, login, submit, session, workspace):
    login(workspace.user)
    doomed_id, parent_id, job_id = workspace.subfolder.id, workspace.folder.id, workspace.job.id

    refused = submit(f"/folders/{doomed_id}/delete", {})
    accepted = submit(f"/folders/{doomed_id}/delete", {"move_contents_up": "y"})

    assert refused.status_code == 422
    assert "is not empty" in refused.text
    assert accepted.status_code == 302
    session.expire_all()
    assert session.get(Folder, doomed_id) is None
    assert session.get(Job, job_id).folder_id == parent_id


def test_the_root_folder_cannot_be_deleted(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/folders/{workspace.root.id}/delete", {"move_contents_up": "y"})

    assert response.status_code == 422
    assert "The top folder cannot be deleted." in response.text


def test_empty_folder_shows_what_to_do_next(client, login, session, workspace):
    empty = create_folder(session, workspace.root, "Empty")
    session.commit()
    login(workspace.user)

    page = client.get(f"/folders/{empty.id}")

    assert "This folder is empty" in page.text


def test_folder_page_query_count_does_not_grow_with_jobs(client, login, session, workspace, count_queries):
    login(workspace.user)
    url = f"/folders/{workspace.subfolder.id}"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for _ in range(30):
        make_job(session, workspace.user, workspace.subfolder, tags=[workspace.tag])
    session.commit()

    with count_queries() as many:
        page = client.get(url)

    assert page.text.count("data-job-id=") == 31
    assert many.count == few.count


def test_a_czech_user_reads_the_name_clash_and_the_schedules_in_czech(client, login, submit, session, workspace):
    make_job(session, workspace.user, workspace.folder, schedule_kind="weekly",
             schedule={"weekdays": [0, 2], "time": "06:30"}, time_zone="Europe/Prague")
    make_job(session, workspace.user, workspace.folder, schedule_kind="daily",
             schedule={"time": "07:00"}, time_zone="Europe/Prague")
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    listed = client.get(f"/folders/{workspace.folder.id}")
    refused = submit(f"/folders/{workspace.folder.id}/new", {"name": "Acme"})

    assert "Každý týden (pondělí a středa) v 06:30 (Europe/Prague)" in listed.text
    assert "Denně v 07:00 (Europe/Prague)" in listed.text
    assert refused.status_code == 422
    assert "Složka s názvem „Acme“ tu už existuje." in refused.text


def test_an_english_user_keeps_the_english_schedule_words(client, login, session, workspace):
    make_job(session, workspace.user, workspace.folder, schedule_kind="weekly",
             schedule={"weekdays": [0, 2], "time": "06:30"}, time_zone="Europe/Prague")
    session.commit()
    login(workspace.user)

    listed = client.get(f"/folders/{workspace.folder.id}")

    assert "Weekly on Monday and Wednesday at 06:30 (Europe/Prague)" in listed.text
