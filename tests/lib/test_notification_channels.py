"""Channel settings in lib: webhook URL checks, the e-mail rules, and what a channel wants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.models import (
    Channel,
    DeliveryStatus,
    EmailMode,
    NotificationChannelSetting,
    NotificationLevel,
    utcnow,
)
from ppc_robot.lib.notifications import emit
from ppc_robot.lib.notifications.channels import (
    ChannelChoice,
    ChannelSettingsError,
    check_slack_webhook_url,
    mask_webhook_url,
    parse_slack_hosts,
    save_email_settings,
    save_slack_settings,
)
from ppc_robot.lib.notifications.delivery import deliver_due, digest_day
from tests.factories import make_job, make_user
from tests.support.notifications import delivery_config, new_hook_path

URL = "https://hooks.slack.com/services/T0AB12CD/B0EF34GH/abcdefghIJKLmnop9876"
ON = ChannelChoice(True, NotificationLevel.ERROR, [])


def test_a_slack_webhook_url_passes_and_is_masked():
    assert check_slack_webhook_url(f"  {URL} ") == URL
    assert check_slack_webhook_url(URL.replace(".com/", ".com:443/")) == URL.replace(".com/", ".com:443/")
    assert mask_webhook_url(URL) == "hooks.slack.com/services/…/••••••••9876"


def test_other_hosts_are_allowed_only_by_server_configuration():
    stub_url = URL.replace("hooks.slack.com", "hooks.slack-gov.com")

    with pytest.raises(ChannelSettingsError):
        check_slack_webhook_url(stub_url)
    assert check_slack_webhook_url(stub_url, parse_slack_hosts("hooks.slack-gov.com, hooks.slack.com")) == stub_url
    assert parse_slack_hosts("") == ("hooks.slack.com",)


def test_email_settings_are_all_or_nothing(session):
    user = make_user(session)

    with pytest.raises(ChannelSettingsError, match="not verified") as unverified:
        save_email_settings(session, user, ON, mode=EmailMode.DIGEST, digest_hour=9)
    user.email_verified_at = utcnow()
    with pytest.raises(ChannelSettingsError, match="0 to 23") as bad_hour:
        save_email_settings(session, user, ON, mode=EmailMode.DIGEST, digest_hour=24)
    with pytest.raises(ChannelSettingsError, match="categories"):
        save_email_settings(session, user, ChannelChoice(True, NotificationLevel.ERROR, [99]),
                            mode=EmailMode.DIGEST, digest_hour=9)

    assert (unverified.value.field, bad_hour.value.field) == ("is_enabled", "digest_hour")
    assert session.query(NotificationChannelSetting).filter_by(user_id=user.id).count() == 0


def test_turning_slack_on_needs_a_url_once(session):
    user, vault = make_user(session), Vault([generate_key()])

    with pytest.raises(ChannelSettingsError, match="Paste a webhook URL"):
        save_slack_settings(session, user, ON, vault=vault, webhook_url=None)
    saved = save_slack_settings(session, user, ON, vault=vault, webhook_url=URL)
    again = save_slack_settings(session, user, ON, vault=vault, webhook_url="")

    assert again is saved and vault.decrypt(saved.target_encrypted) == URL


@pytest.mark.parametrize("now, day", [
    (datetime(2026, 1, 12, 6, 59, tzinfo=UTC), None),                 # 07:59 in Prague (winter)
    (datetime(2026, 1, 12, 7, 0, tzinfo=UTC), "2026-01-12"),           # 08:00
    (datetime(2026, 7, 13, 5, 59, tzinfo=UTC), None),                  # 07:59 in Prague (summer)
    (datetime(2026, 7, 13, 6, 0, tzinfo=UTC), "2026-07-13"),           # 08:00
    (datetime(2026, 7, 13, 22, 30, tzinfo=UTC), None),                 # 00:30 on the 14th: before 08:00
    (datetime(2026, 7, 14, 21, 0, tzinfo=UTC), "2026-07-14"),          # 23:00, still the 14th
])
def test_the_digest_day_follows_the_users_zone_and_hour(session, now, day):
    user = make_user(session, time_zone="Europe/Prague")
    setting = NotificationChannelSetting(user_id=user.id, channel=Channel.EMAIL, digest_hour=8)

    found = digest_day(user, setting, now)

    assert (found.isoformat() if found else None) == day


def test_a_delivery_for_a_channel_turned_off_meanwhile_is_skipped(session, session_factory, smtp_server,
                                                                  slack_stub, tmp_path):
    config = delivery_config(smtp_server, slack_stub, tmp_path)
    user = make_user(session)
    user.email_verified_at = utcnow()
    setting = save_email_settings(session, user, ON, mode=EmailMode.IMMEDIATE, digest_hour=8)
    emit(session, user.id, "report_failed", params={"job": "J", "reason": "r"}, job_id=make_job(session, user).id)
    setting.is_enabled = False
    session.commit()

    report = deliver_due(session_factory, config)

    assert report.skipped == 1 and smtp_server.messages == []


def test_a_stored_webhook_whose_host_is_no_longer_allowed_is_not_posted_to(session, session_factory,
                                                                          smtp_server, slack_stub, tmp_path):
    config = delivery_config(smtp_server, slack_stub, tmp_path, slack_hosts=("hooks.slack-gov.com",))
    user = make_user(session)
    hook = new_hook_path()
    save_slack_settings(session, user, ON, vault=config.vault, webhook_url=slack_stub.add_hook(hook))
    emit(session, user.id, "report_failed", params={"job": "J", "reason": "r"}, job_id=make_job(session, user).id)
    session.commit()

    report = deliver_due(session_factory, config)

    assert report.given_up == 1 and slack_stub.received(hook) == []
    from ppc_robot.lib.models import NotificationDelivery

    session.expire_all()
    [delivery] = session.query(NotificationDelivery).all()
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert "no longer allowed" in delivery.last_error


@pytest.mark.parametrize("mode", [EmailMode.IMMEDIATE, EmailMode.DIGEST])
def test_nothing_is_mailed_once_the_address_is_no_longer_verified(session, session_factory, smtp_server,
                                                                  slack_stub, tmp_path, mode):
    from ppc_robot.lib.notifications.delivery import run_deliveries

    config = delivery_config(smtp_server, slack_stub, tmp_path)
    user = make_user(session)
    user.email_verified_at = utcnow()
    save_email_settings(session, user, ON, mode=mode, digest_hour=0)
    emit(session, user.id, "report_failed", params={"job": "J", "reason": "r"}, job_id=make_job(session, user).id)
    user.email_verified_at = None  # he changed his address and has not confirmed the new one
    session.commit()

    report = run_deliveries(session_factory, config)

    assert report.skipped == 1 and smtp_server.messages == []


def test_a_webhook_the_keys_cannot_read_fails_alone_and_the_rest_are_delivered(
        session, session_factory, smtp_server, slack_stub, tmp_path):
    from ppc_robot.lib.notifications.delivery import deliver_due

    config = delivery_config(smtp_server, slack_stub, tmp_path)
    broken, fine = make_user(session), make_user(session)
    save_slack_settings(session, broken, ON, vault=Vault([generate_key()]), webhook_url=URL)  # another key
    hook = new_hook_path()
    save_slack_settings(session, fine, ON, vault=config.vault, webhook_url=slack_stub.add_hook(hook))
    for user in (broken, fine):
        emit(session, user.id, "report_failed", params={"job": "J", "reason": "r"},
             job_id=make_job(session, user).id)
    session.commit()

    report = deliver_due(session_factory, config)

    assert (report.sent, report.retrying) == (1, 1)
    assert len(slack_stub.received(hook)) == 1
