"""The questionnaire library and builder pages. Every change is one POST that saves (or is
refused whole, with the messages beside the question); the pages work without scripts."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

from flask import abort, flash, make_response, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from questionnaires import DefinitionError, QuestionType, load_text
from questionnaires import editing as ed
from questionnaires.model import SATISFACTION_5
from questionnaires.xlsform import XLSFormError, read_xlsform, write_xlsform
from sampling.errors import FrameError
from sampling.frames import check_unzipped_size

from ..auth import current_user, staff_required
from ..collect.forms import build_form_class
from ..collect.services import questionnaire_of
from ..db import session
from ..lookups import group_or_404
from ..models import QuestionnaireDraft, QuestionnaireVersion, Unit
from . import bp
from .forms import CONDITION_ROWS, NEW, clean_text, parse_question
from .services import (
    AuthoringError,
    builtin_codes,
    copy_to_draft,
    import_definition,
    library,
    new_draft,
    next_version,
    preview_switch,
    publish,
    save_draft,
    store_builtins,
    switch_version,
)

STATUS_NAMES = {"draft": "Đang chuẩn bị", "open": "Đang mở", "closed": "Đã đóng"}


def _user_id() -> int | None:
    user = current_user()
    return user.id if user else None


@bp.route("/admin/questionnaires")
@staff_required()
def index():
    s = session()
    store_builtins(s)
    s.commit()
    return render_template("authoring/library.html", entries=library(s), status_names=STATUS_NAMES,
                           user=current_user())  # fmt: skip


@bp.route("/admin/questionnaires/new", methods=["POST"])
@staff_required()
def create():
    s = session()
    errors: dict = {}
    title = clean_text(request.form.get("title"), 300, errors, "title")
    try:
        if errors:
            raise AuthoringError(errors["title"])
        draft = new_draft(s, title, _user_id())
    except AuthoringError as exc:
        s.rollback()
        for line in exc.problems:
            flash(line, "error")
        return redirect(url_for("authoring.index"))
    s.commit()
    return redirect(url_for("authoring.builder", code=draft.code))


@bp.route("/admin/questionnaires/v/<int:version_id>/copy", methods=["POST"])
@staff_required()
def copy(version_id: int):
    s = session()
    version = s.get(QuestionnaireVersion, version_id) or abort(404)
    try:
        draft = copy_to_draft(s, version, as_new=request.form.get("as") != "next", user_id=_user_id())
    except AuthoringError as exc:
        s.rollback()
        flash(exc.problems[0], "error")
        return redirect(url_for("authoring.index"))
    s.commit()
    return redirect(url_for("authoring.builder", code=draft.code))


@bp.route("/admin/questionnaires/v/<int:version_id>")
@staff_required()
def version(version_id: int):
    s = session()
    row = s.get(QuestionnaireVersion, version_id) or abort(404)
    return render_template(
        "authoring/version.html", row=row, questionnaire=questionnaire_of(row), type_names=ed.TYPE_NAMES,
        builtin=row.code in builtin_codes(), user=current_user(),
    )  # fmt: skip


@bp.route("/admin/questionnaires/v/<int:version_id>/preview", methods=["GET", "POST"])
@staff_required()
def version_preview(version_id: int):
    s = session()
    row = s.get(QuestionnaireVersion, version_id) or abort(404)
    return _phone_form(questionnaire_of(row, request.args.get("lang")))


@bp.route("/admin/questionnaires/v/<int:version_id>/<name>.<fmt>")
@staff_required()
def export(version_id: int, name: str, fmt: str):
    s = session()
    row = s.get(QuestionnaireVersion, version_id) or abort(404)
    filename = f"{row.code}-v{row.version}.{fmt}"
    if fmt == "yaml":
        return send_file(io.BytesIO(row.source.encode("utf-8")), mimetype="application/x-yaml", as_attachment=True,
                         download_name=filename)  # fmt: skip
    if fmt == "xlsx":
        data = write_xlsform(ed.load_document(row.source))
        return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
    abort(404)


@bp.route("/admin/questionnaires/import", methods=["POST"])
@staff_required()
def import_file():
    s = session()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Vui lòng chọn tệp XLSForm (.xlsx) hoặc tệp phiếu (.yaml).", "error")
        return redirect(url_for("authoring.index"))
    data = upload.read()
    try:
        questionnaire, text = read_definition_file(upload.filename, data)
        row = import_definition(s, questionnaire, text)
    except AuthoringError as exc:
        s.rollback()
        return render_template("authoring/import_failed.html", filename=upload.filename, problems=exc.problems,
                               user=current_user()), 422  # fmt: skip
    s.commit()
    flash(f"Đã nhập phiếu “{row.title}” (mã {row.code}, phiên bản {row.version}).", "ok")
    return redirect(url_for("authoring.index"))


def read_definition_file(filename: str, data: bytes):
    """A questionnaire and its YAML text from an uploaded or given file: XLSForm (.xlsx, .xls)
    or a definition file (.yaml). Raises AuthoringError with one Vietnamese line per problem."""
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xls")):
        try:
            check_unzipped_size(data, filename)
        except FrameError as exc:
            raise AuthoringError(str(exc)) from None
        try:
            doc = read_xlsform(data, filename)
        except XLSFormError as exc:
            raise AuthoringError(exc.problems) from None
        text = ed.dump_document(doc)
    elif lower.endswith((".yaml", ".yml")):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthoringError(f"{filename}: tệp không phải văn bản UTF-8.") from None
    else:
        raise AuthoringError(f"{filename}: chỉ nhận tệp XLSForm (.xlsx, .xls) hoặc tệp phiếu (.yaml).")
    try:
        return load_text(text, filename), text
    except DefinitionError as exc:
        raise AuthoringError([str(p) for p in exc.problems]) from None


# -- the builder ----------------------------------------------------------------------------------
def _draft_or_404(code: str) -> QuestionnaireDraft:
    draft = session().scalar(select(QuestionnaireDraft).where(QuestionnaireDraft.code == code))
    if draft is None:
        abort(404)
    return draft


def _labels(doc: ed.Document) -> dict[str, str]:
    out = {q.get("id"): q.get("label") or q.get("id") for _s, _p, q in ed.questions_in_order(doc)}
    out.update({s.get("id"): s.get("title") or s.get("id") for s in doc.get("sections") or []})
    return out


def humanize(message: str, labels: dict[str, str]) -> str:
    """A loader message with question ids replaced by the questions' wording."""

    def swap(match: re.Match) -> str:
        inner = match.group(1)
        return f"“{_short(labels[inner])}”" if inner in labels else match.group(0)

    return re.sub(r"“([a-z][a-z0-9_]*)”", swap, message)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _question_values(question: dict) -> MultiDict:
    """The builder form's fields for a question as stored."""
    values = MultiDict()
    for key in ("type", "label", "help", "criterion", "units"):
        if question.get(key) is not None:
            values[key] = str(question[key])
    default_required = question.get("type") not in (QuestionType.TEXT, QuestionType.LONGTEXT)
    if question.get("required", default_required):
        values["required"] = "1"
    for key, value in question.items():
        if "::" in key and key.split("::")[0] in ("label", "help"):
            values[key] = str(value)
    for option in question.get("options") or []:
        values.add("opt_label", option.get("label", ""))
        values.add("opt_code", option.get("code", ""))
        for key, value in option.items():
            if key.startswith("label::"):
                values.add(f"opt_{key}", value)
    values["scale"] = question.get("scale") or SATISFACTION_5.name
    if question.get("aspect"):
        values["aspect"] = question["aspect"]
    for key in ("min", "max", "max_length"):
        if question.get(key) is not None:
            values[key] = str(question[key]).replace(".", ",")
    if question.get("integer", True):
        values["integer"] = "1"
    show_if = question.get("show_if") or []
    for suffix, condition in zip(CONDITION_ROWS, show_if if isinstance(show_if, list) else [show_if], strict=False):
        if condition.get("question"):
            values[f"show_if_question{suffix}"] = condition["question"]
            for answer in condition.get("answers") or []:
                values.add(f"show_if_answers{suffix}", f"{condition['question']}:{answer}")
    return values


