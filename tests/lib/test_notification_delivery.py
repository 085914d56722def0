"""Delivery through the real loopback SMTP server and the Slack stand-in, over the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.models import (
    Channel,
    DeliveryStatus,
    EmailMode,
    NotificationChannelSetting,
    NotificationDelivery,
    NotificationLevel,
    utcnow,
)
from ppc_robot.lib.notifications import emit
from ppc_robot.lib.notifications.channels import (
    ChannelChoice,
    is_failing,
    save_email_settings,
    save_slack_settings,
)
from ppc_robot.lib.notifications.delivery import (
    DeliveryError,
    deliver_due,
    run_deliveries,
    send_digests,
    send_test_message,
)
from tests.factories import make_client_account, make_job, make_service_account
from tests.support.notifications import delivery_config, new_hook_path

ERROR, WARNING, SUGGESTION = NotificationLevel.ERROR, NotificationLevel.WARNING, NotificationLevel.SUGGESTION


@pytest.fixture
def user(session):
    """A user with nothing but what each test gives him (the shared workspace has a delivery)."""
    from tests.factories import make_user

    fresh = make_user(session)
    session.commit()
    return fresh


@pytest.fixture
def config(smtp_server, slack_stub, tmp_path):
    return delivery_config(smtp_server, slack_stub, tmp_path)


def enable_email(session, user, *, mode=EmailMode.IMMEDIATE, hour=8, min_level=ERROR, categories=()):
    user.email_verified_at = utcnow()
    save_email_settings(session, user, ChannelChoice(True, min_level, list(categories)),
                        mode=mode, digest_hour=hour)


def enable_slack(session, user, config, stub, *, min_level=ERROR, categories=()):
    path = new_hook_path()
    save_slack_settings(session, user, ChannelChoice(True, min_level, list(categories)),
                        vault=config.vault, webhook_url=stub.add_hook(path))
    return path


def raise_failed_run(session, user, job, reason="the platform answered 500", **kwargs):
    return emit(session, user.id, "report_failed", params={"job": job.name, "reason": reason},
                job_id=job.id, **kwargs)


def deliveries(session, **where):
    session.commit()  # ends the read snapshot (SQLite WAL) so the worker's commits show
    session.expire_all()
    stmt = select(NotificationDelivery).filter_by(**where).order_by(NotificationDelivery.id)
    return session.scalars(stmt).all()


def setting_of(session, user, channel):
    session.commit()
    session.expire_all()
    return session.scalar(select(NotificationChannelSetting).filter_by(user_id=user.id, channel=channel))


@pytest.mark.parametrize("kind, params, where", [
    ("report_failed", {"job": "Daily", "reason": "timeout"}, "job"),
    ("credentials_expired", {"account": "Agency MCC", "reason": "invalid_grant"}, "service_account"),
    ("run_overdue", {"job": "Daily", "scheduled": "08:00", "reason": "no worker"}, "job"),
])
def test_an_error_is_delivered_once_per_channel(session, session_factory, config, smtp_server,
                                                slack_stub, user, kind, params, where):
    enable_email(session, user)
    hook = enable_slack(session, user, config, slack_stub)
    job, login = make_job(session, user), make_service_account(session, user)
    place = {"job_id": job.id} if where == "job" else {"service_account_id": login.id}
    notification = emit(session, user.id, kind, params=params, **place)
    session.commit()

    first = run_deliveries(session_factory, config)
    second = run_deliveries(session_factory, config, now=utcnow() + timedelta(days=2))

    assert (first.sent, second.sent) == (2, 0)
    [mail] = smtp_server.messages
    assert mail["To"] == user.email
    assert mail["Message-ID"] == f"<notification-{notification.id}.email@ppc-robot.local>"
    assert notification.message in mail["Subject"].replace("\n", "")
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    help_url = f"https://robot.example.test/help/notifications/{notification.category}/{notification.code}"
    assert help_url in html and help_url in text
    [posted] = slack_stub.received(hook)
    assert posted["text"].startswith("Error: ")
    assert f"<https://robot.example.test/notifications/{notification.id}|Open in PPC Robot>" in str(posted["blocks"])
    assert [d.status for d in deliveries(session)] == [DeliveryStatus.SENT, DeliveryStatus.SENT]


def test_a_repeated_open_problem_is_not_delivered_again(session, session_factory, config,
                                                        smtp_server, user):
    enable_email(session, user)
    job = make_job(session, user)
    raise_failed_run(session, user, job)
    session.commit()
    run_deliveries(session_factory, config)

    raise_failed_run(session, user, job, reason="again")
    session.commit()
    run_deliveries(session_factory, config)

    assert len(smtp_server.messages) == 1


def test_channels_get_only_the_levels_and_categories_they_want(session, session_factory, config,
                                                               smtp_server, slack_stub, user):
    enable_email(session, user, min_level=WARNING)
    hook = enable_slack(session, user, config, slack_stub, min_level=SUGGESTION, categories=[5])
    account = make_client_account(session, make_service_account(session, user))
    emit(session, user.id, "client_account_vanished", params={"account": "A", "login": "L"},
         client_account_id=account.id)  # warning, category 2
    emit(session, user.id, "budget_underspend", params={"client": "C", "spent": 1, "budget": 2,
                                                        "monthly": 3},
         client_account_id=account.id)  # suggestion, category 5
    session.commit()

    run_deliveries(session_factory, config)

    assert [m["Subject"] for m in smtp_server.messages] == [
        "[PPC Robot] Warning: Client account “A” is no longer reachable through “L”"]
    assert [m["text"] for m in slack_stub.received(hook)] == [
        "Suggestion: “C” is pacing under its monthly budget: 1 spent, 2 expected by now, 3 for "
        "the month"]


def test_an_unverified_address_gets_no_mail_deliveries(session, session_factory, config, smtp_server, user):
    enable_email(session, user)
    user.email_verified_at = None
    raise_failed_run(session, user, make_job(session, user))
    session.commit()

    run_deliveries(session_factory, config)

    assert deliveries(session, channel=Channel.EMAIL) == []
    assert smtp_server.messages == []


def test_slack_429_waits_for_retry_after_then_posts_once(session, session_factory, config, slack_stub, user):
    hook = enable_slack(session, user, config, slack_stub)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    slack_stub.fail_next(hook, 429, "rate_limited", {"Retry-After": "30"})
    start = utcnow()

    first = deliver_due(session_factory, config, now=start)
    early = deliver_due(session_factory, config, now=start + timedelta(seconds=29))
    later = deliver_due(session_factory, config, now=start + timedelta(seconds=31))

    assert (first.retrying, early.sent, later.sent) == (1, 0, 1)
    assert len(slack_stub.received(hook)) == 1
    [delivery] = deliveries(session)
    assert delivery.attempts == 2 and delivery.status == DeliveryStatus.SENT
    assert setting_of(session, user, Channel.SLACK).consecutive_failures == 0


def test_slack_500_is_retried_with_growing_waits_then_given_up(session, session_factory, config,
                                                              slack_stub, user):
    hook = enable_slack(session, user, config, slack_stub)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    for _ in range(config.max_attempts):
        slack_stub.fail_next(hook, 500, "rollup_error")
    now, waits = utcnow(), []

    for _ in range(config.max_attempts):
        deliver_due(session_factory, config, now=now)
        [delivery] = deliveries(session)
        if delivery.next_attempt_at is not None:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at

    assert waits == [timedelta(seconds=60 * 2 ** i) for i in range(config.max_attempts - 1)]
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert delivery.last_error == "Given up after 5 tries: Slack failed (500 rollup_error)."
    assert slack_stub.received(hook) == []
    channel = setting_of(session, user, Channel.SLACK)
    assert channel.consecutive_failures == 5 and is_failing(channel)


@pytest.mark.parametrize("status, body", [(403, "invalid_token"), (404, "no_service"),
                                          (410, "channel_is_archived"), (400, "invalid_payload")])
def test_a_refused_webhook_is_given_up_at_once_with_the_reason(session, session_factory, config,
                                                               slack_stub, user, status, body):
    hook = enable_slack(session, user, config, slack_stub)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    slack_stub.fail_next(hook, status, body)

    report = deliver_due(session_factory, config)

    assert report.given_up == 1
    [delivery] = deliveries(session)
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert f"({status} {body})" in delivery.last_error
    assert delivery.last_error.startswith("Given up after 1 try: ")


def test_the_stub_answers_like_slack_to_bad_payloads_and_unknown_hooks(slack_stub):
    import httpx

    hook = new_hook_path()
    slack_stub.add_hook(hook)
    archived = new_hook_path()
    slack_stub.add_hook(archived, state="archived")

    not_json = httpx.post(slack_stub.base_url + hook, content=b"{", headers={"Content-Type": "application/json"})
    empty = httpx.post(slack_stub.base_url + hook, json={})
    unknown = httpx.post(slack_stub.base_url + new_hook_path(), json={"text": "hi"})
    gone = httpx.post(slack_stub.base_url + archived, json={"text": "hi"})
    fine = httpx.post(slack_stub.base_url + hook, json={"text": "hi"})

    assert [(r.status_code, r.text) for r in (not_json, empty, unknown, gone, fine)] == [
        (400, "invalid_payload"), (400, "no_text"), (404, "no_service"),
        (410, "channel_is_archived"), (200, "ok")]


def test_a_temporary_smtp_refusal_is_retried_and_mailed_once(session, session_factory, config,
                                                             smtp_server, user):
    enable_email(session, user)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    smtp_server.fail_next("451 Try again later")
    now = utcnow()

    first = deliver_due(session_factory, config, now=now)
    second = deliver_due(session_factory, config, now=now + timedelta(minutes=2))

    assert (first.retrying, second.sent) == (1, 1)
    assert len(smtp_server.messages) == 1
    assert setting_of(session, user, Channel.EMAIL).consecutive_failures == 0


@pytest.mark.parametrize("after_storing", [False, True])
def test_a_connection_dropped_mid_send_is_retried_and_the_user_gets_one_mail(
        session, session_factory, dropping_smtp, slack_stub, tmp_path, user, after_storing):
    config = delivery_config(dropping_smtp, slack_stub, tmp_path)
    enable_email(session, user)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    dropping_smtp.drop_next(after_storing=after_storing)
    now = utcnow()

    first = deliver_due(session_factory, config, now=now)
    again = deliver_due(session_factory, config, now=now + timedelta(minutes=2))
    once_more = deliver_due(session_factory, config, now=now + timedelta(days=1))

    assert (first.retrying, again.sent, once_more.sent, dropping_smtp.dropped) == (1, 1, 0, 1)
    # Without the 250 the client cannot know whether the server kept the mail (RFC 1047), so it
    # sends again with the same Message-ID; a server that had kept it holds a copy that the
    # user's mail client recognises as the same message.
    message_ids = {m["Message-ID"] for m in dropping_smtp.messages}
    assert len(message_ids) == 1
    assert len(dropping_smtp.messages) == (2 if after_storing else 1)


def test_the_digest_is_sent_once_a_day_at_the_users_hour_grouped_by_account_and_job(
        session, session_factory, config, smtp_server, user):
    user.time_zone = "Europe/Prague"
    enable_email(session, user, mode=EmailMode.DIGEST, hour=8, min_level=SUGGESTION)
    login = make_service_account(session, user, name="Agency login")
    shop = make_client_account(session, login, name="Shoe shop")
    daily, weekly = make_job(session, user, name="Daily"), make_job(session, user, name="Weekly")
    monday = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)  # 06:00 in Prague
    raise_failed_run(session, user, daily, now=monday, client_account_id=shop.id)
    raise_failed_run(session, user, weekly, now=monday, client_account_id=shop.id)
    emit(session, user.id, "credentials_expired", params={"account": "Agency login", "reason": "x"},
         service_account_id=login.id, now=monday)
    session.commit()

    before_hour = run_deliveries(session_factory, config, now=monday + timedelta(hours=1, minutes=59))
    at_hour = run_deliveries(session_factory, config, now=monday + timedelta(hours=2))
    again = run_deliveries(session_factory, config, now=monday + timedelta(hours=5))

    assert (before_hour.digests, at_hour.digests, again.digests) == (0, 1, 0)
    [mail] = smtp_server.messages
    assert mail["Subject"] == "[PPC Robot] Daily digest for 2026-01-12: 3 notifications"
    assert mail["Message-ID"] == f"<digest-{user.id}-2026-01-12@ppc-robot.local>"
    text = mail.get_body(("plain",)).get_content()
    assert text.index("== Agency login / No job ==") < text.index("== Shoe shop / Daily ==") \
        < text.index("== Shoe shop / Weekly ==")
    assert "2026-01-12 06:00" in text  # times in the user's zone
    assert all(d.status == DeliveryStatus.SENT for d in deliveries(session))


def test_a_czech_digest_names_the_missing_job_in_czech(session, session_factory, config,
                                                     smtp_server, user):
    user.time_zone, user.locale = "Europe/Prague", "cs"
    enable_email(session, user, mode=EmailMode.DIGEST, hour=8, min_level=SUGGESTION)
    login = make_service_account(session, user, name="Agency login")
    monday = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)
    emit(session, user.id, "credentials_expired", params={"account": "Agency login", "reason": "x"},
         service_account_id=login.id, now=monday)
    session.commit()

    run_deliveries(session_factory, config, now=monday + timedelta(hours=2))

    [mail] = smtp_server.messages
    text = mail.get_body(("plain",)).get_content()
    assert "== Agency login / Bez úlohy ==" in text
    assert "No job" not in text


def test_a_digest_run_twice_for_the_same_day_sends_one_mail(session, session_factory, config,
                                                            smtp_server, user):
    enable_email(session, user, mode=EmailMode.DIGEST, hour=0)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    now = utcnow()

    reports = [send_digests(session_factory, config, now=now) for _ in range(2)]
    raise_failed_run(session, user, make_job(session, user), now=now)
    session.commit()
    same_day = send_digests(session_factory, config, now=now)
    next_day = send_digests(session_factory, config, now=now + timedelta(days=1))

    assert [r.digests for r in reports] == [1, 0]
    assert (same_day.digests, next_day.digests) == (0, 1)
    assert len(smtp_server.messages) == 2
    assert setting_of(session, user, Channel.EMAIL).last_digest_on == (now + timedelta(days=1)).date().isoformat()


def test_a_digest_dropped_mid_send_is_retried_after_its_backoff(session, session_factory, dropping_smtp,
                                                                slack_stub, tmp_path, user):
    config = delivery_config(dropping_smtp, slack_stub, tmp_path)
    enable_email(session, user, mode=EmailMode.DIGEST, hour=0)
    raise_failed_run(session, user, make_job(session, user))
    session.commit()
    dropping_smtp.drop_next()
    now = utcnow() + timedelta(seconds=1)

    dropped = send_digests(session_factory, config, now=now)
    waiting = send_digests(session_factory, config, now=now + timedelta(seconds=30))
    retried = send_digests(session_factory, config, now=now + timedelta(seconds=61))
    done = send_digests(session_factory, config, now=now + timedelta(hours=3))

    assert (dropped.retrying, waiting.digests, retried.digests, done.digests) == (1, 0, 1, 0)
    [mail] = dropping_smtp.messages
    assert mail["Message-ID"] == f"<digest-{user.id}-{now.date().isoformat()}@ppc-robot.local>"


def test_a_thousand_notifications_for_fifty_users_are_each_delivered_once(
        session, session_factory, config, smtp_server, slack_stub):
    from tests.factories import make_user

    users = [make_user(session) for _ in range(50)]
    hooks = {}
    for i, user in enumerate(users):
        if i % 3 == 0:
            enable_email(session, user)
        elif i % 3 == 1:
            enable_email(session, user, mode=EmailMode.DIGEST, hour=0)
        if i % 2 == 0:
            hooks[user.id] = enable_slack(session, user, config, slack_stub)
    jobs = {user.id: [make_job(session, user) for _ in range(20)] for user in users}
    for user in users:
        for job in jobs[user.id]:
            raise_failed_run(session, user, job)
    session.commit()
    assert session.scalar(select(func.count()).select_from(NotificationDelivery)) == 17 * 20 + 17 * 20 + 25 * 20

    now = utcnow()
    reports = [run_deliveries(session_factory, config, now=now) for _ in range(2)]

    assert reports[0].sent == 17 * 20 + 17 * 20 + 25 * 20 and reports[1].sent == 0
    mails = smtp_server.messages
    assert len(mails) == 17 * 20 + 17
    assert len({m["Message-ID"] for m in mails}) == len(mails)
    digests = [m for m in mails if "Daily digest" in m["Subject"]]
    assert len(digests) == 17 and all(": 20 notifications" in m["Subject"] for m in digests)
    received = slack_stub.all_received()
    assert sorted(received) == sorted(hooks.values())
    assert all(len(messages) == 20 for messages in received.values())
    assert len({m["text"] for messages in received.values() for m in messages}) == 25 * 20


def test_a_test_message_reaches_each_channel(session, config, smtp_server, slack_stub, user):
    enable_email(session, user)
    hook = enable_slack(session, user, config, slack_stub)

    send_test_message(session, user, Channel.EMAIL, config)
    send_test_message(session, user, Channel.SLACK, config)

    assert [m["Subject"] for m in smtp_server.messages] == ["[PPC Robot] Test message"]
    assert len(slack_stub.received(hook)) == 1


def test_a_test_message_to_a_revoked_webhook_says_why(session, config, slack_stub, user):
    hook = enable_slack(session, user, config, slack_stub)
    slack_stub.set_state(hook, "revoked")

    with pytest.raises(DeliveryError, match=r"403 invalid_token"):
        send_test_message(session, user, Channel.SLACK, config)


def test_two_workers_at_once_deliver_each_notification_once(session, session_factory, config,
                                                            smtp_server, slack_stub):
    import threading

    from tests.factories import make_user

    users = [make_user(session) for _ in range(4)]
    hooks = []
    for user in users:
        mode = EmailMode.DIGEST if user is users[0] else EmailMode.IMMEDIATE
        enable_email(session, user, mode=mode, hour=0)
        hooks.append(enable_slack(session, user, config, slack_stub))
        for _ in range(15):
            raise_failed_run(session, user, make_job(session, user))
    session.commit()
    start, results, errors = threading.Barrier(2), [], []

    def worker():
        start.wait()
        try:
            results.append(run_deliveries(session_factory, config))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.sent for r in results) == 4 * 15 * 2
    assert sum(r.digests for r in results) == 1
    mails = smtp_server.messages
    assert len(mails) == 3 * 15 + 1 and len({m["Message-ID"] for m in mails}) == len(mails)
    assert [len(slack_stub.received(hook)) for hook in hooks] == [15, 15, 15, 15]


def test_markup_and_line_breaks_from_platforms_stay_text_in_mail_and_slack(session, session_factory, config,
                                                                          smtp_server, slack_stub, user):
    enable_email(session, user, min_level=WARNING)
    hook = enable_slack(session, user, config, slack_stub, min_level=WARNING)
    emit(session, user.id, "custom_rule_hit",
         params={"rule": "<b>CPA</b>\r\nBcc: eve@example.test", "values": "CPA > 300",
                 "account": "<https://evil.example|click>"})
    session.commit()

    run_deliveries(session_factory, config)

    [mail] = smtp_server.messages
    assert mail["Bcc"] is None and "\n" not in mail["Subject"]
    assert "&lt;b&gt;CPA&lt;/b&gt;" in mail.get_body(("html",)).get_content()
    [posted] = slack_stub.received(hook)
    section = posted["blocks"][0]["text"]["text"]
    assert "&lt;https://evil.example|click&gt;" in section and "<https://evil.example" not in section


HOSTILE = ["<!channel>", "<http://evil.example|Open in PPC Robot>", "<@U024BE7LH>", "Tom & Jerry &lt;"]


def _strings(value):
    """Every string anywhere in a Slack payload: text, blocks, elements, attachments, fallback."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _assert_inert(posted):
    """No hostile name survives as Slack markup, and each is escaped exactly once."""
    strings = list(_strings(posted))
    for hostile in HOSTILE:
        for text in strings:
            assert hostile not in text, (hostile, text)
    joined = "\n".join(strings)
    assert "&lt;!channel&gt;" in joined
    assert "&lt;@U024BE7LH&gt;" in joined
    assert "Tom &amp; Jerry &amp;lt;" in joined
    assert "&amp;amp;" not in joined and "&amp;lt;!channel" not in joined  # never twice


def test_hostile_names_reach_slack_as_text_in_every_field(session, session_factory, config,
                                                          slack_stub, user):
    hook = enable_slack(session, user, config, slack_stub)
    login = make_service_account(session, user, name="<@U024BE7LH>")
    account = make_client_account(session, login, name="<http://evil.example|Open in PPC Robot>")
    job = make_job(session, user, name="<!channel>")
    emit(session, user.id, "report_failed", params={"job": job.name, "reason": "Tom & Jerry &lt;"},
         job_id=job.id, client_account_id=account.id, service_account_id=login.id)
    login_only = emit(session, user.id, "credentials_expired",
                      params={"account": login.name, "reason": "<!channel>"},
                      service_account_id=login.id)
    session.commit()

    run_deliveries(session_factory, config)

    posted = slack_stub.received(hook)
    assert len(posted) == 2
    for message in posted:
        assert message["text"] and message["blocks"]
    _assert_inert(posted)
    assert any(f"<https://robot.example.test/notifications/{login_only.id}|Open in PPC Robot>" in text
               for text in _strings(posted))  # our own links still work
