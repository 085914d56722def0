"""Fetching campaign × day rows for the store: one platform client per login per step.

The logins' clients are shared by the step's threads, as a run shares them: at most one
token refresh per login, every call through the login's quota limiter (counted in the
database for all processes), rotated credentials stored at once, and what the calls taught
about each login (refused, rate limited, working) recorded when the step ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.accounts import (
    record_login_failure,
    record_login_success,
    store_refreshed_credentials,
)
from ppc_robot.lib.admin import resolve_settings_problems
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import Platform, ServiceAccount
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformClient,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    ReportRow,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.quota import QuotaLimiter, limits_for
from ppc_robot.lib.stats.settings import StatsSettings
from ppc_robot.lib.stats.store import AccountRef

DIMENSIONS = ("date", "campaign")


@dataclass(frozen=True)
class LoginRef:
    """A login as a fetch thread needs it, copied out of the session."""

    service_account_id: int
    platform: Platform
    credentials_encrypted: str | None


@dataclass(frozen=True)
class AccountWork:
    """One account's share of a step: a daily re-pull or its backfill."""

    account: AccountRef
    login: LoginRef
    remote: RemoteAccount
    kind: str  # "refresh" or "backfill"
    extra: dict[str, Any] = field(default_factory=dict)


class Logins:
    """One platform client per login for a step, shared by its threads."""

    def __init__(self, factory: sessionmaker[Session], settings: StatsSettings,
                 vault: Vault | None, planned: Mapping[int, int]) -> None:
        self._factory = factory
        self._settings = settings
        self._vault = vault
        self._planned = planned  # login id → the requests the step expects to make
        self._clients: dict[int, PlatformClient] = {}
        self._read: dict[int, dict[str, Any]] = {}
        self._limiters: list[QuotaLimiter] = []
        self._lock = threading.Lock()
        self.failures: dict[int, Exception] = {}
        self.successes: set[int] = set()

    def client(self, login: LoginRef) -> PlatformClient:
        """The login's client, made on first use; raises InvalidCredentialsError without
        stored credentials."""
        with self._lock:
            if login.service_account_id in self._clients:
                return self._clients[login.service_account_id]
            credentials: dict[str, Any] = {}
            if login.credentials_encrypted:
                if self._vault is None:
                    raise InvalidCredentialsError("The credentials key is not configured.")
                credentials = self._vault.decrypt_json(login.credentials_encrypted)
            elif login.platform is not Platform.SANDBOX:
                raise InvalidCredentialsError("This login has no stored credentials; link it "
                                              "again.")
            limits = limits_for(login.platform, self._settings.platform.quota_overrides)
            before_call: Callable[[], None] | None = None
            if limits:
                limiter = QuotaLimiter(self._factory.kw["bind"], login.service_account_id,
                                       limits, platform_label=login.platform.label)
                limiter.plan(self._planned.get(login.service_account_id, 0))
                self._limiters.append(limiter)
                before_call = limiter.acquire
            self._read[login.service_account_id] = credentials
            client = make_client(
                login.platform, credentials, self._settings.platform, before_call=before_call,
                on_rotate=lambda rotated, login_id=login.service_account_id:
                self._store_rotation(login_id, rotated))
            self._clients[login.service_account_id] = client
            return client

    def _store_rotation(self, login_id: int, rotated: dict[str, Any]) -> None:
        """A rotated refresh token is stored at once: the one it replaces may be dead."""
        assert self._vault is not None
        with self._factory() as session:
            login = session.get_one(ServiceAccount, login_id)
            if store_refreshed_credentials(session, login, self._vault, rotated,
                                           read=self._read[login_id]):
                self._read[login_id] = rotated
            session.commit()

    def note(self, login_id: int, failure: Exception | None) -> None:
        with self._lock:
            if failure is None:
                self.successes.add(login_id)
            else:
                self.failures.setdefault(login_id, failure)

    def record(self, now: datetime) -> None:
        """Give back unused quota and store what the calls taught about each login."""
        for limiter in self._limiters:
            limiter.release()
        with self._factory() as session:
            for login_id, client in self._clients.items():
                login = session.get_one(ServiceAccount, login_id)
                refreshed = client.updated_credentials()
                if refreshed and self._vault is not None:
                    store_refreshed_credentials(session, login, self._vault, refreshed,
                                                read=self._read[login_id])
                failure = self.failures.get(login_id)
                if isinstance(failure, InvalidCredentialsError | QuotaExhaustedError
                              | PlatformSettingsError):
                    record_login_failure(session, login, failure, self._settings.platform, now,
                                         is_sync=False)
                elif login_id in self.successes:
                    record_login_success(session, login, now)
                    resolve_settings_problems(session, login.platform, now=now)
            session.commit()


def fetch_rows(logins: Logins, work: AccountWork, first: date, last: date,
               settings: StatsSettings, in_flight: threading.Semaphore) -> list[ReportRow]:
    """Campaign × day rows of one account over `first`..`last`, in one platform request
    (retried after a rate limit or a failure on the platform's side)."""
    request = ReportRequest(account=work.remote, date_from=first, date_to=last,
                            dimensions=DIMENSIONS)
    for attempt in range(1, settings.fetch_attempts + 1):
        try:
            client = logins.client(work.login)
            with in_flight:
                return list(client.fetch_report(request))
        except (RateLimitedError, TemporaryError) as exc:
            if attempt == settings.fetch_attempts:
                raise
            wait = getattr(exc, "retry_after", None) or 2 ** attempt
            time.sleep(min(float(wait), settings.rate_limit_wait_seconds))
    raise AssertionError("unreachable")
