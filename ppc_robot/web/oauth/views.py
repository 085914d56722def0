"""OAuth 2 callbacks: public addresses the providers send the browser back to."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms.oauth import OAuthProvider, exchange_code, token_credentials
from ppc_robot.web.accounts.platforms import (
    current_settings,
    current_vault,
    redirect_uri,
    refused_link,
    take_oauth_flow,
)
from ppc_robot.web.extensions import db, login_manager
from ppc_robot.web.queue import wake_housekeeping

# Public so that no guard can bounce the provider's redirect; the view itself requires the
# user who started the flow (his session holds the state).
bp = Blueprint("oauth", __name__, url_prefix="/oauth")
security_log = logging.getLogger("ppc_robot.security")


@bp.route("/google-ads/callback")
def google_ads() -> ResponseReturnValue:
    return _callback(Platform.GOOGLE_ADS)


@bp.route("/microsoft/callback")
def microsoft() -> ResponseReturnValue:
    return _callback(Platform.MICROSOFT)


def _callback(platform: Platform) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    link_page = url_for("accounts.index")
    flow = take_oauth_flow(platform, request.args.get("state"))
    if flow is None:
        security_log.info("oauth callback with a wrong or missing state for user %s",
                          current_user.id)
        flash(_('The %(label)s sign-in could not be matched to this browser session (it expired or was started elsewhere). Nothing was linked; start again.', label=platform.label), "danger")
        return redirect(link_page)
    if request.args.get("error"):
        reason = "you declined access" if request.args["error"] == "access_denied" else (
            f"{platform.label} answered “{request.args['error'][:60]}”")
        flash(_('%(label)s was not linked: %(reason)s.', label=platform.label, reason=reason), "warning")
        return redirect(link_page)
    code = request.args.get("code", "")
    settings = current_settings()
    try:
        tokens = exchange_code(OAuthProvider.of(platform, settings), settings, code=code,
                               redirect_uri=redirect_uri(platform),
                               code_verifier=str(flow["verifier"]))
        # The access token of the exchange serves the linking's own calls and the first runs.
        login, result = link_service_account(
            db.session(), current_user, platform,
            token_credentials(tokens, str(tokens["refresh_token"])),
            vault=current_vault(), settings=settings)
    except PpcRobotError as exc:
        db.session.rollback()
        refused_link(platform, exc)
        flash(_('%(label)s was not linked: %(exc)s', label=platform.label, exc=exc), "danger")
        return redirect(link_page)
    db.session.commit()
    wake_housekeeping(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(_('%(label)s login “%(name)s” linked: %(summary)s', label=platform.label, name=login.name, summary=result.summary()), "success")
    return redirect(url_for("accounts.show", service_account_id=login.id))
