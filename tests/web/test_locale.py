"""The interface language and locale formatting: profile choice, browser, numbers typed and shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from ppc_robot.lib.models import Client, User
from ppc_robot.web.filters import conversions, money, number, percent, points, ratio
from tests.support.accounts import mails_to, text_of


def test_the_browser_language_picks_czech_for_a_visitor(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "cs-CZ,cs;q=0.9,en;q=0.5"})

    assert '<html lang="cs">' in page.text
    assert "Přihlášení" in page.text


def test_an_unknown_browser_language_gets_english(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"})

    assert '<html lang="en">' in page.text


def test_the_profile_choice_wins_over_the_browser(client, session, login, submit, user) -> None:
    login(user)

    response = submit("/settings/", {"name": user.name, "time_zone": "Europe/Prague",
                                     "locale": "en"})
    page = client.get("/settings/", headers={"Accept-Language": "cs"})

    assert response.status_code == 302
    assert session.scalar(select(User.locale).where(User.id == user.id)) == "en"
    assert '<html lang="en">' in page.text


def test_choosing_czech_in_the_profile_speaks_czech(client, session, login, submit, user) -> None:
    login(user)

    submit("/settings/", {"name": user.name, "time_zone": "UTC", "locale": "cs"})
    page = client.get("/settings/", headers={"Accept-Language": "en"})

    assert '<html lang="cs">' in page.text
    assert "Jazyk" in page.text  # the language field's label


def test_the_browser_choice_is_stored_as_none(client, session, login, submit, user) -> None:
    user.locale = "cs"
    session.commit()
    login(user)

    submit("/settings/", {"name": user.name, "time_zone": "UTC", "locale": ""})

    session.expire_all()
    assert session.get(User, user.id).locale is None


def test_a_language_outside_the_list_is_refused_beside_the_field(client, login, submit, user):
    login(user)

    response = submit("/settings/", {"name": user.name, "time_zone": "UTC", "locale": "de"})

    assert response.status_code == 422
    assert "Not a valid choice" in response.text


@pytest.mark.parametrize(("typed", "stored"), [("1 234,5", Decimal("1234.5")),
                                                ("1\u00a0234,50", Decimal("1234.5")),
                                                ("1234.5", Decimal("1234.5"))])
def test_a_czech_user_types_the_budget_with_a_decimal_comma(client, session, login, submit, user,
                                                            typed, stored) -> None:
    user.locale = "cs"
    session.commit()
    login(user)

    response = submit("/clients/new", {"name": "Zahradnictví", "currency": "CZK",
                                       "monthly_budget": typed, "target_roas": "4,5"})

    assert response.status_code == 302
    created = session.scalar(select(Client).where(Client.name == "Zahradnictví"))
    assert (created.monthly_budget, created.target_roas) == (stored, Decimal("4.5"))


def test_an_english_user_with_a_comma_is_told_beside_the_field(client, session, login, submit,
                                                                user) -> None:
    login(user)

    response = submit("/clients/new", {"name": "Garden", "currency": "CZK",
                                       "monthly_budget": "1 234,5"})

    assert response.status_code == 422
    assert "Give a number" in response.text and 'value="1 234,5"' in response.text


def test_client_page_shows_money_in_the_viewers_locale(client, session, login, user) -> None:
    workspace_client = session.scalar(select(Client).where(Client.user_id == user.id))
    workspace_client.currency, workspace_client.monthly_budget = "CZK", Decimal("1234.56")
    session.commit()
    login(user)

    english = client.get(f"/clients/{workspace_client.id}").text
    user.locale = "cs"
    session.commit()
    czech = client.get(f"/clients/{workspace_client.id}").text

    assert "CZK\u00a01,234.56" in english
    assert "1\u00a0234,56\u00a0Kč" in czech


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["CZK\u00a01,234.56", "€1,234.50", "15.3%", "4.50", "−0.07 p.p.", "+1.25 p.p.",
            "12", "1.5", "1,234,567"]),
    ("cs", ["1\u00a0234,56\u00a0Kč", "1\u00a0234,50\u00a0€", "15,3\u00a0%", "4,50",
            "−0,07 p.\u00a0b.", "+1,25 p.\u00a0b.", "12", "1,5", "1\u00a0234\u00a0567"]),
])
def test_figures_are_written_as_the_locale_writes_them(app, locale, expected) -> None:
    with app.test_request_context(), force_locale(locale):
        shown = [money(Decimal("1234.56"), "CZK"), money(Decimal("1234.5"), "EUR"),
                 percent(Decimal("0.1534")), ratio(Decimal("4.5")), points(Decimal("-0.0007")),
                 points(Decimal("0.0125")), conversions(Decimal("12.00")),
                 conversions(Decimal("1.5")), number(1234567)]

    assert shown == expected


def test_a_czech_user_edits_a_budget_shown_with_a_decimal_comma(client, session, login, user):
    workspace_client = session.scalar(select(Client).where(Client.user_id == user.id))
    workspace_client.monthly_budget, workspace_client.currency = Decimal("25000.5"), "CZK"
    user.locale = "cs"
    session.commit()
    login(user)

    page = client.get(f"/clients/{workspace_client.id}/edit").text

    assert 'value="25000,50"' in page


def test_the_report_parameters_read_in_czech(client, session, login, user, workspace):
    user.locale = "cs"
    session.commit()
    login(user)

    page = client.get(f"/jobs/new/{workspace.folder.id}").text

    assert "Období" in page and "Posledních 7 dní" in page  # date range and its choices
    assert "Odvozené" in page and "Konverzní poměr" in page  # metric groups and metrics
    assert 'value="last_7_days"' in page  # the values stay as they are


def test_a_reset_mail_speaks_the_recipients_language(client, session, submit, user, mailbox):
    user.locale = "cs"
    session.commit()

    submit("/password/forgot", {"email": user.email})  # asked by a visitor in English

    [mail] = mails_to(mailbox, user.email)
    assert mail["Subject"] == "Zvolte si nové heslo do PPC Robota"
    assert text_of(mail).startswith("Dobrý den,")


def test_the_built_in_form_messages_speak_czech(client, session, login, submit, user):
    user.locale = "cs"
    session.commit()
    login(user)

    response = submit("/settings/email", {"email": "", "password": ""})

    assert response.status_code == 422
    assert "Toto pole je povinné." in response.text


def test_a_refusal_from_lib_reads_in_czech_beside_its_field(client, session, login, submit, user):
    user.locale = "cs"
    session.commit()
    login(user)

    response = submit(f"/folders/{user_root_id(session, user)}/new", {"name": "   "})

    assert response.status_code == 422
    assert "Zadejte název složky." in response.text


def user_root_id(session, user):
    from ppc_robot.lib.folders import root_folder

    return root_folder(session, user).id
