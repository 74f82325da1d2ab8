"""``surveyapp questionnaire import | export | list``: the library from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from questionnaires import editing as ed
from questionnaires.xlsform import write_xlsform

from ..collect.services import questionnaire_of
from ..db import session

questionnaire_group = AppGroup("questionnaire", help="Phiếu hỏi: nhập, xuất, liệt kê (XLSForm hoặc YAML).")


@questionnaire_group.command("import", help="Nhập một phiếu từ tệp XLSForm (.xlsx) hoặc tệp phiếu (.yaml).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    from .routes import read_definition_file
    from .services import AuthoringError, import_definition

    s = session()
    try:
        questionnaire, text = read_definition_file(file.name, file.read_bytes())
        row = import_definition(s, questionnaire, text)
    except AuthoringError as exc:
        s.rollback()
        for line in exc.problems:
            click.echo(line, err=True)
        raise SystemExit(1) from None
    s.commit()
    click.echo(f"{row.code}\t{row.version}")


@questionnaire_group.command("export", help="Xuất một phiên bản (MÃ hoặc MÃ:PHIÊN_BẢN) ra .xlsx (XLSForm) hoặc .yaml.")
@click.argument("ref")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export_command(ref: str, out: Path) -> None:
    from .services import store_builtins, version_by_ref

    s = session()
    store_builtins(s)
    s.commit()
    row = version_by_ref(s, ref)
    if row is None:
        raise click.ClickException(f"Không có phiếu “{ref}”. Xem danh sách bằng: surveyapp questionnaire list")
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        out.write_bytes(write_xlsform(ed.load_document(row.source)))
    elif suffix in (".yaml", ".yml"):
        out.write_text(row.source, encoding="utf-8")
    else:
        raise click.ClickException("Tệp xuất phải có đuôi .xlsx (XLSForm) hoặc .yaml.")
    click.echo(f"{row.code}\t{row.version}\t{out}")


@questionnaire_group.command("list", help="Danh sách phiên bản: mã, phiên bản, tên, ngôn ngữ, số phiếu đã nhận.")
def list_command() -> None:
    from ..models import QuestionnaireVersion
    from .services import answer_counts_by_version, store_builtins

    s = session()
    store_builtins(s)
    s.commit()
    answers = answer_counts_by_version(s)
    for row in s.scalars(
        select(QuestionnaireVersion).order_by(QuestionnaireVersion.code, QuestionnaireVersion.version)
    ):
        languages = ",".join(questionnaire_of(row).languages)
        click.echo("\t".join([row.code, str(row.version), row.title, languages, str(answers.get(row.id, 0))]))
