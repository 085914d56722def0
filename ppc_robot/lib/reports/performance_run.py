"""Running the performance report: fetch every account's rows, compute, write the output.

Rows stream from each platform into polars frames (a chunk at a time, never a dict per row);
grouping, derived metrics (Decimal for money), comparison, filters and sorting happen there.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.accounts import (
    record_login_failure,
    store_refreshed_credentials,
    vault_from_config,
)
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.jobs.levels import reads_all_of_client, reads_all_of_login
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    Job,
    OutputType,
    Platform,
    ServiceAccount,
    utcnow,
)
from ppc_robot.lib.outputs import Column, ColumnKind, Sheet, write_csv, write_xlsx
from ppc_robot.lib.outputs.sheets import SheetsClient, SheetsError, write_google_sheet
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformError,
    PlatformSettings,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.oauth import OAuthProvider, refresh_access_token
from ppc_robot.lib.platforms.quota import QuotaLimiter, limits_for
from ppc_robot.lib.reports.catalogue import current_parameters, get_report_type, validate_parameters
from ppc_robot.lib.reports.performance import DIMENSIONS, METRICS
from ppc_robot.lib.reports.periods import Period, comparison_of, period_of
from ppc_robot.lib.runner import ErrorClass, MissingAccount, RunContext, RunFailed, RunResult
from ppc_robot.lib.runner.execute import register_executor
from ppc_robot.lib.runs import preview_name

logger = logging.getLogger(__name__)

MONEY = pl.Decimal(38, 6)
CHUNK_ROWS = 50_000
FETCH_ATTEMPTS = 4
MAX_RETRY_WAIT = 60.0
PLATFORM_DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")
LABELS = dict(DIMENSIONS) | dict(METRICS) | {"currency": "Currency"}
KINDS = {
    "date": ColumnKind.DATE, "week": ColumnKind.DATE, "month": ColumnKind.TEXT,
    "impressions": ColumnKind.INTEGER, "clicks": ColumnKind.INTEGER,
    "cost": ColumnKind.MONEY, "conversions": ColumnKind.DECIMAL, "conversion_value": ColumnKind.MONEY,
    "ctr": ColumnKind.PERCENT, "cpc": ColumnKind.MONEY, "cpm": ColumnKind.MONEY,
    "conversion_rate": ColumnKind.PERCENT, "cpa": ColumnKind.MONEY, "roas": ColumnKind.RATIO,
    "pno": ColumnKind.PERCENT,
}
BETTER = {"cpa": "lower", "pno": "lower", "roas": "higher"}
BASE = ("impressions", "clicks", "cost", "conversions", "conversion_value")


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


MICROS = 1_000_000
MONEY_COLUMNS = ("cost", "conversions", "conversion_value")
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
                if isinstance(failure, InvalidCredentialsError | QuotaExhaustedError):
                    record_login_failure(session, login, failure, self._settings, now, is_sync=False)
                    continue
                if failure is None:
                    login.last_success_at = now
            session.commit()


def _fetch(account: AccountToRead, periods: Sequence[Period], dimensions: Sequence[str],
           logins: _Logins, in_flight: threading.Semaphore) -> list[pl.DataFrame]:
    """All rows of one account over `periods`, retrying rate limits and 5xx with backoff."""
    wanted = [d for d in PLATFORM_DIMENSIONS if d in dimensions or d == "date"]
    remote = RemoteAccount(external_id=account.external_id, name=account.name,
                           currency=account.currency, time_zone=account.time_zone,
                           extra=account.platform_extra)
    frames: list[pl.DataFrame] = []
    for period in periods:
        request = ReportRequest(account=remote, date_from=period.first, date_to=period.last,
                                dimensions=tuple(wanted))
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                client = logins.client(account.service_account)
                frames.extend(_chunks(account, request, client, in_flight))
                break
            except (RateLimitedError, TemporaryError) as exc:
                if attempt == FETCH_ATTEMPTS:
                    raise
                wait = getattr(exc, "retry_after", None) or min(2 ** attempt, MAX_RETRY_WAIT)
                time.sleep(min(float(wait), MAX_RETRY_WAIT))
    return frames


def _reason(exc: Exception) -> tuple[str, ErrorClass]:
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
               dimensions: Sequence[str]) -> tuple[list[pl.DataFrame], list[MissingAccount], list[ErrorClass]]:
    config = context.settings.app_config
    settings = PlatformSettings.from_mapping(config)
    vault = vault_from_config(str(config.get("PPC_ROBOT_CREDENTIALS_KEY", "")))
    frames: list[pl.DataFrame] = []
    missing: list[MissingAccount] = []
    classes: list[ErrorClass] = []
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
        futures = {pool.submit(_fetch, a, periods, dimensions, logins, in_flight): a
                   for a in accounts}
        for future in as_completed(futures):
            account = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                logins.failures.setdefault(account.service_account.id, exc)
                if not isinstance(exc, PlatformError | PpcRobotError):
                    logger.exception("run %s: account %s failed", context.run_id, account.client_account_id)
                reason, error_class = _reason(exc)
                missing.append(MissingAccount(account.client_account_id, account.name, reason))
                classes.append(error_class)
                context.log(f"{account.name}: {reason}")
            else:
                frames.extend(result)
                context.log(f"{account.name}: {sum(f.height for f in result)} rows")
            with lock:
                done += 1
                context.progress(done, len(accounts))
    logins.record(context)
    return frames, missing, classes


def _with_time_dimensions(frame: pl.LazyFrame, dimensions: Sequence[str]) -> pl.LazyFrame:
    extra = {}
    if "week" in dimensions:
        extra["week"] = pl.col("date").dt.truncate("1w")
    if "month" in dimensions:
        extra["month"] = pl.col("date").dt.strftime("%Y-%m")
    return frame.with_columns(**extra) if extra else frame


def _aggregate(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Sums per key; money sums stay exact integers of micros, then become Decimal."""
    summed = frame.group_by(keys).agg([pl.col(m).sum() for m in BASE])
    return summed.with_columns(
        [(pl.col(m).cast(MONEY) / pl.lit(Decimal(MICROS), pl.Decimal(24, 0))).alias(m) for m in MONEY_COLUMNS]
    )


