"""Platform logins (health, link, re-authorise, sync, unlink) and the client-account list."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.accounts import (
    jobs_fed_by,
    link_service_account,
    service_accounts_of,
    sync_service_account,
    unlink_service_account,
)
from ppc_robot.lib.bounds import parse_int
from ppc_robot.lib.client_accounts import (
    ClientAccountFilter,
    client_account_tags_of,
    client_accounts_of,
    owned_client_accounts,
    set_client_account_tags,
    tag_client_accounts,
)
from ppc_robot.lib.clients import clients_of
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    ClientAccountTag,
    Platform,
    ServiceAccount,
    utcnow,
)
from ppc_robot.lib.platforms.availability import (
    PlatformNotConfigured,
    missing_settings,
    not_configured,
    require_configured,
)
from ppc_robot.lib.platforms.oauth import OAUTH_PLATFORMS
from ppc_robot.lib.stats import request_refresh, store_progress
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.accounts.forms import (
    BulkTagForm,
    ClientAccountFilterForm,
    ClientAccountForm,
    SklikLinkForm,
    UnlinkForm,
)
from ppc_robot.web.accounts.platforms import (
    current_settings,
    current_vault,
    refused_link,
    start_oauth,
)
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.queue import wake_housekeeping

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
bp.before_request(require_login)
logger = logging.getLogger(__name__)


def _not_set_up() -> dict[Platform, str]:
    """Why each OAuth platform cannot be linked on this server (absent: it can)."""
    settings = current_settings()
    return {platform: refusal(not_configured(platform, missing)) for platform in OAUTH_PLATFORMS
            if (missing := missing_settings(platform, settings))}


@bp.route("/")
def index() -> ResponseReturnValue:
    session = db.session()
    logins = service_accounts_of(session, current_user)
    jobs = {login.id: jobs_fed_by(session, login) for login in logins}
    oauth_links = [(Platform.GOOGLE_ADS, url_for(".link_google_ads")),
                   (Platform.MICROSOFT, url_for(".link_microsoft"))]
    statistics = store_progress(session, [login.id for login in logins])
    return render_template("accounts/index.html", logins=logins, jobs=jobs,
                           oauth_links=oauth_links, not_set_up=_not_set_up(),
                           statistics=statistics)


@bp.route("/<int:service_account_id>")
def show(service_account_id: int) -> ResponseReturnValue:
    login = owned(ServiceAccount, service_account_id)
    session = db.session()
    accounts = client_accounts_of(session, current_user,
                                  ClientAccountFilter(service_account_id=login.id))
    return render_template("accounts/show.html", login=login, accounts=accounts,
                           jobs=jobs_fed_by(session, login),
                           statistics=store_progress(session, [login.id]))


@bp.route("/link/sandbox", methods=["POST"])
def link_sandbox() -> ResponseReturnValue:
    login, result = link_service_account(db.session(), current_user, Platform.SANDBOX, {},
                                         vault=current_vault(), settings=current_settings())
    db.session.commit()
    wake_housekeeping(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(_('Sandbox linked: %(summary)s', summary=result.summary()), "success")
    return redirect(url_for(".show", service_account_id=login.id))


@bp.route("/link/sklik", methods=["GET", "POST"])
def link_sklik() -> ResponseReturnValue:
    form = SklikLinkForm()
    if form.validate_on_submit():
        try:
            login, result = link_service_account(
                db.session(), current_user, Platform.SKLIK, {"token": form.token.data},
                vault=current_vault(), settings=current_settings())
        except PpcRobotError as exc:
            db.session.rollback()
            refused_link(Platform.SKLIK, exc)
            form.token.errors.append(refusal(exc))
        else:
            db.session.commit()
            wake_housekeeping(current_app._get_current_object())  # type: ignore[attr-defined]
            flash(_('Sklik login “%(name)s” linked: %(summary)s', name=login.name, summary=result.summary()), "success")
            return redirect(url_for(".show", service_account_id=login.id))
    html = render_template("accounts/link_sklik.html", form=form)
    return html, 422 if form.errors else 200


@bp.route("/link/google-ads")
def link_google_ads() -> ResponseReturnValue:
    return render_template("accounts/link_oauth.html", platform=Platform.GOOGLE_ADS,
                           start=url_for(".authorize_google_ads"),
                           not_set_up=_not_set_up().get(Platform.GOOGLE_ADS))


@bp.route("/link/microsoft")
def link_microsoft() -> ResponseReturnValue:
    return render_template("accounts/link_oauth.html", platform=Platform.MICROSOFT,
                           start=url_for(".authorize_microsoft"),
                           not_set_up=_not_set_up().get(Platform.MICROSOFT))


# Only the session's flow state changes here; the consent page is reached by a link, since
# the Content-Security-Policy (form-action 'self') stops a form from redirecting off-site.
@bp.route("/link/google-ads/authorize")
def authorize_google_ads() -> ResponseReturnValue:
    return _authorize(Platform.GOOGLE_ADS)


@bp.route("/link/microsoft/authorize")
def authorize_microsoft() -> ResponseReturnValue:
    return _authorize(Platform.MICROSOFT)


def _authorize(platform: Platform) -> ResponseReturnValue:
    """To the provider's consent page; refused in words when the server cannot link it."""
    try:
        require_configured(platform, current_settings())
    except PlatformNotConfigured as exc:
        logger.warning("linking %s refused: the server has no OAuth client for it", platform.value)
        html = render_template("accounts/link_oauth.html", platform=platform, start=None,
                               not_set_up=refusal(exc))
        return html, 409
    return redirect(start_oauth(platform))


