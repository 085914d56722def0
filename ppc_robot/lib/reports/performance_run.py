"""Running the performance report: fetch every account's rows, compute, write the output.

Rows stream from each platform into polars frames (a chunk at a time, never a dict per row),
which wait on disk in the run's work folder; performance_table groups, compares, filters and
sorts them a part at a time, and the parts stream to the output and the preview.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.accounts import (
    record_login_failure,
    record_login_success,
    store_refreshed_credentials,
    vault_from_config,
)
from ppc_robot.lib.admin import resolve_settings_problems
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.jobs.levels import reads_all_of_client, reads_all_of_login
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    Job,
    Platform,
    ServiceAccount,
    utcnow,
)
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformError,
    PlatformSettings,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.quota import QuotaLimiter, limits_for
from ppc_robot.lib.reports.catalogue import current_parameters, get_report_type, validate_parameters
from ppc_robot.lib.reports.performance_output import Preview, write_output
from ppc_robot.lib.reports.performance_table import (
    BASE,
    MICROS,
    MONEY_COLUMNS,
    Chunk,
    Spill,
    compute,
)
from ppc_robot.lib.reports.periods import Period, comparison_of, period_of
from ppc_robot.lib.runner import ErrorClass, MissingAccount, RunContext, RunFailed, RunResult
from ppc_robot.lib.runner.execute import register_executor

logger = logging.getLogger(__name__)

CHUNK_ROWS = 10_000
FETCH_ATTEMPTS = 4
MAX_RETRY_WAIT = 60.0
PLATFORM_DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")

@dataclass(frozen=True)
class AccountToRead:
    """What a fetch thread needs, copied out of the session (threads never share one)."""

    client_account_id: int
    external_id: str
    name: str
    currency: str
    time_zone: str
    platform: str
    service_account: ServiceAccount
    platform_extra: dict[str, str] = field(default_factory=dict)  # how to reach it, from sync


def _parameters(context: RunContext) -> dict[str, Any]:
    try:
        parameters = current_parameters(context.task_type, context.task_type_version, context.parameters)
        return dict(validate_parameters(get_report_type(context.task_type), parameters))
    except PpcRobotError as exc:
        raise RunFailed(f"The report's settings are no longer valid: {exc}") from exc


def _accounts(session: Session, context: RunContext) -> tuple[list[AccountToRead], list[MissingAccount], Client | None]:
    job = session.get_one(Job, context.job_id)
    # Every account of a login or a client means those on the platform now (an account removed
    # since is not missing, it is gone); chosen accounts that vanished are reported missing.
    live = ClientAccount.status != ClientAccountStatus.REMOVED
    if reads_all_of_login(job):
        chosen = list(session.scalars(select(ClientAccount).where(
            ClientAccount.service_account_id == job.service_account_id, live)))
    elif reads_all_of_client(job):
        chosen = list(session.scalars(select(ClientAccount).where(
            ClientAccount.client_id == job.client_id, live)))
    else:
        chosen = list(job.client_accounts)
    client = session.get(Client, job.client_id) if job.client_id else None
    if client is None:
        clients = {a.client_id for a in chosen}
        if len(clients) == 1 and None not in clients:
            client = session.get(Client, clients.pop())
    readable, missing = [], []
    for account in sorted(chosen, key=lambda a: a.name.lower()):
        if account.user_id != job.user_id:
            raise RunFailed("The job names a client account that is not yours.")
        if account.status is ClientAccountStatus.REMOVED:
            missing.append(MissingAccount(account.id, account.name,
                                          "the account no longer exists on the platform"))
            continue
        readable.append(AccountToRead(account.id, account.external_id, account.name, account.currency,
                                      account.time_zone, account.service_account.platform.value,
                                      account.service_account, dict(account.platform_extra or {})))
    if not readable and not missing:
        raise RunFailed("The job has no client accounts to report on; pick some in the job editor.")
    return readable, missing, client


TEXT_COLUMNS = ("campaign", "ad_group", "keyword", "device")


def _micros(value: Decimal) -> int:
    # Platform amounts have at most six decimals (micros), so this is exact.
    return int(value * MICROS)


def _chunks(account: AccountToRead, request: ReportRequest, client: Any,
            in_flight: threading.Semaphore) -> Iterator[pl.DataFrame]:
    columns: dict[str, list[Any]] = {name: [] for name in PLATFORM_DIMENSIONS + BASE}
    appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                 for name, row_list in columns.items()]
    with in_flight:  # the platform calls; the last frame is built after the slot is free
        for row in client.fetch_report(request):
            for append, name, is_money in appenders:
                value = getattr(row, name)
                append(_micros(value) if is_money else value)
            if len(columns["date"]) >= CHUNK_ROWS:
                yield _frame(account, columns)
                columns = {name: [] for name in columns}
                appenders = [(row_list.append, name, name in MONEY_COLUMNS)
                             for name, row_list in columns.items()]
    if columns["date"]:
        yield _frame(account, columns)


def _frame(account: AccountToRead, columns: dict[str, list[Any]]) -> pl.DataFrame:
    """One chunk of platform rows: money as integer micros, repeated texts as categoricals."""
    frame = pl.DataFrame(columns, schema={
        "date": pl.Date, "campaign": pl.String, "ad_group": pl.String, "keyword": pl.String,
        "device": pl.String, "impressions": pl.Int64, "clicks": pl.Int64, "cost": pl.Int64,
        "conversions": pl.Int64, "conversion_value": pl.Int64,
    })
    return frame.with_columns(
        [pl.col(name).cast(pl.Categorical) for name in TEXT_COLUMNS]
        + [pl.lit(account.name, pl.Categorical).alias("client_account"),
           pl.lit(account.platform, pl.Categorical).alias("platform"),
           pl.lit(account.currency, pl.Categorical).alias("currency")]
    )


class _Logins:
    """One platform client per login for the whole run, shared by the fetch threads.

    Sharing means at most one token refresh per login instead of one per account (none while
    the stored access token is valid); every call still passes the login's quota limiter,
    which counts in the database for all processes.
    """

    def __init__(self, context: RunContext, settings: PlatformSettings, vault: Any,
                 planned: Mapping[int, int]) -> None:
        self._engine = context.session_factory.kw["bind"]
        self._session_factory = context.session_factory
        self._settings, self._vault = settings, vault
        self._planned = planned  # login id → the calls the run expects to make through it
        self._clients: dict[int, Any] = {}
        self._read: dict[int, dict[str, Any]] = {}
        self._limiters: list[QuotaLimiter] = []
        self._lock = threading.Lock()
        self.failures: dict[int, Exception] = {}

    def client(self, login: ServiceAccount) -> Any:
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
                limiter.plan(self._planned.get(login.id, 0))
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


def _fetch(account: AccountToRead, periods: Sequence[Period], dimensions: Sequence[str],
           logins: _Logins, in_flight: threading.Semaphore, spill: Spill) -> list[Chunk]:
    """All rows of one account over `periods`, spilled to disk; rate limits and 5xx are retried."""
    wanted = [d for d in PLATFORM_DIMENSIONS if d in dimensions or d == "date"]
    remote = RemoteAccount(external_id=account.external_id, name=account.name,
                           currency=account.currency, time_zone=account.time_zone,
                           extra=account.platform_extra)
    chunks: list[Chunk] = []
    for period in periods:
        request = ReportRequest(account=remote, date_from=period.first, date_to=period.last,
                                dimensions=tuple(wanted))
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            # Kept only when the whole period arrived: a retry must not count rows twice.
            period_chunks: list[Chunk] = []
            try:
                client = logins.client(account.service_account)
                for frame in _chunks(account, request, client, in_flight):
                    period_chunks.append(spill.write(frame))
                chunks.extend(period_chunks)
                break
            except (RateLimitedError, TemporaryError) as exc:
                spill.discard(period_chunks)
                if attempt == FETCH_ATTEMPTS:
                    raise
                wait = getattr(exc, "retry_after", None) or min(2 ** attempt, MAX_RETRY_WAIT)
                time.sleep(min(float(wait), MAX_RETRY_WAIT))
    return chunks


def _reason(exc: Exception) -> tuple[str, ErrorClass]:
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


def _fetch_all(context: RunContext, accounts: list[AccountToRead], periods: Sequence[Period],
               dimensions: Sequence[str], spill: Spill) -> tuple[list[Chunk], list[MissingAccount], list[Exception]]:
    config = context.settings.app_config
    settings = PlatformSettings.from_mapping(config)
    vault = vault_from_config(str(config.get("PPC_ROBOT_CREDENTIALS_KEY", "")))
    chunks: list[Chunk] = []
    missing: list[MissingAccount] = []
    errors: list[Exception] = []
    lock = threading.Lock()
    done = 0
    context.progress(0, len(accounts))
    concurrency = max(1, min(context.settings.account_concurrency, len(accounts)))
    in_flight = threading.Semaphore(concurrency)
    planned = Counter(a.service_account.id for a in accounts)
    logins = _Logins(context, settings, vault, {login: n * len(periods) for login, n in planned.items()})
    # `concurrency` platform calls at a time, and twice as many threads: while one thread turns
    # an answer into a frame, another's call has already taken its place.
    threads = min(2 * concurrency, len(accounts))
    with ThreadPoolExecutor(threads, thread_name_prefix=f"run{context.run_id}") as pool:
        futures = {pool.submit(_fetch, a, periods, dimensions, logins, in_flight, spill): a
                   for a in accounts}
        for future in as_completed(futures):
            account = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                logins.failures.setdefault(account.service_account.id, exc)
                if not isinstance(exc, PlatformError | PpcRobotError):
                    logger.exception("run %s: account %s failed", context.run_id, account.client_account_id)
                reason, _ = _reason(exc)
                missing.append(MissingAccount(account.client_account_id, account.name, reason))
                errors.append(exc)
                context.log(f"{account.name}: {reason}")
            else:
                chunks.extend(result)
                context.log(f"{account.name}: {sum(c.rows for c in result)} rows")
            with lock:
                done += 1
                context.progress(done, len(accounts))
    logins.record(context)
    return chunks, missing, errors


@contextmanager
def _work_folder(context: RunContext) -> Iterator[Path]:
    """A folder for the run's rows on disk (beside the outputs, not in memory), removed afterwards."""
    parent = context.settings.work_dir
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"run{context.run_id}-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _nothing_read(failed: list[MissingAccount], errors: list[Exception]) -> RunFailed:
    """The failure of a run that read no account: a refused login first; when every account
    waits for an exhausted quota, the run waits until the last of those quotas is free again."""
    classes = [_reason(exc)[1] for exc in errors]
    message = "No client account could be read: " + "; ".join(f"{m.name}: {m.reason}" for m in failed)
    if ErrorClass.AUTHENTICATION in classes:
        return RunFailed(message, ErrorClass.AUTHENTICATION)
    if all(isinstance(exc, QuotaExhaustedError) for exc in errors):
        retry_at = max(exc.next_attempt_at for exc in errors if isinstance(exc, QuotaExhaustedError))
        return RunFailed(message, ErrorClass.QUOTA, retry_at=retry_at)
    return RunFailed(message, classes[0])


