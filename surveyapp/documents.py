"""Documents for the file (the methodology dossier now, the annual report next): written once as
a list of blocks (headings, paragraphs, tables) and rendered to Word with python-docx (for the
office to edit and sign) or to PDF with WeasyPrint (A4, page numbers), so both say the same to
the last digit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  #: 0 the title, 1 a chapter, 2 a section
    new_page: bool = False  #: starts a page (an annex page a unit can be sent alone)


@dataclass(frozen=True)
class Para:
    text: str
    bold: bool = False
    code: bool = False  #: monospaced (a command, a plan's text)


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]
    widths: list[float] = field(default_factory=list)  #: column widths in cm (Word), shares (PDF)
    total: bool = False  #: the last row is a total (bold)


Block = Heading | Para | Table


def to_docx(blocks: list[Block]):
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(13)
    for block in blocks:
        if isinstance(block, Heading):
            if block.new_page:
                doc.add_page_break()
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph(block.text)
            for run in paragraph.runs:
                run.bold = block.bold
                if block.code:
                    run.font.name, run.font.size = "Courier New", Pt(9)
        else:
            table = doc.add_table(rows=1, cols=len(block.head))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.head, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for i, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
                    if block.total and i == len(block.rows) - 1:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            if block.widths:
                for row in table.rows:
                    for cell, width in zip(row.cells, block.widths, strict=True):
                        cell.width = Cm(width)
    return doc


PDF_CSS = """
@page { size: A4; margin: 2cm; @bottom-center { content: "Trang " counter(page) "/" counter(pages); font-size: 9pt; } }
body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 12.5pt;
       line-height: 1.35; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 .4cm; } h2 { font-size: 14pt; margin: .6cm 0 .2cm; }
h3 { font-size: 12.5pt; margin: .4cm 0 .15cm; } p { margin: .15cm 0; }
p.code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin: .2cm 0; font-size: 11pt; }
th, td { border: .5pt solid #555; padding: 2pt 4pt; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; text-align: left; } tr { page-break-inside: avoid; } tr.total td { font-weight: bold; }
"""


def to_html(blocks: list[Block], title: str) -> str:
    out = [f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title>'
           f"<style>{PDF_CSS}</style></head><body>"]  # fmt: skip
    for block in blocks:
        if isinstance(block, Heading):
            tag = f"h{block.level + 1}"
            css = ' style="page-break-before: always"' if block.new_page else ""
            out.append(f"<{tag}{css}>{Markup('<br>').join(escape(line) for line in block.text.split(chr(10)))}</{tag}>")
        elif isinstance(block, Para):
            css = ' class="code"' if block.code else ""
            text = f"<b>{escape(block.text)}</b>" if block.bold else escape(block.text)
            out.append(f"<p{css}>{text}</p>")
        else:
            total = sum(block.widths) or 1
            cols = "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in block.widths)
            head = "".join(f"<th>{escape(h)}</th>" for h in block.head)
            rows = []
            for i, row in enumerate(block.rows):
                css = ' class="total"' if block.total and i == len(block.rows) - 1 else ""
                rows.append(f"<tr{css}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
            out.append(f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    out.append("</body></html>")
    return "".join(out)


def to_pdf(blocks: list[Block], title: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=to_html(blocks, title)).write_pdf()


def save(blocks: list[Block], title: str, path: str | Path) -> None:
    """``path`` as Word (.docx) or PDF (.pdf), by its extension."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        path.write_bytes(to_pdf(blocks, title))
    else:
        to_docx(blocks).save(str(path))