@bp.route("/<int:service_account_id>/reauthorise")
def reauthorise(service_account_id: int) -> ResponseReturnValue:
    login = owned(ServiceAccount, service_account_id)
    targets = {Platform.SKLIK: ".link_sklik", Platform.GOOGLE_ADS: ".link_google_ads",
               Platform.MICROSOFT: ".link_microsoft"}
    if login.platform in targets:
        return redirect(url_for(targets[login.platform]))
    return redirect(url_for(".show", service_account_id=login.id))


@bp.route("/<int:service_account_id>/sync", methods=["POST"])
def sync(service_account_id: int) -> ResponseReturnValue:
    login = owned(ServiceAccount, service_account_id)
    result = sync_service_account(db.session(), login, vault=current_vault(),
                                  settings=current_settings())
    db.session.commit()
    if result.ok:
        flash(_('Client accounts synced: %(summary)s', summary=result.summary()), "success")
    else:
        flash(_('Sync failed: %(error)s The client accounts were left as they were.', error=result.error),
              "danger")
    return redirect(url_for(".show", service_account_id=login.id))


@bp.route("/<int:service_account_id>/statistics/update", methods=["POST"])
def refresh_statistics(service_account_id: int) -> ResponseReturnValue:
    login = owned(ServiceAccount, service_account_id)
    count = request_refresh(db.session(), login.id, utcnow())
    db.session.commit()
    wake_housekeeping(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(_('Statistics of %(count)s client accounts will be updated in a moment.', count=count), "success")
    return redirect(url_for(".show", service_account_id=login.id))


@bp.route("/<int:service_account_id>/unlink", methods=["GET", "POST"])
def unlink(service_account_id: int) -> ResponseReturnValue:
    login = owned(ServiceAccount, service_account_id)
    form = UnlinkForm()
    if form.validate_on_submit():
        deleted = unlink_service_account(
            db.session(), login, remove_client_accounts=form.client_accounts.data == "remove")
        db.session.commit()
        if deleted:
            flash(_("“%(name)s” unlinked; its credentials were deleted and %(deleted)s client "
                    "account(s) removed.", name=login.name, deleted=deleted), "success")
        else:
            flash(_("“%(name)s” unlinked; its credentials were deleted.", name=login.name),
                  "success")
        return redirect(url_for(".index"))
    jobs = jobs_fed_by(db.session(), login)
    html = render_template("accounts/unlink.html", form=form, login=login, jobs=jobs)
    return html, 422 if form.errors else 200


@bp.route("/client-accounts")
def client_accounts() -> ResponseReturnValue:
    session = db.session()
    logins = service_accounts_of(session, current_user)
    tags = client_account_tags_of(session, current_user)
    clients = clients_of(session, current_user)
    filters_form = ClientAccountFilterForm(logins, tags, clients, formdata=request.args)
    filters = ClientAccountFilter()
    if filters_form.validate():
        f = filters_form
        filters = ClientAccountFilter(
            platform=Platform(f.platform.data) if f.platform.data else None,
            service_account_id=parse_int(f.service_account_id.data),
            tag_id=parse_int(f.tag_id.data),
            status=ClientAccountStatus(f.status.data) if f.status.data else None,
            client_id=parse_int(f.client_id.data),
        )
    accounts = client_accounts_of(session, current_user, filters)
    bulk = BulkTagForm(accounts, tags, formdata=None, prefix="bulk")
    return render_template("accounts/client_accounts.html", accounts=accounts,
                           filters_form=filters_form, bulk=bulk, tags=tags)


@bp.route("/client-accounts/tag", methods=["POST"])
def bulk_tag() -> ResponseReturnValue:
    session = db.session()
    tags = client_account_tags_of(session, current_user)
    form = BulkTagForm([], tags, prefix="bulk")
    if form.validate_on_submit():
        tag = owned(ClientAccountTag, form.tag_id.data)
        accounts = owned_client_accounts(session, current_user, form.client_account_ids.data)
        if not accounts:
            flash(_("Tick at least one client account."), "warning")
        else:
            changed = tag_client_accounts(session, accounts, tag, add=form.action.data == "add")
            db.session.commit()
            if form.action.data == "add":
                flash(_("Tag “%(name)s” added to %(changed)s client account(s).",
                        name=tag.name, changed=changed), "success")
            else:
                flash(_("Tag “%(name)s” removed from %(changed)s client account(s).",
                        name=tag.name, changed=changed), "success")
    else:
        flash(_("Choose a tag and an action."), "warning")
    return redirect(request.referrer if _is_our_list(request.referrer)
                    else url_for(".client_accounts"))


def _is_our_list(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url.rstrip("/") + url_for(".client_accounts"))


@bp.route("/client-accounts/<int:client_account_id>", methods=["GET", "POST"])
def edit_client_account(client_account_id: int) -> ResponseReturnValue:
    account = owned(ClientAccount, client_account_id)
    session = db.session()
    tags = client_account_tags_of(session, current_user)
    current = {"tag_ids": [t.id for t in account.tags], "client_id": account.client_id or 0}
    form = ClientAccountForm(tags, clients_of(session, current_user),
                             data=None if request.method == "POST" else current)
    if form.validate_on_submit():
        chosen = [owned(ClientAccountTag, tag_id) for tag_id in form.tag_ids.data or []]
        set_client_account_tags(session, account, chosen)
        account.client_id = owned(Client, form.client_id.data).id if form.client_id.data else None
        db.session.commit()
        flash(_('“%(name)s” saved.', name=account.name), "success")
        return redirect(url_for(".client_accounts"))
    html = render_template("accounts/edit_client_account.html", form=form, account=account)
    return html, 422 if form.errors else 200
