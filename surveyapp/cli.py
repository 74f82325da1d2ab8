"""The ``surveyapp`` command: Flask's CLI (run, shell, routes) plus ours.

Our listing commands print tab-separated lines, for people and scripts alike.
"""

from __future__ import annotations

import sys
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
    from .authoring.cli import questionnaire_group
    from .messaging.commands import invitations_group, worker_command

    app.cli.add_command(questionnaire_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(invitations_group)

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
    @click.option("--answers", is_flag=True, help="Thêm câu trả lời giả lập (khoảng 75% chỉ tiêu) để xem kết quả.")
    def demo_command(answers: bool) -> None:
        from .demo import load_demo
        from .demo.fake import fill

        migrate.upgrade(db.engine)
        s = session()
        result = load_demo(s)
        if answers:
            from .campaigns.services import campaign_by_key

            added = fill(s, campaign_by_key(s, result.campaign_key))
            click.echo(f"Đã thêm {added} phiếu giả lập.", err=True)
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

    @app.cli.command("plan", help="Lập kế hoạch mẫu từ tệp YAML; in chỉ tiêu từng ô; --apply để áp dụng.")
    @click.argument("campaign")
    @click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--apply", "apply_", is_flag=True, help="Thay chỉ tiêu của các nhóm trong kế hoạch.")
    @click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Ghi bảng tổng hợp ra Excel.")
    def plan_command(campaign: str, plan_file: Path, apply_: bool, xlsx: Path | None) -> None:
        from sampling import SamplingError, build_plan, load_plan_text
        from sampling.export import plan_summary_xlsx

        from .planning.services import apply_plan, plan_units, summary_rows

        s = session()
        c = _campaign_or_fail(campaign)
        try:
            text = plan_file.read_text(encoding="utf-8")
            built = build_plan(load_plan_text(text, plan_file.name), plan_units(s, c), plan_file.name)
            for cell in built.cells:
                margin = "" if cell.margin is None else f"{cell.margin:.4f}"
                _tsv(cell.unit_code, cell.group, cell.quota, margin)
            for group, total in built.totals_by_group().items():
                _tsv("total", group, total)
            _tsv("total", "*", built.total)
            if apply_:
                from .audit import record

                cells = apply_plan(s, c, built)
                c.sampling_plan = text  # as the plan form keeps it: shown again, and in the dossier
                record(s, "campaign.plan_applied", f"campaign:{c.key}", cells=cells, total=built.total,
                       groups=built.totals_by_group(), source=str(plan_file))  # fmt: skip
                s.commit()
                click.echo(f"Đã áp dụng: {len(built.cells)} ô chỉ tiêu, tổng {built.total} phiếu.", err=True)
        except (SamplingError, UnicodeDecodeError) as exc:
            s.rollback()
            raise click.ClickException(str(exc)) from None
        if xlsx:
            xlsx.write_bytes(plan_summary_xlsx(f"Kế hoạch mẫu: {c.name}", summary_rows(s, c)))

    @app.cli.command("draw", help="Chọn ngẫu nhiên người cần khảo sát từ danh sách (CSV/XLSX) của một đơn vị.")
    @click.argument("frame_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--n", "size", type=int, required=True, help="Số người cần chọn (thường là chỉ tiêu).")
    @click.option("--reserve", type=int, default=0, show_default=True, help="Số người dự phòng.")
    @click.option("--method", type=click.Choice(["simple", "systematic"]), default="simple", show_default=True)
    @click.option("--seed", type=int, help="Hạt giống để chọn lại đúng danh sách cũ.")
    @click.option("--id-column", help="Tên cột mã hồ sơ (mặc định: tự nhận “Mã hồ sơ”, “id” …).")
    @click.option("--contact-column", help="Tên cột liên hệ (mặc định: tự nhận “Số điện thoại”, “email” …).")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Tệp Excel kết quả.")
    @click.option("--campaign", help="Ghi nhận lần chọn vào đợt khảo sát này (cần --unit và --group).")
    @click.option("--unit", "unit_code")
    @click.option("--group", "group_code")
    def draw_command(frame_file, size, reserve, method, seed, id_column, contact_column, out, campaign, unit_code,
                     group_code) -> None:  # fmt: skip
        from sqlalchemy import select

        from sampling import SamplingError
        from sampling.export import draw_xlsx
        from sampling.frames import draw, read_frame

        from .models import Unit
        from .planning.services import record_draw

        s = session()
        target = None
        if campaign:
            c = _campaign_or_fail(campaign)
            group = next((g for g in c.groups if g.code == group_code), None)
            unit = s.scalar(select(Unit).where(Unit.code == (unit_code or "")))
            if group is None or unit is None:
                raise click.ClickException("Cần --unit và --group hợp lệ của đợt khảo sát để ghi nhận lần chọn.")
            target = (c, group, unit)
        data = frame_file.read_bytes()
        try:
            with click.progressbar(length=max(data.count(b"\n"), 1), label="Đọc danh sách", file=sys.stderr) as bar:
                seen = [0]

                def progress(rows: int) -> None:
                    bar.update(rows - seen[0])
                    seen[0] = rows

                frame = read_frame(data, frame_file.name, id_column, contact_column, progress=progress)
            result = draw(len(frame), size, reserve, method, seed)
        except SamplingError as exc:
            raise click.ClickException(str(exc)) from None
        unit_name = target[2].name if target else frame_file.stem
        out.write_bytes(draw_xlsx(frame, result, unit_name, target[1].name if target else ""))
        if target:
            record_draw(s, *target, frame, result)
            s.commit()
        _tsv("seed", result.seed)
        _tsv("frame", len(frame), frame.sha256)
        _tsv("selected", len(result.selected))
        _tsv("reserve", len(result.reserve))
        _tsv("out", out)

    @app.cli.command("export-scores", help="Xuất bảng điểm Excel của một đợt khảo sát.")
    @click.argument("campaign")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def export_scores(campaign: str, out: Path) -> None:
        from questionnaires.scoring import RulesError

        from .results.exports import write_campaign_workbook
        from .results.services import NoRules, compute

        c = _campaign_or_fail(campaign)
        try:
            table, _counts = compute(session(), c)
        except (NoRules, RulesError) as exc:
            raise click.ClickException(str(exc)) from None
        write_campaign_workbook(session(), c, str(out), table=table)
        for u in table.units:
            _tsv(u.unit, "" if u.total is None else f"{u.total:.2f}", u.rank or "")
        click.echo(f"Đã ghi {out}", err=True)

    @app.cli.command("dossier", help="Lập hồ sơ chọn mẫu của một đợt (Word .docx hoặc PDF) để kiểm tra, chạy lại mẫu.")
    @click.argument("campaign")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def dossier(campaign: str, out: Path) -> None:
        from .planning.dossier import write

        if out.suffix.lower() not in (".docx", ".pdf"):
            raise click.ClickException("Hồ sơ chọn mẫu ghi ra tệp Word hoặc PDF: đặt tên tệp có đuôi .docx hoặc .pdf.")
        write(session(), _campaign_or_fail(campaign), out)
        click.echo(f"Đã ghi {out}", err=True)

    @app.cli.command("compare", help="So sánh điểm từng đơn vị, tiêu chí với một đợt trước (kể cả đơn vị đã sáp nhập).")
    @click.argument("campaign")
    @click.argument("earlier")
    @click.option("--crosswalk", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Tệp CSV/Excel hai cột “Mã đơn vị mới”, “Mã đơn vị cũ” (mỗi đơn vị cũ một dòng).")  # fmt: skip
    def compare_command(campaign: str, earlier: str, crosswalk: Path | None) -> None:
        from questionnaires.scoring import RulesError
        from questionnaires.scoring.compare import compare

        from .results.services import NoRules, compute
        from .results.yearly import read_crosswalk

        s = session()
        try:
            now, _ = compute(s, _campaign_or_fail(campaign))
            before, _ = compute(s, _campaign_or_fail(earlier))
            walk = read_crosswalk(crosswalk.read_bytes(), crosswalk.name) if crosswalk else None
        except (NoRules, RulesError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None

        def pct(x):
            return "" if x is None else f"{100 * x:.1f}".replace(".", ",")

        _tsv("Mã đơn vị", "Đơn vị", "Tiêu chí", "Năm trước %", "Năm nay %", "Thay đổi (điểm %)", "Khoảng 95% từ",
             "đến", "Ý nghĩa", "Đơn vị năm trước")  # fmt: skip
        for c in compare(now, before, walk):
            if c.before is None:
                alone = "không có đơn vị tương ứng năm trước"
                _tsv(c.unit, c.name, c.criterion, "", pct(c.now.value), "", "", "", alone, "")
                continue
            mark = "vượt mức ngẫu nhiên" if c.beyond_chance else "chưa chắc khác"
            _tsv(c.unit, c.name, c.criterion, pct(c.before.value), pct(c.now.value), pct(c.difference), pct(c.low),
                 pct(c.high), mark, ", ".join(c.before.units))  # fmt: skip

    @app.cli.command("report", help="Lập báo cáo kết quả điều tra xã hội học của một đợt (Word .docx hoặc PDF).")
    @click.argument("campaign")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def report(campaign: str, out: Path) -> None:
        from questionnaires.scoring import RulesError

        from .results.report import write
        from .results.services import NoRules

        if out.suffix.lower() not in (".docx", ".pdf"):
            raise click.ClickException("Báo cáo ghi ra tệp Word hoặc PDF: đặt tên tệp có đuôi .docx hoặc .pdf.")
        try:
            write(session(), _campaign_or_fail(campaign), out)
        except (NoRules, RulesError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Đã ghi {out}", err=True)

    @app.cli.command("export-data", help="Xuất câu trả lời của một nhóm cho SPSS (.sav), Stata (.dta) hoặc CSV kèm "
                     "bảng mã (.csv và -codebook.xlsx).")  # fmt: skip
    @click.argument("campaign")
    @click.argument("group")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def export_data(campaign: str, group: str, out: Path) -> None:
        from .results.datafile import FORMATS, codebook_path, write
        from .results.services import questionnaires, raw_rows

        fmt = out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise click.ClickException("Tệp xuất phải có đuôi .sav (SPSS), .dta (Stata) hoặc .csv.")
        c = _campaign_or_fail(campaign)
        found = next((g for g in c.groups if g.code == group), None)
        if found is None:
            known = ", ".join(g.code for g in c.groups)
            raise click.ClickException(f"Đợt “{c.key}” không có nhóm “{group}” (các nhóm: {known}).")
        n = write(str(out), fmt, questionnaires(c)[found.code], raw_rows(session(), c, found),
                  file_label=f"{c.name} · {found.name}")  # fmt: skip
        also = f" và {codebook_path(str(out))}" if fmt == "csv" else ""
        click.echo(f"Đã ghi {out}{also}: {n} dòng", err=True)

    @app.cli.group("units", help="Danh sách đơn vị: nhập từ tệp, xem trước, áp dụng.")
    def units_group() -> None:
        pass

    @units_group.command("import", help="Xem trước (và với --apply thì áp dụng) một tệp danh sách đơn vị.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--apply", "apply_", is_flag=True, help="Áp dụng các thay đổi đã xem trước.")
    def units_import(file: Path, apply_: bool) -> None:
        from .audit import record
        from .setup.units import UnitFileError, apply_changes, plan_changes, read_unit_file

        s = session()
        try:
            rows = read_unit_file(file.read_bytes(), file.name)
            changes = plan_changes(s, rows, file.name)
        except UnitFileError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise SystemExit(1) from None
        for r in changes.new:
            _tsv("new", r.code, r.name, r.kind, r.parent_code or "")
        for r, diff in changes.changed:
            _tsv("changed", r.code, r.name, "; ".join(f"{k}: {a} → {b}" for k, (a, b) in diff.items()))
        for code, name in changes.retired:
            _tsv("retired", code, name)
        for code in changes.revived:
            _tsv("revived", code)
        _tsv("unchanged", changes.unchanged)
        if apply_:
            apply_changes(s, rows, changes)
            record(s, "units.imported", f"file:{file.name}", new=len(changes.new), changed=len(changes.changed),
                   retired=[c for c, _ in changes.retired])  # fmt: skip
            s.commit()
            click.echo("Đã áp dụng.", err=True)

    @app.cli.group("campaign", help="Tạo, sao chép, mở và đóng đợt khảo sát.")
    def campaign_group() -> None:
        pass

    def _setup_call(fn):
        from .setup.campaigns import SetupError

        s = session()
        try:
            result = fn(s)
        except (SetupError, ValueError) as exc:
            s.rollback()
            raise click.ClickException(str(exc)) from None
        s.commit()
        return result

    @campaign_group.command("create", help="Tạo đợt khảo sát mới (trạng thái: đang chuẩn bị).")
    @click.argument("key")
    @click.option("--year", type=int, required=True)
    @click.option("--name", required=True)
    @click.option("--scope", required=True, help="Mã đơn vị tổ chức khảo sát (tỉnh, huyện …).")
    @click.option("--starts", type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--ends", type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--named", is_flag=True, help="Không ẩn danh: phiếu mời gắn với người được mời.")
    @click.option("--quota-full", type=click.Choice(["stop", "accept"]), default="stop", show_default=True)
    def campaign_create(key, year, name, scope, starts, ends, named, quota_full) -> None:
        from sqlalchemy import select

        from .models import Unit
        from .setup.campaigns import SetupError, create_campaign

        def run(s):
            unit = s.scalar(select(Unit).where(Unit.code == scope))
            if unit is None:
                raise SetupError(f"Không có đơn vị mã “{scope}”.")
            return create_campaign(s, key=key, year=year, name=name, scope=unit,
                                   starts_on=starts.date() if starts else None, ends_on=ends.date() if ends else None,
                                   anonymous=not named, quota_full_policy=quota_full)  # fmt: skip

        c = _setup_call(run)
        _tsv("campaign", c.key, c.status)

    @campaign_group.command("add-group", help="Thêm nhóm đối tượng vào đợt.")
    @click.argument("campaign")
    @click.argument("code")
    @click.option("--name", required=True)
    @click.option("--questionnaire", required=True, help="Mã phiếu có sẵn (citizen_counter, leader …) hoặc tệp YAML.")
    @click.option("--mode", type=click.Choice(["counter", "invitation", "paper"]), required=True)
    @click.option("--rates", multiple=True, help="Loại đơn vị được đánh giá (xã, phường …), có thể lặp lại.")
    def campaign_add_group(campaign, code, name, questionnaire, mode, rates) -> None:
        from questionnaires import BUILTIN_DIR

        from .campaigns.services import store_questionnaire_file
        from .setup.campaigns import SetupError, add_group, units_of_kinds

        c = _campaign_or_fail(campaign)

        def run(s):
            path = Path(questionnaire) if questionnaire.endswith(".yaml") else BUILTIN_DIR / f"{questionnaire}.yaml"
            if not path.exists():
                raise SetupError(f"Không có phiếu “{questionnaire}”.")
            version = store_questionnaire_file(s, path)
            return add_group(s, c, code=code, name=name, version=version, mode=mode,
                             rated_units=units_of_kinds(s, c, list(rates)) if rates else [])  # fmt: skip

        g = _setup_call(run)
        _tsv("group", c.key, g.code, g.mode, len(g.rated_units))

    @campaign_group.command("set-rules", help="Đặt quy tắc tính điểm (tệp YAML) cho đợt.")
    @click.argument("campaign")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def campaign_set_rules(campaign, file: Path) -> None:
        from questionnaires.scoring import RulesError

        from .setup.campaigns import set_rules

        c = _campaign_or_fail(campaign)
        s = session()
        try:
            set_rules(s, c, file.read_text(encoding="utf-8"))
        except RulesError as exc:
            raise click.ClickException("\n".join(exc.problems)) from None
        s.commit()
        _tsv("rules", c.key, "ok")

    @campaign_group.command("open", help="Mở đợt (kiểm tra đủ điều kiện trước); mở lại đợt đã đóng.")
    @click.argument("campaign")
    def campaign_open(campaign) -> None:
        from .setup.campaigns import open_campaign

        c = _campaign_or_fail(campaign)
        _setup_call(lambda s: open_campaign(s, c))
        _tsv("campaign", c.key, c.status)

    @campaign_group.command("close", help="Đóng đợt: không nhận thêm phiếu.")
    @click.argument("campaign")
    def campaign_close(campaign) -> None:
        from .setup.campaigns import close_campaign

        c = _campaign_or_fail(campaign)
        _setup_call(lambda s: close_campaign(s, c))
        _tsv("campaign", c.key, c.status)

    @campaign_group.command("copy", help="Sao chép đợt sang năm mới trên danh sách đơn vị hiện nay.")
    @click.argument("source")
    @click.argument("key")
    @click.option("--year", type=int, required=True)
    @click.option("--name", required=True)
    def campaign_copy(source, key, year, name) -> None:
        from .setup.campaigns import copy_campaign

        c = _campaign_or_fail(source)
        report = _setup_call(lambda s: copy_campaign(s, c, key=key, year=year, name=name))
        _tsv("campaign", report.campaign.key, report.campaign.status)
        for code, unit_name in report.retired:
            _tsv("retired", code, unit_name)
        for code, unit_name in report.new:
            _tsv("new", code, unit_name)

    @app.cli.command("export-campaign", help="Xuất toàn bộ một đợt khảo sát ra một tệp (.jsonl.gz).")
    @click.argument("campaign")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def export_campaign_command(campaign: str, out: Path) -> None:
        from .transfer import export_campaign

        counts = export_campaign(session(), _campaign_or_fail(campaign), out)
        for kind, n in counts.items():
            _tsv(kind, n)

    @app.cli.command("import-campaign", help="Nạp một đợt khảo sát từ tệp xuất (vào cơ sở dữ liệu chưa có đợt đó).")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_campaign_command(file: Path) -> None:
        from .transfer import TransferError, import_campaign

        migrate.upgrade(db.engine)
        s = session()
        try:
            counts = import_campaign(s, file)
        except (TransferError, KeyError, ValueError) as exc:
            s.rollback()
            raise click.ClickException(f"Không nạp được: {exc}") from None
        s.commit()
        for kind, n in counts.items():
            _tsv(kind, n)

    @app.cli.command("api-token", help="Tạo mã truy cập API chỉ đọc (chỉ hiện một lần).")
    @click.argument("name")
    def api_token(name: str) -> None:
        from .api.tokens import new_token
        from .audit import record

        s = session()
        token = new_token(s, name)
        record(s, "api_token.created", f"api_token:{name}")
        s.commit()
        _tsv("token", name, token)

    @app.cli.command("create-admin", help="Tạo (hoặc đặt lại mật khẩu) tài khoản quản trị.")
    @click.argument("username")
    @click.password_option(prompt="Mật khẩu")
    def create_admin(username: str, password: str) -> None:
        from sqlalchemy import select

        from .models import Role, User

        s = session()
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, role=Role.ADMIN, password_hash="")
            s.add(user)
        user.set_password(password)
        s.commit()
        _tsv("admin", username)
