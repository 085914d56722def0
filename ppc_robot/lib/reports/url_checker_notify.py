"""The URL checker's notifications (category 4, URL checker).

- url_broken (4/2): one per broken URL and client account, keyed by the job, the account and
  the URL, so it is raised once, counted again on each run that still finds it broken, and
  resolved by the job's first run that finds the URL working (or no longer used there). An
  inconclusive answer, or an account the run could not read, changes nothing.
- url_errors (4/0): the run's summary, "URL checker found N error(s)", the details grouped by
  the problem; resolved by a run without errors.
- url_redirects (4/1): the URLs that redirect, only when the job asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.models import Notification, UrlCheck
from ppc_robot.lib.notifications import emit, notification_type, resolve
from ppc_robot.lib.reports.url_checker_output import uses_of
from ppc_robot.lib.reports.url_checker_store import url_hash
from ppc_robot.lib.runner import RunContext
from ppc_robot.lib.urlcheck import BROKEN_STATUSES, UrlStatus, UrlUse

DETAILS_MAX = 500
URL_SHOWN_MAX = 150


def url_entity(url: str) -> str:
    """The notification's entity for a URL (URLs are longer than the key allows)."""
    return f"url:{url_hash(url)[:40]}"


def _short(url: str) -> str:
    return url if len(url) <= URL_SHOWN_MAX else url[:URL_SHOWN_MAX - 1] + "…"


def notify(context: RunContext, checks: Sequence[UrlCheck], *, notify_redirects: bool,
           unread_accounts: set[int]) -> None:
    """Raise what the run found and resolve what it no longer finds (but not for the accounts
    it could not read); commits (the runner's own step)."""
    user, job, now = context.user_id, context.job_id, context.scheduled_at
    broken = [c for c in checks if c.status in BROKEN_STATUSES]
    redirects = [c for c in checks if c.status == UrlStatus.REDIRECT]
    # (account, entity) pairs whose state this run does not know: leave their notifications be.
    unknown = {(use.client_account_id, url_entity(c.url)) for c in checks
               if c.status in (UrlStatus.INCONCLUSIVE, None) for use in uses_of(c)}
    with context.session_factory() as session:
        still_broken: set[tuple[int, str]] = set()
        for check in broken:
            by_account: dict[int, list[UrlUse]] = {}
            for use in uses_of(check):
                by_account.setdefault(use.client_account_id, []).append(use)
            for account_id, uses in by_account.items():
                entity = url_entity(check.url)
                still_broken.add((account_id, entity))
                emit(session, user, "url_broken", job_id=job, run_id=context.run_id,
                     client_account_id=account_id, entity_id=entity, now=now,
                     params={"url": _short(check.url), "account": uses[0].account,
                             "error": check.error or "broken"},
                     details=[{"Campaign": u.campaign or "", "Ad group": u.ad_group or "",
                               "Entity": u.entity_type, "Id": u.entity_id,
                               "Paused": "yes" if u.paused else ""} for u in uses])
        kind = notification_type("url_broken")
        open_ones = session.execute(select(Notification.client_account_id, Notification.entity_id)
                                    .where(Notification.user_id == user, Notification.job_id == job,
                                           Notification.category == kind.category,
                                           Notification.code == kind.code,
                                           Notification.resolved_at.is_(None))).all()
        for account_id, entity in open_ones:
            if (account_id, entity) in still_broken or (account_id, entity) in unknown:
                continue
            if account_id is not None and account_id not in unread_accounts and entity is not None:
                resolve(session, user, kind, job_id=job, client_account_id=account_id,
                        entity_id=entity, now=now)
        _summary(session, context, broken, "url_errors")
        if notify_redirects:
            _summary(session, context, redirects, "url_redirects")
        else:
            resolve(session, user, "url_redirects", job_id=job, now=now)
        session.commit()


def _summary(session: Session, context: RunContext, found: Sequence[UrlCheck], name: str) -> None:
    user, job, now = context.user_id, context.job_id, context.scheduled_at
    if not found:
        resolve(session, user, name, job_id=job, now=now)
        return
    ordered = sorted(found, key=lambda c: (c.error or "", c.position))
    details = [{"Problem": c.error or "", "URL": c.url, "Final URL": c.final_url or "",
                "Where used": "; ".join(u.describe() for u in uses_of(c))}
               for c in ordered[:DETAILS_MAX]]
    emit(session, user, name, job_id=job, run_id=context.run_id, now=now,
         params={"count": len(found)}, details=details)
