"""Frames (the lists of people who did procedures that units hand in) and random draws from them.

A frame is read from CSV (UTF-8) or spreadsheet (.xlsx, .xls, .ods) bytes; it must have a record id column and a contact
column. Draws work on row positions, so a 100,000-row frame is drawn in milliseconds, and are
reproducible from their seed. Contacts live only in the Frame object: the draw result keeps
record ids, and the export for interviewers is made from both at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from .errors import FrameError

MAX_FRAME_BYTES = 20 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  #: old Excel .xls
ID_ALIASES = ("id", "ma ho so", "so ho so", "ma", "record id", "ma so")
CONTACT_ALIASES = ("contact", "lien he", "so dien thoai", "dien thoai", "sdt", "phone", "email", "thu dien tu")
METHODS = ("simple", "systematic")
PROGRESS_EVERY = 10_000


def normalise(name: str) -> str:
    """Lowercase, no diacritics, single spaces: “Số điện thoại” → “so dien thoai”."""
    text = unicodedata.normalize("NFD", str(name or "")).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    return " ".join(text.replace("_", " ").split())


@dataclass(frozen=True)
class Frame:
    ids: tuple[str, ...]
    contacts: tuple[str, ...]
    id_column: str
    contact_column: str
    sha256: str  #: of the file as handed in, recorded with each draw

    def __len__(self) -> int:
        return len(self.ids)


def _rows_from_csv(data: bytes, filename: str) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise FrameError(f"{filename}: không phải tệp bảng tính CSV hoặc Excel (.xlsx).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FrameError(
            f"{filename}: tệp CSV không dùng mã UTF-8 nên tiếng Việt sẽ bị lỗi. Trong Excel, hãy chọn "
            "Lưu thành → “CSV UTF-8 (phân tách bằng dấu phẩy)” rồi tải lại."
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 123 as 123.0
    return str(value)


#: what a spreadsheet may hold once unzipped: a zip of a few MB can unpack to gigabytes of rows
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: rows read from one sheet at most (a frame of every procedure of a big province fits)
MAX_ROWS = 500_000


def check_unzipped_size(data: bytes, filename: str, limit: int = MAX_UNZIPPED_BYTES) -> None:
    """Refuse an .xlsx/.ods whose parts would unpack past ``limit``, reading only the zip's directory
    (so a zip bomb costs nothing); FrameError in Vietnamese."""
    if data[:4] != b"PK\x03\x04":
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FrameError(f"{filename}: tệp Excel bị hỏng hoặc không phải bảng tính (.xlsx, .xls, .ods).") from None
    if total > limit:
        raise FrameError(
            f"{filename}: bảng tính khi giải nén quá lớn ({total / 1048576:,.0f} MB, tối đa {limit / 1048576:.0f} MB). "
            "Có thể tệp có rất nhiều dòng hoặc ô trống được định dạng: hãy chép phần danh sách sang một tệp mới."
        )


def _rows_from_workbook(data: bytes, filename: str) -> list[list[str]]:
    """Rows of the first sheet of an .xlsx, .xls or .ods file (calamine: 7× faster than openpyxl),
    read row by row and stopped past MAX_ROWS."""
    from python_calamine import CalamineError, CalamineWorkbook

    check_unzipped_size(data, filename)
    rows = []
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        first_row, first_col = sheet.start or (0, 0)  # keep row numbers as the spreadsheet shows them
        rows = [[] for _ in range(first_row)]
        for row in sheet.iter_rows():
            if len(rows) >= MAX_ROWS:
                raise FrameError(f"{filename}: danh sách dài quá {MAX_ROWS:,} dòng.".replace(",", "."))
            rows.append([""] * first_col + [_cell(v) for v in row])
    except (CalamineError, ValueError, OSError, IndexError):
        raise FrameError(f"{filename}: tệp Excel bị hỏng hoặc không phải bảng tính (.xlsx, .xls, .ods).") from None
    return rows


def read_table(data: bytes, filename: str, max_bytes: int = MAX_FRAME_BYTES) -> list[list[str]]:
    """The non-empty rows of a CSV (UTF-8) or spreadsheet file, header first; FrameError if unreadable."""
    if len(data) > max_bytes:
        raise FrameError(
            f"{filename}: tệp quá lớn ({len(data) / 1048576:.1f} MB, tối đa {max_bytes / 1048576:.0f} MB)."
        )
    if not data.strip():
        raise FrameError(f"{filename}: tệp trống, không có danh sách nào.")
    is_workbook = data[:4] == b"PK\x03\x04" or data[:8] == OLE_MAGIC
    rows = _rows_from_workbook(data, filename) if is_workbook else _rows_from_csv(data, filename)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise FrameError(f"{filename}: tệp trống, không có danh sách nào.")
    return rows


def find_column(header: list[str], wanted: str | None, aliases: tuple[str, ...], what: str, filename: str) -> int:
    """The position of a column named ``wanted`` or any of ``aliases`` (case and diacritics ignored)."""
    normal = [normalise(h) for h in header]
    for name in [normalise(wanted)] if wanted else [normalise(a) for a in aliases]:
        if name in normal:
            return normal.index(name)
    found = ", ".join(f"“{h}”" for h in header if h) or "không có"
    asked = f"“{wanted}”" if wanted else "một trong: " + ", ".join(aliases)
    raise FrameError(f"{filename}: thiếu cột {what} ({asked}). Các cột có trong tệp: {found}.")


def read_frame(
    data: bytes,
    filename: str,
    id_column: str | None = None,
    contact_column: str | None = None,
    max_bytes: int = MAX_FRAME_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Frame:
    """Read a frame file; raise FrameError (Vietnamese) for anything that cannot be drawn from.

    Columns are found by name, ignoring case and diacritics (“Mã hồ sơ”, “Số điện thoại” …) unless
    ``id_column`` / ``contact_column`` name them. ``progress`` is called every 10,000 rows.
    """
    rows = read_table(data, filename, max_bytes)
    header = [h.strip() for h in rows[0]]
    id_at = find_column(header, id_column, ID_ALIASES, "mã hồ sơ", filename)
    contact_at = find_column(header, contact_column, CONTACT_ALIASES, "liên hệ", filename)
    ids, contacts, first_row, duplicates = [], [], {}, []
    for number, row in enumerate(rows[1:], start=2):
        record = row[id_at].strip() if id_at < len(row) else ""
        if not record:
            raise FrameError(f"{filename}, dòng {number}: thiếu mã hồ sơ ở cột “{header[id_at]}”.")
        if record in first_row:
            duplicates.append(f"“{record}” (dòng {first_row[record]} và {number})")
        else:
            first_row[record] = number
        ids.append(record)
        contacts.append(row[contact_at].strip() if contact_at < len(row) else "")
        if progress and len(ids) % PROGRESS_EVERY == 0:
            progress(len(ids))
    if duplicates:
        shown = "; ".join(duplicates[:5]) + (f"; và {len(duplicates) - 5} mã khác" if len(duplicates) > 5 else "")
        raise FrameError(f"{filename}: mã hồ sơ bị trùng: {shown}.")
    if not ids:
        raise FrameError(f"{filename}: tệp chỉ có dòng tiêu đề, không có danh sách nào.")
    if progress:
        progress(len(ids))
    return Frame(tuple(ids), tuple(contacts), header[id_at], header[contact_at], hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Draw:
    method: str
    seed: int
    selected: tuple[int, ...]  #: row positions in the frame, in the order drawn
    reserve: tuple[int, ...]  #: row positions of the ordered reserve list; never in ``selected``


def new_seed() -> int:
    """A fresh seed to show and record with a draw."""
    return secrets.randbelow(10**9)


def draw(frame_size: int, n: int, reserve: int = 0, method: str = "simple", seed: int | None = None) -> Draw:
    """Draw ``n`` rows and an ordered reserve of ``reserve`` more from a frame of ``frame_size``.

    ``simple``: simple random sampling without replacement (Python's Mersenne Twister seeded with
    ``seed``: the same seed gives the same people). ``systematic``: every k-th row, k = N/n, from
    a random start in [0, k); the reserve is then a simple random sample of the rows left.
    When n ≥ N every row is selected and the reserve is empty.
    """
    if method not in METHODS:
        raise FrameError(f"Cách chọn mẫu “{method}” không hợp lệ (hợp lệ: {', '.join(METHODS)}).")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or reserve < 0:
        raise FrameError(f"Số người cần chọn ({n}) và số dự phòng ({reserve}) phải là số nguyên không âm.")
    if frame_size < 1:
        raise FrameError("Danh sách trống, không có ai để chọn.")
    seed = new_seed() if seed is None else int(seed)
    rng = random.Random(seed)
    n = min(n, frame_size)
    reserve = min(reserve, frame_size - n)
    if method == "simple":
        picks = rng.sample(range(frame_size), n + reserve)
        return Draw(method, seed, tuple(picks[:n]), tuple(picks[n:]))
    if n == 0:
        selected: list[int] = []
    else:
        step = frame_size / n
        start = rng.random() * step
        selected = [min(int(start + i * step), frame_size - 1) for i in range(n)]
    chosen = set(selected)
    if reserve:
        rest = [i for i in range(frame_size) if i not in chosen]
        backup = rng.sample(rest, reserve)
    else:
        backup = []
    return Draw(method, seed, tuple(selected), tuple(backup))
