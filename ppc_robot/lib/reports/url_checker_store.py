"""The URL checker's progress per run in robot_url_check_runs / robot_url_checks (see the
models' docstring): the collected list stored once, each result written once, what is left."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.models import JobRun, UrlCheck, UrlCheckRun
from ppc_robot.lib.runner import MissingAccount
from ppc_robot.lib.urlcheck import CheckResult, CollectedUrl, UrlStatus

INSERT_BATCH = 500


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def stored_collection(session: Session, run_id: int) -> UrlCheckRun | None:
    """The run's collected list, when an earlier attempt stored it."""
    return session.get(UrlCheckRun, run_id)


def store_collection(session: Session, run_id: int, collected: Sequence[CollectedUrl],
                     missing: Sequence[MissingAccount], now: datetime) -> UrlCheckRun:
    """Store the run's distinct URLs with their uses; malformed ones get their result at once.
    The caller commits (the list and its marker row together)."""
    state = UrlCheckRun(run_id=run_id, collected_at=now, url_count=len(collected),
                        missing=[asdict(m) for m in missing])
    session.add(state)
    rows = []
    for position, item in enumerate(collected):
        row = {"run_id": run_id, "position": position, "url_hash": url_hash(item.url),
               "url": item.url, "uses": [asdict(use) for use in item.uses]}
        if item.malformed:
            row.update(checked_at=now, status=UrlStatus.MALFORMED.value, error=item.malformed,
                       chain=[], attempts=0)
        rows.append(row)
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(UrlCheck), rows[start:start + INSERT_BATCH])
    session.flush()
    return state


def unchecked_urls(session: Session, run_id: int) -> list[str]:
    """The run's URLs without a result yet, in collection order."""
    return list(session.scalars(select(UrlCheck.url).where(
        UrlCheck.run_id == run_id, UrlCheck.checked_at.is_(None)).order_by(UrlCheck.position)))


def checked_count(session: Session, run_id: int) -> int:
    return session.scalar(select(func.count()).select_from(UrlCheck).where(
        UrlCheck.run_id == run_id, UrlCheck.checked_at.is_not(None))) or 0


def record_results(session: Session, run_id: int, results: Sequence[CheckResult],
                   now: datetime) -> int:
    """Write each result unless one is already there (written once); returns how many were."""
    written = 0
    for result in results:
        outcome = session.execute(
            update(UrlCheck)
            .where(UrlCheck.run_id == run_id, UrlCheck.url_hash == url_hash(result.url),
                   UrlCheck.checked_at.is_(None))
            .values(checked_at=now, status=result.status.value, http_status=result.http_status,
                    final_url=result.final_url, chain=list(result.chain), error=result.error,
                    response_ms=result.response_ms, attempts=result.attempts)
            .execution_options(synchronize_session=False))
        written += outcome.rowcount
    return written


def run_checks(session: Session, run_id: int) -> list[UrlCheck]:
    """Every URL of the run with its result, in collection order."""
    return list(session.scalars(select(UrlCheck).where(UrlCheck.run_id == run_id)
                                .order_by(UrlCheck.position)))


def status_counts(session: Session, run_id: int) -> dict[str, int]:
    """How many of the run's URLs have each status ("unchecked" for those without one)."""
    rows = session.execute(select(UrlCheck.status, func.count()).where(UrlCheck.run_id == run_id)
                           .group_by(UrlCheck.status)).all()
    return {status or "unchecked": count for status, count in rows}


BROKEN_SHOWN = 200


@dataclass(frozen=True)
class UrlCheckSummary:
    """What a URL checker run's page shows: the count per status and the broken URLs."""

    counts: dict[str, int]
    broken: list[UrlCheck]
    broken_total: int


def url_check_summary(session: Session, run_id: int) -> UrlCheckSummary | None:
    """The run's counts and first broken URLs; None for a run that stored no URL list (another
    report type, or a URL checker run not yet past collecting)."""
    if session.get(UrlCheckRun, run_id) is None:
        return None
    counts = status_counts(session, run_id)
    broken_statuses = [UrlStatus.BROKEN.value, UrlStatus.MALFORMED.value]
    broken = list(session.scalars(select(UrlCheck).where(
        UrlCheck.run_id == run_id, UrlCheck.status.in_(broken_statuses))
        .order_by(UrlCheck.error, UrlCheck.position).limit(BROKEN_SHOWN)))
    total = sum(counts.get(s, 0) for s in broken_statuses)
    return UrlCheckSummary(counts, broken, total)


def prune_old_runs(session: Session, job_id: int, keep: int) -> int:
    """Forget the URL lists of the job's runs but the last `keep` (their outputs stay); returns
    how many runs' lists went. A daily job over 10,000 URLs would otherwise add 10,000 rows a day."""
    stale = list(session.scalars(
        select(UrlCheckRun.run_id).join(JobRun, JobRun.id == UrlCheckRun.run_id)
        .where(JobRun.job_id == job_id).order_by(UrlCheckRun.run_id.desc()).offset(keep)))
    if stale:
        session.execute(delete(UrlCheck).where(UrlCheck.run_id.in_(stale)))
        session.execute(delete(UrlCheckRun).where(UrlCheckRun.run_id.in_(stale)))
    return len(stale)
