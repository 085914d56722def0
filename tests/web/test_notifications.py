"""The notification pages: bell, list, read state, snoozes, channel settings, help pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    Channel,
    NotificationChannelSetting,
    NotificationSnooze,
    utcnow,
)
from ppc_robot.lib.notifications import TYPES, emit
from tests.conftest import csrf_token_from
from tests.factories import make_client_account, make_job, make_service_account, make_user
from tests.support.notifications import new_hook_path

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/abcdefgh12345678"


@pytest.fixture
def me(session):
    """A user without the shared workspace's sample notification."""
    user = make_user(session)
    session.commit()
    return user


def fail(session, user, job, reason="timeout", **kwargs):
    return emit(session, user.id, "report_failed", params={"job": job.name, "reason": reason},
                job_id=job.id, **kwargs)


def post(client, url, data=None, page="/notifications/settings", **kwargs):
    token = csrf_token_from(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def settings_in_db(session, user, channel):
    session.commit()
    session.expire_all()
    return session.scalar(select(NotificationChannelSetting).filter_by(user_id=user.id, channel=channel))


def test_the_bell_shows_the_unread_count_and_the_latest(session, client, login, me):
    job = make_job(session, me, name="Shoes daily")
    fail(session, me, job)
    warning = emit(session, me.id, "custom_rule_hit", params={"rule": "CPA up", "values": "CPA 412 CZK yesterday > 300 CZK", "account": "Shop"})
    warning.read_at = utcnow()
    session.commit()
    login(me)

    page = client.get("/folders/")
    page = client.get(page.headers["Location"])

    bell = page.text[page.text.index('notification-bell'):]
    assert re.search(r'class="badge rounded-pill bell-count">1<', bell)
    assert "Report “Shoes daily” failed: timeout" in bell
    assert bell.index("level-error is-unread") < bell.index("level-warning is-read")


def test_opening_from_the_bell_marks_read_and_shows_the_notification(session, client, login, me):
    notification = fail(session, me, make_job(session, me))
    session.commit()
    login(me)

    response = post(client, f"/notifications/{notification.id}/open", page="/notifications/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/notifications/{notification.id}")
    shown = client.get(response.headers["Location"])
    assert "Read the reason on the run" in shown.text
    assert 'class="badge rounded-pill bell-count d-none">0<' in shown.text
    assert client.get("/notifications/unread").json == {"unread": 0}


def test_the_list_is_ordered_by_score_then_time_and_filters(session, client, login, me):
    login_account = make_service_account(session, me)
    shop = make_client_account(session, login_account, name="Shoe shop")
    job = make_job(session, me, name="Weekly")
    emit(session, me.id, "budget_underspend", params={"client": "Acme", "spent": 1, "budget": 9,
                                                      "monthly": 30},
         client_account_id=shop.id)
    fail(session, me, job)
    emit(session, me.id, "url_redirects", params={"count": 3}, client_account_id=shop.id)
    session.commit()
    login(me)

    everything = client.get("/notifications/")
    errors = client.get("/notifications/?level=error")
    shop_only = client.get(f"/notifications/?client_account_id={shop.id}&state=unread")

    def messages(response):
        return re.findall(r'class="fw-semibold text-reset" href="[^"]+">([^<]+)</a>', response.text)

    assert messages(everything) == ["Report “Weekly” failed: timeout", "URL checker found 3 redirect(s)",
                                    "“Acme” is pacing under its monthly budget: 1 spent, 9 expected by now, 30 for the month"]
    assert messages(errors) == ["Report “Weekly” failed: timeout"]
    assert messages(shop_only) == ["URL checker found 3 redirect(s)",
                                   "“Acme” is pacing under its monthly budget: 1 spent, 9 expected by now, 30 for the month"]
    assert f'href="/accounts/client-accounts/{shop.id}"' in everything.text
    assert 'href="/help/notifications/1/0"' in everything.text


def test_another_users_ids_in_filters_show_nothing_of_his(session, client, login, me, other_user):
    theirs = make_job(session, other_user)
    fail(session, other_user, theirs, reason="secret reason")
    session.commit()
    login(me)

    response = client.get(f"/notifications/?job_id={theirs.id}")

    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    assert "secret reason" not in response.text


def test_the_list_pages_with_its_filters_kept(session, client, login, me):
    jobs = [make_job(session, me) for _ in range(55)]
    for job in jobs:
        fail(session, me, job)
    session.commit()
    login(me)

    first = client.get("/notifications/?level=error")
    second = client.get("/notifications/?level=error&page=2")

    assert first.text.count('class="list-group-item notification-item') == 50
    assert second.text.count('class="list-group-item notification-item') == 5
    assert "/notifications/?page=2&amp;level=error" in first.text or \
        "/notifications/?level=error&amp;page=2" in first.text


def test_the_list_makes_the_same_number_of_queries_for_5_and_40(session, client, login, me, count_queries):
    login(me)
    counts, made = [], 0
    for size in (5, 40):
        while made < size:
            fail(session, me, make_job(session, me), service_account_id=make_service_account(session, me).id)
            made += 1
        session.commit()
        with count_queries() as counter:
            assert client.get("/notifications/").status_code == 200
        counts.append(counter.count)

    assert counts[0] == counts[1]


def test_mark_one_and_all_read(session, client, login, me):
    first, second, third = (fail(session, me, make_job(session, me)) for _ in range(3))
    session.commit()
    login(me)

    one = post(client, f"/notifications/{first.id}/read", {"next": "/notifications/?state=unread"},
               page="/notifications/")
    assert one.headers["Location"] == "/notifications/?state=unread"
    assert client.get("/notifications/unread").json == {"unread": 2}

    everything = post(client, "/notifications/read-all", {"next": "https://evil.example/"}, page="/notifications/")
    assert everything.headers["Location"] == "/notifications/"
    assert client.get("/notifications/unread").json == {"unread": 0}


@pytest.mark.parametrize("path", ["/notifications/{id}", "/notifications/{id}/read",
                                  "/notifications/{id}/open", "/notifications/{id}/snooze"])
def test_another_users_notification_is_404(session, client, login, me, other_user, path):
    theirs = fail(session, other_user, make_job(session, other_user))
    session.commit()
    login(me)
    url = path.format(id=theirs.id)

    response = client.get(url) if path == "/notifications/{id}" else post(
        client, url, {"target": "job", "duration": "1d"}, page="/notifications/")

    assert response.status_code == 404
    session.expire_all()
    assert theirs.read_at is None


def test_snoozing_a_type_for_a_job_silences_it(session, client, login, me):
    job = make_job(session, me)
    notification = fail(session, me, job)
    session.commit()
    login(me)

    response = post(client, f"/notifications/{notification.id}/snooze", {"target": "job", "duration": "7d"},
                    page=f"/notifications/{notification.id}")

    assert response.status_code == 302
    [snooze] = session.scalars(select(NotificationSnooze).filter_by(user_id=me.id)).all()
    assert snooze.job_id == job.id and snooze.category == 1 and snooze.code == 0
    assert fail(session, me, make_job(session, me)) is not None  # other jobs still raise it
    session.expire_all()
    from ppc_robot.lib.notifications import resolve

    resolve(session, me.id, "report_failed", job_id=job.id)
    assert fail(session, me, job) is None
    settings = client.get("/notifications/settings")
    assert "End snooze" in settings.text


def test_a_snooze_for_an_account_the_notification_lacks_is_refused(session, client, login, me):
    notification = fail(session, me, make_job(session, me))
    session.commit()
    login(me)

    response = post(client, f"/notifications/{notification.id}/snooze",
                    {"target": "client_account", "duration": "1d"}, page=f"/notifications/{notification.id}")

    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    assert session.scalar(select(func.count()).select_from(NotificationSnooze)) == 0


def test_every_notification_type_has_a_public_help_page(client, session):
    index = client.get("/help/notifications/")

    for kind in TYPES:
        page = client.get(f"/help/notifications/{kind.category}/{kind.code}")
        assert page.status_code == 200, kind
        assert kind.what_to_do in page.text.replace("&#39;", "'")
        assert f'href="/help/notifications/{kind.category}/{kind.code}"' in index.text
    assert client.get("/help/notifications/4/99").status_code == 404


def test_turning_email_on_for_an_unverified_address_is_refused(session, client, login, me):
    login(me)

    response = post(client, "/notifications/settings/email",
                    {"email-is_enabled": "y", "email-min_level": "warning", "email-email_mode": "digest",
                     "email-digest_hour": "7"})

    assert response.status_code == 422
    assert "is not verified yet" in response.text
    assert 'value="7"' in response.text  # what was typed is kept
    assert settings_in_db(session, me, Channel.EMAIL) is None


@pytest.mark.parametrize("hour", ["24", "-1", "eight", "", " ", "99999999999999999999"])
def test_an_invalid_digest_hour_is_refused(session, client, login, me, hour):
    me.email_verified_at = utcnow()
    session.commit()
    login(me)

    response = post(client, "/notifications/settings/email",
                    {"email-is_enabled": "y", "email-min_level": "error", "email-email_mode": "digest",
                     "email-digest_hour": hour})

    assert response.status_code == 422
    assert "Give an hour from 0 to 23." in response.text
    assert settings_in_db(session, me, Channel.EMAIL) is None


def test_the_daily_digest_is_saved_for_a_verified_address(session, client, login, me):
    me.email_verified_at = utcnow()
    session.commit()
    login(me)

    response = post(client, "/notifications/settings/email",
                    {"email-is_enabled": "y", "email-min_level": "warning", "email-email_mode": "digest",
                     "email-digest_hour": "7", "email-categories": ["1", "4"]})

    assert response.status_code == 302
    saved = settings_in_db(session, me, Channel.EMAIL)
    assert (saved.is_enabled, saved.min_level, saved.email_mode, saved.digest_hour, saved.categories) == \
        (True, "warning", "digest", 7, [1, 4])


@pytest.mark.parametrize("url", [
    "http://hooks.slack.com/services/T0001/B0001/abcdefgh12345678",
    "https://hooks.slack.com.evil.example/services/T0001/B0001/abcdefgh12345678",
    "https://evil.example/services/T0001/B0001/abcdefgh12345678",
    "https://hooks.slack.com@evil.example/services/T0001/B0001/abcdefgh12345678",
    "https://evil.example@hooks.slack.com/services/T0001/B0001/abcdefgh12345678",
    "https://127.0.0.1/services/T0001/B0001/abcdefgh12345678",
    "https://[::1]/services/T0001/B0001/abcdefgh12345678",
    "https://hooks.slack.com:8443/services/T0001/B0001/abcdefgh12345678",
    "https://hooks.slack.com/services/T0001/B0001/abcdefgh12345678?x=1",
    "https://hooks.slack.com/services/T0001/B0001/abcdefgh12345678#frag",
    "https://hooks.slack.com/api/chat.postMessage",
    "https://hooks.slack.com/services/../../admin/abcdefgh12345678",
    "https://hooks.slack.com/services/T0001/B0001/abcd%2F1234efgh",
    "https://hooks.slack.com\\@evil.example/services/T0001/B0001/abcdefgh12345678",
    "javascript:alert(1)",
    "hooks.slack.com/services/T0001/B0001/abcdefgh12345678",
])
def test_a_slack_url_that_is_not_an_https_webhook_is_refused(session, client, login, me, url):
    login(me)

    response = post(client, "/notifications/settings/slack",
                    {"slack-is_enabled": "y", "slack-min_level": "error", "slack-webhook_url": url})

    assert response.status_code == 422
    assert "Paste the incoming-webhook URL Slack gave you" in response.text
    assert settings_in_db(session, me, Channel.SLACK) is None


def test_a_slack_webhook_is_stored_encrypted_and_shown_masked(app, session, client, login, me):
    login(me)

    response = post(client, "/notifications/settings/slack",
                    {"slack-is_enabled": "y", "slack-min_level": "warning", "slack-webhook_url": SLACK_URL})
    kept = post(client, "/notifications/settings/slack",
                {"slack-is_enabled": "y", "slack-min_level": "error", "slack-webhook_url": ""})

    assert response.status_code == kept.status_code == 302
    saved = settings_in_db(session, me, Channel.SLACK)
    assert SLACK_URL not in saved.target_encrypted
    assert Vault([app.config["PPC_ROBOT_CREDENTIALS_KEY"]]).decrypt(saved.target_encrypted) == SLACK_URL
    page = client.get("/notifications/settings")
    assert "abcdefgh12345678" not in page.text and "T0001" not in page.text
    assert "hooks.slack.com/services/…/••••••••5678" in page.text


def test_a_failing_channel_is_flagged_on_the_settings_page(session, client, login, me):
    session.add(NotificationChannelSetting(user_id=me.id, channel=Channel.SLACK, is_enabled=True,
                                           consecutive_failures=3, last_failure_at=utcnow(),
                                           last_error="Slack refused the webhook (404 no_service)."))
    session.commit()
    login(me)

    page = client.get("/notifications/settings")

    assert 'class="alert alert-danger channel-failing"' in page.text
    assert "The last 3 deliveries through this channel failed" in page.text


def test_the_test_buttons_send_through_the_real_servers(app, session, client, login, me, smtp_server,
                                                        slack_stub, monkeypatch):
    for key, value in smtp_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "SLACK_WEBHOOK_BASE_URL", slack_stub.base_url)
    hook = new_hook_path()
    me.email_verified_at = utcnow()
    session.commit()
    login(me)
    post(client, "/notifications/settings/slack",
         {"slack-is_enabled": "y", "slack-min_level": "error", "slack-webhook_url": slack_stub.add_hook(hook)})

    mail = post(client, "/notifications/settings/email/test", follow_redirects=True)
    slack = post(client, "/notifications/settings/slack/test", follow_redirects=True)
    slack_stub.set_state(hook, "archived")
    refused = post(client, "/notifications/settings/slack/test", follow_redirects=True)

    assert "A test message was sent to your e-mail address." in mail.text
    assert [m["To"] for m in smtp_server.messages] == [me.email]
    assert "A test message was sent to your Slack channel." in slack.text
    assert len(slack_stub.received(hook)) == 1
    assert "410 channel_is_archived" in refused.text
    me.locale = "cs"
    session.commit()
    slack_stub.set_state(hook, "ok")
    czech = post(client, "/notifications/settings/slack/test", follow_redirects=True)
    slack_stub.set_state(hook, "archived")
    refused_in_czech = post(client, "/notifications/settings/slack/test", follow_redirects=True)
    assert "Zkušební zpráva byla odeslána do vašeho kanálu ve Slacku." in czech.text
    assert "Slack webhook odmítl (410 channel_is_archived)" in refused_in_czech.text


