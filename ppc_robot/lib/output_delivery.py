"""E-mailing a run's finished output to the job's recipients: the file, or a download link.

Like notification delivery (`lib.notifications.delivery`), it runs in the worker and commits its
own steps: one record per run and recipient (a unique key, planned in the transaction that
finishes the run), claimed in one transaction (its attempt counted, a claim time set), sent with
no transaction open, and recorded in the next. Two workers never send the same record; a worker
killed before the SMTP server accepted the mail leaves a claim that expires, and the next worker
sends it once. Past the size limit the mail carries a link whose token is signed for this one
purpose, bound to one delivery (so one run's output), expiring, revocable, and stored only as
its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import mimetypes
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib import outbox
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_, locale_or_default, translate, translations_for
from ppc_robot.lib.mail import Attachment, Mail, MailError, send_mail
from ppc_robot.lib.models import DeliveryStatus, Job, JobRun, RunStatus, User, utcnow
from ppc_robot.lib.models.outputs import EMAIL_MAX, RECIPIENTS_MAX, OutputDelivery
from ppc_robot.lib.notifications.delivery import DeliveryConfig
from ppc_robot.lib.notifications.messages import TEMPLATES
from ppc_robot.lib.runs import output_path
from ppc_robot.lib.times import named_local_text

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
LINK_PATH = "/output-link/"
_LINK_SALT = "ppc-robot.output-link"
MEGABYTE = 1024 * 1024


class RecipientsError(PpcRobotError):
    """The list of recipients cannot be used; the message (a msgid with its parameters, shown in
    the reader's language by the web) says which address and why."""


class LinkError(PpcRobotError):
    """A download link that does not open a file; `status` is the page's HTTP status."""

    status = 404


class LinkExpired(LinkError):
    status = 410


class LinkRevoked(LinkError):
    status = 410


@dataclass(frozen=True)
class OutputMailConfig:
    """Delivery's settings plus the attachment limit, the links' lifetime and signing key."""

    delivery: DeliveryConfig
    outputs_dir: Path
    link_secret: str
    attach_max_bytes: int = 10 * MEGABYTE
    link_days: float = 7.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path,
                    outputs_dir: Path | None = None) -> OutputMailConfig:
        """From the app's config: PPC_ROBOT_OUTPUT_ATTACH_MAX_MB, PPC_ROBOT_OUTPUT_LINK_DAYS."""
        return cls(
            delivery=DeliveryConfig.from_config(config, instance_path),
            outputs_dir=outputs_dir or Path(config.get("PPC_ROBOT_OUTPUTS_DIR")
                                            or instance_path / "outputs"),
            link_secret=str(config["SECRET_KEY"]),
            attach_max_bytes=int(float(config.get("PPC_ROBOT_OUTPUT_ATTACH_MAX_MB") or 10) * MEGABYTE),
            link_days=float(config.get("PPC_ROBOT_OUTPUT_LINK_DAYS") or 7),
        )


def parse_recipients(text: str) -> list[str]:
    """Addresses from a comma-, semicolon- or line-separated list, normalised and deduplicated.

    Raises RecipientsError naming the first address that is not one, or when there are too many.
    """
    found: list[str] = []
    seen: set[str] = set()
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        candidate = part.strip()
        if not candidate:
            continue
        try:
            address = validate_email(candidate, check_deliverability=False,
                                     test_environment=True).normalized
        except EmailNotValidError as exc:
            raise RecipientsError(N_("“%(address)s” is not an e-mail address (%(reason)s)."),
                                  address=candidate[:80], reason=str(exc)) from exc
        if len(address) > EMAIL_MAX:
            raise RecipientsError(N_("“%(address)s…” is longer than an e-mail address can be."),
                                  address=candidate[:80])
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    if len(found) > RECIPIENTS_MAX:
        raise RecipientsError(N_("At most %(most)s recipients; this list has %(count)s."),
                              most=RECIPIENTS_MAX, count=len(found))
    return found