def _builder(draft: QuestionnaireDraft, doc: ed.Document, *, selected: str | None = None,
             values: MultiDict | None = None, field_errors: dict | None = None, refused: list[str] | None = None,
             status: int = 200):  # fmt: skip
    s = session()
    _questionnaire, problems = ed.check(doc)
    labels = _labels(doc)
    per_question: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems:
        target = per_question.setdefault(p.question, []) if p.question else general
        target.append(humanize(p.message, labels))
    found = ed.find_question(doc, selected) if selected else None
    if found is not None and values is None:
        values = _question_values(found.question)
        if selected in (doc.get("quick") or []):
            values["quick"] = "1"
    targets = []
    if found is not None:
        parent_id = found.parent.get("id") if found.parent else None
        targets = [(q, ed.choices_of(doc, q)) for q in ed.condition_targets(doc, selected, parent_id)]
    numbers = {}
    n = 0
    for _section, parent, question in ed.questions_in_order(doc):
        if question.get("type") != QuestionType.RATE_UNITS:
            n += 1
            numbers[question.get("id")] = n if parent is None else None
    return render_template(
        "authoring/builder.html", draft=draft, doc=doc, found=found, selected=selected, values=values or MultiDict(),
        field_errors=field_errors or {}, refused=[humanize(m, labels) for m in refused or []],
        per_question=per_question, general=general, targets=targets, type_names=ed.TYPE_NAMES,
        scales=_scales(doc), aspects=doc.get("aspects") or {}, next_version=next_version(s, draft.code),
        languages=doc.get("languages") or {},
        builtin=draft.code in builtin_codes(), new=NEW, labels=labels, condition_rows=CONDITION_ROWS,
        user=current_user(),
    ), status  # fmt: skip


