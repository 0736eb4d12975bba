"""The pages behind the unlock: home (record/stop, preview), recordings and a film.

The list of recordings shows each film's case code, cycle and whether consent is
recorded, which live in its encrypted notes: they are decrypted in memory for the page
(a few hundred bytes each) and never kept."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from device.cases import check_can_film, supervisor_may_watch
from device.errors import NotFound, StopTooSoon, VigKitError
from device.hardware.monotonic import monotonic_us
from device.kit.wall_clock import ClockBook, Correction, start_time
from device.library import (
    FINISHED,
    Notes,
    RecordingRow,
    State,
    check_recording_id,
    rebuilt_words,
)
from device.library.damaged import set_aside_files
from device.library.notes import MARK_PREROLL_S, load_principles
from device.library.notes_items import NOTE_LIMIT
from device.library.notes_schema import NOTES_TEXT_LIMIT
from device.recording.recorder import RecorderState
from web.common.display import clock_text
from web.common.films import film_fps, open_film
from web.common.ranges import serve_file_like
from web.common.security import wants_json
from web.kit.case_pages import film_case, home_case
from web.kit.journey import thumb_url
from web.kit.services import current_identity, current_kit
from web.kit.status import recorder_status
from web.kit.sync import badges as sync_badges
from web.kit.sync import damage_words

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)
STOP_ASK_S = 2.0  # a Stop this soon after the start is asked once more (a double tap)

BADGES = {
    State.RECORDING: "Recording now",
    State.INTERRUPTED: "Interrupted",
    State.RECOVERED: "Interrupted, recovered",
    State.ERASED: "At the office only",
    State.EMPTY: "Nothing was recorded (the kit stopped before the first picture)",
}


def _control(call: Callable[[], object]) -> None:
    """Start or stop through the app's control runner (a full-priority thread in
    ``vigkit run``), so the recorder's threads never inherit a page thread's priority."""
    current_kit().control(call)


@bp.get("/")
def home() -> str:
    return render_template(
        "home.html",
        status=recorder_status(),
        filming=home_case(),
        rebuilt=rebuilt_words(current_kit().kit.library.index),
        flagged_films=current_kit().recipients.flagged,  # found at the last unlock
    )


@bp.get("/status")
def status() -> Response:
    return jsonify(recorder_status())


@bp.post("/record")
def record() -> Response:
    recorder = current_kit().kit.recorder
    action = request.form.get("action", "")
    if action not in ("start", "stop"):
        abort(400)
    recording = recorder.status.state == RecorderState.RECORDING
    if action == "start" and not recording:
        check_can_film(current_kit().cases)  # the page films only with consent (a 409 sentence)
        _control(recorder.start)
    elif action == "stop" and recording:
        _check_not_too_soon(recorder.status.elapsed_s(monotonic_us()))
        _control(lambda: recorder.stop(reason="stopped on the phone", wait=False))
    if wants_json():
        return jsonify(recorder_status())
    return redirect(url_for("pages.home"), code=303)


def _check_not_too_soon(elapsed_s: float | None) -> None:
    """A Stop within two seconds of the start is asked once more (``confirm=yes``)."""
    if elapsed_s is not None and elapsed_s < STOP_ASK_S and request.form.get("confirm") != "yes":
        raise StopTooSoon("the film started less than two seconds ago, so it is still recording")


@bp.get("/preview.jpg")
def preview() -> Response:
    jpeg = current_kit().kit.camera.preview_jpeg()
    if jpeg is None:
        return Response("The picture is not ready yet.\n", 503, mimetype="text/plain")
    return Response(jpeg, mimetype="image/jpeg")


@bp.get("/recordings")
def recordings() -> str:
    """Every film, newest first, each with its case and cycle and a thumbnail; films held
    as Unassigned come first, with Assign to a case and Erase."""
    corrections, cases = _corrections(), _case_codes()
    rows = [r for r in current_kit().kit.library.index.all() if r.state != State.DELETED]
    rows.sort(key=lambda r: not r.held)  # a stable sort: newest first within each group
    cards = [_card(r, _notes_or_none(r.id), corrections, cases) for r in rows]
    synced = sync_badges()
    for card in cards:
        card["sync"] = synced.get(str(card["id"]))
        card["thumb"] = thumb_url(card["row"])  # type: ignore[arg-type]
    codes = sorted({str(c["case"]) for c in cards if c["case"]})
    wanted = request.args.get("case", "")
    if wanted not in codes:
        wanted = ""  # an unknown (or hostile) code shows everything, never echoes it
    shown = [c for c in cards if not wanted or c["case"] == wanted]
    return render_template("recordings.html", films=shown, cases=codes, case=wanted)


def _case_codes() -> dict[str, tuple[str, bool]]:
    """Each case's code and whether it has consent, by opaque id (decrypted in memory)."""
    identity = current_identity()
    if identity is None:
        return {}
    found = {}
    for row in current_kit().cases.registry.all():
        try:
            case = current_kit().cases.load(row.id, [identity])
        except VigKitError:  # a damaged case file must not hide the films
            continue
        found[case.id] = (case.code, case.consented)
    return found