def _safe_div(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)


def _derived(frame: pl.LazyFrame, suffix: str = "") -> pl.LazyFrame:
    """Derived metrics: money ones (CPC, CPM, CPA) as Decimal, ratios as floats."""

    def col(name: str) -> pl.Expr:
        return pl.col(name + suffix)

    impressions, clicks = col("impressions"), col("clicks")
    cost, conversions, value = col("cost"), col("conversions"), col("conversion_value")
    return frame.with_columns(
        _safe_div(clicks.cast(pl.Float64), impressions.cast(pl.Float64)).alias("ctr" + suffix),
        _safe_div(cost, clicks.cast(MONEY)).alias("cpc" + suffix),
        _safe_div(cost * pl.lit(Decimal(1000), MONEY), impressions.cast(MONEY)).alias("cpm" + suffix),
        _safe_div(conversions.cast(pl.Float64), clicks.cast(pl.Float64)).alias("conversion_rate" + suffix),
        _safe_div(cost, conversions).alias("cpa" + suffix),
        _safe_div(value.cast(pl.Float64), cost.cast(pl.Float64)).alias("roas" + suffix),
        _safe_div(cost.cast(pl.Float64), value.cast(pl.Float64)).alias("pno" + suffix),
    )


def _shift(frame: pl.LazyFrame, shift: relativedelta, dimensions: Sequence[str]) -> pl.LazyFrame:
    """Move a comparison period's dates onto the report period so rows line up."""
    moved = frame
    if "date" in dimensions or "week" in dimensions or "month" in dimensions:
        if shift.years:
            moved = moved.with_columns(date=pl.col("date").dt.offset_by(f"{shift.years}y"))
        else:
            moved = moved.with_columns(date=pl.col("date").dt.offset_by(f"{shift.days}d"))
    return moved


