"""Links from a notification to the job, run and accounts it is about."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from ppc_robot.lib.notifications.inbox import NotificationRow


def object_links(row: NotificationRow) -> list[tuple[str, str, str]]:
    """(icon, label, url) for each object the notification is about."""
    n = row.notification
    links = []
    if n.job_id:
        links.append(("file-earmark-bar-graph", _("Job %(name)s", name=row.job_name or n.job_id),
                      url_for("jobs.show", job_id=n.job_id)))
    if n.run_id:
        links.append(("clock-history", _("Run %(id)s", id=n.run_id), url_for("runs.show", run_id=n.run_id)))
    if n.client_account_id:
        links.append(("person-badge", row.client_account_name or _("Client account"),
                      url_for("accounts.edit_client_account", client_account_id=n.client_account_id)))
    if n.service_account_id:
        links.append(("plug", row.service_account_name or _("Login"),
                      url_for("accounts.show", service_account_id=n.service_account_id)))
    return links
