from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.folders import delete_folder
from ppc_robot.lib.jobs import (
    DefinitionSettings,
    JobError,
    JobSettings,
    accounts_of_job,
    clean_output_path,
    client_choices,
    definitions_with_jobs,
    delete_job,
    detach_job,
    duplicate_job,
    folder_jobs,
    jobs_below,
    jobs_of_user,
    login_choices,
    move_jobs,
    save_job,
    search_jobs,
    set_jobs_enabled,
    tag_jobs,
    untag_jobs,
)
from ppc_robot.lib.models import (
    ClientAccountStatus,
    Folder,
    Job,
    JobDefinition,
    JobLevel,
    OutputType,
    ScheduleKind,
)
from ppc_robot.lib.reports import ParametersError, get_report_type
from ppc_robot.lib.schedules import JobSchedule, ScheduleError
from tests.factories import (
    make_client_account,
    make_folder,
    make_job,
    make_service_account,
    make_tag,
)

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def definition_settings(name="Shared one", **changes):
    parameters = {**get_report_type("performance").default_parameters(), **changes}
    return DefinitionSettings("performance", parameters, OutputType.XLSX, name)


def counts(session):
    return (session.scalar(select(func.count()).select_from(Job)),
            session.scalar(select(func.count()).select_from(JobDefinition)))


def test_save_job_creates_a_definition_and_computes_the_next_run(session, workspace):
    settings = JobSettings("New", workspace.folder,
                           JobSchedule(ScheduleKind.DAILY, {"time": "02:30"}, "UTC"),
                           client_accounts=[workspace.client_account], tags=[workspace.tag])

    job = save_job(session, workspace.user, settings, definition_settings=definition_settings(),
                   now=NOW)

    assert job.definition.name == "Shared one"
    assert job.definition.task_type_version == 2
    assert job.next_run_at == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert job.client_accounts == [workspace.client_account] and job.tags == [workspace.tag]


def test_attaching_shares_and_editing_reaches_every_job(session, workspace):
    shared = workspace.definition
    second = save_job(session, workspace.user, JobSettings("Second", workspace.folder),
                      definition=shared)

    save_job(session, workspace.user, JobSettings("Second", workspace.folder), job=second,
             definition=shared, definition_settings=definition_settings(date_range="last_month"))

    session.refresh(workspace.job)
    assert workspace.job.definition_id == second.definition_id == shared.id
    assert workspace.job.definition.parameters["date_range"] == "last_month"
    uses = {u.definition.id: u for u in definitions_with_jobs(session, workspace.user)}
    assert uses[shared.id].is_shared and len(uses[shared.id].jobs) == 2


@pytest.mark.parametrize(
    "settings_change, error",
    [({"name": " "}, JobError), ({"schedule": JobSchedule(ScheduleKind.CRON, {"cron": "bad"})}, ScheduleError),
     ({"output_path": "../etc/passwd"}, JobError)],
)
def test_refusals_write_nothing(session, workspace, settings_change, error):
    before = counts(session)
    settings = JobSettings(**{"name": "Fine", "folder": workspace.folder, **settings_change})

    with pytest.raises(error):
        save_job(session, workspace.user, settings, definition_settings=definition_settings())

    assert counts(session) == before


def test_bad_parameters_leave_a_shared_definition_alone(session, workspace):
    before = dict(workspace.definition.parameters)

    with pytest.raises(ParametersError):
        save_job(session, workspace.user, JobSettings("X", workspace.folder), job=workspace.job,
                 definition=workspace.definition, definition_settings=definition_settings(dimensions=[]))

    assert workspace.definition.parameters == before


def test_another_users_parts_are_refused(session, workspace, other_workspace):
    for settings, definition in [
        (JobSettings("X", other_workspace.folder), None),
        (JobSettings("X", workspace.folder, tags=[other_workspace.tag]), None),
        (JobSettings("X", workspace.folder, client_accounts=[other_workspace.client_account]), None),
        (JobSettings("X", workspace.folder), other_workspace.definition),
    ]:
        with pytest.raises(JobError, match="your own"):
            save_job(session, workspace.user, settings, definition=definition,
                     definition_settings=definition_settings())


