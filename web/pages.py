"""The pages behind the unlock: home (record/stop, preview), recordings and a film."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from device.app import Kit
from device.library import RecordingRow, State, check_recording_id
from device.recorder import RecorderState
from web.films import open_film
from web.ranges import serve_file_like
from web.security import current_identity, wants_json
from web.status import clock_text, recorder_status

bp = Blueprint("pages", __name__)

BADGES = {
    State.RECORDING: "Recording now",
    State.INTERRUPTED: "Interrupted",
    State.RECOVERED: "Interrupted, recovered",
}


def _kit() -> Kit:
    kit: Kit = current_app.extensions["vigkit.kit"]
    return kit


@bp.get("/")
def home() -> str:
    return render_template("home.html", status=recorder_status(), clock_text=clock_text)


@bp.get("/status")
def status() -> Response:
    return jsonify(recorder_status())


@bp.post("/record")
def record() -> Response:
    recorder = _kit().recorder
    action = request.form.get("action", "toggle")
    state = recorder.status.state
    if action == "start" and state != RecorderState.RECORDING:
        recorder.start()
    elif action == "stop" and state == RecorderState.RECORDING:
        recorder.stop(reason="stopped on the phone", wait=False)
    elif action == "toggle":
        recorder.toggle()
    elif action not in ("start", "stop"):
        abort(400)
    if wants_json():
        return jsonify(recorder_status())
    return redirect(url_for("pages.home"), code=303)


@bp.get("/preview.jpg")
def preview() -> Response:
    jpeg = _kit().camera.preview_jpeg()
    if jpeg is None:
        return Response("The picture is not ready yet.\n", 503, mimetype="text/plain")
    return Response(jpeg, mimetype="image/jpeg")


@bp.get("/recordings")
def recordings() -> str:
    rows = _kit().library.index.all()
    return render_template("recordings.html", films=[_card(r) for r in rows])


@bp.get("/recordings/<rec_id>")
def film(rec_id: str) -> str:
    row = _kit().library.index.get(check_recording_id(rec_id))
    return render_template("film.html", film=_card(row))


@bp.route("/recordings/<rec_id>/film.mp4", methods=["GET", "HEAD"])
def film_mp4(rec_id: str) -> Response:
    identity = current_identity()
    if identity is None:  # the guard runs first; this only satisfies the type checker
        abort(401)
    virtual = open_film(_kit().library, check_recording_id(rec_id), identity)
    return serve_file_like(request, virtual, virtual.size)


def _card(row: RecordingRow) -> dict[str, object]:
    try:
        when = datetime.fromisoformat(row.started_at).strftime("%-d %b %Y, %H:%M")
    except ValueError:
        when = row.started_at
    return {
        "id": row.id,
        "when": when,
        "length": clock_text(row.duration_s),
        "badge": BADGES.get(row.state),
        "playable": row.state in (State.COMPLETE, State.RECOVERED),
    }
