"""Linking, syncing and unlinking logins; notifications; key rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.accounts import (
    link_service_account,
    rotate_credentials_key,
    sync_due_service_accounts,
    sync_service_account,
    unlink_service_account,
)
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.models import (
    ClientAccount,
    ClientAccountStatus,
    Notification,
    Platform,
    ServiceAccount,
    ServiceAccountStatus,
    User,
    utcnow,
)
from ppc_robot.lib.platforms import InvalidCredentialsError, TemporaryError
from tests.factories import make_job
from tests.stubs.google import GoogleStub
from tests.stubs.sklik import SklikAccount, SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, google_settings, stub_settings

sklik_stub = platform_fixtures.sklik_stub
google_stub = platform_fixtures.google_stub

VAULT = Vault([generate_key()])


def _accounts(session: Session, sa: ServiceAccount) -> dict[str, ClientAccount]:
    return {a.external_id: a for a in session.scalars(
        select(ClientAccount).where(ClientAccount.service_account_id == sa.id))}


def _codes(session: Session, user: User) -> list[str]:
    return [f"{n.category}:{n.code}:{'resolved' if n.resolved_at else 'open'}"
            for n in session.scalars(select(Notification).where(
                Notification.user_id == user.id, Notification.category == 2))]


def test_link_sandbox_stores_its_accounts(session: Session, user: User) -> None:
    sa, result = link_service_account(session, user, Platform.SANDBOX, {}, vault=VAULT,
                                      settings=stub_settings())
    session.commit()
    assert sa.credentials_encrypted is None and sa.status is ServiceAccountStatus.VALID
    assert len(result.added) == len(_accounts(session, sa)) >= 4
    assert sa.next_sync_at is not None and sa.last_success_at is not None


def test_link_sklik_encrypts_the_token(session: Session, user: User,
                                       sklik_stub: SklikStub) -> None:
    settings = stub_settings(sklik_url=sklik_stub.base_url)
    sa, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                 vault=VAULT, settings=settings)
    assert SKLIK_TOKEN not in (sa.credentials_encrypted or "")
    assert VAULT.decrypt_json(sa.credentials_encrypted or "") == {"token": SKLIK_TOKEN}
    assert set(_accounts(session, sa)) == {"86796", "132256", "132257"}  # its own account too


def test_wrong_token_links_nothing(session: Session, user: User, sklik_stub: SklikStub) -> None:
    settings = stub_settings(sklik_url=sklik_stub.base_url)
    with pytest.raises(InvalidCredentialsError):
        link_service_account(session, user, Platform.SKLIK, {"token": "wrong"}, vault=VAULT,
                             settings=settings)
    assert session.scalars(select(ServiceAccount).where(
        ServiceAccount.platform == Platform.SKLIK)).all() == []


def test_sync_adds_updates_and_marks_vanished_removed(session: Session, user: User,
                                                      sklik_stub: SklikStub) -> None:
    settings = stub_settings(sklik_url=sklik_stub.base_url)
    sa, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                 vault=VAULT, settings=settings)
    garden = _accounts(session, sa)["132257"]
    job = make_job(session, user)
    job.client_accounts = [garden]
    session.commit()
    sklik_stub.managed[86796] = [132256, 132258]
    sklik_stub.accounts[132258] = SklikAccount(132258, "new@example.cz")
    sklik_stub.accounts[132256].username = "renamed@example.cz"
    result = sync_service_account(session, sa, vault=VAULT, settings=settings)
    session.commit()
    assert (result.added, result.updated, result.removed) == (["132258"], ["132256"], ["132257"])
    accounts = _accounts(session, sa)
    assert accounts["132257"].status is ClientAccountStatus.REMOVED  # kept: a job names it
    assert accounts["132256"].name == "renamed@example.cz"
    assert _codes(session, user) == ["2:2:open"]


def test_failed_sync_leaves_accounts_and_expired_token_notifies(
        session: Session, user: User, sklik_stub: SklikStub) -> None:
    settings = stub_settings(sklik_url=sklik_stub.base_url, retry_attempts=1)
    sa, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                 vault=VAULT, settings=settings)
    session.commit()
    before = {k: (a.name, a.status) for k, a in _accounts(session, sa).items()}
    sklik_stub.fail_next = ["garbage"]
    result = sync_service_account(session, sa, vault=VAULT, settings=settings)
    assert not result.ok and "not JSON" in (result.error or "")
    assert sa.status is ServiceAccountStatus.VALID and sa.last_error == result.error
    assert {k: (a.name, a.status) for k, a in _accounts(session, sa).items()} == before
    del sklik_stub.tokens[SKLIK_TOKEN]
    sklik_stub.expire_sessions()
    result = sync_service_account(session, sa, vault=VAULT, settings=settings)
    assert sa.status is ServiceAccountStatus.EXPIRED
    assert "refused the API token" in (sa.last_error or "")
    assert _codes(session, user) == ["2:0:open"]
    sklik_stub.tokens[SKLIK_TOKEN] = 86796
    assert sync_service_account(session, sa, vault=VAULT, settings=settings).ok
    assert sa.status is ServiceAccountStatus.VALID and sa.last_error is None
    assert _codes(session, user) == ["2:0:resolved"]
    assert {k: (a.name, a.status) for k, a in _accounts(session, sa).items()} == before


def test_due_logins_are_synced_every_interval(session: Session, user: User) -> None:
    now = utcnow()
    sa, _ = link_service_account(session, user, Platform.SANDBOX, {}, vault=VAULT,
                                 settings=stub_settings(), now=now)
    early = sync_due_service_accounts(session, now + timedelta(hours=1), vault=VAULT,
                                      settings=stub_settings())
    assert sa.id not in [r.service_account_id for r in early]
    results = sync_due_service_accounts(session, now + timedelta(hours=6), vault=VAULT,
                                        settings=stub_settings())
    assert [r.service_account_id for r in results] == [sa.id]
    assert sa.next_sync_at == now + timedelta(hours=12)


def test_unlink_keeps_or_removes_accounts(session: Session, user: User) -> None:
    sa, _ = link_service_account(session, user, Platform.SANDBOX, {}, vault=VAULT,
                                 settings=stub_settings())
    used = next(iter(_accounts(session, sa).values()))
    make_job(session, user).client_accounts = [used]
    deleted = unlink_service_account(session, sa, remove_client_accounts=True)
    session.commit()
    assert deleted == 4
    assert list(_accounts(session, sa)) == [used.external_id]
    assert used.status is ClientAccountStatus.REMOVED
    assert sa.status is ServiceAccountStatus.UNLINKED and sa.credentials_encrypted is None


def test_rotation_re_encrypts_under_the_new_key(session: Session, user: User,
                                                sklik_stub: SklikStub) -> None:
    settings = stub_settings(sklik_url=sklik_stub.base_url)
    sa, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                 vault=VAULT, settings=settings)
    new_key = generate_key()
    rotated = Vault([new_key, *VAULT_KEYS])
    assert rotate_credentials_key(session, rotated) == 1
    assert Vault([new_key]).decrypt_json(sa.credentials_encrypted or "") == {"token": SKLIK_TOKEN}


VAULT_KEYS: list[str] = []


@pytest.fixture(autouse=True)
def _vault_keys() -> None:
    global VAULT
    key = generate_key()
    VAULT = Vault([key])
    VAULT_KEYS[:] = [key]


def test_temporary_error_class_is_retryable() -> None:
    assert TemporaryError.retryable and not InvalidCredentialsError.retryable


def test_report_rows_through_the_login(session: Session, user: User,
                                       sklik_stub: SklikStub) -> None:
    from datetime import date

    from ppc_robot.lib.accounts import fetch_client_account_rows

    settings = stub_settings(sklik_url=sklik_stub.base_url)
    sa, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                 vault=VAULT, settings=settings)
    session.commit()
    eshop = _accounts(session, sa)["132256"]
    stamped = sa.last_success_at
    rows = list(fetch_client_account_rows(session, eshop, date(2026, 8, 1), date(2026, 8, 3),
                                          ["date", "campaign"], vault=VAULT, settings=settings))
    assert len(rows) == 9 and sa.last_success_at > stamped
    del sklik_stub.tokens[SKLIK_TOKEN]
    sklik_stub.expire_sessions()
    with pytest.raises(InvalidCredentialsError):
        list(fetch_client_account_rows(session, eshop, date(2026, 8, 1), date(2026, 8, 3),
                                       ["date"], vault=VAULT, settings=settings))
    assert sa.status is ServiceAccountStatus.EXPIRED
    assert _codes(session, user) == ["2:0:open"]


def test_due_sync_reads_vault_and_settings_from_the_environment(
        session: Session, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv("PPC_ROBOT_CREDENTIALS_KEY", key)
    monkeypatch.setenv("PPC_ROBOT_SYNC_INTERVAL_HOURS", "2")
    now = utcnow()
    results = sync_due_service_accounts(session, now)
    assert results and all(r.ok for r in results)
    login = session.scalars(select(ServiceAccount).where(ServiceAccount.user_id == user.id)).one()
    assert login.next_sync_at == now + timedelta(hours=2)


def test_sync_keeps_the_manager_to_reach_each_account_through_and_reuses_the_token(
        session: Session, user: User, google_stub: GoogleStub) -> None:
    settings = google_settings(google_stub)
    sa, _ = link_service_account(session, user, Platform.GOOGLE_ADS,
                                 {"refresh_token": google_stub.issue_refresh_token()},
                                 vault=VAULT, settings=settings)
    session.commit()
    linked = _accounts(session, sa)
    assert linked["1234567890"].platform_extra == {"login_customer_id": "1112223333"}
    assert linked["9990001111"].platform_extra == {"login_customer_id": "9990001111"}
    google_stub.customers["1112223333"].children.remove("1234567890")
    google_stub.customers["9990001111"].children.append("1234567890")  # moved to another MCC
    asked = len([r for r in google_stub.requests if r.path == "/token"])

    result = sync_service_account(session, sa, vault=VAULT, settings=settings)

    assert result.ok and result.updated == []  # nothing the user would see changed
    assert _accounts(session, sa)["1234567890"].platform_extra == {
        "login_customer_id": "9990001111"}
    assert len([r for r in google_stub.requests if r.path == "/token"]) == asked