@bp.get("/recordings/<rec_id>")
def film(rec_id: str) -> str:
    page = current_kit()
    library = page.kit.library
    row = library.index.get(check_recording_id(rec_id))
    if row.state == State.DELETED:
        raise NotFound(f"recording {rec_id} was erased")
    identity = current_identity()
    if identity is None:  # the guard runs first; this only satisfies the type checker
        abort(401)
    notes = page.notes.load(row.id, [identity])
    card = _card(row, notes, _corrections(), _case_codes())
    strip = page.thumbnailer.strip(row.id) if card["playable"] else None
    thumbs = [
        (t.t_s, clock_text(t.t_s), url_for("pages.thumb", rec_id=row.id, n=n))
        for n, t in enumerate(strip or [])
    ]
    fps = film_fps(library, row.id, identity, page.layouts) if card["playable"] else 30.0
    try:
        may_supervise = supervisor_may_watch(page.cases, row.id, [identity])
    except VigKitError:  # a damaged case file: the film still opens, nothing is flagged
        may_supervise = False
    return render_template(
        "film.html",
        film=card,
        filed=film_case(row),
        thumbs=thumbs,
        thumbs_ready=strip is not None,
        notes=notes.to_json(),
        principles=load_principles(library.data, [identity]),
        fps=fps,
        preroll_s=MARK_PREROLL_S,
        note_limit=NOTE_LIMIT,
        text_limit=NOTES_TEXT_LIMIT,
        may_supervise=may_supervise,
        duration_s=row.duration_s or 0.0,
        downloads=page.allow_downloads,
        damaged_notes=set_aside_files(library.data, row.id, "notes"),
    )


@bp.route("/recordings/<rec_id>/film.mp4", methods=["GET", "HEAD"])
def film_mp4(rec_id: str) -> Response:
    identity = current_identity()
    if identity is None:  # the guard runs first; this only satisfies the type checker
        abort(401)
    page = current_kit()
    virtual = open_film(page.kit.library, check_recording_id(rec_id), identity, page.layouts)
    return serve_file_like(request, virtual, virtual.size)


@bp.get("/recordings/<rec_id>/thumbs/<int:n>.jpg")
def thumb(rec_id: str, n: int) -> Response:
    """One timeline picture, decrypted in memory (never cached: see ``add_headers``)."""
    strip = current_kit().thumbnailer.strip(check_recording_id(rec_id)) or []
    if n >= len(strip):
        abort(404)
    return Response(strip[n].jpeg, mimetype="image/jpeg")


def _notes_or_none(rec_id: str) -> Notes | None:
    """A card's notes; None when they cannot be read (the card then says so)."""
    identity = current_identity()
    if identity is None:
        return None
    try:
        return current_kit().notes.load(rec_id, [identity])
    except VigKitError:  # a damaged sidecar must not hide the other films
        return None


def _corrections() -> list[Correction]:
    """Clock corrections for the start times; an unreadable record shows the kit's own clock."""
    try:
        return ClockBook(current_kit().kit.library.data).load()
    except VigKitError as e:
        log.warning("%s", e.message)
        return []


def _card(
    row: RecordingRow,
    notes: Notes | None,
    corrections: Sequence[Correction],
    cases: dict[str, tuple[str, bool]],
) -> dict[str, object]:
    try:  # the kit's local time, put right if its clock was corrected later in that boot
        when = start_time(row, corrections).astimezone().strftime("%-d %b %Y, %H:%M")
    except VigKitError:
        when = row.started_at
    code, consented = cases.get(row.case_id or "", ("", False))
    return {
        "id": row.id,
        "row": row,
        "when": when,
        "length": clock_text(row.duration_s),
        "badge": BADGES.get(row.state),
        "playable": row.state in FINISHED,
        "case": code,
        "case_id": row.case_id,
        "cycle": row.cycle if code else None,
        "held": row.held,
        "notes_readable": notes is not None,
        "case_consent": consented,
        "review_done": row.review_done,
        "skipped_frames": row.dropped_frames,  # the camera's, under load (finding 10)
        "damage": damage_words(row),  # damaged on the card after recording (finding 4)
    }
