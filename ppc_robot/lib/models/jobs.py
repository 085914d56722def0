"""Jobs, the definitions they share, and their runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import DDL

from ppc_robot.lib.models.base import (
    Base,
    OwnedByUser,
    UtcDateTime,
    str_enum,
    unique_name_index,
    utcnow,
)
from ppc_robot.lib.models.tags import jobs_tags

if TYPE_CHECKING:
    from ppc_robot.lib.models.accounts import Client, ClientAccount, ServiceAccount
    from ppc_robot.lib.models.folders import Folder
    from ppc_robot.lib.models.tags import Tag

JOB_NAME_MAX = 200
DEFINITION_NAME_MAX = 200
OUTPUT_PATH_MAX = 500


class OutputType(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    GOOGLE_SHEETS = "google_sheets"


class JobLevel(enum.StrEnum):
    CLIENT_ACCOUNT = "client_account"
    SERVICE_ACCOUNT = "service_account"
    CLIENT = "client"


class ScheduleKind(enum.StrEnum):
    MANUAL = "manual"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CRON = "cron"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    # Finished with an output, but some client accounts are left out of it (named in the run's
    # error message and in the output itself).
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CATCH_UP = "catch_up"


jobs_client_accounts = Table(
    "robot_jobs_client_accounts",
    Base.metadata,
    Column("job_id", ForeignKey("robot_jobs.id", ondelete="CASCADE"), primary_key=True),
    # A client account a job still names is never deleted: sync marks it removed instead.
    Column(
        "client_account_id",
        ForeignKey("robot_client_accounts.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class JobDefinition(Base, OwnedByUser):
    """A task type, its version, the output type and the parameters; shared by N jobs."""

    __tablename__ = "robot_job_definitions"
    # An empty name stands for "named after its job" and may repeat.
    __table_args__ = (unique_name_index("robot_job_definitions", "user_id", where="name <> ''"),)

    name: Mapped[str] = mapped_column(String(DEFINITION_NAME_MAX), default="")
    task_type: Mapped[str] = mapped_column(String(64))
    task_type_version: Mapped[int] = mapped_column(Integer, default=1)
    output_type: Mapped[OutputType] = mapped_column(str_enum(OutputType), default=OutputType.XLSX)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    jobs: Mapped[list[Job]] = relationship(back_populates="definition", viewonly=True)

    def __repr__(self) -> str:
        return f"<JobDefinition {self.id} {self.task_type} v{self.task_type_version}>"


class Job(Base, OwnedByUser):
    """A report that runs on a schedule: where it lives, what it reads, when it runs."""

    __tablename__ = "robot_jobs"
    # Job lists sort by name regardless of case: these indexes hand a folder's (or, for search,
    # the user's) jobs over in that order, so a page of a 10,000-job folder reads 50 entries.
    __table_args__ = (
        Index("ix_robot_jobs_user_lower_name", "user_id", func.lower(text("name")), "id"),
        Index("ix_robot_jobs_folder_lower_name", "folder_id", func.lower(text("name")), "id"),
        Index("ix_robot_jobs_due", "is_enabled", "next_run_at"),
    )

    # Folders and definitions in use cannot disappear under a job (NO ACTION / RESTRICT):
    # lib moves the jobs or gives them a definition of their own first.
    folder_id: Mapped[int] = mapped_column(ForeignKey("robot_folders.id"), index=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("robot_job_definitions.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(JOB_NAME_MAX))
    level: Mapped[JobLevel] = mapped_column(str_enum(JobLevel), default=JobLevel.CLIENT_ACCOUNT)
    service_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_service_accounts.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_clients.id", ondelete="SET NULL"), index=True
    )
    # Service-account and client levels: all their accounts (resolved at run time) unless False.
    all_client_accounts: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_kind: Mapped[ScheduleKind] = mapped_column(
        str_enum(ScheduleKind), default=ScheduleKind.MANUAL
    )
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    output_path: Mapped[str] = mapped_column(String(OUTPUT_PATH_MAX), default="")
    output_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Addresses the finished output is e-mailed to after every run; empty: not e-mailed.
    email_recipients: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_status: Mapped[RunStatus | None] = mapped_column(str_enum(RunStatus))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    folder: Mapped[Folder] = relationship(back_populates="jobs")
    definition: Mapped[JobDefinition] = relationship(back_populates="jobs")
    service_account: Mapped[ServiceAccount | None] = relationship()
    client: Mapped[Client | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=jobs_tags, back_populates="jobs")
    client_accounts: Mapped[list[ClientAccount]] = relationship(secondary=jobs_client_accounts)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r}>"


class JobRun(Base, OwnedByUser):
    """One execution of a job for one scheduled time; never two for the same time."""

    __tablename__ = "robot_job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_at"),
        Index("ix_robot_job_runs_status_lease", "status", "lease_expires_at"),
        Index("ix_robot_job_runs_user_created", "user_id", "created_at"),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("robot_jobs.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger), default=RunTrigger.SCHEDULE)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    worker: Mapped[str | None] = mapped_column(String(128))
    # A queued run waiting for a platform's quota window is neither dispatched nor claimed
    # before this time.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int | None] = mapped_column(Integer)
    output_file: Mapped[str | None] = mapped_column(String(OUTPUT_PATH_MAX))
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str] = mapped_column(Text, default="")

    job: Mapped[Job] = relationship()

    def __repr__(self) -> str:
        return f"<JobRun {self.id} job={self.job_id} {self.status}>"


# robot_folders.job_count follows every insert, delete and move of a job, whoever makes it
# (the ORM, a bulk UPDATE, a cascade). Migration 0011 creates the same triggers on existing
# databases; a migration that rebuilds robot_jobs on SQLite (batch mode) must create them again.
JOB_COUNT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        """CREATE TRIGGER robot_jobs_count_insert AFTER INSERT ON robot_jobs BEGIN
            UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id; END""",
        """CREATE TRIGGER robot_jobs_count_delete AFTER DELETE ON robot_jobs BEGIN
            UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id; END""",
        """CREATE TRIGGER robot_jobs_count_move AFTER UPDATE OF folder_id ON robot_jobs
            WHEN OLD.folder_id IS NOT NEW.folder_id BEGIN
            UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id;
            UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id; END""",
    ),
    "postgresql": (
        """CREATE OR REPLACE FUNCTION robot_jobs_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER robot_jobs_count_insert_delete AFTER INSERT OR DELETE ON robot_jobs
            FOR EACH ROW EXECUTE FUNCTION robot_jobs_count()""",
        """CREATE TRIGGER robot_jobs_count_move AFTER UPDATE OF folder_id ON robot_jobs
            FOR EACH ROW WHEN (OLD.folder_id IS DISTINCT FROM NEW.folder_id)
            EXECUTE FUNCTION robot_jobs_count()""",
    ),
}
for _dialect, _statements in JOB_COUNT_TRIGGERS.items():
    for _statement in _statements:
        event.listen(Job.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
