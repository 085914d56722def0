"""One naming rule for every named thing: unique regardless of case within its scope.

The database holds the rule (a unique index on lower(name)); lib's friendly checks only word
the refusal, and a clash that slips past them still comes back as the domain error.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from ppc_robot.lib.clients import ClientError, save_client
from ppc_robot.lib.folders import FolderError, create_folder, move_folder, rename_folder
from ppc_robot.lib.jobs import (
    DefinitionSettings,
    JobError,
    JobSettings,
    detach_job,
    duplicate_job,
    save_job,
)
from ppc_robot.lib.models import Client, ClientAccountTag, Folder, JobDefinition, Tag, utcnow
from ppc_robot.lib.reports import get_report_type
from ppc_robot.lib.tags import TagError, create_tag
from ppc_robot.web.membership.plans import PlanError, save_plan
from ppc_robot.web.models import Plan
from tests.factories import make_definition, make_folder, make_job, make_plan


def test_a_client_name_differing_only_in_case_is_refused(session, workspace):
    with pytest.raises(ClientError, match="already have a client called"):
        save_client(session, Client(user_id=workspace.user.id), name="  ACME ", currency="EUR")


def test_renaming_a_client_to_another_ones_name_in_other_case_is_refused(session, workspace):
    other = save_client(session, Client(user_id=workspace.user.id), name="Beta", currency="EUR")

    with pytest.raises(ClientError, match="already have a client called"):
        save_client(session, other, name="acme", currency="EUR")


def test_a_folder_name_differing_only_in_case_is_refused_beside_its_siblings(session, workspace):
    with pytest.raises(FolderError, match="already exists here"):
        create_folder(session, workspace.root, "clients")

    assert create_folder(session, workspace.folder, "clients").id  # another parent: fine


def test_renaming_or_moving_a_folder_onto_a_sibling_name_in_other_case_is_refused(
        session, workspace):
    other = make_folder(session, workspace.root, "Suppliers")
    acme = make_folder(session, workspace.root, "ACME")

    with pytest.raises(FolderError, match="already exists here"):
        rename_folder(session, other, "CLIENTS")
    with pytest.raises(FolderError, match="already exists here"):
        move_folder(session, acme, workspace.folder)  # it holds "Acme"


@pytest.mark.parametrize("model", [Tag, ClientAccountTag])
def test_tag_names_are_unique_regardless_of_case(session, workspace, model):
    create_tag(session, model, workspace.user, "Brand")

    with pytest.raises(TagError, match="already exists"):
        create_tag(session, model, workspace.user, "bRAND")


def test_a_plan_name_differing_only_in_case_is_refused(session):
    make_plan(session, name="Agency")

    with pytest.raises(PlanError, match="already exists"):
        save_plan(session, None, name="agency", max_jobs=None, max_client_accounts=None,
                  min_schedule_interval_minutes=60, allows_slack=True, max_invites=0,
                  is_default=False)


def test_renaming_a_plan_onto_another_name_is_refused_and_leaves_both_as_they_were(session):
    make_plan(session, name="Agency")
    team = make_plan(session, name="Team")

    with pytest.raises(PlanError, match="already exists"):
        save_plan(session, team, name="AGENCY")
    session.flush()  # the refused change is not left waiting in the session

    assert sorted(session.scalars(select(Plan.name))) == ["Agency", "Team"]


def _settings(workspace, name="Report", **overrides):
    return JobSettings(name=name, folder=workspace.root,
                       client_accounts=[workspace.client_account], **overrides)


def _definition(name=""):
    return DefinitionSettings(task_type="performance",
                              parameters=get_report_type("performance").default_parameters(),
                              name=name)


def test_a_typed_definition_name_taken_in_other_case_is_refused_on_its_field(session, workspace):
    save_job(session, workspace.user, _settings(workspace), definition_settings=_definition("Weekly"))

    with pytest.raises(JobError, match="definition called “weekly” already exists") as refused:
        save_job(session, workspace.user, _settings(workspace, "Other"),
                 definition_settings=_definition("weekly"))

    assert refused.value.field == "definition_name"


def test_definitions_named_after_their_jobs_get_a_free_name(session, workspace):
    first = save_job(session, workspace.user, _settings(workspace), definition_settings=_definition())
    second = save_job(session, workspace.user, _settings(workspace), definition_settings=_definition())
    copy = duplicate_job(session, second)

    names = [session.get(JobDefinition, job.definition_id).name for job in (first, second, copy)]

    assert names == ["Report", "Report (2)", "Report (copy)"]


def test_detaching_twice_from_one_definition_names_the_copies_apart(session, workspace):
    shared = make_definition(session, workspace.user, name="Shared")
    jobs = [make_job(session, workspace.user, name="Same", definition=shared) for _ in range(3)]

    copies = [detach_job(session, jobs[0]).name, detach_job(session, jobs[1]).name]

    assert copies == ["Same (own copy)", "Same (own copy) (2)"]


@pytest.mark.parametrize(("table", "values"), [
    ("robot_tags", lambda ws: Tag(user_id=ws.user.id, name=ws.tag.name.upper())),
    ("robot_client_account_tags", lambda ws: ClientAccountTag(user_id=ws.user.id, name="E-SHOP")),
    ("robot_clients", lambda ws: Client(user_id=ws.user.id, name="acme")),
    ("robot_folders", lambda ws: Folder(user_id=ws.user.id, parent_id=ws.folder.id, name="ACME")),
    ("robot_job_definitions", lambda ws: JobDefinition(
        user_id=ws.user.id, name=ws.definition.name.upper(), task_type="performance")),
    ("web_plans", lambda ws: Plan(name=ws.plan.name.lower())),
])
def test_the_database_refuses_a_name_in_other_case_whatever_lib_checks(session, workspace, table,
                                                                       values):
    workspace.definition.name = "Shared one"
    session.flush()
    session.add(values(workspace))

    with pytest.raises(IntegrityError):
        session.flush()



@contextmanager
def a_competitor_inserts_first(session, table, **row):
    """Another request's row lands between lib's friendly check and its flush."""

    def insert_first(flushing, _context, _instances):
        flushing.connection().execute(table.insert().values(**row))

    event.listen(session, "before_flush", insert_first, once=True)
    try:
        yield
    finally:
        if event.contains(session, "before_flush", insert_first):
            event.remove(session, "before_flush", insert_first)


def test_a_plan_name_taken_between_the_check_and_the_save_is_still_refused(session):
    competitor = {"name": "Agency", "max_invites": 0, "min_schedule_interval_minutes": 60,
                  "allows_slack": True, "is_default": False, "created_at": utcnow()}

    with (a_competitor_inserts_first(session, Plan.__table__, **competitor),
          pytest.raises(PlanError, match="already exists")):
        save_plan(session, None, name="AGENCY", max_jobs=None, max_client_accounts=None,
                  min_schedule_interval_minutes=60, allows_slack=True, max_invites=0,
                  is_default=False)

    session.flush()  # the session survives, without the refused plan
    assert "AGENCY" not in set(session.scalars(select(Plan.name)))


def test_a_folder_name_taken_between_the_check_and_the_save_is_still_refused(session, workspace):
    competitor = {"user_id": workspace.user.id, "parent_id": workspace.root.id, "name": "Leads",
                  "created_at": utcnow()}

    with (a_competitor_inserts_first(session, Folder.__table__, **competitor),
          pytest.raises(FolderError, match="already exists here")):
        create_folder(session, workspace.root, "LEADS")

    session.flush()
    names = session.scalars(select(Folder.name).where(Folder.parent_id == workspace.root.id))
    assert "LEADS" not in set(names)
