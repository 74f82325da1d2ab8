"""Plausible made-up answers for the demo and for benchmarks; never used on real campaigns.

Each unit gets its own leaning (some communes serve better than others), so results, rankings
and statistics have something to show.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from questionnaires import Question, Questionnaire, QuestionType
from questionnaires.logic import is_visible

from ..collect.services import questionnaire_of, rated_units
from ..models import Answer, Campaign, Channel, GroupMode, Quota, Response, Unit

CHANNELS = {
    GroupMode.COUNTER: Channel.COUNTER,
    GroupMode.INVITATION: Channel.INVITATION,
    GroupMode.PAPER: Channel.PAPER,
}


def _level(rng: random.Random, levels: int, lean: float) -> int:
    """A level 1..levels around ``lean`` (0 = very unhappy, 1 = very happy)."""
    x = rng.gauss(lean * (levels - 1) + 1, 0.55)
    return min(levels, max(1, round(x)))


def _answer(rng: random.Random, q: Question, lean: float) -> tuple[str | None, float | None, str | None]:
    match q.type:
        case QuestionType.SCALE:
            return None, float(_level(rng, len(q.scale.labels), lean)), None
        case QuestionType.YESNO:
            return ("yes" if rng.random() < 0.8 else "no"), None, None
        case QuestionType.SINGLE | QuestionType.MULTIPLE:
            return rng.choice(q.options).code, None, None
        case QuestionType.NUMBER:
            low = int(q.minimum or 0)
            return None, float(min(int(q.maximum or 5), low + rng.choice([1, 1, 1, 2, 2, 3]))), None
        case _:
            return (None, None, rng.choice(["Cán bộ nhiệt tình.", "Nên thêm chỗ ngồi chờ.", "Thủ tục còn rườm rà."])
                    if rng.random() < 0.2 else None)  # fmt: skip


def answers_for(
    rng: random.Random,
    questionnaire: Questionnaire,
    own_unit: int,
    rated: dict[str, list[Unit]],
    leans: dict[int, float],
) -> list[dict]:
    rows = []
    given: dict[str, frozenset[str]] = {}
    # each respondent has a mood of their own around the unit's leaning: items then agree with each
    # other as real answers do
    mood = {own_unit: min(1.0, max(0.0, leans.get(own_unit, 0.7) + rng.gauss(0, 0.2)))}
    for units in rated.values():
        for unit in units:
            mood[unit.id] = min(1.0, max(0.0, leans.get(unit.id, 0.7) + rng.gauss(0, 0.2)))

    def add(q: Question, subject: int, context: dict) -> None:
        if not is_visible(q, context):
            return
        code, num, text = _answer(rng, q, mood.get(subject, 0.7))
        if code is None and num is None and text is None:
            return
        rows.append({"question_id": q.id, "subject_unit_id": subject, "value_code": code, "value_num": num,
                     "value_text": text})  # fmt: skip
        answered = code if code is not None else (str(int(num)) if num is not None else "")
        context[q.id] = frozenset({answered})

    for q in questionnaire.top_questions():
        if q.type is QuestionType.RATE_UNITS:
            for unit in rated.get(q.id, []):
                local = dict(given)
                for item in q.items:
                    add(item, unit.id, local)
        else:
            add(q, own_unit, given)
    return rows


def fill(s: Session, campaign: Campaign, share: float = 0.75, seed: int = 2023) -> int:
    """Add made-up valid responses up to ``share`` of every quota; returns responses added."""
    rng = random.Random(seed)
    unit_ids = {u for (u,) in s.execute(select(Unit.id))}
    leans = {u: rng.uniform(0.55, 0.92) for u in sorted(unit_ids)}
    start = datetime(campaign.year, 12, 1, 8, tzinfo=UTC) if campaign.year else datetime.now(UTC)
    added = 0
    for group in campaign.groups:
        questionnaire = questionnaire_of(group.questionnaire_version)
        rated = rated_units(s, group, campaign, questionnaire)
        # in id order: the same seed gives the same answers whatever order the rows lie in on disk
        for quota in s.scalars(select(Quota).where(Quota.group_id == group.id).order_by(Quota.id)):
            n = max(0, round(quota.target * min(1.0, share * rng.uniform(0.75, 1.3)))) - quota.received
            if n <= 0:
                continue
            responses = [
                {"submission_id": str(uuid.UUID(int=rng.getrandbits(128))), "campaign_id": campaign.id,
                 "group_id": group.id, "unit_id": quota.unit_id,
                 "questionnaire_version_id": group.questionnaire_version_id,
                 "channel": CHANNELS[group.mode], "answers_hash": "demo", "status": "valid", "over_quota": False,
                 "submitted_at": start + timedelta(minutes=rng.randrange(0, 30 * 24 * 60)),
                 "paper_number": f"DEMO-{quota.unit_id}-{group.id}-{i}" if group.mode == GroupMode.PAPER else None}
                for i in range(n)
            ]  # fmt: skip
            ids = s.scalars(insert(Response).returning(Response.id, sort_by_parameter_order=True), responses).all()
            answers = []
            for rid in ids:
                for row in answers_for(rng, questionnaire, quota.unit_id, rated, leans):
                    row["response_id"] = rid
                    answers.append(row)
            if answers:
                s.execute(insert(Answer), answers)
            s.execute(update(Quota).where(Quota.id == quota.id).values(received=Quota.received + n))
            added += n
    s.flush()
    return added