def test_a_failed_delivery_reads_in_the_readers_language(session, client, login, me):
    session.add(NotificationChannelSetting(
        user_id=me.id, channel=Channel.SLACK, is_enabled=True, consecutive_failures=1,
        last_failure_at=utcnow(), last_error="Slack failed (503 service_unavailable)."))
    me.locale = "cs"
    session.commit()
    login(me)

    page = client.get("/notifications/settings")

    assert "Slack selhal (503 service_unavailable)." in page.text


def test_deliver_notifications_command_sends_what_is_due(app, session, me, smtp_server, monkeypatch):
    for key, value in smtp_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    from ppc_robot.lib.notifications.channels import ChannelChoice, save_email_settings

    me.email_verified_at = utcnow()
    save_email_settings(session, me, ChannelChoice(True, "error", []), mode="immediate", digest_hour=8)
    fail(session, me, make_job(session, me))
    session.commit()

    result = app.test_cli_runner().invoke(args=["deliver-notifications"])

    assert result.exit_code == 0, result.output
    assert "1 delivered (0 digests), 0 to retry, 0 given up, 0 skipped." in result.output
    assert len(smtp_server.messages) == 1


def test_markup_in_message_parameters_is_shown_as_text(session, client, login, me):
    emit(session, me.id, "custom_rule_hit", params={"rule": "<script>alert(1)</script>", "values": "CPA > 300", "account": "<b>x</b>"})
    session.commit()
    login(me)

    page = client.get("/notifications/")

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_notification_page_shows_details_what_to_do_and_its_links(session, client, login, me):
    shop = make_client_account(session, make_service_account(session, me), name="Shoe shop")
    job = make_job(session, me, name="URL check")
    notification = emit(session, me.id, "url_errors", params={"count": 2}, job_id=job.id,
                        client_account_id=shop.id, details=[{"Error": "404 Not Found", "Number of URLs": 2}])
    session.commit()
    login(me)

    page = client.get(f"/notifications/{notification.id}")

    assert page.status_code == 200
    assert "<th>Error</th><th>Number of URLs</th>" in page.text
    assert "Fix the pages or the URLs in the ads" in page.text
    assert f'href="/jobs/{job.id}"' in page.text
    assert f'href="/accounts/client-accounts/{shop.id}"' in page.text
    assert 'value="job"' in page.text and 'value="client_account"' in page.text  # snooze targets
    session.commit()
    session.refresh(notification)
    assert notification.read_at is None  # looking is not reading: only POST changes anything
