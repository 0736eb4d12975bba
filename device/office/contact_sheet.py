"""The printable contact sheet for preparing a shared review: HTML and PDF.

One section per recording: case code, cycle and helping question (with its earlier
wordings, for a case's journey); the clips in their order with name, principles and
times; each still as a picture with its caption; the marked moments with their
principles and notes; the parent's reflections. Both files are written atomically and
readable by their owner only (0600). The HTML uses the exported files beside it; the PDF
embeds the stills. PDF through fpdf2 (pure Python, embeds a TrueType font so any caption
prints); DejaVu Sans when the system has it, else the built-in Helvetica with
unprintable characters replaced.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF

from device.library import atomic_writer
from device.office.export import Recording

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
TITLE = "VIG Kit contact sheet"


def write_html(recordings: Sequence[Recording], out: Path) -> Path:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{TITLE}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "figure{display:inline-block;margin:0 1em 1em 0;width:18em;vertical-align:top}"
        "img{width:100%}section{page-break-after:always}"
        "td,th{padding:.2em .6em;text-align:left}</style></head><body>",
        f"<h1>{TITLE}</h1>",
    ]
    for rec in recordings:
        parts.append(f"<section><h2>{_e(_heading(rec))}</h2>")
        if rec.question:
            parts.append(f"<p><strong>Helping question:</strong> {_e(rec.question)}</p>")
        for on, text in rec.earlier_questions:
            parts.append(f'<p class="earlier">Earlier wording ({_e(on)}): {_e(text)}</p>')
        clips = [i for i in rec.items if i.kind == "clip"]
        if clips:
            parts.append("<h3>Clips</h3><table><tr><th>Clip</th><th>Principle</th>"
                         "<th>Time</th><th>File</th></tr>")  # fmt: skip
            for c in clips:
                link = f"{rec.folder}/{c.out_name}"
                principles = ", ".join(c.principles)
                parts.append(
                    f"<tr><td>{_e(c.title)}</td><td>{_e(principles)}</td><td>{_e(c.at)}</td>"
                    f'<td><a href="{_e(link)}">{_e(c.out_name)}</a></td></tr>'
                )
            parts.append("</table>")
        stills = [i for i in rec.items if i.kind == "still"]
        if stills:
            parts.append("<h3>Stills</h3>")
            for s in stills:
                parts.append(
                    f'<figure><img src="{_e(rec.folder)}/{_e(s.out_name)}" alt="{_e(s.title)}">'
                    f"<figcaption>{_e(s.at)} {_e(s.title)}</figcaption></figure>"
                )
        if rec.marks:
            parts.append("<h3>Marked moments</h3><ul>")
            for m in rec.marks:
                parts.append(f"<li>{_e(_mark(m))}</li>")
            parts.append("</ul>")
        if rec.reflections:
            parts.append("<h3>The parent's reflections</h3>")
            parts.append(f"<blockquote>{_e(rec.reflections)}</blockquote>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    path = out / "contact-sheet.html"
    with atomic_writer(path, 0o600) as f:
        f.write("\n".join(parts).encode("utf-8"))
    return path


def write_pdf(recordings: Sequence[Recording], out: Path) -> Path:
    pdf = FPDF(format="A4")
    pdf.set_title(TITLE)
    font = _font(pdf)
    pdf.set_auto_page_break(auto=True, margin=15)
    for rec in recordings:
        pdf.add_page()
        pdf.set_font(font, "B", 15)
        _line(pdf, font, _heading(rec), 9)
        pdf.set_font(font, "", 10)
        if rec.question:
            _line(pdf, font, f"Helping question: {rec.question}", 6)
        for on, text in rec.earlier_questions:
            _line(pdf, font, f"Earlier wording ({on}): {text}", 5)
        clips = [i for i in rec.items if i.kind == "clip"]
        if clips:
            pdf.ln(2)
            pdf.set_font(font, "B", 12)
            _line(pdf, font, "Clips", 7)
            pdf.set_font(font, "", 10)
            for n, c in enumerate(clips, start=1):
                principle = f" — {', '.join(c.principles)}" if c.principles else ""
                _line(pdf, font, f"{n}. {c.title or c.out_name}{principle}  ({c.at})", 6)
        stills = [i for i in rec.items if i.kind == "still"]
        if stills:
            pdf.ln(2)
            pdf.set_font(font, "B", 12)
            _line(pdf, font, "Stills", 7)
            pdf.set_font(font, "", 9)
            for s in stills:
                _still(pdf, font, out / rec.folder / s.out_name, f"{s.at} {s.title}")
        if rec.marks:
            pdf.ln(2)
            pdf.set_font(font, "B", 12)
            _line(pdf, font, "Marked moments", 7)
            pdf.set_font(font, "", 10)
            for m in rec.marks:
                _line(pdf, font, _mark(m), 6)
        if rec.reflections:
            pdf.ln(2)
            pdf.set_font(font, "B", 12)
            _line(pdf, font, "The parent's reflections", 7)
            pdf.set_font(font, "", 10)
            _line(pdf, font, rec.reflections, 6)
    path = out / "contact-sheet.pdf"
    with atomic_writer(path, 0o600) as f:
        f.write(bytes(pdf.output()))
    return path


def _still(pdf: FPDF, font: str, image: Path, caption: str) -> None:
    width = 80.0
    height = width * 9 / 16 + 8
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.image(str(image), w=width)
    _line(pdf, font, caption, 5)
    pdf.ln(2)


def _line(pdf: FPDF, font: str, text: str, height: float) -> None:
    if font == "helvetica":  # the built-in font knows Latin-1 only
        text = (
            text.replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")
        )
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _font(pdf: FPDF) -> str:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("dejavu", "", str(regular))
            pdf.add_font("dejavu", "B", str(bold))
            return "dejavu"
    return "helvetica"


def _heading(rec: Recording) -> str:
    case = rec.case or "No case code"
    cycle = f", cycle {rec.cycle}" if rec.cycle else ""
    return f"{case}{cycle} — recording {rec.id}"


def _mark(mark: dict[str, Any]) -> str:
    t = mark.get("t")
    when = f"{int(t) // 60}:{int(t) % 60:02d}" if isinstance(t, int | float) else "?"
    principles = ", ".join(mark.get("principles") or ()) or "(no principle)"
    note = f" — {mark['note']}" if mark.get("note") else ""
    return f"{when} {principles}{note}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
