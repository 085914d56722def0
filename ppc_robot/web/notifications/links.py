"""Links from a notification to its job, run and accounts.

The job, run and account pages belong to other areas; a link goes to the first of their known
endpoints that exists, and otherwise to this list filtered by the object.
"""

from __future__ import annotations

from flask import current_app, url_for
from werkzeug.routing import BuildError

from ppc_robot.lib.notifications.inbox import NotificationRow

_CANDIDATES = {
    "job": [("jobs.show", ("job_id",))],
    "run": [("jobs.run", ("job_id", "run_id")), ("runs.show", ("run_id",)),
            ("jobs.show_run", ("job_id", "run_id"))],
    "client_account": [("accounts.client_account", ("client_account_id",)),
                       ("accounts.show_client_account", ("client_account_id",))],
    "service_account": [("accounts.show", ("service_account_id",))],
}


def _first_page(kind: str, ids: dict[str, int]) -> str | None:
    for endpoint, arguments in _CANDIDATES[kind]:
        if endpoint in current_app.view_functions and all(ids.get(a) for a in arguments):
            try:
                return url_for(endpoint, **{a: ids[a] for a in arguments})
            except BuildError:
                continue
    return None


def object_links(row: NotificationRow) -> list[tuple[str, str, str]]:
    """(icon, label, url) for each object the notification is about."""
    n = row.notification
    ids = {"job_id": n.job_id, "run_id": n.run_id, "client_account_id": n.client_account_id,
           "service_account_id": n.service_account_id}
    links = []
    if n.job_id:
        url = _first_page("job", ids) or url_for("notifications.index", job_id=n.job_id)
        links.append(("file-earmark-bar-graph", f"Job {row.job_name or n.job_id}", url))
    if n.run_id:
        fallback = url_for("notifications.index", job_id=n.job_id) if n.job_id else None
        url = _first_page("run", ids) or fallback
        if url:
            links.append(("clock-history", f"Run {n.run_id}", url))
    if n.client_account_id:
        url = _first_page("client_account", ids) or url_for(
            "notifications.index", client_account_id=n.client_account_id)
        links.append(("person-badge", row.client_account_name or "Client account", url))
    if n.service_account_id:
        url = _first_page("service_account", ids) or url_for(
            "notifications.index", service_account_id=n.service_account_id)
        links.append(("plug", row.service_account_name or "Login", url))
    return links
