"""`ReportRun`: what the runner hands a report type's executor, the run's shared plumbing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import polars as pl

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Client, Platform
from ppc_robot.lib.reports.catalogue import current_parameters, get_report_type, validate_parameters
from ppc_robot.lib.reports.shared.accounts import AccountToRead, goals_of, resolve_accounts
from ppc_robot.lib.reports.shared.fetch import AccountCall, fetch_all
from ppc_robot.lib.reports.shared.outputs import TableLayout, write_table
from ppc_robot.lib.reports.shared.preview import Preview
from ppc_robot.lib.reports.shared.workdir import work_folder
from ppc_robot.lib.runner import MissingAccount, RunContext, RunFailed, RunResult, register_executor

T = TypeVar("T")


def report_parameters(context: RunContext) -> dict[str, Any]:
    """The definition's parameters brought to the type's current version and validated.

    Raises RunFailed when they no longer validate.
    """
    try:
        parameters = current_parameters(context.task_type, context.task_type_version, context.parameters)
        return dict(validate_parameters(get_report_type(context.task_type), parameters))
    except PpcRobotError as exc:
        raise RunFailed(N_("The report's settings are no longer valid: %(reason)s") % {"reason": exc}) from exc


class ReportRun:
    """One run of a report type: its parameters, its accounts, the fetch, the output.

    The accounts a run cannot read (removed from the platform, failed while fetching) collect
    in `missing`; `write` names them in the output and `done` in the run's result.

    Raises RunFailed, on creation, when the parameters no longer validate.
    """

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.parameters = report_parameters(context)
        # The job's own calendar day when the run was due: presets and file names count from it.
        self.local_day: date = context.scheduled_at.astimezone(ZoneInfo(context.time_zone or "UTC")).date()
        self.missing: list[MissingAccount] = []
        self.client: Client | None = None

    def accounts(self) -> list[AccountToRead]:
        """The readable client accounts of the job's level (the rest go to `missing`).

        Raises RunFailed when the job reads no account or names another user's.
        """
        with self.context.session_factory() as session:
            resolved = resolve_accounts(session, self.context.job_id)
            session.expunge_all()
        self.missing += resolved.missing
        self.client = resolved.client
        return resolved.readable

    def goals(self) -> dict[str, Decimal]:
        """The targets of the client the accounts belong to (empty without one)."""
        return goals_of(self.client)

    def fetch(self, accounts: Sequence[AccountToRead], fetch: Callable[[AccountCall], T], *,
              calls_per_account: int = 1, plan: Callable[[Platform, int], int] | None = None,
              describe: Callable[[T], str] | None = None) -> list[tuple[AccountToRead, T]]:
        """`fetch` for each account, concurrently (see shared/fetch.py); the accounts that fail
        go to `missing`. Raises RunFailed when none could be read or the platform settings are
        wrong."""
        fetched = fetch_all(self.context, accounts, fetch, calls_per_account=calls_per_account,
                            plan=plan, describe=describe)
        self.missing += fetched.missing
        return fetched.results

    def work_folder(self) -> AbstractContextManager[Path]:
        """A folder for the run's rows on disk, removed when the block ends."""
        return work_folder(self.context)

    def write(self, layout: TableLayout, frames: Iterator[pl.DataFrame], *,
              preview: Preview | None = None) -> tuple[str, dict[str, Any] | None]:
        """Write the table where the job sends it, noting the preview on the way and saving it;
        returns the output file (or address) and the job's new output state."""
        if preview is not None:
            preview.totals = layout.totals(preview.columns, preview.currency or None)
            frames = preview.watch(frames)
        written = write_table(self.context, layout, frames, self.missing, self.local_day)
        if preview is not None:
            preview.save(self.context)
        return written

    def log(self, message: str) -> None:
        """A line of the run's log."""
        self.context.log(message)

    def done(self, rows: int, output_file: str | None = None,
             output_state: dict[str, Any] | None = None) -> RunResult:
        """The run's result, with the accounts left out."""
        return RunResult(rows=rows, output_file=output_file, missing=self.missing,
                         output_state=output_state)


def register_report_run(task_type: str, execute: Callable[[ReportRun], RunResult]) -> None:
    """Make runs of `task_type` execute `execute` with their ReportRun."""

    def executor(context: RunContext) -> RunResult:
        return execute(ReportRun(context))

    register_executor(task_type, executor)
