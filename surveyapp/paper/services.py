"""Paper forms already keyed in: the list per unit, a correction, a deletion (each audited)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ..audit import record
from ..collect.rows import AnswerRow, Entry
from ..collect.services import answers_hash
from ..models import Answer, Channel, Quota, RespondentGroup, Response, ResponseStatus, Unit, User
from .codes import typed_back


def keyed_forms(s: Session, group: RespondentGroup, unit: Unit) -> list[tuple[Response, str]]:
    """The paper forms keyed in for ``unit``, newest first, with who keyed each."""
    rows = s.execute(
        select(Response, User.username)
        .outerjoin(User, Response.entered_by_id == User.id)
        .where(Response.group_id == group.id, Response.unit_id == unit.id, Response.channel == Channel.PAPER)
        .order_by(Response.id.desc())
    ).all()
    return [(response, username or "") for response, username in rows]


def paper_response(s: Session, group: RespondentGroup, response_id: int) -> Response | None:
    response = s.get(Response, response_id)
    if response is None or response.group_id != group.id or response.channel != Channel.PAPER:
        return None
    return response


def typed_of(s: Session, response: Response, entries: list[Entry]) -> dict[str, str]:
    """The entry form's boxes as the clerk typed them, from the stored answers."""
    stored: dict[tuple[str, int], list] = {}
    for qid, subject, code, num, text in s.execute(
        select(Answer.question_id, Answer.subject_unit_id, Answer.value_code, Answer.value_num, Answer.value_text)
        .where(Answer.response_id == response.id).order_by(Answer.id)
    ):  # fmt: skip
        stored.setdefault((qid, subject), []).append(text if text is not None else code if code is not None else num)
    typed = {}
    for entry in entries:
        subject = entry.unit.id if entry.unit is not None else response.unit_id
        typed[entry.name] = typed_back(entry.question, stored.get((entry.question.id, subject), []))
    return typed


def correct(s: Session, response: Response, rows: list[AnswerRow], paper_number: str) -> None:
    """Replace a keyed form's answers (and its number); the quota is unchanged."""
    before = response.paper_number
    s.execute(delete(Answer).where(Answer.response_id == response.id))
    if rows:
        s.execute(insert(Answer.__table__), [
            {"response_id": response.id, "question_id": r.question_id, "subject_unit_id": r.subject_unit_id,
             "value_code": r.value_code, "value_num": r.value_num, "value_text": r.value_text} for r in rows
        ])  # fmt: skip
    response.answers_hash = answers_hash(rows)
    response.paper_number = paper_number
    details = {"paper_number": paper_number} if before == paper_number else {"before": before, "after": paper_number}
    record(s, "paper.corrected", f"response:{response.id}", **details)
    s.flush()


def remove(s: Session, response: Response, note: str) -> None:
    """Delete a keyed form (keyed twice, or for the wrong unit); a valid one leaves its quota."""
    if response.status == ResponseStatus.VALID:
        s.execute(
            update(Quota).where(Quota.group_id == response.group_id, Quota.unit_id == response.unit_id,
                                Quota.received > 0).values(received=Quota.received - 1)
        )  # fmt: skip
    record(s, "paper.deleted", f"response:{response.id}", paper_number=response.paper_number, note=note)
    s.execute(delete(Answer).where(Answer.response_id == response.id))
    s.execute(delete(Response).where(Response.id == response.id))
    s.flush()