def test_detach_copies_the_definition_and_refuses_an_own_one(session, workspace):
    other = make_job(session, workspace.user, workspace.folder, definition=workspace.definition)

    copy = detach_job(session, other)

    assert other.definition_id == copy.id != workspace.definition.id
    assert copy.parameters == workspace.definition.parameters
    with pytest.raises(JobError, match="already has a definition of its own"):
        detach_job(session, other)


def test_duplicate_shares_a_shared_definition_and_copies_an_own_one(session, workspace):
    own_copy = duplicate_job(session, workspace.job)
    make_job(session, workspace.user, workspace.folder, definition=workspace.definition)
    shared_copy = duplicate_job(session, workspace.job)

    assert own_copy.definition_id != workspace.job.definition_id
    assert shared_copy.definition_id == workspace.job.definition_id
    assert not own_copy.is_enabled and own_copy.tags == workspace.job.tags
    assert own_copy.name.endswith("(copy)")


def test_delete_removes_an_unshared_definition_only(session, workspace):
    sharing = make_job(session, workspace.user, workspace.folder, definition=workspace.definition)
    definition_id = workspace.definition.id

    delete_job(session, sharing)
    assert session.get(JobDefinition, definition_id) is not None
    delete_job(session, workspace.job)

    assert session.scalar(select(JobDefinition.id).where(JobDefinition.id == definition_id)) is None


def test_bulk_operations(session, workspace):
    jobs = [workspace.job, make_job(session, workspace.user, workspace.folder)]
    tag = make_tag(session, workspace.user)
    target = make_folder(session, workspace.root, "Target")

    assert tag_jobs(session, jobs, tag) == 2
    assert tag_jobs(session, jobs, tag) == 0
    assert move_jobs(session, jobs, target) == 2
    assert untag_jobs(session, jobs[:1], tag) == 1
    set_jobs_enabled(session, jobs, False)

    session.expire_all()
    assert {j.folder_id for j in jobs} == {target.id}
    assert [tag in j.tags for j in jobs] == [False, True]
    assert all(not j.is_enabled and j.next_run_at is None for j in jobs)


def test_bulk_refuses_foreign_jobs_and_parts(session, workspace, other_workspace):
    with pytest.raises(JobError, match="your own"):
        jobs_of_user(session, workspace.user, [workspace.job.id, other_workspace.job.id])
    with pytest.raises(JobError, match="your own"):
        move_jobs(session, [workspace.job], other_workspace.folder)
    with pytest.raises(JobError, match="your own"):
        tag_jobs(session, [other_workspace.job], workspace.tag)
    with pytest.raises(JobError, match="at least one"):
        set_jobs_enabled(session, [], True)


def folder_count_problems(session):
    """Folders whose job_count differs from the jobs they hold, as (id, kept, counted)."""
    counted = dict(session.execute(select(Job.folder_id, func.count()).group_by(Job.folder_id)).all())
    kept = session.execute(select(Folder.id, Folder.job_count)).all()
    return [(folder_id, count, counted.get(folder_id, 0)) for folder_id, count in kept
            if count != counted.get(folder_id, 0)]


def test_folders_keep_their_job_count_through_every_change(session, workspace, other_workspace):
    target = make_folder(session, workspace.root, "Target")
    made = [make_job(session, workspace.user, workspace.folder, name=f"Counted {n}") for n in range(4)]
    copy = duplicate_job(session, made[0])
    assert folder_count_problems(session) == []

    move_jobs(session, made[:3], target)
    made[3].folder_id = target.id  # a move through the ORM, not the bulk update
    session.flush()
    delete_job(session, copy)
    session.flush()
    assert folder_count_problems(session) == []
    assert session.scalar(select(Folder.job_count).where(Folder.id == target.id)) == 4

    delete_folder(session, target, move_contents_up=True)
    session.flush()
    assert folder_count_problems(session) == []
    assert folder_jobs(session, workspace.root).total == 4
    assert folder_jobs(session, other_workspace.folder).total == 0


