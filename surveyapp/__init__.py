"""The web application: ``create_app`` builds it; ``wsgi.py`` and the ``surveyapp`` command use it."""

from __future__ import annotations

import os

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import ratelimit
from .config import from_environment
from .db import db

csrf = CSRFProtect()
compress = Compress()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)

    if app.config.get("TRUST_PROXY"):
        # behind one reverse proxy: take the client address and scheme it reports
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    db.init_app(app)
    ratelimit.init_app(app)

    from . import assets, web

    # The raw-body check must see the request before CSRF parsing consumes it.
    app.before_request(web.reject_malformed_body)
    csrf.init_app(app)
    from .collect.door import StaffOnlySessions

    app.session_interface = StaffOnlySessions()  # the public forms open no session (collect/door.py)
    compress.init_app(app)
    web.init_app(app)
    assets.init_app(app)

    from .accounts import bp as accounts_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .authoring import bp as authoring_bp
    from .campaigns import bp as campaigns_bp
    from .collect import bp as collect_bp
    from .invitations import bp as invitations_bp
    from .messaging import bp as messaging_bp
    from .monitor import bp as monitor_bp
    from .paper import bp as paper_bp
    from .planning import bp as planning_bp
    from .results import bp as results_bp
    from .setup import bp as setup_bp

    app.register_blueprint(collect_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(messaging_bp)
    app.register_blueprint(paper_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(monitor_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(setup_bp)
    app.register_blueprint(authoring_bp)

    from .cli import register_commands

    register_commands(app)
    return app
