"""The Flask app: create_app() and its steps."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ppc_robot.lib.db import configure_engine
from ppc_robot.lib.users import user_by_session_token
from ppc_robot.web.config import load_config
from ppc_robot.web.extensions import bootstrap, csrf, db, login_manager, migrate
from ppc_robot.web.i18n import init_babel, init_form_translations
from ppc_robot.web.ratelimits import init_rate_limits

PROJECT_ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app; `config` (tests) overrides the environment."""
    app = Flask(
        __name__,
        instance_path=_instance_path(config),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _load_config(app, config)
    _init_logging(app)
    _init_extensions(app)
    _register_url_converters(app)
    _register_blueprints(app)
    _register_input_checks(app)
    _register_error_pages(app)
    _register_write_transactions(app)
    _register_security_headers(app)
    _register_template_context(app)
    _register_commands(app)
    _init_queue(app)
    return app


def _instance_path(config: Mapping[str, Any] | None) -> str:
    if config and config.get("INSTANCE_PATH"):
        return str(config["INSTANCE_PATH"])
    return os.environ.get("PPC_ROBOT_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))


def _load_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    app.config.update(load_config(Path(app.instance_path), config))


def _init_logging(app: Flask) -> None:
    from ppc_robot.web.logs import install_token_redaction

    install_token_redaction(app.logger)


def _init_extensions(app: Flask) -> None:
    from ppc_robot.web import models  # noqa: F401 - registers the web_* tables

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    init_rate_limits(app)
    init_babel(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(lambda token: user_by_session_token(db.session(), token))


def _register_url_converters(app: Flask) -> None:
    from ppc_robot.web.safety import IdConverter

    app.url_map.converters["int"] = IdConverter


def _register_input_checks(app: Flask) -> None:
    from ppc_robot.web.safety import NulByteError, refuse_nul_bytes

    app.before_request(refuse_nul_bytes)

    @app.errorhandler(NulByteError)
    def nul_byte(exc: NulByteError) -> ResponseReturnValue:
        html = render_template("errors/error.html", code=400, title="Bad request",
                               text=exc.description)
        return html, 400


def _register_blueprints(app: Flask) -> None:
    """Register the `bp` of every area package under ppc_robot.web, in name order."""
    import ppc_robot.web as web

    for module in sorted(pkgutil.iter_modules(web.__path__), key=lambda m: m.name):
        if module.ispkg:
            area = importlib.import_module(f"ppc_robot.web.{module.name}")
            if isinstance(getattr(area, "bp", None), Blueprint):
                app.register_blueprint(area.bp)


def _register_error_pages(app: Flask) -> None:
    def page(code: int, title: str, text: str) -> ResponseReturnValue:
        return render_template("errors/error.html", code=code, title=title, text=text), code

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> ResponseReturnValue:
        return page(400, "The form expired", "Reload the page and send the form again.")

    app.register_error_handler(
        400, lambda _e: page(400, "Bad request", "The request could not be understood.")
    )
    app.register_error_handler(
        403, lambda _e: page(403, "Not allowed", "You do not have access to this page.")
    )
    app.register_error_handler(
        404, lambda _e: page(404, "Page not found", "There is nothing here, or it is not yours.")
    )
    app.register_error_handler(
        405, lambda _e: page(405, "Not allowed", "This address does not accept that request.")
    )
    app.register_error_handler(
        413, lambda _e: page(413, "Too large", "What you sent is larger than this site accepts.")
    )

    @app.errorhandler(500)
    def server_error(_exc: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return page(500, "Something went wrong", "The error was logged. Try again in a moment.")


def _register_write_transactions(app: Flask) -> None:
    """On SQLite a request that may write starts its transaction with BEGIN IMMEDIATE.

    A deferred transaction that reads (loading the user's object) and then writes fails at
    once with "database is locked" when the worker committed in between; taking the write
    lock first makes it wait its turn instead (the busy timeout applies).
    """

    @app.before_request
    def _begin_writes_immediately() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and db.engine.dialect.name == "sqlite":
            db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def _register_security_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_user.is_authenticated and request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response


def _register_template_context(app: Flask) -> None:
    from ppc_robot.web.filters import register_filters
    from ppc_robot.web.navigation import navigation

    register_filters(app)
    init_form_translations(app)
    app.context_processor(lambda: {"navigation": navigation})


def _init_queue(app: Flask) -> None:
    from ppc_robot.web.queue import celery_init_app, start_embedded_worker

    if app.config["PPC_ROBOT_QUEUE"] == "celery":
        celery_init_app(app)
    elif str(app.config.get("PPC_ROBOT_START_WORKER")) == "1":
        start_embedded_worker(app)


def _register_commands(app: Flask) -> None:
    from ppc_robot.web.commands import register_commands

    register_commands(app)
