"""The navigation bar: every area, in order; areas not built yet show as disabled."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ppc_robot.lib.i18n import N_


@dataclass(frozen=True)
class NavItem:
    label: str
    icon: str
    endpoint: str
    admin_only: bool = False


AREAS = (
    NavItem(N_("Dashboard"), "speedometer2", "dashboard.index"),
    NavItem(N_("Folders"), "folder2-open", "folders.index"),
    NavItem(N_("Definitions"), "sliders", "definitions.index"),
    NavItem(N_("Tags"), "tags", "tags.index"),
    NavItem(N_("Accounts"), "plug", "accounts.index"),
    NavItem(N_("Clients"), "people", "clients.index"),
    NavItem(N_("Settings"), "gear", "settings.index"),
    NavItem(N_("Admin"), "shield-lock", "admin.index", admin_only=True),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    icon: str
    url: str | None
    is_active: bool


def navigation() -> list[NavLink]:
    """The links of the bar for the current user and page."""
    links = []
    current_area = (request.endpoint or "").split(".")[0]
    for item in AREAS:
        if item.admin_only and not current_user.is_admin:
            continue
        exists = item.endpoint in current_app.view_functions
        links.append(
            NavLink(
                label=gettext(item.label),
                icon=item.icon,
                url=url_for(item.endpoint) if exists else None,
                is_active=item.endpoint.split(".")[0] == current_area,
            )
        )
    return links
