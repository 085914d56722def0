"""The worker's outbox: one record per message to send (a notification's delivery, a run's
output mail), each sent at most once by any number of workers, retried, and given up.

A record (`NotificationDelivery`, `OutputDelivery`) has `id`, `status`, `attempts`,
`next_attempt_at`, `last_error` and `sent_at`. Its sender takes it in three transactions:

1. `claim`: the attempt is counted and a lease set, only if nobody counted it first;
2. `prepare_then_send`: what to send is prepared and committed, then sent with no transaction
   open while the network is waited for;
3. `record_sent` or `record_failure`: the outcome, retried with back-off while the failure is
   temporary and tries are left.

A worker killed between sending and recording leaves a lease that expires; the next worker
sends once more (at least once, with a stable Message-ID for mail clients to drop the copy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import DeliveryStatus

logger = logging.getLogger(__name__)

# Stored in English; pages reword them (ppc_robot.lib.stored_text).
GIVEN_UP_ONCE = N_("Given up after 1 try: %(reason)s")
GIVEN_UP = N_("Given up after %(count)d tries: %(reason)s")
UNEXPECTED = N_("an unexpected error stopped the delivery (%(error)s)")


class UnexpectedError(Exception):
    """An error nobody planned for: retried like a temporary failure, then given up."""

    temporary = True

    def __init__(self, cause: BaseException) -> None:
        super().__init__(UNEXPECTED % {"error": type(cause).__name__})


def begin_write(session: Session) -> None:
    """Start the transaction as a writer (SQLite BEGIN IMMEDIATE), so two workers racing for the
    same record queue behind the busy timeout instead of failing on a stale read snapshot."""
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def claim(session: Session, model: Any, record_id: int, attempts: int, now: datetime,
          lease: timedelta) -> bool:
    """Count an attempt at a pending, due record that nobody has counted since `attempts` was
    read, and hold it for `lease`; commits. False when another worker was first."""
    begin_write(session)
    claimed = session.execute(
        update(model)
        .where(model.id == record_id, model.status == DeliveryStatus.PENDING,
               model.attempts == attempts, model.next_attempt_at <= now)
        .values(attempts=attempts + 1, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return claimed.rowcount == 1


def prepare_then_send(session: Session, prepare: Callable[[], Callable[[], object]],
                      expected: tuple[type[Exception], ...], what: str) -> Exception | None:
    """Prepare the message (`prepare` returns the call that sends it), commit what preparing
    wrote, then send it outside any transaction. The error that stopped it, if any: one of
    `expected`, or an `UnexpectedError` (logged with its traceback) — one broken message must
    not stop the rest."""
    send = None
    error: Exception | None = None
    try:
        send = prepare()
    except expected as exc:
        error = exc
    except Exception as exc:  # the delivery boundary
        logger.exception("%s could not be prepared", what)
        error = UnexpectedError(exc)
    session.commit()
    if send is not None:
        try:
            send()
        except expected as exc:
            error = exc
        except Exception as exc:  # the delivery boundary, as above
            logger.exception("%s failed unexpectedly", what)
            error = UnexpectedError(exc)
    return error


def record_sent(record: Any, now: datetime) -> None:
    record.status = DeliveryStatus.SENT
    record.sent_at = now
    record.next_attempt_at = None
    record.last_error = None


def record_failure(record: Any, reason: str, *, temporary: bool, max_attempts: int,
                   wait: timedelta, now: datetime, what: str) -> bool:
    """Give the record up (a permanent failure, or its last try), else retry it after `wait`.
    True when given up."""
    if not temporary or record.attempts >= max_attempts:
        given_up = GIVEN_UP_ONCE if record.attempts == 1 else GIVEN_UP
        record.status = DeliveryStatus.GIVEN_UP
        record.next_attempt_at = None
        record.last_error = given_up % {"count": record.attempts, "reason": reason}
        logger.warning("%s given up after %s tries", what, record.attempts)
        return True
    record.next_attempt_at = now + wait
    record.last_error = reason
    logger.info("%s failed (try %s), retrying in %s", what, record.attempts, wait)
    return False
