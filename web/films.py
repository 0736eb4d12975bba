"""Opening a recorded film for playback, decrypted on the fly and only in memory.

The phone is served a *virtual* MP4 (DESIGN §7): the recorded init segment, a ``sidx``
with the true duration, then the fragments, read through ``age.Reader`` from the
encrypted ``.mp4.age``. The fragment index comes from the encrypted index file.
"""

from __future__ import annotations

from device import age
from device.errors import RecordingError, VigKitError
from device.library import Library, State
from device.media import FragmentIndex, VirtualMp4, open_virtual_mp4

PLAYABLE = (State.COMPLETE, State.RECOVERED)


def open_film(library: Library, rec_id: str, identity: age.Identity) -> VirtualMp4:
    """A seekable view of the film; the caller closes it (which closes the file)."""
    row = library.index.get(rec_id)
    if row.state not in PLAYABLE:
        raise RecordingError(
            "this film is still being recorded"
            if row.state == State.RECORDING
            else "this film was interrupted and has not been recovered yet",
            hint="Wait until it is saved, then open it again.",
        )
    data = library.data
    try:
        index_plain = age.decrypt_bytes(data.derived(rec_id, "index").read_bytes(), [identity])
        source = data.film(rec_id).open("rb")
    except OSError as e:
        raise VigKitError(
            "this film's files are missing from the kit",
            hint="The office copy may still have it.",
        ) from e
    try:
        reader = age.Reader(source, [identity], close_source=True)
    except BaseException:
        source.close()
        raise
    try:
        return open_virtual_mp4(FragmentIndex.from_json(index_plain), reader, close_source=True)
    except BaseException:
        reader.close()
        raise
