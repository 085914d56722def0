"""The shared robot_* tables; importing this module registers every one of them."""

from ppc_robot.lib.models.accounts import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    Platform,
    ServiceAccount,
    ServiceAccountStatus,
)
from ppc_robot.lib.models.alerts import RunCoverage
from ppc_robot.lib.models.audit import AuditLogEntry
from ppc_robot.lib.models.base import Base, Owned, OwnedByUser, UtcDateTime, utcnow
from ppc_robot.lib.models.folders import Folder, FolderPath
from ppc_robot.lib.models.jobs import (
    Job,
    JobDefinition,
    JobLevel,
    JobRun,
    OutputType,
    RunStatus,
    RunTrigger,
    ScheduleKind,
    jobs_client_accounts,
)
from ppc_robot.lib.models.notifications import (
    Channel,
    DeliveryStatus,
    EmailMode,
    Notification,
    NotificationChannelSetting,
    NotificationDelivery,
    NotificationLevel,
    NotificationSnooze,
)
from ppc_robot.lib.models.outputs import OutputDelivery
from ppc_robot.lib.models.quotas import PlatformQuota
from ppc_robot.lib.models.rates import ExchangeRate
from ppc_robot.lib.models.stats import AccountDay, CampaignDay, StatsState
from ppc_robot.lib.models.tags import ClientAccountTag, Tag, client_accounts_tags, jobs_tags
from ppc_robot.lib.models.urlcheck import UrlCheck, UrlCheckRun
from ppc_robot.lib.models.users import User

__all__ = [
    "UrlCheck",
    "UrlCheckRun",
    "AccountDay",
    "CampaignDay",
    "StatsState",
    "RunCoverage",
    "AuditLogEntry",
    "Base",
    "Channel",
    "Client",
    "ClientAccount",
    "ClientAccountStatus",
    "ClientAccountTag",
    "DeliveryStatus",
    "EmailMode",
    "ExchangeRate",
    "Folder",
    "FolderPath",
    "Job",
    "JobDefinition",
    "JobLevel",
    "JobRun",
    "Notification",
    "NotificationChannelSetting",
    "NotificationDelivery",
    "NotificationLevel",
    "NotificationSnooze",
    "OutputDelivery",
    "OutputType",
    "Owned",
    "OwnedByUser",
    "Platform",
    "PlatformQuota",
    "RunStatus",
    "RunTrigger",
    "ScheduleKind",
    "ServiceAccount",
    "ServiceAccountStatus",
    "Tag",
    "User",
    "UtcDateTime",
    "client_accounts_tags",
    "jobs_client_accounts",
    "jobs_tags",
    "utcnow",
]
