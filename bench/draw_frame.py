"""Benchmark: draw 60 people + 10 reserves from a 100,000-row frame (issue 3: under a second).

Measures, as medians of several runs on the same bytes:
  read+draw  read_frame() on a 100,000-row CSV, then draw() and the interviewers' XLSX export
  floor      the csv module alone decoding and splitting the same bytes (nothing can be faster)
  xlsx       the same read+draw+export on the frame saved as .xlsx (python-calamine)
and prints the ratio read+draw / floor.

    .venv/bin/python bench/draw_frame.py [--rows 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time

import xlsxwriter

from sampling.export import draw_xlsx
from sampling.frames import draw, read_frame

TARGET_SECONDS = 1.0


def make_csv(rows: int) -> bytes:
    lines = ["Mã hồ sơ,Họ và tên,Số điện thoại,Thủ tục"]
    lines += [f"HS2023-{i:07d},Nguyễn Thị Hồng {i},09{i:08d},Chứng thực bản sao" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def make_xlsx(data: bytes) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8")))):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = make_csv(args.rows)

    def read_and_draw(payload: bytes = data, name: str = "frame.csv"):
        frame = read_frame(payload, name)
        result = draw(len(frame), 60, 10, "simple", seed=2023)
        draw_xlsx(frame, result, "Xã An Đức")

    def floor():
        for _row in csv.reader(io.StringIO(data.decode("utf-8"))):
            pass

    full = statistics.median(timed(read_and_draw, args.runs))
    base = statistics.median(timed(floor, args.runs))
    xlsx_data = make_xlsx(data)
    xlsx = statistics.median(timed(lambda: read_and_draw(xlsx_data, "frame.xlsx"), args.runs))
    sizes = f"{len(data) / 1e6:.1f} MB CSV, {len(xlsx_data) / 1e6:.1f} MB XLSX"
    print(f"frame: {args.rows} rows, {sizes}; runs: {args.runs}")
    print(f"read+draw+export (CSV): median {full * 1000:.0f} ms  (target < {TARGET_SECONDS * 1000:.0f} ms)")
    print(f"floor: csv module only: median {base * 1000:.0f} ms; ratio read+draw / floor = {full / base:.2f}")
    print(f"read+draw+export (XLSX): median {xlsx * 1000:.0f} ms  (target < {TARGET_SECONDS * 1000:.0f} ms)")
    print("RESULT:", "PASS" if max(full, xlsx) < TARGET_SECONDS else "FAIL")


if __name__ == "__main__":
    main()
