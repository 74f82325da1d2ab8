"""Year over year in the web layer's terms: the crosswalk of reorganised units read from a file a
Home Affairs office keeps (questionnaires/scoring/compare.py does the arithmetic)."""

from __future__ import annotations

from collections import defaultdict

from sampling.errors import FrameError
from sampling.frames import find_column, read_table

NEW_ALIASES = ("mã đơn vị mới", "ma don vi moi", "đơn vị mới", "don vi moi", "new")
OLD_ALIASES = ("mã đơn vị cũ", "ma don vi cu", "đơn vị cũ", "don vi cu", "old")


def read_crosswalk(data: bytes, filename: str) -> dict[str, list[str]]:
    """New unit code → the old unit codes it was formed from (one row per old unit); a Vietnamese
    ValueError naming the file and the row when it cannot be read."""
    try:
        rows = read_table(data, filename, 5 * 1024 * 1024)
        head = [h.strip() for h in rows[0]]
        new = find_column(head, None, NEW_ALIASES, "mã đơn vị mới", filename)
        old = find_column(head, None, OLD_ALIASES, "mã đơn vị cũ", filename)
    except FrameError as exc:
        raise ValueError(str(exc)) from None
    walk: dict[str, list[str]] = defaultdict(list)
    for number, row in enumerate(rows[1:], start=2):
        a = row[new].strip() if new < len(row) else ""
        b = row[old].strip() if old < len(row) else ""
        if not a and not b:
            continue
        if not a or not b:
            raise ValueError(f"{filename}, dòng {number}: cần cả mã đơn vị mới và mã đơn vị cũ.")
        if b not in walk[a]:
            walk[a].append(b)
    return dict(walk)