def test_enabling_computes_the_next_run(session, workspace):
    job = make_job(session, workspace.user, workspace.folder, schedule_kind=ScheduleKind.HOURLY,
                   schedule={"minute": 10})
    set_jobs_enabled(session, [job], False)

    set_jobs_enabled(session, [job], True, now=NOW)

    assert job.next_run_at == datetime(2026, 3, 28, 12, 10, tzinfo=UTC)


def test_listings_folder_below_search_and_tag_filter(session, workspace, other_workspace):
    deep = make_folder(session, workspace.subfolder, "Deep")
    tagged = make_job(session, workspace.user, deep, name="Garden deep", tags=[workspace.tag])
    make_job(session, workspace.user, workspace.root, name="Garden top")
    make_job(session, other_workspace.user, other_workspace.folder, name="Garden theirs")

    below = jobs_below(session, workspace.folder)
    found = search_jobs(session, workspace.user, "GARDEN")
    filtered = jobs_below(session, workspace.root, tag=workspace.tag)
    own = folder_jobs(session, deep)

    assert {r.name for r in below.rows} == {workspace.job.name, "Garden deep"}
    assert {r.name for r in found.rows} == {"Garden deep", "Garden top"}
    assert next(r for r in found.rows if r.id == tagged.id).folder_path == ("Home", "Clients", "Acme", "Deep")
    assert {r.name for r in filtered.rows} == {workspace.job.name, "Garden deep"}
    assert [r.name for r in own.rows] == ["Garden deep"]
    assert search_jobs(session, workspace.user, "g").total == 0


def test_pages_split_and_clamp(session, workspace):
    for n in range(7):
        make_job(session, workspace.user, workspace.folder, name=f"Paged {n}")

    first = folder_jobs(session, workspace.folder, per_page=5)
    beyond = folder_jobs(session, workspace.folder, page=9, per_page=5)

    assert (first.total, first.pages, len(first.rows), first.has_next) == (7, 2, 5, True)
    assert (beyond.page, len(beyond.rows)) == (2, 2)


def test_lists_and_search_sort_by_name_whatever_the_case_across_pages(session, workspace):
    for name in ("beta report", "Alpha report", "delta report", "Charlie report", "alpha report"):
        make_job(session, workspace.user, workspace.root, name=name)

    pages = [folder_jobs(session, workspace.root, page=n, per_page=2) for n in (1, 2, 3)]
    found = [search_jobs(session, workspace.user, "REPORT", page=n, per_page=2) for n in (1, 2, 3)]

    listed = [row.name for page in pages for row in page.rows]
    # Same names differing in case keep a stable order (by id, the order they were made in).
    assert listed == ["Alpha report", "alpha report", "beta report", "Charlie report", "delta report"]
    assert [row.name for page in found for row in page.rows] == listed
    assert [page.total for page in found] == [None, None, 5]


def test_search_counts_nothing_and_knows_its_total_on_the_last_page_only(session, workspace):
    definition = workspace.job.definition
    session.add_all(Job(user_id=workspace.user.id, folder=workspace.root, definition=definition,
                        name=f"Many {n:04}") for n in range(120))
    session.flush()

    first = search_jobs(session, workspace.user, "many")
    last = search_jobs(session, workspace.user, "many", page=3)
    beyond = search_jobs(session, workspace.user, "many", page=40)
    exact = search_jobs(session, workspace.user, "many", per_page=120)

    assert (first.total, first.has_next, len(first.rows)) == (None, True, 50)
    assert [row.name for row in first.rows][:2] == ["Many 0000", "Many 0001"]
    assert (last.total, last.has_next, last.pages) == (120, False, 3)
    assert [row.name for row in last.rows] == [f"Many {n:04}" for n in range(100, 120)]
    # An old link past the end lands on the last page.
    assert (beyond.page, beyond.total, beyond.rows[-1].name) == (3, 120, "Many 0119")
    assert (exact.total, exact.has_next) == (120, False)


