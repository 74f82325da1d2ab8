"""Message templates an officer writes in plain Vietnamese: ``{họ tên}``, ``{đường dẫn}`` … are
filled per person. Pure: no web, no database.

    >>> render("Kính gửi {họ tên}: {đường dẫn}", {"họ tên": "Lê Thị Hoa", "đường dẫn": "https://x/i/a"})
    'Kính gửi Lê Thị Hoa: https://x/i/a'

Placeholders are matched without regard to case, spacing or diacritics (``{ho ten}`` is
``{họ tên}``), so a template typed on a keyboard without Vietnamese input still works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sampling.frames import normalise

from .errors import Problem

#: what a template may ask for, in the order the form lists them, with what each becomes
PLACEHOLDERS: dict[str, str] = {
    "họ tên": "họ và tên người nhận",
    "chức vụ": "chức vụ của người nhận",
    "đơn vị": "đơn vị của người nhận",
    "đơn vị đánh giá": "các đơn vị người nhận được mời đánh giá",
    "đợt khảo sát": "tên đợt khảo sát",
    "cơ quan": "cơ quan tổ chức khảo sát",
    "hạn trả lời": "ngày kết thúc đợt khảo sát (dd/mm/yyyy)",
    "đường dẫn": "đường dẫn cá nhân tới phiếu",
    "mã mời": "phần riêng của đường dẫn (cho nút bấm của mẫu Zalo)",
}
_BY_KEY = {normalise(name): name for name in PLACEHOLDERS}
_FIELD = re.compile(r"\{([^{}\n]{1,40})\}")
LINK = "đường dẫn"


class TemplateError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def known_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def placeholders(template: str) -> list[str]:
    """The placeholders a template uses (canonical names), or every problem with it at once."""
    problems, used = [], []
    for match in _FIELD.finditer(template):
        name = _BY_KEY.get(normalise(match.group(1)))
        if name is None:
            problems.append(Problem.UNKNOWN_PLACEHOLDER.text(name=match.group(1).strip(), known=known_list()))
        elif name not in used:
            used.append(name)
    rest = _FIELD.sub("", template)
    for at in (m.start() for m in re.finditer(r"[{}]", rest)):
        problems.append(Problem.UNCLOSED_BRACE.text(near=rest[max(0, at - 10) : at + 15].strip()))
        break
    if problems:
        raise TemplateError(problems)
    return used


def render(template: str, values: dict[str, str]) -> str:
    """The template with each placeholder replaced by its value (checked first by
    :func:`placeholders`; an unknown one raises)."""
    placeholders(template)
    return _FIELD.sub(lambda m: values.get(_BY_KEY[normalise(m.group(1))], ""), template)


@dataclass(frozen=True)
class Draft:
    """What an officer wrote for a send."""

    subject: str
    body: str


def check(draft: Draft, *, needs_subject: bool, body_limit: int = 5000) -> list[str]:
    """Every problem with a send's template, in Vietnamese; empty when it can be sent."""
    problems = []
    if needs_subject and not draft.subject.strip():
        problems.append(Problem.SUBJECT_NEEDED.text())
    if len(draft.subject) > 300:
        problems.append(Problem.TOO_LONG.text(what="Tiêu đề", limit=300))
    if not draft.body.strip():
        problems.append(Problem.EMPTY_BODY.text())
    elif len(draft.body) > body_limit:
        problems.append(Problem.TOO_LONG.text(what="Nội dung", limit=body_limit))
    used, wrong = [], []
    for part in (draft.subject, draft.body):
        try:
            used += placeholders(part)
        except TemplateError as exc:
            wrong += [p for p in exc.problems if p not in wrong]
    if draft.body.strip() and not wrong and LINK not in used:
        problems.append(Problem.NO_LINK.text())
    return problems + wrong
