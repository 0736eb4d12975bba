"""The supervision pack's sheet (``supervision.html``): what to watch, and why it was chosen.

One section per film, in filming order: the cycle and its helping question; each flagged
clip with its principles, times, the note of the mark it was made from, what the parent
said about it in the shared review (the case record's cycle) and a link to the
decrypted clip beside the sheet (or "not exported on the kit"); then each flagged mark
with its time, principles and note. Every typed text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from device.office.cases import CaseFilm


@dataclass
class FlaggedFilm:
    film: CaseFilm
    folder: str  # the film's folder in the pack
    clips: list[dict[str, Any]] = field(default_factory=list)  # each with "out_name" when written
    marks: list[dict[str, Any]] = field(default_factory=list)


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
    "td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
    "td:nth-child(3){white-space:nowrap}"  # a clip's times on one line
    "section{border-top:1px solid #888;margin-top:1.5em}"
)


def sheet_html(code: str, films: Sequence[FlaggedFilm]) -> str:
    title = f"Supervision pack · case {code}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    for f in films:
        cycle = f"cycle {f.film.cycle}" if f.film.cycle else "no cycle"
        parts.append(f"<section><h2>{_e(cycle.capitalize())} · film {_e(f.film.rec.id)}</h2>")
        question = f.film.question or "(none written)"
        parts.append(f"<p><strong>Helping question:</strong> {_e(question)}</p>")
        if f.clips:
            parts.append(
                "<h3>Clips</h3><table><tr><th>Clip</th><th>Principles</th><th>Time</th>"
                "<th>The mark's note</th><th>The parent's words in the review</th>"
                "<th>File</th></tr>"
            )
            parts += [_clip_row(f.folder, c) for c in f.clips]
            parts.append("</table>")
        if f.marks:
            parts.append("<h3>Marked moments</h3><ul>")
            parts += [f"<li>{_e(_mark(m))}</li>" for m in f.marks]
            parts.append("</ul>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _clip_row(folder: str, clip: dict[str, Any]) -> str:
    if "out_name" in clip:
        link = f"{folder}/{clip['out_name']}"
        file = f'<a href="{_e(link)}">{_e(clip["out_name"])}</a>'
    else:
        file = "not exported on the kit (export it there, sync, and make the pack again)"
    return (
        f"<tr><td>{_e(str(clip.get('name') or 'Untitled clip'))}</td>"
        f"<td>{_e(_principles(clip))}</td><td>{_e(clip['at'])}</td>"
        f"<td>{_e(clip['mark_note'])}</td><td>{_e(str(clip.get('parent') or ''))}</td>"
        f"<td>{file}</td></tr>"
    )


def _mark(mark: dict[str, Any]) -> str:
    note = str(mark.get("note") or "")
    return f"{mark['at']} · {_principles(mark)}" + (f" — {note}" if note else "")


def _principles(item: dict[str, Any]) -> str:
    return ", ".join(str(p) for p in item.get("principles") or ()) or "no principle"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
