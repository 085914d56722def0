"""A report's Google Sheet: the spreadsheet the job names, or one its first run creates.

A job whose spreadsheet field is empty gets a new spreadsheet at its first run, created through
the user's Google login (its grant carries the Sheets scope); the job's output state remembers
it at once, so every later run, and a retry of this one, updates the same spreadsheet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ppc_robot.lib.admin import alert_admins
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Job, OutputType, Platform, ServiceAccount
from ppc_robot.lib.outputs import Column
from ppc_robot.lib.outputs.sheets import SheetsClient, SheetsError, write_google_sheet
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformSettings,
    PlatformSettingsError,
    RateLimitedError,
    TemporaryError,
)
from ppc_robot.lib.platforms.oauth import OAuthProvider, refresh_access_token
from ppc_robot.lib.reports.shared.logins import platform_access
from ppc_robot.lib.runner import ErrorClass, RunContext, RunFailed

logger = logging.getLogger(__name__)
SPREADSHEET_ID = re.compile(r"[A-Za-z0-9_-]{10,100}")


@dataclass(frozen=True)
class JobSpreadsheet:
    """The spreadsheet a Google Sheets job writes to, as its page shows it."""

    spreadsheet_id: str
    url: str
    created_by_run: bool


def job_spreadsheet(job: Job) -> JobSpreadsheet | None:
    """The job's spreadsheet: the one it names, else the one its first run created; None when it
    has none yet (or writes files). The address is built from the id, never taken as stored."""
    if job.definition.output_type is not OutputType.GOOGLE_SHEETS:
        return None
    created = str((job.output_state or {}).get("created_spreadsheet_id") or "")
    spreadsheet_id = job.output_path or created
    if not SPREADSHEET_ID.fullmatch(spreadsheet_id):
        return None
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"
    return JobSpreadsheet(spreadsheet_id, url, created_by_run=not job.output_path)


def google_access_token(context: RunContext, settings: PlatformSettings, vault: Vault) -> tuple[str, str]:
    """An access token of the user's Google login (the job's own, else his first one)."""
    with context.session_factory() as session:
        job = session.get_one(Job, context.job_id)
        logins = [job.service_account] if job.service_account is not None else []
        logins += list(session.scalars(select(ServiceAccount).where(
            ServiceAccount.user_id == context.user_id, ServiceAccount.platform == Platform.GOOGLE_ADS,
            ServiceAccount.credentials_encrypted.is_not(None)).order_by(ServiceAccount.id)))
        login = next((a for a in logins if a.platform is Platform.GOOGLE_ADS and a.credentials_encrypted), None)
        if login is None:
            raise RunFailed(N_("Writing to Google Sheets needs a linked Google login; link one on "
                               "the Accounts page or choose XLSX or CSV."))
        credentials, name = vault.decrypt_json(login.credentials_encrypted), login.name
    try:
        tokens = refresh_access_token(OAuthProvider.of(Platform.GOOGLE_ADS, settings), settings,
                                      credentials.get("refresh_token", ""))
    except PlatformSettingsError as exc:
        with context.session_factory() as session:
            alert_admins(session, Platform.GOOGLE_ADS, exc)
            session.commit()
        raise RunFailed(str(exc), ErrorClass.CONFIGURATION) from exc
    except InvalidCredentialsError as exc:
        raise RunFailed(N_("The Google login “%(name)s” no longer works: %(reason)s")
                        % {"name": name, "reason": exc}, ErrorClass.AUTHENTICATION) from exc
    except (RateLimitedError, TemporaryError) as exc:
        raise RunFailed(N_("Google did not answer properly: %(reason)s") % {"reason": exc},
                        ErrorClass.TRANSIENT) from exc
    return tokens["access_token"], name


def write_report_sheet(context: RunContext, tab: str, columns: list[Column], rows: Iterator[Any],
                       notes: list[str]) -> tuple[str, dict[str, Any]]:
    """Write the rows to the job's spreadsheet (created when it has none); returns its address
    and the job's new output state."""
    config = context.settings.app_config
    chosen = (context.output_path or "").strip()
    if chosen and not SPREADSHEET_ID.fullmatch(chosen):
        raise RunFailed(N_("The job's output needs the id of a Google spreadsheet (the long part of "
                           "its address between /d/ and /edit), or nothing to have one created."))
    settings, vault = platform_access(context)
    token, login_name = google_access_token(context, settings, vault)
    client = SheetsClient(str(config.get("PPC_ROBOT_GOOGLE_SHEETS_URL") or "https://sheets.googleapis.com"),
                          token, timeout=settings.timeout_seconds)
    state = dict(context.output_state)
    spreadsheet_id = chosen or str(state.get("created_spreadsheet_id") or "")
    try:
        if not spreadsheet_id:
            spreadsheet_id = _create(context, client, tab, login_name, state)
        try:
            written = write_google_sheet(client, spreadsheet_id, tab, columns, rows, notes)
        except SheetsError as exc:
            if chosen or exc.kind != "missing":
                raise
            # The spreadsheet this job created was deleted: the job has none now, so a new one.
            logger.info("run %s: spreadsheet created earlier is gone; creating another", context.run_id)
            spreadsheet_id = _create(context, client, tab, login_name, state)
            written = write_google_sheet(client, spreadsheet_id, tab, columns, rows, notes)
    except SheetsError as exc:
        raise _refusal(exc, spreadsheet_id, login_name) from exc
    finally:
        client.close()
    state.update(spreadsheet_id=spreadsheet_id, tab=written.tab, spreadsheet_url=written.url)
    return written.url, state


def _create(context: RunContext, client: SheetsClient, tab: str, login_name: str,
            state: dict[str, Any]) -> str:
    """A new spreadsheet named after the job, remembered on the job before anything is written."""
    try:
        spreadsheet_id, url = client.create(context.job_name, [tab])
    except SheetsError as exc:
        if exc.kind in ("denied", "auth"):
            raise RunFailed(N_("The Google login “%(name)s” may not create spreadsheets (%(reason)s). "
                               "Link it again to allow Google Sheets, or give the job a spreadsheet's "
                               "id.") % {"name": login_name, "reason": exc},
                            ErrorClass.AUTHENTICATION) from exc
        raise
    state.update(created_spreadsheet_id=spreadsheet_id, spreadsheet_id=spreadsheet_id,
                 spreadsheet_url=url)
    # Committed at once, on its own: a retry of this run must find it, not create another.
    with context.session_factory() as session:
        job = session.get_one(Job, context.job_id)
        job.output_state = {**(job.output_state or {}), **state}
        session.commit()
    context.output_state = dict(state)
    context.log(N_("created the Google spreadsheet %(id)s") % {"id": spreadsheet_id})
    return spreadsheet_id


def _refusal(exc: SheetsError, spreadsheet_id: str, login_name: str) -> RunFailed:
    if exc.kind in ("missing", "denied"):
        return RunFailed(N_("The Google spreadsheet “%(sheet)s” does not exist or is not shared "
                            "with the Google login “%(name)s”.")
                         % {"sheet": spreadsheet_id, "name": login_name})
    if exc.kind == "auth":
        return RunFailed(N_("Google refused the login “%(name)s”: %(reason)s")
                         % {"name": login_name, "reason": exc}, ErrorClass.AUTHENTICATION)
    if exc.kind == "busy":
        return RunFailed(N_("Google Sheets is busy: %(reason)s") % {"reason": exc}, ErrorClass.TRANSIENT)
    return RunFailed(N_("Google Sheets refused the report: %(reason)s") % {"reason": exc})
