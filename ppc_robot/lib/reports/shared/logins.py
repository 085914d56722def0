"""One platform client per login for a whole run, and what the run's calls taught about it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ppc_robot.lib.accounts import (
    record_login_failure,
    record_login_success,
    store_refreshed_credentials,
    vault_from_config,
)
from ppc_robot.lib.admin import resolve_settings_problems
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import Platform, ServiceAccount, utcnow
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformClient,
    PlatformSettings,
    PlatformSettingsError,
    QuotaExhaustedError,
    make_client,
)
from ppc_robot.lib.platforms.quota import QuotaLimiter, limits_for
from ppc_robot.lib.runner import RunContext


def platform_access(context: RunContext) -> tuple[PlatformSettings, Vault]:
    """The installation's platform settings and the vault of stored credentials, for a run.

    Raises AccountError when no credentials key is configured.
    """
    config = context.settings.app_config
    vault = vault_from_config(str(config.get("PPC_ROBOT_CREDENTIALS_KEY", "")))
    return PlatformSettings.from_mapping(config), vault


class Logins:
    """One platform client per login for the whole run, shared by the fetch threads.

    Sharing means at most one token refresh per login instead of one per account (none while
    the stored access token is valid); every call still passes the login's quota limiter,
    which counts in the database for all processes.
    """

    def __init__(self, context: RunContext, settings: PlatformSettings, vault: Vault,
                 planned: Mapping[int, int], *, whole_plan: bool = False) -> None:
        self._engine = context.session_factory.kw["bind"]
        self._session_factory = context.session_factory
        self._settings, self._vault = settings, vault
        self._planned = planned  # login id → the calls the run expects to make through it
        self._whole_plan = whole_plan  # the day's quota for all of them, or wait (quota.py)
        self._clients: dict[int, PlatformClient] = {}
        self._read: dict[int, dict[str, Any]] = {}
        self._limiters: list[QuotaLimiter] = []
        self._lock = threading.Lock()
        self.failures: dict[int, Exception] = {}

    def client(self, login: ServiceAccount) -> PlatformClient:
        """The login's client, made at its first use in the run.

        Raises InvalidCredentialsError when a login that needs credentials has none.
        """
        with self._lock:
            if login.id not in self._clients:
                credentials: dict[str, Any] = {}
                if login.credentials_encrypted:
                    credentials = self._vault.decrypt_json(login.credentials_encrypted)
                elif login.platform is not Platform.SANDBOX:
                    raise InvalidCredentialsError("This login has no stored credentials; link it again.")
                limits = limits_for(login.platform, self._settings.quota_overrides)
                limiter = QuotaLimiter(self._engine, login.id, limits, platform_label=login.platform.label)
                # Counted for the whole run in one write, not one per call between the threads.
                limiter.plan(self._planned.get(login.id, 0), whole=self._whole_plan)
                self._limiters.append(limiter)
                self._read[login.id] = credentials
                self._clients[login.id] = make_client(
                    login.platform, credentials, self._settings,
                    before_call=limiter.acquire if limits else None,
                    on_rotate=lambda rotated, login_id=login.id: self._store_rotation(login_id, rotated))
            return self._clients[login.id]

    def _store_rotation(self, login_id: int, rotated: dict[str, Any]) -> None:
        """A rotated refresh token is stored at once, in its own transaction: the one it
        replaces may already be dead, and a crash before the run ends would lose the login."""
        with self._session_factory() as session:
            login = session.get_one(ServiceAccount, login_id)
            if store_refreshed_credentials(session, login, self._vault, rotated,
                                           read=self._read[login_id]):
                self._read[login_id] = rotated
            session.commit()

    def record(self, context: RunContext) -> None:
        """Store what the calls taught about each login: refusals, success, rotated credentials."""
        for limiter in self._limiters:
            limiter.release()
        now = utcnow()
        with context.session_factory() as session:
            for login_id, client in self._clients.items():
                login = session.get_one(ServiceAccount, login_id)
                refreshed = client.updated_credentials()
                if refreshed:
                    store_refreshed_credentials(session, login, self._vault, refreshed,
                                                read=self._read[login_id])
                failure = self.failures.get(login_id)
                if isinstance(failure, InvalidCredentialsError | QuotaExhaustedError
                              | PlatformSettingsError):
                    record_login_failure(session, login, failure, self._settings, now, is_sync=False)
                    continue
                if failure is None:
                    record_login_success(session, login, now)
                    resolve_settings_problems(session, login.platform, now=now)
            session.commit()