def _scales(doc: ed.Document) -> list[tuple[str, list[str]]]:
    return [(SATISFACTION_5.name, list(SATISFACTION_5.labels))] + list((doc.get("scales") or {}).items())


@bp.route("/admin/questionnaires/d/<code>")
@staff_required()
def builder(code: str):
    draft = _draft_or_404(code)
    return _builder(draft, ed.load_document(draft.source), selected=request.args.get("q"))


def _change(draft: QuestionnaireDraft, change, *, anchor: str | None = None, selected: str | None = None,
            ok: str = "Đã lưu."):  # fmt: skip
    """Apply one change to the draft and save it, or show the builder with why it was refused."""
    s = session()
    doc = ed.load_document(draft.source)
    try:
        changed, result = ed.apply_change(doc, change)
    except ed.ChangeRefused as exc:
        return _builder(draft, doc, selected=selected, values=request.form if selected else None,
                        refused=[p.message for p in exc.problems], status=422)  # fmt: skip
    save_draft(s, draft, changed, _user_id())
    s.commit()
    flash(ok, "ok")
    target = result if isinstance(result, str) and result else anchor
    args = {"q": target} if target and ed.find_question(changed, target) else {}
    return redirect(url_for("authoring.builder", code=draft.code, **args) + (f"#q-{target}" if target else ""))


def _refused(draft: QuestionnaireDraft, messages: list[str]):
    """The builder again, with why nothing was saved."""
    return _builder(draft, ed.load_document(draft.source), refused=messages, status=422)


@bp.route("/admin/questionnaires/d/<code>/general", methods=["POST"])
@staff_required()
def general(code: str):
    draft = _draft_or_404(code)
    errors: dict = {}
    title = clean_text(request.form.get("title"), 300, errors, "title")
    intro = clean_text(request.form.get("intro"), 2000, errors, "intro", multiline=True)
    languages = ed.parse_languages(clean_text(request.form.get("languages"), 500, errors, "languages", multiline=True))
    titles = {code: clean_text(request.form.get(f"title::{code}"), 300, errors, "title") for code in languages}
    if errors or not title:
        return _refused(draft, list(errors.values()) or ["Vui lòng nhập tên phiếu."])

    scale_names = [name for name, _labels in _scales(ed.load_document(draft.source))]

    def lines(key: str) -> list[str]:
        return clean_text(request.form.get(key), 2000, errors, "languages", multiline=True).splitlines()

    levels = {code: ({name: lines(f"scale::{code}::{name}") for name in scale_names}, lines(f"yesno::{code}"))
              for code in languages if f"yesno::{code}" in request.form}  # fmt: skip
    if errors:
        return _refused(draft, list(errors.values()))

    def change(d):
        ed.set_general(d, title=title, intro=intro)
        ed.set_languages(d, languages, titles)
        for code, (scales, yesno) in levels.items():
            ed.set_level_translations(d, code, scales, yesno)

    return _change(draft, change, ok="Đã lưu thông tin chung.")


@bp.route("/admin/questionnaires/d/<code>/sections", methods=["POST"])
@staff_required()
def add_section(code: str):
    draft = _draft_or_404(code)
    errors: dict = {}
    title = clean_text(request.form.get("title"), 300, errors, "title")
    if errors or not title:
        return _refused(draft, list(errors.values()) or ["Vui lòng nhập tên phần."])
    return _change(draft, lambda d: ed.add_section(d, title) and None, ok="Đã thêm phần mới.")