def compute(raw: pl.DataFrame, parameters: dict[str, Any], period: Period,
            comparison: tuple[Period, relativedelta] | None) -> pl.DataFrame:
    """The report table from raw platform rows of the period (and the comparison period).

    Sorting and the row limit come before the derived metrics whenever the sort key allows,
    so the wide columns are computed only for the rows that are kept.
    """
    dimensions = list(parameters["dimensions"])
    metrics = list(parameters["metrics"])
    keys = dimensions + (["currency"] if "currency" not in dimensions else [])
    lazy = raw.lazy()
    needle = (parameters.get("name_contains") or "").lower()
    if needle:
        def matches(name: str) -> pl.Expr:
            return pl.col(name).cast(pl.String).fill_null("").str.to_lowercase().str.contains(needle, literal=True)

        lazy = lazy.filter(matches("campaign") | matches("ad_group"))
    current = lazy.filter(pl.col("date").is_between(period.first, period.last))
    table = _aggregate(_with_time_dimensions(current, dimensions), keys)
    if comparison is not None:
        before, shift = comparison
        previous = lazy.filter(pl.col("date").is_between(before.first, before.last))
        previous = _aggregate(_with_time_dimensions(_shift(previous, shift, dimensions), dimensions), keys)
        previous = previous.select(keys + [pl.col(m).alias(f"{m}_previous") for m in BASE])
        table = table.join(previous, on=keys, how="left", nulls_equal=True)
    thresholds = {"impressions": "min_impressions", "clicks": "min_clicks", "cost": "min_cost",
                  "conversions": "min_conversions"}
    for metric, key in thresholds.items():
        if parameters.get(key) not in (None, ""):
            table = table.filter(pl.col(metric).cast(pl.Float64) >= float(parameters[key]))
    sort_by = parameters.get("sort_by") or metrics[0]
    if sort_by not in keys and sort_by not in KINDS:
        sort_by = None
    descending = parameters.get("sort_order") != "asc"
    limit = int(parameters["row_limit"]) if parameters.get("row_limit") else None
    early = sort_by is not None and (sort_by in keys or sort_by in BASE)
    if early:
        table = table.sort(sort_by, descending=descending, nulls_last=True)
        if limit:
            table = table.head(limit)
    table = _derived(table)
    if comparison is not None:
        table = _derived(table, "_previous")
        table = table.with_columns(
            [(pl.col(m).cast(pl.Float64) - pl.col(f"{m}_previous").cast(pl.Float64)).alias(f"{m}_change")
             for m in metrics]
            + [_safe_div(pl.col(m).cast(pl.Float64) - pl.col(f"{m}_previous").cast(pl.Float64),
                         pl.col(f"{m}_previous").cast(pl.Float64)).alias(f"{m}_change_pct") for m in metrics]
        )
    if sort_by is not None and not early:
        table = table.sort(sort_by, descending=descending, nulls_last=True)
        if limit:
            table = table.head(limit)
    elif limit and sort_by is None:
        table = table.head(limit)
    wanted = keys + [c for m in metrics for c in (m, f"{m}_previous", f"{m}_change", f"{m}_change_pct")]
    return table.select([c for c in wanted if c in table.collect_schema().names()]).collect()


def _columns(table: pl.DataFrame, parameters: dict[str, Any], *, show_currency: bool) -> list[Column]:
    names = list(parameters["dimensions"]) + (["currency"] if show_currency else [])
    columns = [Column(n, LABELS.get(n, n), KINDS.get(n, ColumnKind.TEXT)) for n in names]
    for metric in parameters["metrics"]:
        kind = KINDS.get(metric, ColumnKind.DECIMAL)
        columns.append(Column(metric, LABELS[metric], kind, better=BETTER.get(metric)))
        if f"{metric}_previous" in table.columns:
            columns.append(Column(f"{metric}_previous", f"{LABELS[metric]} (before)", kind))
            change_kind = ColumnKind.DECIMAL if kind is ColumnKind.MONEY else kind
            columns.append(Column(f"{metric}_change", f"{LABELS[metric]} change", change_kind))
            columns.append(Column(f"{metric}_change_pct", f"{LABELS[metric]} change %", ColumnKind.PERCENT))
    return columns


def _goals(client: Client | None) -> dict[str, Decimal]:
    if client is None:
        return {}
    goals = {"cpa": client.target_cpa, "roas": client.target_roas, "pno": client.target_pno}
    return {k: v for k, v in goals.items() if v is not None}


_UNSAFE = re.compile(r"[^\w .,()\-]+", re.UNICODE)


def output_name(pattern: str, job_name: str, day: date) -> str:
    """The file name from the job's pattern ({job}, {date}); path characters are refused."""
    pattern = pattern or "{job} {date}"
    if "/" in pattern or "\\" in pattern or ".." in pattern or "\x00" in pattern:
        raise RunFailed("The output file name may not contain /, \\ or “..”; change it in the job.")
    try:
        name = pattern.format(job=job_name, date=day.isoformat())
    except (KeyError, IndexError, ValueError) as exc:
        raise RunFailed(f"The output file name pattern is not valid ({exc}); use {{job}} and {{date}}.") from exc
    name = _UNSAFE.sub("_", name).strip(" .") or "report"
    return name[:120]


