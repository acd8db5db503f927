"""Pli: a lightweight, self-hostable webmail for French secure health messaging."""

from __future__ import annotations

from flask import Flask

from webmail import errors, i18n, mail_pool, migrate, security_headers, template_filters
from webmail.config import load_config
from webmail.db import db
from webmail.extensions import csrf, htmx, limiter, login_manager
from webmail.services import mail as mail_service
from webmail.session_interface import PliSessionInterface


def create_app(overrides: dict[str, object] | None = None) -> Flask:
    """Build the app from `PLI_*` variables (and explicit overrides, for tests)."""
    app = Flask(__name__)
    load_config(app, overrides)
    app.session_interface = PliSessionInterface()

    db.init_app(app)
    _init_traces(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _init_login(app)
    i18n.init_app(app)
    template_filters.init_app(app)
    security_headers.init_app(app)
    mail_pool.init_app(app)
    mail_service.init_app(app)
    migrate.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    return app


def _init_traces(app: Flask) -> None:
    """Structured logs first, so everything after is logged; then the operator commands."""
    from webmail import cli, logging_setup

    logging_setup.init_app(app)
    cli.init_app(app)


def _init_login(app: Flask) -> None:
    from flask import session

    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side record already binds the session
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        # Only a server-side session can carry a signed-in user, never the anonymous cookie.
        open_session = getattr(session, "open_session", None)
        if (open_session is None or open_session.record.awaiting_code
                or str(open_session.record.account_id) != user_id):
            return None
        return open_session.record.account


def _register_blueprints(app: Flask) -> None:
    from webmail.blueprints import auth, mail, site

    app.register_blueprint(site.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(mail.bp)
    from webmail.blueprints import admin
    app.register_blueprint(admin.bp)
    from webmail.blueprints import delegations
    app.register_blueprint(delegations.bp)
    from webmail.blueprints import folder_admin, organise, search
    for area in (organise, search, folder_admin):
        app.register_blueprint(area.bp)
    from webmail.blueprints import compose
    app.register_blueprint(compose.bp)
    from webmail.blueprints import privacy
    app.register_blueprint(privacy.bp)
    from webmail.blueprints import consent
    app.register_blueprint(consent.bp)
    from webmail.blueprints import second_factor
    app.register_blueprint(second_factor.bp)
    from webmail.blueprints import patient
    app.register_blueprint(patient.bp)
    app.before_request(second_factor.require_enrolment)
