"""The clients area: group client accounts, set budget and targets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import Client, ClientAccount


def test_create_a_client_with_goals_and_accounts(client, session, submit, login, workspace) -> None:
    login(workspace.user)
    account = workspace.client_account
    response = submit("/clients/new", {
        "name": "Garden Centre", "currency": "czk", "monthly_budget": "25000.50",
        "target_cpa": "120", "target_roas": "4.5", "target_pno": "0.15",
        "client_account_ids": [account.id]})
    assert response.status_code == 302
    session.commit()
    session.expire_all()
    created = session.scalar(select(Client).where(Client.name == "Garden Centre"))
    assert (created.currency, created.monthly_budget, created.target_roas) == (
        "CZK", Decimal("25000.50"), Decimal("4.5000"))
    assert session.get(ClientAccount, account.id).client_id == created.id
    page = client.get(response.headers["Location"]).text
    assert account.name in page and "25" in page
    # Targets as a specialist reads them: ROAS as a ratio, PNO as a percentage.
    assert "4.50" in page and "15.0%" in page and "4.5000" not in page and "0.1500" not in page
    listing = client.get("/clients/").text
    assert "4.50" in listing and "15.0%" in listing


def test_refusals_keep_the_input(client, session, submit, login, workspace) -> None:
    login(workspace.user)
    response = submit("/clients/new", {"name": "Acme", "currency": "CZK",
                                       "monthly_budget": "1000"})
    assert response.status_code == 422
    assert "already have a client called" in response.text and 'value="1000' in response.text
    response = submit(f"/clients/{workspace.client.id}/edit",
                      {"name": "Acme", "currency": "euro", "target_cpa": "-5"})
    assert response.status_code == 422
    assert "three-letter code" in response.text


def test_edit_moves_accounts_and_delete_keeps_them(client, session, submit, login,
                                                   workspace) -> None:
    login(workspace.user)
    response = submit(f"/clients/{workspace.client.id}/edit",
                      {"name": "Acme Group", "currency": "EUR", "monthly_budget": "900"})
    assert response.status_code == 302
    session.commit()
    session.expire_all()
    assert session.get(ClientAccount, workspace.client_account.id).client_id is None
    client_id = workspace.client.id
    assert submit(f"/clients/{client_id}/delete", {}).status_code == 302
    session.commit()
    session.expunge_all()
    assert session.get(Client, client_id) is None
    assert session.get(ClientAccount, workspace.client_account.id) is not None


@pytest.mark.parametrize("value", ["101", "-1", "nan", "1e308"])
def test_a_pacing_tolerance_outside_0_to_100_percent_is_refused_beside_its_field(
        submit, login, session, workspace, value) -> None:
    login(workspace.user)

    response = submit(f"/clients/{workspace.client.id}/edit",
                      {"name": "Acme", "currency": "EUR", "pacing_tolerance": value})

    assert response.status_code == 422
    assert "Pacing tolerance" in response.text and "100" in response.text
    session.expire_all()
    assert session.get(Client, workspace.client.id).pacing_tolerance == Decimal(10)


def test_a_pacing_tolerance_is_saved_and_a_blank_one_keeps_it(submit, login, session,
                                                               workspace) -> None:
    login(workspace.user)

    submit(f"/clients/{workspace.client.id}/edit",
           {"name": "Acme", "currency": "EUR", "pacing_tolerance": "15.5"})
    session.expire_all()
    assert session.get(Client, workspace.client.id).pacing_tolerance == Decimal("15.5")
    submit(f"/clients/{workspace.client.id}/edit", {"name": "Acme", "currency": "EUR"})
    session.expire_all()
    assert session.get(Client, workspace.client.id).pacing_tolerance == Decimal("15.5")
