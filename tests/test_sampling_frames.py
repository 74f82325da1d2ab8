"""Draws from the lists units hand in: reproducible, reserve never repeats, bad files explained."""

from __future__ import annotations

import io

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sampling.errors import FrameError
from sampling.export import draw_xlsx
from sampling.frames import draw, read_frame


def frame_csv(rows: int, header: str = "Mã hồ sơ,Họ và tên,Số điện thoại") -> bytes:
    body = "".join(f"HS{i:05d},Nguyễn Thị {i},09{i:08d}\n" for i in range(rows))
    return (header + "\n" + body).encode("utf-8")


def frame_xlsx(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_csv_columns_are_found_by_vietnamese_names():
    frame = read_frame(frame_csv(5), "xa.csv")
    assert (frame.id_column, frame.contact_column) == ("Mã hồ sơ", "Số điện thoại")
    assert frame.ids[:2] == ("HS00000", "HS00001") and frame.contacts[1] == "0900000001"


def test_xlsx_frames_and_semicolon_csv():
    data = frame_xlsx([["STT", "ID", "Email"], [1, "A-1", "a@x.vn"], [2, "A-2", "b@x.vn"], [3, 1234, None]])
    frame = read_frame(data, "xa.xlsx")
    assert frame.ids == ("A-1", "A-2", "1234") and frame.contacts == ("a@x.vn", "b@x.vn", "")
    semi = b"id;sdt\n1;0911\n2;0922\n"
    assert read_frame(semi, "b.csv").contacts == ("0911", "0922")
    assert read_frame(frame_csv(3, "record_id,ho_ten,phone"), "c.csv", "record_id", "phone").ids[0] == "HS00000"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "tệp trống"),
        (b"\n\n  \n", "tệp trống"),
        ("Mã hồ sơ,Số điện thoại\n".encode(), "chỉ có dòng tiêu đề"),
        ("Họ tên,Số điện thoại\nAn,09\n".encode(), "thiếu cột mã hồ sơ"),
        ("Mã hồ sơ,Họ tên\n1,An\n".encode(), "thiếu cột liên hệ"),
        (b"id,sdt\nA,1\nB,2\nA,3\n", "mã hồ sơ bị trùng: “A” \\(dòng 2 và 4\\)"),
        (b"id,sdt\nA,1\n,2\n", "dòng 3: thiếu mã hồ sơ"),
        (b"M\xe3 h\xf4 s\xf4,S\xf4 \xf0i\xean tho\xe0i\nHS1,0912\n", "không dùng mã UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "không phải tệp bảng tính"),
        (b"PK\x03\x04this is not really a zip", "tệp Excel bị hỏng"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 not really an xls", "tệp Excel bị hỏng"),
    ],
)
def test_bad_frames_are_explained(data, message):
    with pytest.raises(FrameError, match=message):
        read_frame(data, "danh-sach.csv")


def test_oversized_frames_are_refused():
    with pytest.raises(FrameError, match="tệp quá lớn"):
        read_frame(frame_csv(1000), "lon.csv", max_bytes=10_000)


def test_same_seed_same_people_other_seed_differs():
    for method in ("simple", "systematic"):
        a = draw(10_000, 60, 10, method, seed=2023)
        b = draw(10_000, 60, 10, method, seed=2023)
        c = draw(10_000, 60, 10, method, seed=2024)
        assert a == b and a.seed == 2023
        assert (a.selected, a.reserve) != (c.selected, c.reserve)


def test_a_seed_is_made_when_none_is_given():
    seeds = {draw(100, 5).seed for _ in range(5)}
    assert len(seeds) > 1 and all(0 <= seed < 10**9 for seed in seeds)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3000),
    st.integers(0, 400),
    st.integers(0, 200),
    st.sampled_from(["simple", "systematic"]),
    st.integers(0, 2**31),
)
def test_reserve_never_repeats_a_drawn_person(size, n, reserve, method, seed):
    result = draw(size, n, reserve, method, seed)
    chosen = list(result.selected) + list(result.reserve)
    assert len(set(chosen)) == len(chosen)
    assert len(result.selected) == min(n, size)
    assert len(result.reserve) == min(reserve, size - min(n, size))
    assert all(0 <= i < size for i in chosen)


def test_systematic_draw_is_evenly_spread():
    result = draw(1000, 10, method="systematic", seed=7)
    gaps = {b - a for a, b in zip(result.selected, result.selected[1:], strict=False)}
    assert gaps == {100}


def test_interviewers_export_lists_drawn_then_reserve_and_neutralises_formulas():
    data = "id,sdt\n" + "".join(f'R{i},=HYPERLINK("http://x")\n' for i in range(30))
    frame = read_frame(data.encode(), "f.csv")
    result = draw(len(frame), 5, 3, seed=1)
    sheet = load_workbook(io.BytesIO(draw_xlsx(frame, result, "Xã An Đức"))).active
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert [r[1] for r in rows] == ["Chính thức"] * 5 + ["Dự phòng"] * 3
    assert [r[2] for r in rows] == [frame.ids[i] for i in result.selected + result.reserve]
    assert all(cell.data_type == "s" for cell in sheet["D"][4:])  # text, never a formula
    assert "seed) 1." in sheet["A2"].value
