"""Running the URL checker: collect the landing pages once, check what is left, write, notify.

A run stores its collected list before checking (url_checker_store.py), and each URL's result
as it comes, a few at a time. When its worker dies, the runner claims the run again after the
lease; the new attempt finds the stored list and results and checks only the URLs left, so no
URL is checked twice and none is written twice.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import OutputType, utcnow
from ppc_robot.lib.platforms.base import LandingPage
from ppc_robot.lib.platforms.landing import planned_calls
from ppc_robot.lib.reports.shared import (
    AccountCall,
    ReportRun,
    TableLayout,
    output_name,
    register_report_run,
    retried,
)
from ppc_robot.lib.reports.url_checker import phrases_of
from ppc_robot.lib.reports.url_checker_notify import notify
from ppc_robot.lib.reports.url_checker_output import COLUMNS, frames_of, write_checks_xlsx
from ppc_robot.lib.reports.url_checker_store import (
    checked_count,
    prune_old_runs,
    record_results,
    run_checks,
    status_counts,
    store_collection,
    stored_collection,
    unchecked_urls,
)
from ppc_robot.lib.runner import MissingAccount, RunResult
from ppc_robot.lib.urlcheck import CheckResult, CheckSettings, UrlUse, check_urls, deduplicate

RESULT_BATCH_MAX = 200
KEEP_RUNS = 10  # the runs of a job whose URL lists stay for their run pages


def allowed_hosts(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The app's own host and port (its demo site) and the hosts the administrator listed in
    PPC_ROBOT_URLCHECK_ALLOWED_HOSTS (comma-separated; "host" or "host:port")."""
    base = urlsplit(str(config.get("PPC_ROBOT_BASE_URL") or "http://127.0.0.1:5000"))
    port = base.port or (443 if base.scheme == "https" else 80)
    own = f"{(base.hostname or '').lower()}:{port}"
    listed = str(config.get("PPC_ROBOT_URLCHECK_ALLOWED_HOSTS") or "")
    return (own, *(h.strip().lower() for h in listed.split(",") if h.strip()))


def _setting(config: Mapping[str, Any], name: str, default: float) -> float:
    """PPC_ROBOT_URLCHECK_<name> as a number; the default when unset or blank."""
    value = config.get(f"PPC_ROBOT_URLCHECK_{name}")
    return default if value is None or str(value).strip() == "" else float(value)


def check_settings(parameters: Mapping[str, Any], config: Mapping[str, Any]) -> CheckSettings:
    """The engine's settings from the job's parameters and the installation's configuration."""
    per_host = int(_setting(config, "PER_HOST", 2))
    return CheckSettings(
        concurrency=max(1, int(_setting(config, "CONCURRENCY", 32))),
        per_host=per_host if per_host > 0 else None,
        min_interval=_setting(config, "MIN_INTERVAL", 0.25),
        max_retry_wait=_setting(config, "MAX_RETRY_WAIT", 60),
        default_retry_wait=_setting(config, "RETRY_WAIT", 5),
        connect_timeout=float(parameters.get("connect_timeout") or 10),
        total_timeout=float(parameters.get("total_timeout") or 30),
        soft_404_phrases=phrases_of(parameters.get("soft_404_phrases")),
        monitor_text=str(parameters.get("monitor_text") or ""),
        allowed_hosts=allowed_hosts(config),
    )


def _collect(call: AccountCall, entities: list[str], include_paused: bool) -> list[LandingPage]:
    remote = call.account.remote()

    def attempt() -> list[LandingPage]:
        with call.slot:
            return list(call.client().landing_pages(remote, entities))

    return [page for page in retried(attempt) if include_paused or not page.paused]


def _collect_and_store(run: ReportRun) -> None:
    parameters = run.parameters
    accounts = run.accounts()
    entities = list(parameters["entities"])
    # A login's whole listing is asked of its quota first: without enough calls left for the
    # day its accounts wait for the quota (the run is rescheduled), not collected half.
    fetched = run.fetch(accounts, lambda call: _collect(
        call, entities, bool(parameters.get("include_paused"))),
        plan=lambda platform, count: planned_calls(platform, entities, count),
        describe=lambda pages: N_("%(count)d landing pages") % {"count": len(pages)})
    # In the accounts' order, not the order their collection finished: the same list each run.
    order = {account.client_account_id: n for n, account in enumerate(accounts)}
    fetched.sort(key=lambda item: order[item[0].client_account_id])
    found = [(page.url, UrlUse(account.client_account_id, account.name, page.entity_type,
                               page.entity_id, page.campaign, page.ad_group, page.paused))
             for account, pages in fetched for page in pages]
    collected = deduplicate(found)
    with run.context.session_factory() as session:
        store_collection(session, run.context.run_id, collected, run.missing, utcnow())
        session.commit()
    run.log(N_("%(urls)d distinct URLs collected from %(pages)d landing pages")
            % {"urls": len(collected), "pages": len(found)})