def _write(context: RunContext, table: pl.DataFrame, parameters: dict[str, Any], missing: list[MissingAccount],
           client: Client | None, period: Period, today: date) -> tuple[str, dict[str, Any] | None]:
    currencies = table.get_column("currency").unique().to_list() if table.height else []
    single_currency = currencies[0] if len(currencies) == 1 else None
    columns = _columns(table, parameters, show_currency=single_currency is None)
    notes = [f"Period: {period.label()}"] + [
        f"Missing client account “{m.name}”: {m.reason}" for m in missing]
    context.output_dir.mkdir(parents=True, exist_ok=True)
    name = output_name(context.output_path, context.job_name, today)
    output_type = OutputType(context.output_type)
    names = [c.name for c in columns]
    if output_type is OutputType.GOOGLE_SHEETS:
        return _write_google_sheet(context, columns, table.select(names).iter_rows(), notes)
    extension = "xlsx" if output_type is OutputType.XLSX else "csv"
    # Fixed by the run id: a run executed twice overwrites its own file, never adds another.
    target = context.output_dir / f"{context.run_id}-{name}.{extension}"
    partial = target.with_name(f".{target.name}.part")
    if output_type is OutputType.XLSX:
        sheets = []
        groups = (table.partition_by("client_account", maintain_order=True, as_dict=True)
                  if parameters.get("sheets") == "per_account" and "client_account" in table.columns
                  else {("Performance",): table})
        for key, part in groups.items():
            sheets.append(Sheet(str(key[0]), columns, part.select(names).iter_rows(),
                                currency=single_currency,
                                chart_metric=parameters["metrics"][0] if parameters["dimensions"] == ["date"] else None,
                                goals=_goals(client), notes=notes))
        if not sheets:
            sheets.append(Sheet("Performance", columns, [], currency=single_currency, notes=notes))
        write_xlsx(partial, sheets)
    else:
        delimiter = str(context.settings.app_config.get("PPC_ROBOT_CSV_DELIMITER") or ",")
        write_csv(partial, columns, table.select(names).iter_rows(), delimiter=delimiter)
    partial.replace(target)
    return str(target), None


def _google_access_token(context: RunContext, settings: PlatformSettings, vault: Any) -> tuple[str, str]:
    """An access token of the user's Google login (the job's own, else his first one)."""
    with context.session_factory() as session:
        job = session.get_one(Job, context.job_id)
        logins = [job.service_account] if job.service_account is not None else []
        logins += list(session.scalars(select(ServiceAccount).where(
            ServiceAccount.user_id == context.user_id, ServiceAccount.platform == Platform.GOOGLE_ADS,
            ServiceAccount.credentials_encrypted.is_not(None)).order_by(ServiceAccount.id)))
        login = next((a for a in logins if a.platform is Platform.GOOGLE_ADS and a.credentials_encrypted), None)
        if login is None:
            raise RunFailed("Writing to Google Sheets needs a linked Google login; link one on the "
                            "Accounts page or choose XLSX or CSV.")
        credentials, name = vault.decrypt_json(login.credentials_encrypted), login.name
    try:
        tokens = refresh_access_token(OAuthProvider.of(Platform.GOOGLE_ADS, settings), settings,
                                      credentials.get("refresh_token", ""))
    except InvalidCredentialsError as exc:
        raise RunFailed(f"The Google login “{name}” no longer works: {exc}", ErrorClass.AUTHENTICATION) from exc
    except (RateLimitedError, TemporaryError) as exc:
        raise RunFailed(f"Google did not answer properly: {exc}", ErrorClass.TRANSIENT) from exc
    return tokens["access_token"], name


