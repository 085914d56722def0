"""Changes with a consequence the user might not expect say so: no silent surprises."""

from __future__ import annotations

from sqlalchemy import select

from ppc_robot.lib.models import Client, ClientAccount, JobLevel
from tests.factories import make_client_account
from tests.web.test_jobs import editor_data

NO_ACCOUNTS = "reads no client account"


def test_saving_a_job_without_client_accounts_warns_and_the_job_page_keeps_saying_so(
        client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, client_account_ids=[]), follow_redirects=True)

    assert response.status_code == 200
    assert response.text.count(NO_ACCOUNTS) == 2  # the flashed warning and the page's own
    job_page = client.get(response.request.path)
    assert NO_ACCOUNTS in job_page.text


def test_a_client_level_job_whose_client_has_no_accounts_warns_too(
        client, login, submit, session, workspace):
    empty = Client(user_id=workspace.user.id, name="Empty")
    session.add(empty)
    session.commit()
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}",
                      editor_data(workspace, client_account_ids=[], level=JobLevel.CLIENT.value,
                                  client_id=empty.id), follow_redirects=True)

    assert NO_ACCOUNTS in response.text


def test_a_job_with_accounts_saves_without_the_warning(client, login, submit, workspace):
    login(workspace.user)

    response = submit(f"/jobs/new/{workspace.folder.id}", editor_data(workspace),
                      follow_redirects=True)

    assert NO_ACCOUNTS not in response.text


def _other_client_with_an_account(session, workspace):
    other = Client(user_id=workspace.user.id, name="Globex")
    session.add(other)
    session.flush()
    account = make_client_account(session, workspace.service_account, name="Globex CZ",
                                  client_id=other.id)
    session.commit()
    return other, account


def test_the_client_form_shows_which_accounts_belong_to_another_client(
        client, login, session, workspace):
    other, account = _other_client_with_an_account(session, workspace)
    acme = session.scalar(select(Client).where(Client.name == "Acme"))
    login(workspace.user)

    page = client.get(f"/clients/{acme.id}/edit")

    assert "Globex CZ" in page.text
    assert "now in client “Globex”" in page.text


def test_saving_a_client_names_the_accounts_taken_from_another_client(
        client, login, submit, session, workspace):
    other, account = _other_client_with_an_account(session, workspace)
    acme = session.scalar(select(Client).where(Client.name == "Acme"))
    mine = [a.id for a in acme.client_accounts]
    login(workspace.user)

    response = submit(f"/clients/{acme.id}/edit", {
        "name": "Acme", "currency": "EUR", "client_account_ids": [*mine, account.id]},
        follow_redirects=True)

    assert response.status_code == 200
    assert "“Globex CZ” moved here from client “Globex”" in response.text
    session.rollback()
    assert session.get(ClientAccount, account.id).client_id == acme.id