class _Recorder(threading.Thread):
    """Writes each result as soon as it comes, in its own thread (the checking loop never waits
    for the database): whatever queued up meanwhile goes in the same transaction. Keeps the
    run's progress. Raises, on `close`, what writing raised."""

    def __init__(self, run: ReportRun, done: int, total: int) -> None:
        super().__init__(daemon=True, name=f"url-results-{run.context.run_id}")
        self.report, self.done, self.total = run, done, total
        self.queue: queue.Queue[CheckResult | None] = queue.Queue()
        self.error: Exception | None = None

    def add(self, result: CheckResult) -> None:
        self.queue.put(result)

    def run(self) -> None:
        finished = False
        while not finished:
            batch = [self.queue.get()]
            while len(batch) < RESULT_BATCH_MAX and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            finished = batch[-1] is None
            results = [r for r in batch if r is not None]
            if not results or self.error is not None:
                continue
            try:
                with self.report.context.session_factory() as session:
                    record_results(session, self.report.context.run_id, results, utcnow())
                    session.commit()
            except Exception as exc:  # re-raised in the run's thread by close()
                self.error = exc
                continue
            self.done += len(results)
            self.report.context.progress(self.done, self.total)

    def close(self) -> None:
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def execute_url_checker(run: ReportRun) -> RunResult:
    """Collect (unless an earlier attempt did), check the URLs left, write the output, notify."""
    context = run.context
    with context.session_factory() as session:
        state = stored_collection(session, context.run_id)
        if state is not None:
            run.missing += [MissingAccount(**m) for m in state.missing]
    if state is None:
        _collect_and_store(run)
    with context.session_factory() as session:
        todo = unchecked_urls(session, context.run_id)
        done = checked_count(session, context.run_id)
    if state is not None:
        run.log(N_("resumed: %(done)d URLs already checked, %(left)d left")
                % {"done": done, "left": len(todo)})
    recorder = _Recorder(run, done, done + len(todo))
    context.progress(done, done + len(todo))
    recorder.start()
    try:
        check_urls(todo, check_settings(run.parameters, context.settings.app_config), recorder.add)
    finally:
        recorder.close()
    with context.session_factory() as session:
        checks = run_checks(session, context.run_id)
        counts = status_counts(session, context.run_id)
        session.expunge_all()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    run.log(N_("%(count)d URLs checked: %(summary)s")
            % {"count": len(checks), "summary": summary or N_("none")})
    notes = [f"{len(checks)} distinct URLs: {summary or 'none'}."]
    output, state_out = _write(run, checks, notes)
    notify(context, checks, notify_redirects=bool(run.parameters.get("notify_redirects")),
           unread_accounts={m.client_account_id for m in run.missing})
    keep = int(_setting(context.settings.app_config, "KEEP_RUNS", KEEP_RUNS))
    with context.session_factory() as session:
        prune_old_runs(session, context.job_id, keep)
        session.commit()
    return run.done(rows=len(checks), output_file=output, output_state=state_out)


def _write(run: ReportRun, checks: list[Any], notes: list[str]) -> tuple[str, dict[str, Any] | None]:
    context = run.context
    if OutputType(context.output_type) is OutputType.XLSX:
        name = output_name(context.output_path, context.job_name, run.local_day)
        context.output_dir.mkdir(parents=True, exist_ok=True)
        target = context.output_dir / f"{context.run_id}-{name}.xlsx"
        partial = target.with_name(f".{target.name}.part")
        write_checks_xlsx(partial, checks, notes + [
            f"Missing client account “{m.name}”: {m.reason}" for m in run.missing])
        partial.replace(target)
        return str(target), None
    return run.write(TableLayout("URL checker", COLUMNS, notes=notes), frames_of(checks))


register_report_run("url_checker", execute_url_checker)
