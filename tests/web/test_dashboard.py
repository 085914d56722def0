"""The dashboard's client table: pacing bars, targets, totals per currency, freshness."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ppc_robot.lib.models import Client, utcnow
from ppc_robot.lib.pacing import local_today, settled_day
from ppc_robot.lib.times import zone_of
from tests.factories import make_client_account, make_service_account, make_user
from tests.support.stats import make_account_day, make_stats_state


def _yesterday(user):
    return settled_day(local_today(utcnow(), zone_of(user.time_zone)))


def _seed(session, workspace, days=10):
    acme = workspace.client
    acme.currency, acme.monthly_budget, acme.target_cpa = "CZK", Decimal(31000), Decimal(100)
    workspace.client_account.currency = "CZK"
    through = _yesterday(workspace.user)
    for n in range(days):
        make_account_day(session, workspace.client_account, through - timedelta(days=n),
                         cost=1000, conversions=5, value=4000)
    eur = make_client_account(session, workspace.service_account, currency="EUR",
                              client_id=acme.id, name="Acme Germany")
    make_account_day(session, eur, through, cost=25, conversions=1, value=100)
    session.commit()


def test_the_dashboard_shows_each_client_with_its_pacing_bar(client, session, login, workspace,
                                                             other_workspace):
    _seed(session, workspace)
    other_workspace.client.name = "Not yours"
    make_account_day(session, other_workspace.client_account, _yesterday(other_workspace.user),
                     cost=777)
    session.commit()
    login(workspace.user)

    page = client.get("/").text

    assert "Clients this month" in page and "Acme" in page and "Not yours" not in page
    assert page.count('class="pacing-bar"') == 1  # the CZK line; the EUR line has no budget
    assert page.count('class="performance-line"') == 2
    assert "Total CZK" in page and "Total EUR" in page
    assert "in CZK" in page  # the EUR line says where the budget is
    assert 'class="sparkline"' in page
    assert "777" not in page
    assert "Overdue" in page and "Next runs" in page  # the runs stay beside the table


def test_freshness_and_stale_accounts_are_named(client, session, login, workspace):
    _seed(session, workspace)
    make_stats_state(session, workspace.client_account, refreshed_at=utcnow() - timedelta(hours=1),
                     last_error="Sandbox answered 503; tried again at 07:00.")
    session.commit()
    login(workspace.user)

    page = client.get("/").text

    assert "Statistics as of" in page
    assert "not up to date" in page and "Sandbox answered 503" in page


def test_accounts_still_being_collected_are_news_not_a_warning(client, session, login, workspace):
    _seed(session, workspace)  # Acme Germany has no refresh state yet: its backfill runs
    make_stats_state(session, workspace.client_account, refreshed_at=utcnow() - timedelta(hours=1))
    session.commit()
    login(workspace.user)

    page = client.get("/").text
    client_page = client.get(f"/clients/{workspace.client.id}").text
    workspace.user.locale = "cs"
    session.commit()
    czech = client.get("/").text

    for text in (page, client_page):
        assert 'class="alert alert-info py-2 small stale-accounts collecting-accounts"' in text
        assert "The statistics of 1 account are still being collected:\n  Acme Germany." in text
        assert "not up to date" not in text and "alert-warning" not in text
    assert "Statistiky 1 účtu se ještě sbírají:" in czech


def test_a_failing_account_beside_collecting_ones_is_a_warning(client, session, login, workspace):
    _seed(session, workspace)
    make_stats_state(session, workspace.client_account, refreshed_at=utcnow() - timedelta(hours=1),
                     last_error="Sandbox answered 503.")
    session.commit()
    login(workspace.user)

    page = client.get(f"/clients/{workspace.client.id}").text

    assert "2 accounts not up to date:" in page and "collecting-accounts" not in page
    assert "(Sandbox answered 503.)" in page and "(statistics are being collected)" in page


def test_before_the_first_figures_only_the_empty_state_speaks(client, session, login, workspace):
    login(workspace.user)

    page = client.get("/").text

    assert "The last 13 months of your client accounts are being fetched" in page
    assert "stale-accounts" not in page


def test_a_czech_user_reads_why_an_account_is_stale_in_czech(client, session, login, workspace):
    _seed(session, workspace)
    make_stats_state(session, workspace.client_account, refreshed_at=utcnow() - timedelta(days=3))
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get("/").text

    assert "(neobnoveno déle než den)" in page
    assert "not refreshed for more than a day" not in page


def test_without_accounts_the_page_says_to_link_a_login(client, session, login):
    newcomer = make_user(session)
    session.commit()
    login(newcomer)

    page = client.get("/").text

    assert "Link a login" in page and 'class="performance-table' not in page


def test_with_accounts_but_no_statistics_they_are_being_collected(client, session, login,
                                                                   workspace):
    login(workspace.user)

    page = client.get("/").text

    assert "Statistics are being collected" in page


def test_sort_and_tag_arguments(client, session, login, workspace):
    _seed(session, workspace)
    beta = Client(user_id=workspace.user.id, name="Beta", currency="CZK")
    session.add(beta)
    session.flush()
    big = make_client_account(session, workspace.service_account, currency="CZK",
                              client_id=beta.id)
    make_account_day(session, big, _yesterday(workspace.user), cost=99999)
    session.commit()
    login(workspace.user)

    by_name = client.get("/?sort=name").text
    by_spend = client.get("/?sort=-spend").text
    refused = client.get("/?sort=name%3B+drop+table")
    tagged = client.get(f"/?tag={workspace.client_account_tag.id}").text
    foreign_tag = client.get("/?tag=999999")

    assert by_name.index(">Acme<") < by_name.index(">Beta<")
    assert by_spend.index(">Beta<") < by_spend.index(">Acme<")
    assert refused.status_code == 200
    assert ">Acme<" in tagged and ">Beta<" not in tagged
    assert foreign_tag.status_code == 200 and ">Beta<" in foreign_tag.text


def test_the_page_makes_as_many_statements_for_many_clients(client, session, login, workspace,
                                                           count_queries):
    _seed(session, workspace, days=3)
    login(workspace.user)
    client.get("/")
    with count_queries() as small:  # the table computed again (its inputs changed)...
        _clear_table_cache(client)
        assert client.get("/").status_code == 200
    with count_queries() as small_cached:  # ...and reused
        assert client.get("/").status_code == 200
    login_ = make_service_account(session, workspace.user)
    through = _yesterday(workspace.user)
    for n in range(12):
        other = Client(user_id=workspace.user.id, name=f"Client {n}", currency="EUR",
                       monthly_budget=Decimal(500))
        session.add(other)
        session.flush()
        account = make_client_account(session, login_, currency="EUR", client_id=other.id)
        make_account_day(session, account, through, cost=10)
        make_stats_state(session, account, refreshed_at=utcnow())
    session.commit()

    with count_queries() as big:
        page = client.get("/").text
    with count_queries() as big_cached:
        cached = client.get("/").text
    assert cached.count('class="performance-line"') == 14

    assert page.count('class="performance-line"') == 14
    assert big.count == small.count
    assert big_cached.count == small_cached.count < small.count


def _clear_table_cache(client) -> None:
    client.application.extensions["ppc_robot.dashboard_tables"].clear()


def test_names_are_escaped_in_the_rows(client, session, login, workspace):
    _seed(session, workspace, days=2)
    workspace.client.name = '<script>alert("x")</script>'
    session.commit()
    login(workspace.user)

    page = client.get("/").text

    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
