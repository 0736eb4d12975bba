"""Exporting clips and stills of a recording: decrypt in memory, cut, encrypt, record.

The film is read through the decrypting ``age.Reader`` (only the seconds needed are
decrypted); a clip streams from the muxer through ``age.HeadFirstWriter`` (its ``moov``
first, held in memory until the end; the samples go out as they come) and a still
through ``age.Writer`` into ``recordings/<id>.clip-<n>.mp4.age`` /
``<id>.still-<n>.jpg.age``, atomically (a temp file of ciphertext in the same folder,
then a rename). A full card is :class:`CardFull` ("the clip was not saved"). Each export is noted in
the recording's notes and in the audit log. These files sit with the film, so sync
takes them to the office with it. A Flask view calls these functions directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from device import age
from device.errors import CardFull, ExportError, VigKitError, card_full_as
from device.library import Library, atomic_writer, require_assigned, require_finished
from device.library.damaged import DAMAGE, set_aside
from device.library.notes import Notes, NotesStore, add_item, update_item
from device.media import FragmentIndex, scan_file
from device.media.clips import cut_clip, moov_room
from device.media.stills import Still, grab_still

_NUMBERING = threading.Lock()  # one export at a time picks its file number
_IN_PROGRESS: set[Path] = set()  # numbers taken by exports still being written
_FTYP_AND_MDAT_HEAD = 4096  # the ftyp before the moov's room, the mdat header after it


@contextlib.contextmanager
def open_recording(
    library: Library, rec_id: str, identities: Sequence[age.Identity]
) -> Iterator[tuple[age.Reader, FragmentIndex]]:
    """The film's decrypting reader and its fragment index, for a finished recording."""
    row = library.index.get(rec_id)
    require_finished(
        row.state, "Wait until it is saved (or unlock the kit to recover it), then try again."
    )
    data = library.data
    try:
        source = data.film(rec_id).open("rb")
    except OSError as e:
        raise VigKitError(
            "this film is missing from the kit", hint="The office copy may still have it."
        ) from e
    with source, age.Reader(source, identities) as reader:
        index_path = data.derived(rec_id, "index")
        try:
            index = FragmentIndex.from_json(age.decrypt_bytes(index_path.read_bytes(), identities))
        except FileNotFoundError:
            index = scan_file(reader)  # e.g. a film copied in without its index
        except DAMAGE:  # rebuilt from the film; the damaged file is kept for the office
            with contextlib.suppress(FileNotFoundError):
                set_aside(index_path)
            index = scan_file(reader)
        yield reader, index


def export_key(clip: Mapping[str, Any]) -> str:
    """What an export of ``clip`` was made from: a hash of its in, out and principles. A
    clip whose key differs from the one stored with its file has changed since."""
    what = [clip.get("in"), clip.get("out"), list(clip.get("principles") or ())]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:32]


def is_current(clip: Mapping[str, Any]) -> bool:
    """The clip has an exported file made from its present in, out and principles."""
    return bool(clip.get("file")) and clip.get("export_key") == export_key(clip)


def export_clip(
    library: Library,
    notes: NotesStore,
    rec_id: str,
    clip_id: str,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    *,
    exact: bool = False,
) -> Notes:
    """Export the clip ``clip_id`` of the notes (its in and out points) as an encrypted MP4,
    streamed from the film into the file (only the clip's ``moov`` is held in memory)."""
    require_assigned(library.index.get(rec_id).held)
    clip = notes.load(rec_id, identities).item("clips", clip_id)
    with (
        open_recording(library, rec_id, identities) as (reader, index),
        _numbered(library, rec_id, "clip", "mp4") as (name, out),
    ):
        room = moov_room(index, clip["in"], clip["out"]) + _FTYP_AND_MDAT_HEAD
        writer = age.HeadFirstWriter(out, recipients, -(-room // age.CHUNK_SIZE) * age.CHUNK_SIZE)
        cut = cut_clip(reader, index, clip["in"], clip["out"], exact=exact, out=writer)
        writer.close()
    library.audit.append(
        "export clip", rec_id, file=name, exact=exact, frames=cut.frames, bytes=cut.size
    )
    fields = {
        "file": name,
        "exact": exact,
        "exported_in": cut.first_frame_s,
        "exported_out": cut.first_frame_s + cut.duration_s,
        "export_key": export_key(clip),
    }
    return notes.apply(
        rec_id, [update_item("clips", clip_id, fields)], identities, recipients, system=True
    )


def export_still(
    library: Library,
    notes: NotesStore,
    rec_id: str,
    t_s: float,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    *,
    caption: str = "",
) -> Notes:
    """Freeze the frame on screen at ``t_s`` as an encrypted JPEG, and add it as a still."""
    require_assigned(library.index.get(rec_id).held)
    with open_recording(library, rec_id, identities) as (reader, index):
        still: Still = grab_still(reader, index, t_s)
    with (
        _numbered(library, rec_id, "still", "jpg") as (name, out),
        age.Writer(out, recipients, close_output=False) as writer,
    ):
        writer.write(still.jpeg)
    library.audit.append("export still", rec_id, file=name, bytes=len(still.jpeg))
    item = {"t": still.frame_s, "caption": caption, "file": name}
    return notes.apply(rec_id, [add_item("stills", item)], identities, recipients, system=True)


@contextlib.contextmanager
def _numbered(
    library: Library, rec_id: str, prefix: str, ext: str
) -> Iterator[tuple[str, BinaryIO]]:
    """The next free ``<id>.<prefix>-<n>.<ext>.age`` (its kind, and the temp file to write
    it to): the number is held while the export runs, so a still made meanwhile takes the
    next one; the file appears only when the export succeeded."""
    with _NUMBERING:
        taken = _next_number(library, rec_id, prefix, ext)
        while library.data.derived(rec_id, f"{prefix}-{taken}.{ext}") in _IN_PROGRESS:
            taken += 1
        kind = f"{prefix}-{taken}.{ext}"
        path = library.data.derived(rec_id, kind)
        _IN_PROGRESS.add(path)
    try:
        with card_full_as(f"the {prefix} was not saved"):
            try:
                with atomic_writer(path) as out:
                    yield kind, out
            except CardFull:
                raise
            except OSError as e:
                raise ExportError(
                    f"the {prefix} could not be saved: {e.strerror}",
                    hint="Try again; if it keeps failing, the kit's card may be damaged.",
                ) from e
    finally:
        with _NUMBERING:
            _IN_PROGRESS.discard(path)


def _next_number(library: Library, rec_id: str, prefix: str, ext: str) -> int:
    pattern = re.compile(rf"{re.escape(rec_id)}\.{prefix}-(\d+)\.{ext}\.age")
    folder: Path = library.data.recordings
    taken = [int(m[1]) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
    return 1 + max(taken, default=0)
