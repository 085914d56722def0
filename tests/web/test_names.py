"""A name taken in any case is refused beside its field, with what was typed kept (no 500)."""

from __future__ import annotations

import pytest

from ppc_robot.web.models import Plan
from tests.factories import make_folder, make_plan, make_user
from tests.web.test_jobs import editor_data


@pytest.fixture
def admin(session):
    admin = make_user(session, is_admin=True, email="root@example.test")
    session.commit()
    return admin


PLAN = {"max_invites": 0, "min_schedule_interval_minutes": 60}


def test_a_new_plan_with_a_taken_name_is_refused_on_the_field(session, login, submit, admin):
    make_plan(session, name="Agency")
    session.commit()
    login(admin)

    response = submit("/admin/plans/new", {"name": "agency", **PLAN, "max_jobs": 7})

    assert response.status_code == 422
    assert "A plan called “agency” already exists." in response.text
    assert 'value="agency"' in response.text and 'value="7"' in response.text


def test_renaming_a_plan_onto_a_taken_name_is_refused_on_the_field(session, login, submit, admin):
    make_plan(session, name="Agency")
    team = make_plan(session, name="Team")
    session.commit()
    login(admin)

    response = submit(f"/admin/plans/{team.id}", {"name": "Agency", **PLAN})

    assert response.status_code == 422
    assert "A plan called “Agency” already exists." in response.text
    session.expire_all()
    assert session.get(Plan, team.id).name == "Team"


def test_a_client_name_in_other_case_is_refused_on_the_field(session, login, submit, workspace):
    login(workspace.user)

    response = submit("/clients/new", {"name": "acme", "currency": "EUR"})

    assert response.status_code == 422
    assert "You already have a client called “acme”." in response.text
    assert 'value="acme"' in response.text


def test_a_folder_rename_onto_a_sibling_in_other_case_is_refused_on_the_field(
        session, login, submit, workspace):
    other = make_folder(session, workspace.root, "Suppliers")
    session.commit()
    login(workspace.user)

    response = submit(f"/folders/{other.id}/rename", {"name": "CLIENTS"})

    assert response.status_code == 422
    assert "A folder called “CLIENTS” already exists here." in response.text
    assert 'value="CLIENTS"' in response.text


def test_a_typed_definition_name_taken_in_other_case_is_refused_beside_its_field(
        session, login, submit, workspace):
    workspace.definition.name = "Weekly performance"
    session.commit()
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, definition_name="weekly PERFORMANCE"))

    assert response.status_code == 422
    assert "A definition called “weekly PERFORMANCE” already exists" in response.text
    assert 'value="weekly PERFORMANCE"' in response.text