def test_a_page_carries_the_users_tags_and_each_rows_badges_by_name(session, workspace, other_workspace):
    zebra = make_tag(session, workspace.user, name="zebra", colour="#198754")
    apple = make_tag(session, workspace.user, name="Apple", colour="#dc3545")
    make_tag(session, other_workspace.user, name="theirs")
    make_job(session, workspace.user, workspace.folder, name="Badged", tags=[zebra, apple, workspace.tag])
    make_job(session, workspace.user, workspace.folder, name="Bare")

    page = folder_jobs(session, workspace.folder)
    rows = {r.name: r for r in page.rows}

    assert [t.name for t in page.tags] == sorted([zebra.name, apple.name, workspace.tag.name], key=str.lower)
    assert [(b.name, b.colour) for b in rows["Badged"].tags] == sorted(
        [("zebra", "#198754"), ("Apple", "#dc3545"), (workspace.tag.name, workspace.tag.colour)],
        key=lambda pair: pair[0].lower())
    assert rows["Bare"].tags == ()


@pytest.mark.parametrize(
    "output_type, path, stored",
    [(OutputType.XLSX, "{job} {date}", "{job} {date}"),
     (OutputType.CSV, "", ""),
     (OutputType.GOOGLE_SHEETS, "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit",
      "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")],
)
def test_output_paths(output_type, path, stored):
    assert clean_output_path(output_type, path) == stored


@pytest.mark.parametrize("output_type, path", [(OutputType.XLSX, "a/b"), (OutputType.CSV, "{client}"),
                                               (OutputType.GOOGLE_SHEETS, "short")])
def test_bad_output_paths(output_type, path):
    with pytest.raises(JobError) as refused:
        clean_output_path(output_type, path)
    assert refused.value.field == "output_path"


# Levels: chosen accounts, every account of a login, every account of a client.

def test_a_job_at_login_level_names_the_login_and_forgets_chosen_accounts(session, workspace):
    settings = JobSettings("All of the login", workspace.folder, level=JobLevel.SERVICE_ACCOUNT,
                           service_account=workspace.service_account,
                           client_accounts=[workspace.client_account], client=workspace.client)

    job = save_job(session, workspace.user, settings, definition_settings=definition_settings())

    assert job.level is JobLevel.SERVICE_ACCOUNT and job.all_client_accounts
    assert job.service_account_id == workspace.service_account.id
    assert job.client_id is None and job.client_accounts == []


def test_a_job_at_client_level_names_the_client_only(session, workspace):
    settings = JobSettings("All of Acme", workspace.folder, level=JobLevel.CLIENT,
                           client=workspace.client, service_account=workspace.service_account)

    job = save_job(session, workspace.user, settings, definition_settings=definition_settings())

    assert job.level is JobLevel.CLIENT and job.all_client_accounts
    assert (job.client_id, job.service_account_id) == (workspace.client.id, None)


def test_switching_back_to_chosen_accounts_clears_the_login(session, workspace):
    job = save_job(session, workspace.user,
                   JobSettings("Switch", workspace.folder, level=JobLevel.SERVICE_ACCOUNT,
                               service_account=workspace.service_account),
                   definition_settings=definition_settings())

    save_job(session, workspace.user,
             JobSettings("Switch", workspace.folder, client_accounts=[workspace.client_account]),
             job=job, definition=job.definition)

    assert job.level is JobLevel.CLIENT_ACCOUNT and not job.all_client_accounts
    assert (job.service_account_id, job.client_id) == (None, None)
    assert job.client_accounts == [workspace.client_account]