@bp.route("/admin/questionnaires/d/<code>/s/<sid>", methods=["POST"])
@staff_required()
def section(code: str, sid: str):
    draft = _draft_or_404(code)
    if ed.find_section(ed.load_document(draft.source), sid) is None:
        abort(404)
    action = request.form.get("action")
    if action in ("up", "down"):
        return _change(draft, lambda d: ed.move_section(d, sid, -1 if action == "up" else 1), ok="Đã chuyển phần.")
    if action == "delete":
        return _change(draft, lambda d: ed.delete_section(d, sid), ok="Đã xoá phần.")
    errors: dict = {}
    title = clean_text(request.form.get("title"), 300, errors, "title")
    intro = clean_text(request.form.get("intro"), 2000, errors, "intro", multiline=True)
    if errors or not title:
        return _refused(draft, list(errors.values()) or ["Vui lòng nhập tên phần."])
    return _change(draft, lambda d: ed.update_section(d, sid, title=title, intro=intro), ok="Đã lưu phần.")


@bp.route("/admin/questionnaires/d/<code>/questions", methods=["POST"])
@staff_required()
def add_question(code: str):
    draft = _draft_or_404(code)
    doc = ed.load_document(draft.source)
    errors: dict = {}
    label = clean_text(request.form.get("label"), 1000, errors, "label", multiline=True)
    qtype = request.form.get("type", "")
    section_id = request.form.get("section") or None
    parent_id = request.form.get("parent") or None
    if qtype not in ed.TYPE_NAMES or (parent_id and qtype == QuestionType.RATE_UNITS):
        errors["type"] = "Loại câu hỏi không hợp lệ."
    if not label and "label" not in errors:
        errors["label"] = "Vui lòng nhập câu hỏi."
    if (parent_id and ed.find_question(doc, parent_id) is None) or (
        not parent_id and ed.find_section(doc, section_id or "") is None
    ):
        abort(404)
    if errors:
        return _builder(draft, doc, refused=list(errors.values()), status=422)

    def change(d):
        return ed.add_question(d, section_id=section_id, parent_id=parent_id, qtype=qtype, label=label)

    return _change(draft, change, ok="Đã thêm câu hỏi. Sửa chi tiết ở khung bên dưới câu hỏi.")


@bp.route("/admin/questionnaires/d/<code>/q/<qid>", methods=["POST"])
@staff_required()
def question(code: str, qid: str):
    draft = _draft_or_404(code)
    doc = ed.load_document(draft.source)
    if ed.find_question(doc, qid) is None:
        abort(404)
    action = request.form.get("action", "save")
    if action in ("up", "down"):
        return _change(draft, lambda d: ed.move_question(d, qid, -1 if action == "up" else 1), anchor=qid,
                       ok="Đã chuyển câu hỏi.")  # fmt: skip
    if action == "delete":
        return _change(draft, lambda d: ed.delete_question(d, qid), ok="Đã xoá câu hỏi.")
    if action != "save":
        abort(400)
    holder: dict = {}

    def change(d):
        edit, errors = parse_question(request.form, d, qid)
        holder["errors"] = errors
        if not errors:
            ed.update_question(d, qid, edit)

    try:
        changed, _ = ed.apply_change(doc, change)
    except ed.ChangeRefused as exc:
        return _builder(draft, doc, selected=qid, values=request.form, refused=[p.message for p in exc.problems],
                        field_errors=holder.get("errors"), status=422)  # fmt: skip
    if holder.get("errors"):
        return _builder(draft, doc, selected=qid, values=request.form, field_errors=holder["errors"],
                        refused=["Câu hỏi chưa được lưu: xem các ô đánh dấu đỏ."], status=422)  # fmt: skip
    s = session()
    save_draft(s, draft, changed, _user_id())
    s.commit()
    flash("Đã lưu câu hỏi.", "ok")
    return redirect(url_for("authoring.builder", code=code, q=qid) + f"#q-{qid}")


@bp.route("/admin/questionnaires/d/<code>/publish", methods=["POST"])
@staff_required()
def publish_draft(code: str):
    s = session()
    draft = _draft_or_404(code)
    try:
        row = publish(s, draft)
    except AuthoringError as exc:
        s.rollback()
        doc = ed.load_document(draft.source)
        labels = _labels(doc)
        refused = ["Chưa xuất bản được: phiếu còn lỗi."] + [humanize(p, labels) for p in exc.problems]
        return _builder(draft, doc, refused=refused, status=422)
    s.commit()
    flash(
        f"Đã xuất bản “{row.title}” phiên bản {row.version}. Chọn phiếu này cho một nhóm ở trang thiết lập đợt.", "ok"
    )
    return redirect(url_for("authoring.index"))


