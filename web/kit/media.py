"""Exported clips and stills, decrypted on the fly for the phone, and (if allowed) downloads.

A clip plays from its own exported file (``<id>.clip-<n>.mp4.age``) through the same
seekable decrypting reader and Range answers as the film, never from the raw film: the
shared review only ever asks for these URLs. A still is decrypted into memory and sent.

Downloading decrypted media *to the phone* is off unless the kit's ``allow_downloads``
setting is on; each download is written to the audit log (which file, never what is in it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from device import age
from device.cases import check_film_consented
from web.common.errors import Missing, Refused
from web.common.ranges import serve_file_like
from web.kit.notes_api import identity, load_notes
from web.kit.services import current_kit

bp = Blueprint("media", __name__)


def downloads_allowed() -> bool:
    return current_kit().allow_downloads


def exported(rec_id: str, kind: str, item_id: str) -> tuple[str, dict[str, Any]]:
    """The recording's id and the item, which must have an exported file (else a 404)."""
    notes = load_notes(rec_id)
    for item in notes.doc[kind]:
        if item["id"] == item_id and item.get("file"):
            return notes.rec_id, item
    what = "clip" if kind == "clips" else "still"
    raise Missing(
        f"that {what} is not ready to show",
        hint="Export it on the film's page first; it may also have been removed.",
    )


def _open(rec_id: str, item: dict[str, Any]) -> age.Reader:
    path = current_kit().kit.library.data.derived(rec_id, str(item["file"]))
    try:
        source = path.open("rb")
    except OSError as e:
        raise Missing(
            "this exported file is missing from the kit",
            hint="Export it again on the film's page.",
        ) from e
    try:
        return age.Reader(source, [identity()], close_source=True)
    except BaseException:
        source.close()
        raise


@bp.route("/recordings/<rec_id>/clips/<clip_id>.mp4", methods=["GET", "HEAD"])
def clip_mp4(rec_id: str, clip_id: str) -> Response:
    rec_id, item = exported(rec_id, "clips", clip_id)
    reader = _open(rec_id, item)
    return serve_file_like(request, reader, reader.size)


@bp.get("/recordings/<rec_id>/stills/<still_id>.jpg")
def still_jpg(rec_id: str, still_id: str) -> Response:
    rec_id, item = exported(rec_id, "stills", still_id)
    with _open(rec_id, item) as reader:
        jpeg = reader.read()
    return Response(jpeg, mimetype="image/jpeg")


@bp.get("/recordings/<rec_id>/<any(clips, stills):kind>/<item_id>/download")
def download(rec_id: str, kind: str, item_id: str) -> Response:
    """The decrypted file as an attachment, only when the kit allows downloads."""
    if not downloads_allowed():
        raise Refused(
            "downloads to the phone are turned off on this kit",
            hint="Watch it here instead. The kit's administrator can allow downloads with"
            " the allow_downloads setting.",
        )
    rec_id, item = exported(rec_id, kind, item_id)
    check_film_consented(current_kit().cases, rec_id)
    name = str(item["file"])  # clip-2.mp4: no case code, no name
    # one row per download, not per range request of it (a resumed download asks again)
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        current_kit().kit.library.audit.append("download", rec_id, file=name)
    reader = _open(rec_id, item)
    mimetype = "video/mp4" if kind == "clips" else "image/jpeg"
    response = serve_file_like(request, reader, reader.size, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