@pytest.mark.parametrize(
    "level, field, message",
    [(JobLevel.SERVICE_ACCOUNT, "service_account_id", "Choose the login"),
     (JobLevel.CLIENT, "client_id", "Choose the client")],
)
def test_a_level_without_its_login_or_client_is_refused(session, workspace, level, field, message):
    before = counts(session)

    with pytest.raises(JobError, match=message) as refused:
        save_job(session, workspace.user, JobSettings("No object", workspace.folder, level=level),
                 definition_settings=definition_settings())

    assert refused.value.field == field
    assert counts(session) == before


@pytest.mark.parametrize("part", ["service_account", "client"])
def test_another_users_login_or_client_is_refused(session, workspace, other_workspace, part):
    level = JobLevel.SERVICE_ACCOUNT if part == "service_account" else JobLevel.CLIENT
    settings = JobSettings("X", workspace.folder, level=level,
                           **{part: getattr(other_workspace, part)})

    with pytest.raises(JobError, match="your own"):
        save_job(session, workspace.user, settings, definition_settings=definition_settings())


def test_duplicate_copies_the_level(session, workspace):
    job = save_job(session, workspace.user,
                   JobSettings("Login wide", workspace.folder, level=JobLevel.SERVICE_ACCOUNT,
                               service_account=workspace.service_account),
                   definition_settings=definition_settings())

    copy = duplicate_job(session, job)

    assert (copy.level, copy.service_account_id, copy.client_id, copy.all_client_accounts) == (
        JobLevel.SERVICE_ACCOUNT, workspace.service_account.id, None, True)


def test_list_rows_and_the_job_page_name_the_level_and_count_live_accounts(session, workspace):
    login = workspace.service_account
    make_client_account(session, login, name="Second")
    make_client_account(session, login, name="Gone", status=ClientAccountStatus.REMOVED)
    by_login = save_job(session, workspace.user,
                        JobSettings("By login", workspace.folder, level=JobLevel.SERVICE_ACCOUNT,
                                    service_account=login),
                        definition_settings=definition_settings(name=""))
    by_client = save_job(session, workspace.user,
                         JobSettings("By client", workspace.folder, level=JobLevel.CLIENT,
                                     client=workspace.client),
                         definition_settings=definition_settings(name=""))
    chosen = save_job(session, workspace.user,
                      JobSettings("Chosen", workspace.folder,
                                  client_accounts=[workspace.client_account]),
                      definition_settings=definition_settings(name=""))
    make_client_account(session, login, name="Found at sync")

    rows = {row.name: row for row in folder_jobs(session, workspace.folder).rows}
    page = accounts_of_job(session, by_login)

    assert rows["By login"].accounts_label == f"All of login Sandbox – {login.name} (3)"
    assert rows["By client"].accounts_label == "All of client Acme (1)"
    assert (rows["Chosen"].accounts_label, rows["Chosen"].accounts_count) == ("1", 1)
    assert page.is_all and page.words == f"All of login Sandbox – {login.name} (3)"
    assert [a.name for a in page.accounts] == sorted(
        [workspace.client_account.name, "Second", "Found at sync"], key=str.lower)
    assert accounts_of_job(session, by_client).accounts == [workspace.client_account]
    assert accounts_of_job(session, chosen).words == "1 chosen client account"


def test_level_choices_are_the_users_own_with_live_counts(session, workspace, other_workspace):
    make_client_account(session, workspace.service_account, status=ClientAccountStatus.REMOVED)
    empty = make_service_account(session, workspace.user, name="Empty")

    logins = login_choices(session, workspace.user)
    clients = client_choices(session, workspace.user)

    assert {(login.id, count) for login, count in logins} == {
        (workspace.service_account.id, 1), (empty.id, 0)}
    assert [(client.id, count) for client, count in clients] == [(workspace.client.id, 1)]