def _write_google_sheet(context: RunContext, columns: list[Column], rows: Iterator[Any],
                        notes: list[str]) -> tuple[str, dict[str, Any]]:
    config = context.settings.app_config
    spreadsheet_id = (context.output_path or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{10,100}", spreadsheet_id):
        raise RunFailed("The job's output needs the id of a Google spreadsheet (the long part of its "
                        "address between /d/ and /edit).")
    settings = PlatformSettings.from_mapping(config)
    vault = vault_from_config(str(config.get("PPC_ROBOT_CREDENTIALS_KEY", "")))
    token, login_name = _google_access_token(context, settings, vault)
    client = SheetsClient(str(config.get("PPC_ROBOT_GOOGLE_SHEETS_URL") or "https://sheets.googleapis.com"),
                          token, timeout=settings.timeout_seconds)
    try:
        written = write_google_sheet(client, spreadsheet_id, "Performance", columns, rows, notes)
    except SheetsError as exc:
        if exc.kind in ("missing", "denied"):
            raise RunFailed(f"The Google spreadsheet “{spreadsheet_id}” does not exist or is not shared "
                            f"with the Google login “{login_name}”.") from exc
        if exc.kind == "auth":
            raise RunFailed(f"Google refused the login “{login_name}”: {exc}", ErrorClass.AUTHENTICATION) from exc
        if exc.kind == "busy":
            raise RunFailed(f"Google Sheets is busy: {exc}", ErrorClass.TRANSIENT) from exc
        raise RunFailed(f"Google Sheets refused the report: {exc}") from exc
    finally:
        client.close()
    return written.url, {"spreadsheet_id": spreadsheet_id, "tab": written.tab}


PREVIEW_ROWS = 20


def _shown(column: Column, value: Any, currency: str) -> str:
    """A cell as the preview shows it: money with two decimals and its currency, percentages."""
    if value is None:
        return ""
    if column.kind is ColumnKind.MONEY:
        return f"{Decimal(value):,.2f} {currency}".replace(",", "\u202f").strip()
    if column.kind is ColumnKind.PERCENT:
        return f"{float(value) * 100:.2f} %"
    if column.kind in (ColumnKind.RATIO, ColumnKind.DECIMAL):
        return f"{float(value):,.2f}".replace(",", "\u202f")
    if column.kind is ColumnKind.INTEGER:
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


def _write_preview(context: RunContext, table: pl.DataFrame, parameters: dict[str, Any]) -> None:
    """First rows and, with a date dimension, the first metric per day, for the job page."""
    columns = _columns(table, parameters, show_currency="currency" in table.columns
                       and table.get_column("currency").n_unique() > 1)
    names = [c.name for c in columns]
    currencies = table.get_column("currency").unique().to_list() if "currency" in table.columns else []
    currency = currencies[0] if len(currencies) == 1 else ""
    rows = [[_shown(column, value, currency) for column, value in zip(columns, row, strict=True)]
            for row in table.head(PREVIEW_ROWS).select(names).iter_rows()]
    labels: list[str] = []
    values: list[float] = []
    metric = parameters["metrics"][0]
    if "date" in table.columns and metric in table.columns:
        series = (table.group_by("date").agg(pl.col(metric).cast(pl.Float64).sum()).sort("date"))
        labels = [d.isoformat() for d in series.get_column("date").to_list()]
        values = [round(v or 0.0, 4) for v in series.get_column(metric).to_list()]
    target = context.output_dir / preview_name(context.run_id)
    target.write_text(json.dumps({"header": [c.label for c in columns], "rows": rows,
                                  "chart_labels": labels, "chart_values": values,
                                  "chart_label": LABELS.get(metric, metric)}), encoding="utf-8")


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
    frames, failed, classes = _fetch_all(context, accounts, periods, parameters["dimensions"])
    missing += failed
    if accounts and len(failed) == len(accounts):
        worst = ErrorClass.AUTHENTICATION if ErrorClass.AUTHENTICATION in classes else classes[0]
        raise RunFailed("No client account could be read: " + "; ".join(
            f"{m.name}: {m.reason}" for m in failed), worst)
    raw = pl.concat(frames, how="vertical") if frames else _frame(
        AccountToRead(0, "", "", "", "UTC", "", None), {n: [] for n in PLATFORM_DIMENSIONS + BASE})  # type: ignore[arg-type]
    table = compute(raw, parameters, period, comparison)
    output, state = _write(context, table, parameters, missing, client, period, local_day)
    _write_preview(context, table, parameters)
    context.log(f"{table.height} rows written")
    return RunResult(rows=table.height, output_file=output, missing=missing, output_state=state)


register_executor("performance", execute_performance)
