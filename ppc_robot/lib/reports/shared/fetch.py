"""Reading every client account of a run at once, a bounded number of platform calls at a time.

A report type passes a function of one account (fetch its report rows, list its ad URLs …);
`fetch_all` runs it for every account, reports progress, turns an account's failure into a
missing account with its reason, and fails the run when nothing could be read or when the
installation's platform settings are wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformClient,
    PlatformError,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    TemporaryError,
)
from ppc_robot.lib.reports.shared.accounts import AccountToRead
from ppc_robot.lib.reports.shared.logins import Logins, platform_access
from ppc_robot.lib.runner import ErrorClass, MissingAccount, RunContext, RunFailed

logger = logging.getLogger(__name__)
T = TypeVar("T")

FETCH_ATTEMPTS = 4
MAX_RETRY_WAIT = 60.0
# One account's line in a run's log: what was read, or why not.
ACCOUNT_LINE = N_("%(account)s: %(outcome)s")


@dataclass(frozen=True)
class AccountCall:
    """What the per-account function gets: the account, its login's client for this run, and
    `slot`, held around platform calls (at most the runner's account concurrency at once)."""

    account: AccountToRead
    logins: Logins
    slot: threading.Semaphore

    def client(self) -> PlatformClient:
        """The account's login's client (quota-limited; rotated tokens are stored)."""
        return self.logins.client(self.account.service_account)


@dataclass
class Fetched(Generic[T]):
    """What the accounts gave, in the order they finished, and the accounts that failed."""

    results: list[tuple[AccountToRead, T]] = field(default_factory=list)
    missing: list[MissingAccount] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


def retried(attempt: Callable[[], T]) -> T:
    """`attempt()`, tried again with backoff while the platform rate-limits or fails for a while.

    Raises the last RateLimitedError or TemporaryError after FETCH_ATTEMPTS tries; an attempt
    must leave nothing behind when it fails.
    """
    number = 1
    while True:
        try:
            return attempt()
        except (RateLimitedError, TemporaryError) as exc:
            if number == FETCH_ATTEMPTS:
                raise
            wait = getattr(exc, "retry_after", None) or min(2 ** number, MAX_RETRY_WAIT)
            time.sleep(min(float(wait), MAX_RETRY_WAIT))
            number += 1


def failure_reason(exc: Exception) -> tuple[str, ErrorClass]:
    """Why an account could not be read, in words for the user, and the kind of failure."""
    if isinstance(exc, PlatformSettingsError):  # the installation's, for the admin to fix
        return str(exc), ErrorClass.CONFIGURATION
    if isinstance(exc, InvalidCredentialsError):
        return f"the login no longer works ({exc})", ErrorClass.AUTHENTICATION
    if isinstance(exc, QuotaExhaustedError):
        return str(exc), ErrorClass.QUOTA
    if isinstance(exc, RateLimitedError | TemporaryError):
        return f"the platform is not answering properly ({exc})", ErrorClass.TRANSIENT
    if isinstance(exc, PlatformError | PpcRobotError):
        return str(exc), ErrorClass.DATA
    return f"unexpected error ({type(exc).__name__})", ErrorClass.INTERNAL


def nothing_read(failed: list[MissingAccount], errors: list[Exception]) -> RunFailed:
    """The failure of a run that read no account: a refused login first; when every account
    waits for an exhausted quota, the run waits until the last of those quotas is free again."""
    classes = [failure_reason(exc)[1] for exc in errors]
    message = "No client account could be read: " + "; ".join(f"{m.name}: {m.reason}" for m in failed)
    if ErrorClass.AUTHENTICATION in classes:
        return RunFailed(message, ErrorClass.AUTHENTICATION)
    if all(isinstance(exc, QuotaExhaustedError) for exc in errors):
        retry_at = max(exc.next_attempt_at for exc in errors if isinstance(exc, QuotaExhaustedError))
        return RunFailed(message, ErrorClass.QUOTA, retry_at=retry_at)
    return RunFailed(message, classes[0])


def fetch_all(context: RunContext, accounts: Sequence[AccountToRead],
              fetch: Callable[[AccountCall], T], *, calls_per_account: int = 1,
              plan: Callable[[Platform, int], int] | None = None,
              describe: Callable[[T], str] | None = None) -> Fetched[T]:
    """`fetch` for every account, concurrently; progress counts the accounts done.

    `calls_per_account` is how many platform calls one account is expected to need (planned on
    its login's quota at once). `plan(platform, accounts)`, instead, gives the calls a login
    needs for its `accounts` accounts, and the login's day quota must hold all of them before
    its first call (else its accounts wait for the quota, see `nothing_read`): for listings
    that are worth nothing half done. `describe` words an account's result for the run's log.
    Each login's success or failure is recorded at the end.

    Raises RunFailed (CONFIGURATION) when an account failed on the installation's platform
    settings, and the failure of `nothing_read` when no account could be read.
    """
    settings, vault = platform_access(context)
    fetched: Fetched[T] = Fetched()
    lock = threading.Lock()
    done = 0
    context.progress(0, len(accounts))
    concurrency = max(1, min(context.settings.account_concurrency, len(accounts)))
    slot = threading.Semaphore(concurrency)
    per_login = Counter(a.service_account.id for a in accounts)
    platforms = {a.service_account.id: a.service_account.platform for a in accounts}
    planned = {login: plan(platforms[login], n) if plan else n * calls_per_account
               for login, n in per_login.items()}
    logins = Logins(context, settings, vault, planned, whole_plan=plan is not None)
    # `concurrency` platform calls at a time, and twice as many threads: while one thread turns
    # an answer into a frame, another's call has already taken its place.
    threads = max(1, min(2 * concurrency, len(accounts)))
    with ThreadPoolExecutor(threads, thread_name_prefix=f"run{context.run_id}") as pool:
        futures = {pool.submit(fetch, AccountCall(a, logins, slot)): a for a in accounts}
        for future in as_completed(futures):
            account = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                logins.failures.setdefault(account.service_account.id, exc)
                if not isinstance(exc, PlatformError | PpcRobotError):
                    logger.exception("run %s: account %s failed", context.run_id, account.client_account_id)
                reason, _ = failure_reason(exc)
                fetched.missing.append(MissingAccount(account.client_account_id, account.name, reason))
                fetched.errors.append(exc)
                context.log(ACCOUNT_LINE % {"account": account.name, "outcome": reason})
            else:
                fetched.results.append((account, result))
                context.log(ACCOUNT_LINE % {"account": account.name,
                                            "outcome": describe(result) if describe else N_("read")})
            with lock:
                done += 1
                context.progress(done, len(accounts))
    logins.record(context)
    _check(fetched, accounts)
    return fetched


def _check(fetched: Fetched[T], accounts: Sequence[AccountToRead]) -> None:
    settings_failures = [m for m, exc in zip(fetched.missing, fetched.errors, strict=True)
                         if isinstance(exc, PlatformSettingsError)]
    if settings_failures:
        # Not the user's doing and not one account's: every account of that platform fails
        # alike, so the run fails whole, naming the setting to correct.
        raise RunFailed("This installation's platform settings need the administrator: "
                        + settings_failures[0].reason, ErrorClass.CONFIGURATION)
    if accounts and len(fetched.missing) == len(accounts):
        raise nothing_read(fetched.missing, fetched.errors)