def plan_output_deliveries(session: Session, run: JobRun, job: Job,
                           *, now: datetime | None = None) -> list[OutputDelivery]:
    """One pending delivery per recipient of the job, for a run that finished with an output."""
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.PARTIAL) or not run.output_file:
        return []
    existing = set(session.scalars(select(OutputDelivery.recipient)
                                   .where(OutputDelivery.run_id == run.id)))
    planned = []
    for recipient in job.email_recipients or []:
        if recipient in existing:
            continue
        delivery = OutputDelivery(user_id=run.user_id, run_id=run.id, recipient=recipient,
                                  status=DeliveryStatus.PENDING, next_attempt_at=now or utcnow())
        session.add(delivery)
        planned.append(delivery)
    session.flush()
    return planned


def deliveries_of_run(session: Session, run: JobRun) -> Sequence[OutputDelivery]:
    """The run's output mails, in the order they were planned."""
    return session.scalars(select(OutputDelivery).where(OutputDelivery.run_id == run.id)
                           .order_by(OutputDelivery.id)).all()


@dataclass
class OutputReport:
    """What one pass of output delivery did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0


def deliver_outputs(session_factory: SessionFactory, config: OutputMailConfig,
                    *, now: datetime | None = None, limit: int = 200) -> OutputReport:
    """Send every due output mail. Commits its own steps."""
    now = now or utcnow()
    with session_factory() as session:
        due = session.execute(
            select(OutputDelivery.id, OutputDelivery.attempts)
            .where(OutputDelivery.status == DeliveryStatus.PENDING,
                   OutputDelivery.next_attempt_at <= now)
            .order_by(OutputDelivery.next_attempt_at, OutputDelivery.id).limit(limit)
        ).all()
    report = OutputReport()
    for delivery_id, attempts in due:
        outcome = _deliver_one(session_factory, config, delivery_id, attempts, now)
        if outcome is not None:
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _deliver_one(session_factory: SessionFactory, config: OutputMailConfig, delivery_id: int,
                 attempts: int, now: datetime) -> str | None:
    what = f"output delivery {delivery_id}"
    with session_factory() as session:
        if not outbox.claim(session, OutputDelivery, delivery_id, attempts, now,
                            timedelta(seconds=config.delivery.claim_seconds)):
            return None
        outbox.begin_write(session)
        delivery = session.get_one(OutputDelivery, delivery_id)

        def prepare() -> Callable[[], object]:
            mail = _prepare(session, config, delivery, now)  # a link's hash is committed first
            return lambda: send_mail(config.delivery.mail, mail)

        error = outbox.prepare_then_send(session, prepare, (MailError, ValueError), what)
        outbox.begin_write(session)
        if error is None:
            outbox.record_sent(delivery, now)
            outcome = "sent"
            logger.info("output of run %s mailed (delivery %s, try %s, %s)", delivery.run_id,
                        delivery.id, delivery.attempts, "attached" if delivery.is_attached else "link")
        else:
            # A ValueError is an address the mail library refuses: retrying cannot help.
            given_up = outbox.record_failure(
                delivery, str(error), temporary=getattr(error, "temporary", False),
                max_attempts=config.delivery.max_attempts,
                wait=config.delivery.backoff(delivery.attempts), now=now, what=what)
            outcome = "given_up" if given_up else "retrying"
        session.commit()
        return outcome


def _prepare(session: Session, config: OutputMailConfig, delivery: OutputDelivery,
             now: datetime) -> Mail:
    """The mail, with the file attached or a fresh link (whose hash replaces any earlier one)."""
    run = session.get_one(JobRun, delivery.run_id)
    job = session.get_one(Job, run.job_id)
    owner = session.get_one(User, run.user_id)
    output = run.output_file or ""
    sheet_url = output if output.startswith(("https://", "http://")) else None
    path = None if sheet_url else output_path(run, config.outputs_dir)
    if sheet_url is None and path is None:
        raise MailError("the run's output file is no longer on the server", temporary=False)
    attachments: tuple[Attachment, ...] = ()
    link = None
    delivery.is_attached = False
    if path is not None and path.stat().st_size <= config.attach_max_bytes:
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        attachments = (Attachment(download_name(path), path.read_bytes(), mimetype),)
        delivery.is_attached = True
    elif path is not None:
        token = issue_link(delivery, config.link_secret, now=now,
                           lifetime=timedelta(days=config.link_days))
        link = config.delivery.base_url.rstrip("/") + LINK_PATH + token
    zone = owner.time_zone or "UTC"
    locale = locale_or_default(owner.locale)  # the mail speaks its sender's (the job owner's) language
    context = {
        "job_name": job.name, "owner": owner, "finished": named_local_text(run.finished_at or now, zone),
        "is_partial": run.status is RunStatus.PARTIAL, "missing": run.error_message,
        "file_name": download_name(path) if path else None, "sheet_url": sheet_url, "link": link,
        "expires": named_local_text(delivery.link_expires_at, zone) if link else None,
        "size_mb": format_decimal(path.stat().st_size / MEGABYTE, "0.0", locale=locale)
        if path else None,
    }
    env = _environment(TEMPLATES, locale)
    text = env.get_template("email/output.txt").render(**context)
    html = env.get_template("email/output.html").render(**context)
    subject = translate(N_("[PPC Robot] Report “%(name)s”"), locale) % {"name": job.name[:100]}
    return Mail(delivery.recipient, subject, text, html,
                message_id=f"<output-{delivery.id}@{config.delivery.message_id_domain}>",
                attachments=attachments)


@lru_cache(maxsize=4)
def _environment(templates: Path, locale: str) -> Environment:
    """The output mail's templates speaking `locale` (one environment per language)."""
    env = Environment(loader=FileSystemLoader(str(templates)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations_for(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def download_name(path: Path) -> str:
    """The file's readable name: the stored one without its leading run id."""
    return path.name.split("-", 1)[1] if "-" in path.name else path.name


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(delivery: OutputDelivery, secret: str, *, now: datetime,
               lifetime: timedelta) -> str:
    """A new link token for this delivery; only its hash is kept, replacing any earlier one."""
    token = URLSafeSerializer(secret, salt=_LINK_SALT).dumps([delivery.id, secrets.token_urlsafe(24)])
    delivery.link_token_hash = _hash(token)
    delivery.link_expires_at = now + lifetime
    delivery.link_revoked_at = None
    return token


def open_link(session: Session, token: str, secret: str, *, now: datetime | None = None
              ) -> OutputDelivery:
    """The delivery whose link this is. Raises LinkError (unknown), LinkExpired, LinkRevoked."""
    now = now or utcnow()
    try:
        delivery_id, _nonce = URLSafeSerializer(secret, salt=_LINK_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise LinkError(N_("There is no report behind this link.")) from exc
    delivery = session.get(OutputDelivery, delivery_id) if isinstance(delivery_id, int) else None
    if delivery is None or delivery.link_token_hash is None or not hmac.compare_digest(
            delivery.link_token_hash, _hash(token)):
        raise LinkError(N_("There is no report behind this link."))
    if delivery.link_revoked_at is not None:
        raise LinkRevoked(N_("The sender withdrew this link; ask them for the report again."))
    if delivery.link_expires_at is None or delivery.link_expires_at <= now:
        raise LinkExpired(N_("This link has expired; ask the sender for the report again."))
    return delivery


def revoke_link(session: Session, delivery: OutputDelivery, *, now: datetime | None = None
                ) -> OutputDelivery:
    """Withdraw the delivery's download link; the page behind it says so from now on."""
    if delivery.link_token_hash is not None and delivery.link_revoked_at is None:
        delivery.link_revoked_at = now or utcnow()
        session.flush()
        logger.info("output link of delivery %s revoked", delivery.id)
    return delivery
