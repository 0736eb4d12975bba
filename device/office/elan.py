"""One film's marks and clips as an ELAN annotation document (EAF 3.0), for research.

ELAN (the Max Planck Institute's annotation tool) opens ``.eaf`` files: XML with a
header naming the media, one table of time slots in milliseconds, and tiers of
annotations between two slots. Here each principle is a tier: a mark with two
principles is an annotation on both tiers, its text the mark's note; clips go on the
principle's own clip tier (``Guiding (clips)``) with the clip's name, because a clip made
from a mark covers the same moment. ELAN wants the annotations of one tier not to
overlap, so an annotation that would overlap another of its tier goes on a second tier
of that principle (``Guiding [2]``) rather than be moved: the times stay exactly the
times of the CSV. Items with no principle go on ``No principle``.

The film is named by its relative name (``<id>.mp4`` beside the ``.eaf``), never copied:
``vigkit office decrypt`` writes it there if the office wants to watch it in ELAN.
The standard library's ElementTree writes the XML (every text escaped).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from device.office.annotations import Annotation
from device.office.cases import CaseFilm

NO_PRINCIPLE = "No principle"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
Placed = tuple[str, Annotation]  # (tier id, annotation)


def eaf_bytes(film: CaseFilm, rows: Sequence[Annotation]) -> bytes:
    """The EAF document of one film's rows."""
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {"AUTHOR": "VIG Kit", "DATE": datetime.now(UTC).isoformat(timespec="seconds"),
         "FORMAT": "3.0", "VERSION": "3.0", "xmlns:xsi": XSI,
         "xsi:noNamespaceSchemaLocation": SCHEMA},
    )  # fmt: skip
    placed = place(rows)
    _header(root, film, len(placed))
    slots = _time_order(root, placed)
    tiers: dict[str, ET.Element] = {}
    for tier_id, kind in sorted({(t, a.kind) for t, a in placed}, key=lambda t: (t[1], t[0])):
        tiers[tier_id] = ET.SubElement(
            root, "TIER", {"TIER_ID": tier_id, "LINGUISTIC_TYPE_REF": kind}
        )
    for n, (tier_id, a) in enumerate(placed, start=1):
        wrapper = ET.SubElement(tiers[tier_id], "ANNOTATION")
        ann = ET.SubElement(
            wrapper, "ALIGNABLE_ANNOTATION",
            {"ANNOTATION_ID": f"a{n}", "TIME_SLOT_REF1": slots[2 * n - 2],
             "TIME_SLOT_REF2": slots[2 * n - 1]},
        )  # fmt: skip
        ET.SubElement(ann, "ANNOTATION_VALUE").text = a.text
    for kind in ("mark", "clip"):
        ET.SubElement(
            root, "LINGUISTIC_TYPE",
            {"LINGUISTIC_TYPE_ID": kind, "TIME_ALIGNABLE": "true", "GRAPHIC_REFERENCES": "false"},
        )  # fmt: skip
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


def place(rows: Sequence[Annotation]) -> list[Placed]:
    """Each row once per principle, on the first tier of that principle (and kind) where
    it overlaps nothing."""
    ends: dict[str, list[int]] = {}  # base tier id -> last end on each of its tiers
    placed = []
    for a in sorted(rows, key=lambda r: (r.start_ms, r.end_ms)):
        for principle in a.principles or (NO_PRINCIPLE,):
            base = f"{principle} (clips)" if a.kind == "clip" else principle
            lanes = ends.setdefault(base, [])
            lane = next((i for i, end in enumerate(lanes) if end <= a.start_ms), len(lanes))
            if lane == len(lanes):
                lanes.append(0)
            lanes[lane] = a.end_ms
            placed.append((base if lane == 0 else f"{base} [{lane + 1}]", a))
    return placed


def _header(root: ET.Element, film: CaseFilm, count: int) -> None:
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    media = f"{film.rec.id}.mp4"
    ET.SubElement(
        header, "MEDIA_DESCRIPTOR",
        {"MEDIA_URL": media, "RELATIVE_MEDIA_URL": f"./{media}", "MIME_TYPE": "video/mp4"},
    )  # fmt: skip
    properties = {
        "vigkit:case": film.code,
        "vigkit:cycle": "" if film.cycle is None else str(film.cycle),
        "vigkit:question": film.question,
        "lastUsedAnnotationId": str(count),
    }
    for name, value in properties.items():
        ET.SubElement(header, "PROPERTY", {"NAME": name}).text = value


def _time_order(root: ET.Element, placed: Sequence[Placed]) -> list[str]:
    """Two slots per placed annotation, numbered in time order as ELAN writes them;
    returns the slot ids in the order of ``placed`` (start, end, start, end…)."""
    values = [v for _, a in placed for v in (a.start_ms, a.end_ms)]
    order = sorted(range(len(values)), key=lambda i: values[i])
    ids = [""] * len(values)
    element = ET.SubElement(root, "TIME_ORDER")
    for n, i in enumerate(order, start=1):
        ids[i] = f"ts{n}"
        ET.SubElement(element, "TIME_SLOT", {"TIME_SLOT_ID": ids[i], "TIME_VALUE": str(values[i])})
    return ids
