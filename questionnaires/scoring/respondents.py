"""Respondents as rows of levels: every respondent (group × unit rated × response) a row, every
scale item of the group's questionnaire a column, the level answered (0 where not answered).

The level counts of the scores, the respondents' sums of the clustered intervals and the rank
ranges' people are all computed here from these rows, so the database reads the campaign's
answers once (surveyapp/results/services.py ``respondent_levels``). The database sends each row's
levels packed into 64-bit integers, ``BITS`` bits a level: ``pack_plan`` says where each item goes
and ``unpack`` takes them out.

Pure: numpy arrays in, counts and sums out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from questionnaires import Questionnaire

from .compute import Cell, LevelCount, _positive_levels
from .ranks import People
from .rules import Rules
from .stats import ClusterSums

#: the submission channel a row carries, as a number (0: none of these)
CHANNEL_SIDES = {"counter": 1, "slip": 2, "invitation": 3, "paper": 4}
CHANNEL_OF = {k: c for c, k in CHANNEL_SIDES.items()}
#: the channels compared by the counter-pressure check: answers given at the counter (the
#: poster's QR) and later (a slip taken home)
SIDES = {1: "counter", 2: "later"}


def bits_for(levels: int) -> int:
    """Bits a level takes: enough for the longest scale (0 stays "not answered").

    >>> bits_for(5), bits_for(15), bits_for(16)
    (3, 4, 5)
    """
    return max(1, int(levels).bit_length())


def pack_plan(items: Sequence[str], bits: int) -> list[dict[str, int]]:
    """Per 64-bit integer, each item's multiplier: item k of an integer goes at bit ``bits·k``,
    as many items an integer as fit below its sign bit.

    >>> pack_plan(["a", "b", "c"], 30)
    [{'a': 1, 'b': 1073741824}, {'c': 1}]
    """
    per = 63 // bits
    return [{q: 1 << (bits * k) for k, q in enumerate(items[i : i + per])} for i in range(0, len(items), per)]


def unpack(packed: np.ndarray, width: int, bits: int) -> np.ndarray:
    """The levels of ``width`` items from rows of packed integers (``pack_plan``'s layout).

    >>> unpack(np.array([[5 + 3 * 8, 2]]), 3, 3).tolist()
    [[5, 3, 2]]
    """
    per = 63 // bits
    packed = np.asarray(packed, dtype=np.int64)
    levels = np.zeros((len(packed), width), dtype=np.int16)
    mask = (1 << bits) - 1
    for column in range(width):
        chunk, k = divmod(column, per)
        levels[:, column] = (packed[:, chunk] >> (bits * k)) & mask
    return levels


@dataclass(frozen=True)
class Block:
    """One group's respondents: ``levels`` (rows × ``questions``), rows sorted by unit rated;
    unit ``units[i]``'s rows are ``starts[i]:starts[i + 1]``."""

    group: str
    questions: tuple[str, ...]
    units: tuple[str, ...]
    starts: np.ndarray
    levels: np.ndarray
    #: each row's submission channel: ``CHANNEL_SIDES`` codes
    sides: np.ndarray
    #: each row's response id (a response rating several units has several rows)
    responses: np.ndarray

    @classmethod
    def of(cls, group: str, questions: Sequence[str], unit_of_row: Sequence[str], levels: np.ndarray,
           sides: np.ndarray | None = None, responses: np.ndarray | None = None) -> Block:  # fmt: skip
        """From rows in any order (``unit_of_row``: each row's unit code), kept stable."""
        codes = np.asarray(unit_of_row, dtype=object)
        sides = np.zeros(len(codes), dtype=np.int8) if sides is None else np.asarray(sides, dtype=np.int8)
        responses = np.arange(len(codes)) if responses is None else np.asarray(responses, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        codes, levels, sides, responses = codes[order], levels[order], sides[order], responses[order]
        change = np.flatnonzero(codes[1:] != codes[:-1]) + 1 if len(codes) else np.array([], dtype=int)
        starts = np.concatenate([[0], change, [len(codes)]]).astype(int) if len(codes) else np.array([0])
        units = tuple(codes[starts[:-1]]) if len(codes) else ()
        return cls(group, tuple(questions), units, starts, levels, sides, responses)

    def unit_index(self) -> np.ndarray:
        """Each row's position in ``units``."""
        return np.repeat(np.arange(len(self.units)), np.diff(self.starts))


def level_counts(blocks: Sequence[Block], questionnaires: Mapping[str, Questionnaire],
                 weights: Mapping[str, np.ndarray] | None = None) -> list[LevelCount]:  # fmt: skip
    """Answers per group × unit × scale item × level: what ``compute.score`` takes; with
    ``weights`` (group → one per row), each answer counts its respondent's weight."""
    found = []
    for block in blocks:
        questionnaire = questionnaires[block.group]
        row_unit = block.unit_index()
        w = weights.get(block.group) if weights else None
        for column, qid in enumerate(block.questions):
            width = len(questionnaire.question(qid).scale.labels) + 1
            counts = np.bincount(row_unit * width + block.levels[:, column], weights=w,
                                 minlength=len(block.units) * width).reshape(len(block.units), width)  # fmt: skip
            where, levels = np.nonzero(counts[:, 1:])
            ns = counts[where, levels + 1]
            ns = ns.tolist() if w is not None else ns.astype(np.int64).tolist()
            units = block.units
            found += [LevelCount(block.group, units[u], qid, level + 1, n)
                      for u, level, n in zip(where.tolist(), levels.tolist(), ns, strict=True)]  # fmt: skip
    return found


def cells(blocks: Sequence[Block], questionnaires: Mapping[str, Questionnaire],
          weights: Mapping[str, np.ndarray] | None = None) -> dict[tuple[str, str, str], Cell]:  # fmt: skip
    """(group, unit, question) → its ``Cell``, as ``compute.fold`` makes it from ``level_counts``
    (the same sums, added level by level in the same order, so the same floats) without one
    object per level count: what ``compute.score`` reads."""
    found = {}
    for block in blocks:
        questionnaire = questionnaires[block.group]
        row_unit = block.unit_index()
        w = weights.get(block.group) if weights else None
        units = block.units
        for column, qid in enumerate(block.questions):
            width = len(questionnaire.question(qid).scale.labels) + 1
            counts = np.bincount(row_unit * width + block.levels[:, column], weights=w,
                                 minlength=len(units) * width).reshape(len(units), width)  # fmt: skip
            n = np.zeros(len(units), dtype=counts.dtype)
            total = np.zeros(len(units))
            squares = np.zeros(len(units))
            for level in range(1, width):  # level by level, as ``fold`` adds them
                k = counts[:, level]
                n = n + k
                total = total + level * k
                squares = squares + (level * level) * k
            rows, some = counts.tolist(), n != 0
            for u, nu, tu, su in zip(np.flatnonzero(some).tolist(), n[some].tolist(), total[some].tolist(),
                                     squares[some].tolist(), strict=True):  # fmt: skip
                row = rows[u]
                levels = {lv: row[lv] for lv in range(1, width) if row[lv]}
                found[(block.group, units[u], qid)] = Cell(nu, tu, su, levels)
    return found


def source_specs(rules: Rules) -> list[tuple[str, str, int]]:
    """(group, criterion, source number) of every source of every criterion, in rules order: the
    columns of ``People``."""
    return [(source.group, c.code, k) for c in rules.criteria for k, source in enumerate(c.sources)]


Everyone = dict[tuple[str, str], People]
Sums = dict[tuple[str, str, str, int], ClusterSums]


def people(blocks: Sequence[Block], rules: Rules, questionnaires: Mapping[str, Questionnaire],
           weights: Mapping[str, np.ndarray] | None = None) -> Everyone:  # fmt: skip
    """(group, unit) → its respondents' ``People``: per source, how many of its items each answered
    (m) and what their values add up to (y: 1/0 for a positive level when the criterion counts a
    share, else the level normalised to 0–1), the way ``compute.score`` counts them; with
    ``weights`` (group → one per row), m and y times the respondent's weight, so the sums of
    ``cluster_sums`` are the weighted ratio estimator's (Σwm, Σwy, Σw²m², …)."""
    specs = source_specs(rules)
    sources = [(c, source) for c in rules.criteria for source in c.sources]
    found = {}
    for block in blocks:
        n = len(block.levels)
        m = np.zeros((n, len(specs)))
        y = np.zeros((n, len(specs)))
        column_of = {q: i for i, q in enumerate(block.questions)}
        for s, (criterion, source) in enumerate(sources):
            if source.group != block.group:
                continue
            by_share = criterion.method == "share" or (criterion.method == "bands" and criterion.bands_on == "share")
            for qid in source.questions:
                if qid not in column_of:
                    continue
                hi = len(questionnaires[block.group].question(qid).scale.labels)
                value = np.zeros(hi + 1)  # by level; level 0 = not answered
                if by_share:
                    value[sorted(_positive_levels(criterion, 1, hi))] = 1.0
                else:
                    value[1:] = (np.arange(1, hi + 1) - 1) / (hi - 1)
                level = block.levels[:, column_of[qid]]
                m[:, s] += level > 0
                y[:, s] += value[level]
        answered = m.sum(axis=1) > 0
        if weights and block.group in weights:
            m, y = m * weights[block.group][:, None], y * weights[block.group][:, None]
        # the people are those who answered an item of a source: drawn alike by the rank ranges
        starts = np.searchsorted(np.flatnonzero(answered), block.starts)
        m, y = m[answered], y[answered]
        for i, unit in enumerate(block.units):
            if starts[i] < starts[i + 1]:
                found[(block.group, unit)] = People(m=m[starts[i] : starts[i + 1]], y=y[starts[i] : starts[i + 1]])
    return found


def cluster_sums(rules: Rules, everyone: Mapping[tuple[str, str], People]) -> Sums:
    """(group, unit, criterion, source number) → the respondents' sums of that source
    (``ClusterSums``), for the sources someone in the unit answered."""
    specs = source_specs(rules)
    found = {}
    for (group, unit), cell in everyone.items():
        if not len(cell.m):
            continue
        m, y = cell.m, cell.y
        n = (m > 0).sum(axis=0)
        sm, sy = m.sum(axis=0), y.sum(axis=0)
        smm, syy, smy = (m * m).sum(axis=0), (y * y).sum(axis=0), (m * y).sum(axis=0)
        for s, (g, code, k) in enumerate(specs):
            if g == group and n[s]:
                found[(group, unit, code, k)] = ClusterSums(int(n[s]), float(sm[s]), float(sy[s]), float(smm[s]),
                                                            float(syy[s]), float(smy[s]))  # fmt: skip
    return found


def channel_sums(blocks: Sequence[Block], questionnaires: Mapping[str, Questionnaire],
                 groups: Sequence[str]) -> dict[tuple[str, str], ClusterSums]:  # fmt: skip
    """(unit, "counter" | "later") → the respondents' sums of satisfied answers in ``groups`` (the
    counter groups): m = scale items answered, y = those answered satisfied (SIPAS: the top two
    levels of a scale of four or more, else the top one). Respondents of several groups add up."""
    units, sides, ms, ys = [], [], [], []
    for block in blocks:
        if block.group not in groups:
            continue
        keep = np.isin(block.sides, list(SIDES))
        m = np.zeros(len(block.levels))
        y = np.zeros(len(block.levels))
        for column, qid in enumerate(block.questions):
            hi = len(questionnaires[block.group].question(qid).scale.labels)
            level = block.levels[:, column]
            m += level > 0
            y += level >= (hi - 1 if hi >= 4 else hi)
        keep &= m > 0
        units.append(np.repeat(np.asarray(block.units, dtype=object), np.diff(block.starts))[keep])
        sides.append(block.sides[keep])
        ms.append(m[keep])
        ys.append(y[keep])
    if not units:
        return {}
    unit, side, m, y = (np.concatenate(x) for x in (units, sides, ms, ys))
    codes, inverse = np.unique(unit.astype(str), return_inverse=True)
    key = inverse * 3 + side
    size = 3 * len(codes)
    n, sm, sy, smm, syy, smy = (np.bincount(key, weights=w, minlength=size)
                                for w in (None, m, y, m * m, y * y, m * y))  # fmt: skip
    found = {}
    for k in np.flatnonzero(n):
        sums = ClusterSums(int(n[k]), float(sm[k]), float(sy[k]), float(smm[k]), float(syy[k]), float(smy[k]))
        found[(str(codes[k // 3]), SIDES[int(k % 3)])] = sums
    return found