@bp.route("/admin/questionnaires/d/<code>/discard", methods=["POST"])
@staff_required()
def discard(code: str):
    s = session()
    draft = _draft_or_404(code)
    s.delete(draft)
    s.commit()
    flash("Đã bỏ bản nháp.", "ok")
    return redirect(url_for("authoring.index"))


@bp.route("/admin/questionnaires/d/<code>/preview", methods=["GET", "POST"])
@staff_required()
def preview(code: str):
    draft = _draft_or_404(code)
    questionnaire, problems = ed.check(ed.load_document(draft.source))
    if questionnaire is not None and request.args.get("lang"):
        questionnaire = load_text(ed.dump_document(ed.load_document(draft.source)), "", request.args["lang"])
    if questionnaire is None:
        labels = _labels(ed.load_document(draft.source))
        return render_template(
            "authoring/preview_broken.html", problems=[humanize(p.message, labels) for p in problems]
        )
    return _phone_form(questionnaire)


def _phone_form(questionnaire):
    """The real phone form of ``questionnaire``, about a sample unit; a POST checks the answers
    and shows the form's own messages, and stores nothing."""
    sample_units = [Unit(id=-1 - i, code=f"MAU{i}", name=f"Đơn vị mẫu {i + 1}", kind="xã") for i in range(2)]
    units = {q.id: sample_units for q in questionnaire.top_questions() if q.type is QuestionType.RATE_UNITS}
    form_class = build_form_class(questionnaire, units)
    ctx = SimpleNamespace(unit=SimpleNamespace(name="Đơn vị mẫu"), campaign=SimpleNamespace(anonymous=True))
    form = form_class(formdata=request.form if request.method == "POST" else None)
    errors = 0
    if request.method == "POST":
        form.validate()
        errors = form.error_count
    form.submission_id.data = "xem-truoc"
    html = render_template("collect/form.html", form=form, errors=errors, ctx=ctx, questionnaire=questionnaire,
                           units=units, action="", draft_key="xem-truoc", drafts=False, preview=True)  # fmt: skip
    return _frameable(html)


def _frameable(html: str):
    """A page the builder shows in its phone frame: framing by our own pages only."""
    response = make_response(html)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'self'"
    )
    return response


# -- a group's questionnaire ------------------------------------------------------------------------
@bp.route("/admin/c/<key>/g/<group_code>/questionnaire", methods=["GET", "POST"])
@staff_required()
def group_questionnaire(key: str, group_code: str):
    s = session()
    campaign, group = group_or_404(s, key, group_code)
    versions = list(s.scalars(select(QuestionnaireVersion).order_by(QuestionnaireVersion.code,
                                                                    QuestionnaireVersion.version)))  # fmt: skip
    target_id = request.values.get("version", type=int)
    target = s.get(QuestionnaireVersion, target_id) if target_id else None
    preview = problems = None
    if target is not None:
        try:
            preview = preview_switch(s, campaign, group, target)
        except AuthoringError as exc:
            problems = exc.problems
    if request.method == "POST" and target is not None and problems is None:
        try:
            switch_version(s, campaign, group, target, confirmed=request.form.get("confirm") == "1")
        except AuthoringError as exc:
            s.rollback()
            problems = exc.problems
        else:
            s.commit()
            flash(f"Nhóm “{group.name}” từ nay trả lời phiếu “{target.title}” phiên bản {target.version}.", "ok")
            return redirect(url_for("setup.campaign_setup", key=key))
    return render_template("authoring/group_version.html", campaign=campaign, group=group, versions=versions,
                           target=target, preview=preview, problems=problems, status_names=STATUS_NAMES,
                           user=current_user()), (422 if problems else 200)  # fmt: skip


GUIDES = {"FORMAT": "Hướng dẫn định dạng tệp phiếu", "SCORING": "Hướng dẫn quy tắc tính điểm"}


@bp.route("/admin/huong-dan/<name>")
@staff_required()
def guide(name: str):
    from pathlib import Path

    import questionnaires

    if name not in GUIDES:
        abort(404)
    folder = Path(questionnaires.__file__).parent
    path = folder / f"{name}.vi.md"
    if not path.exists():
        path = folder / f"{name}.md"
    return render_template("authoring/guide.html", title=GUIDES[name], text=path.read_text(encoding="utf-8"),
                           user=current_user())  # fmt: skip