def execute_performance(context: RunContext) -> RunResult:
    parameters = _parameters(context)
    local_day = context.scheduled_at.astimezone(ZoneInfo(context.time_zone or "UTC")).date()
    period = period_of(parameters["date_range"], local_day, first=parameters.get("date_from"),
                       last=parameters.get("date_to"))
    comparison = comparison_of(period, parameters.get("comparison") or "none")
    with context.session_factory() as session:
        accounts, missing, client = _accounts(session, context)
        session.expunge_all()
    periods = [period] + ([comparison[0]] if comparison else [])
    keyed = parameters
    if parameters.get("sheets") == "per_account" and "client_account" not in parameters["dimensions"]:
        # One sheet per account: the rows by account, whether or not it is a column as well.
        keyed = parameters | {"dimensions": [*parameters["dimensions"], "client_account"]}
    with _work_folder(context) as work:
        chunks, failed, errors = _fetch_all(context, accounts, periods, parameters["dimensions"],
                                            Spill(work / "rows"))
        missing += failed
        settings_failures = [m for m, exc in zip(failed, errors, strict=True)
                             if isinstance(exc, PlatformSettingsError)]
        if settings_failures:
            # Not the user's doing and not one account's: every account of that platform
            # fails alike, so the run fails whole, naming the setting to correct.
            raise RunFailed("This installation's platform settings need the administrator: "
                            + settings_failures[0].reason, ErrorClass.CONFIGURATION)
        if accounts and len(failed) == len(accounts):
            raise _nothing_read(failed, errors)
        raw = pl.scan_ipc([c.path for c in chunks]) if chunks else _frame(
            AccountToRead(0, "", "", "", "UTC", "", None), {n: [] for n in PLATFORM_DIMENSIONS + BASE}).lazy()  # type: ignore[arg-type]
        table = compute(raw, sum(c.rows for c in chunks), keyed, period, comparison, work)
        preview = Preview(table, keyed)
        output, state = write_output(context, table, parameters, missing, client, period, local_day,
                                     preview)
        preview.save(context)
    context.log(f"{table.height} rows written")
    return RunResult(rows=table.height, output_file=output, missing=missing, output_state=state)


register_executor("performance", execute_performance)
