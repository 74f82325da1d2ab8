"""The ``surveyapp`` command: Flask's CLI (run, shell, routes) plus ours.

Our listing commands print tab-separated lines, for people and scripts alike.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup

from questionnaires import DefinitionError, builtin_files, load_questionnaire

from . import migrate
from .db import db, session


def _create_app(*_args, **_kwargs) -> Flask:
    from . import create_app

    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, help="Khảo sát xã hội học Chỉ số CCHC.")(prog_name="surveyapp")


def _campaign_or_fail(key: str):
    from .campaigns.services import campaign_by_key

    campaign = campaign_by_key(session(), key)
    if campaign is None:
        raise click.ClickException(f"Không có đợt khảo sát “{key}”. Xem danh sách bằng: surveyapp campaigns")
    return campaign


def _tsv(*values) -> None:
    click.echo("\t".join(str(v) for v in values))


def register_commands(app: Flask) -> None:
    @app.cli.group("db", help="Cơ sở dữ liệu: tạo và nâng cấp bảng (Alembic).")
    def db_group() -> None:
        pass

    @db_group.command("upgrade", help="Nâng cấp cơ sở dữ liệu lên phiên bản mới nhất.")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        migrate.upgrade(db.engine, revision)

    @db_group.command("downgrade", help="Hạ cơ sở dữ liệu về một phiên bản.")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        migrate.downgrade(db.engine, revision)

    @db_group.command("current", help="In phiên bản hiện tại của cơ sở dữ liệu.")
    def db_current() -> None:
        migrate.current(db.engine)

    @db_group.command("revision", help="Tạo tệp migration mới từ thay đổi của models (cho lập trình viên).")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        migrate.revision(db.engine, message)

    @app.cli.command("demo", help="Nạp đợt khảo sát mẫu (chạy lại nhiều lần không tạo trùng).")
    def demo_command() -> None:
        from .demo import load_demo

        migrate.upgrade(db.engine)
        s = session()
        result = load_demo(s)
        s.commit()
        _tsv("campaign", result.campaign_key)
        _tsv("admin", result.admin_username, result.admin_password)

    @app.cli.command("campaigns", help="Danh sách đợt khảo sát: mã, năm, tên, trạng thái.")
    def campaigns_command() -> None:
        from sqlalchemy import select

        from .models import Campaign

        for c in session().scalars(select(Campaign).order_by(Campaign.year, Campaign.key)):
            _tsv(c.key, c.year, c.name, c.status)

    @app.cli.command("links", help="Đường dẫn phiếu và mã QR của từng điểm thu thập của một đợt.")
    @click.argument("campaign")
    def links_command(campaign: str) -> None:
        from .campaigns.services import form_url, point_links, qr_png_url

        for link in point_links(session(), _campaign_or_fail(campaign)):
            _tsv(link.unit_code, link.unit_name, link.group_code, form_url(link.code), qr_png_url(link.code))

    @app.cli.command("progress", help="Tiến độ theo đơn vị × nhóm: chỉ tiêu và số phiếu đã nhận.")
    @click.argument("campaign")
    def progress_command(campaign: str) -> None:
        from .campaigns.services import progress

        for row in progress(session(), _campaign_or_fail(campaign)):
            _tsv(row.unit_code, row.group_code, row.target, row.received)

    @app.cli.command("check-questionnaires", help="Kiểm tra các tệp phiếu (mặc định: các phiếu có sẵn).")
    @click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def check_questionnaires(files: tuple[Path, ...]) -> None:
        failed = False
        for path in files or builtin_files():
            try:
                q = load_questionnaire(path)
            except DefinitionError as exc:
                failed = True
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
            else:
                _tsv(path.name, q.code, q.version, q.content_hash[:12])
        if failed:
            raise SystemExit(1)

    @app.cli.command("create-admin", help="Tạo (hoặc đặt lại mật khẩu) tài khoản quản trị.")
    @click.argument("username")
    @click.password_option(prompt="Mật khẩu")
    def create_admin(username: str, password: str) -> None:
        from sqlalchemy import select
        from werkzeug.security import generate_password_hash

        from .models import Role, User

        s = session()
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, role=Role.ADMIN, password_hash="")
            s.add(user)
        user.password_hash = generate_password_hash(password)
        s.commit()
        _tsv("admin", username)
