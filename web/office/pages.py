"""The office page's read-only views: the archive's recordings, a film, its review.

Each route finds its recording through :class:`ArchiveRecordings` (the manifests), never
by joining a path from the URL. Films, clips and stills are decrypted on the fly in
memory, through the same code as the kit's page (``open_film_file``, ``serve_file_like``);
nothing here writes a file the kit sent. The one thing written is a comment, into the
office's own ``<id>.office-notes.age``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from device import age
from device.cases import Case
from device.errors import AgeError, MediaFormatError, VigKitError
from device.library import Notes
from device.office import comments
from device.office.archive import OFFICE_SUFFIX
from device.office.cases import ArchiveCases
from device.office.recordings import (
    ArchiveRecording,
    NotInArchive,
    read_notes,
    read_thumbnails,
)
from web.common.display import PROMPTS, clock_text
from web.common.films import open_film_file
from web.common.ranges import serve_file_like
from web.common.security import wants_json
from web.office import comments as office_comments
from web.office.access import office

log = logging.getLogger(__name__)
bp = Blueprint("office", __name__)

HTML_PAGES = frozenset({"office.recordings", "office.film", "office.review"})
STATES = {
    "interrupted": "Interrupted, not sealed",
    "recovered": "Interrupted, recovered",
    "empty": "Nothing was recorded (the kit stopped before the first picture)",
}


def _missing() -> VigKitError:
    return NotInArchive(
        "this film's files are not in the archive (yet)",
        hint="The kit may still be syncing it: run vigkit office verify, or sync the kit again.",
    )


def _rec(kit: str, rec_id: str) -> ArchiveRecording:
    return office().recordings.get(kit, rec_id)


def _notes_or_problem(rec: ArchiveRecording) -> tuple[Notes | None, str]:
    """The notes, or None and a sentence saying why they cannot be shown."""
    try:
        return read_notes(rec, office().identities), ""
    except VigKitError as e:
        return None, f"{e.message[:1].upper()}{e.message[1:]}."


def _card(
    rec: ArchiveRecording, notes: Notes | None, filed: tuple[Case, int] | None = None
) -> dict[str, Any]:
    """A film's card; ``filed``: the case record and cycle it belongs to, whose code,
    cycle and consent it shows (a film from before cases: its own notes')."""
    started = rec.started
    case = notes.doc["case"] if notes is not None else {}
    consent = notes is not None and notes.consent_recorded
    if filed is not None:
        case, consent = {"code": filed[0].code, "cycle": filed[1]}, filed[0].consent is not None
    return {
        "kit": rec.kit,
        "id": rec.id,
        "when": started.astimezone().strftime("%-d %b %Y, %H:%M") if started else rec.id,
        "length": clock_text(rec.duration_s),
        "state": rec.state,
        "badge": STATES.get(rec.state),
        "playable": rec.playable,
        "case": case.get("code") or "",
        "cycle": case.get("cycle"),
        "notes_readable": notes is not None,
        "consent": consent,
        "review_done": notes is not None and notes.review_done,
        "not_arrived": rec.not_arrived(),
    }


@bp.get("/")
def recordings() -> str:
    cards = []
    filing = ArchiveCases(office().recordings, office().identities).filing()
    for rec in office().recordings.all():
        notes, _ = _notes_or_problem(rec)
        cards.append(_card(rec, notes, filing.get((rec.kit, rec.id))))
    cases = sorted({str(c["case"]) for c in cards if c["case"]})
    wanted = request.args.get("case", "")
    if wanted not in cases:
        wanted = ""  # an unknown (or hostile) code shows everything, never echoes it
    shown = [c for c in cards if not wanted or c["case"] == wanted]
    return render_template("office_list.html", films=shown, cases=cases, case=wanted)


@bp.get("/recordings/<kit>/<rec_id>")
def film(kit: str, rec_id: str) -> str:
    rec = _rec(kit, rec_id)
    notes, notes_problem = _notes_or_problem(rec)
    doc = notes.to_json() if notes is not None else None
    filed = ArchiveCases(office().recordings, office().identities).filing().get((rec.kit, rec.id))
    thumbs: list[tuple[float, str, str]] = []
    if rec.playable:
        try:
            strip = film_thumbs(rec) or []
        except VigKitError as e:  # damaged thumbnails must not hide the film
            log.warning("thumbnails of %s: %s", rec.id, e.message)
            strip = []
        thumbs = [
            (t.t_s, clock_text(t.t_s), url_for("office.thumb", kit=rec.kit, rec_id=rec.id, n=n))
            for n, t in enumerate(strip)
        ]
    said, comments_problem = office_comments.comments_or_problem(rec)
    return render_template(
        "office_film.html",
        film=_card(rec, notes, filed),
        case=filed[0] if filed else None,
        notes=doc,
        notes_problem=notes_problem,
        exported=exported_urls(rec, doc),
        thumbs=thumbs,
        comments=[office_comments.shown(c, doc) for c in said],
        comments_problem=comments_problem,
        about=office_comments.about_choices(doc),
        duration_s=rec.duration_s,
    )


@bp.route("/recordings/<kit>/<rec_id>/film.mp4", methods=["GET", "HEAD"])
def film_mp4(kit: str, rec_id: str) -> Response:
    rec = _rec(kit, rec_id)
    if not rec.playable:
        raise _missing() if rec.state in ("complete", "recovered") else _not_sealed()
    state = office()
    virtual = open_film_file(
        rec.file("mp4"), rec.file("index"), rec.id, state.identity, state.layouts,
        missing=_missing,
    )  # fmt: skip
    return serve_file_like(request, virtual, virtual.size)


@bp.get("/recordings/<kit>/<rec_id>/thumbs/<int:n>.jpg")
def thumb(kit: str, rec_id: str, n: int) -> Response:
    strip = film_thumbs(_rec(kit, rec_id)) or []
    if n >= len(strip):
        return Response("There is no such picture.\n", 404, mimetype="text/plain")
    return Response(strip[n].jpeg, mimetype="image/jpeg")


@bp.route("/recordings/<kit>/<rec_id>/clips/<clip_id>.mp4", methods=["GET", "HEAD"])
def clip_mp4(kit: str, rec_id: str, clip_id: str) -> Response:
    rec = _rec(kit, rec_id)
    path = rec.export_file(_export_kind(rec, "clips", clip_id))
    try:
        source = path.open("rb")
    except OSError as e:
        raise _missing() from e
    try:
        reader = age.Reader(source, office().identities, close_source=True)
    except BaseException:
        source.close()
        raise
    return serve_file_like(request, reader, reader.size)


@bp.get("/recordings/<kit>/<rec_id>/stills/<still_id>.jpg")
def still_jpg(kit: str, rec_id: str, still_id: str) -> Response:
    rec = _rec(kit, rec_id)
    path = rec.export_file(_export_kind(rec, "stills", still_id))
    try:
        jpeg = age.decrypt_bytes(path.read_bytes(), office().identities)
    except OSError as e:
        raise _missing() from e
    return Response(jpeg, mimetype="image/jpeg")


@bp.get("/recordings/<kit>/<rec_id>/review")
def review(kit: str, rec_id: str) -> str:
    """The shared review's playlist as the parent saw it; nothing can be saved here."""
    rec = _rec(kit, rec_id)
    notes = read_notes(rec, office().identities)
    doc = notes.to_json()
    return render_template(
        "review.html",
        rec_id=rec.id,
        items=_playlist(rec, doc),
        reflections=doc["review"]["reflections"],
        done=doc["review"]["done"],
        read_only=True,
    )


@bp.post("/recordings/<kit>/<rec_id>/comments")
def add_comment(kit: str, rec_id: str) -> Response | tuple[Response, int]:
    """Add a comment (a form post, or JSON from a script); the kit's files stay as
    they are."""
    rec = _rec(kit, rec_id)
    form = request.form
    notes, _ = _notes_or_problem(rec)
    about = office_comments.about_item(
        form.get("about", ""), notes.to_json() if notes is not None else None
    )
    state = office()
    saved = comments.add(
        rec.folder / f"{rec.id}{OFFICE_SUFFIX}",
        state.identities,
        state.recipients,
        text=form.get("text", ""),
        by=form.get("by", ""),
        about=about,
        t=office_comments.film_time(form.get("t", ""), rec.duration_s),
    )
    if wants_json():
        return jsonify(comments=saved), 201
    return redirect(url_for("office.film", kit=rec.kit, rec_id=rec.id) + "#comments", 303)


# --- helpers ------------------------------------------------------------------------------


def _not_sealed() -> VigKitError:
    return VigKitError(
        "this film was interrupted and not sealed, so it cannot be played here",
        hint="vigkit office decrypt --salvage keeps every complete part of it.",
    )


def film_thumbs(rec: ArchiveRecording) -> list[Any] | None:
    """The film's timeline pictures, decrypted in memory; the last film's are kept."""
    state = office()
    key = (rec.kit, rec.id)
    held = state.cached_thumbs(key)
    if held is not None:
        return held
    try:
        thumbs = read_thumbnails(rec, state.identities)
    except (AgeError, MediaFormatError) as e:
        raise VigKitError("this film's timeline pictures cannot be read") from e
    if thumbs is not None:
        state.keep_thumbs(key, thumbs)
    return thumbs


def _export_kind(rec: ArchiveRecording, kind: str, item_id: str) -> str:
    """The exported file's kind (``clip-1.mp4``) of the clip or still the notes name."""
    doc = read_notes(rec, office().identities).doc
    for item in doc[kind]:
        if item["id"] == item_id and item.get("file"):
            return str(item["file"])
    what = "clip" if kind == "clips" else "still"
    raise VigKitError(f"that {what} was not exported on the kit")  # 422, never echoes the id


def exported_urls(rec: ArchiveRecording, doc: dict[str, Any] | None) -> dict[str, str]:
    """Item id -> URL of its exported file, for the clips and stills that have one here."""
    if doc is None:
        return {}
    urls = {}
    for kind, endpoint, arg in (
        ("clips", "clip_mp4", "clip_id"),
        ("stills", "still_jpg", "still_id"),
    ):
        for item in doc[kind]:
            name = f"{rec.id}.{item.get('file')}.age"
            if item.get("file") and rec.listed(name) and (rec.folder / name).is_file():
                values = {"kit": rec.kit, "rec_id": rec.id, arg: item["id"]}
                urls[item["id"]] = url_for(f"office.{endpoint}", **values)
    return urls


def _playlist(rec: ArchiveRecording, doc: dict[str, Any]) -> list[dict[str, str]]:
    """The review's moments in the kit's order (web.kit.review.playlist), from the archive."""
    urls = exported_urls(rec, doc)
    clips = sorted(doc["clips"], key=lambda c: (c["order"], c["id"]))
    stills = sorted(doc["stills"], key=lambda s: s["t"])
    items = [
        {"kind": "clip", "src": urls[c["id"]], "caption": ""} for c in clips if c["id"] in urls
    ]
    items += [
        {"kind": "still", "src": urls[s["id"]], "caption": s.get("caption", "")}
        for s in stills
        if s["id"] in urls
    ]
    for n, item in enumerate(items):
        item["prompt"] = PROMPTS[n % len(PROMPTS)]
    return items
