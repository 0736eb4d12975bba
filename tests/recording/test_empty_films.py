"""A power cut in the first second leaves a film with nothing in it: 0 bytes, part of the
age header (nothing is synced before the first fragment), or a header and no picture.
Each is recorded as "nothing was recorded" and stands in nobody's way: not a recovery,
not an unlock, not another interrupted film."""

from __future__ import annotations

from pathlib import Path

from device import age
from device.library import Library, State
from tests.mediacheck import ffmpeg_decodes
from tests.recording.conftest import OfficeKey, films, vigkit
from tests.recording.sealing_helpers import add_empty_films, interrupted_film


def test_recover_records_empty_films_and_seals_the_others(
    tmp_path: Path, office_key: OfficeKey
) -> None:
    data = tmp_path / "kit"
    recipients = age.parse_recipients(office_key.public)
    interrupted_film(data, recipients)
    library = Library(data)
    try:
        empty = add_empty_films(library, recipients)
    finally:
        library.close()

    done = vigkit("recover", "--data", data, "-i", office_key.path, "--reserve-mb", "10")

    assert "Traceback" not in done.stderr
    assert done.stdout.count("nothing was recorded") == 4
    assert done.stdout.count("sealed: kept") == 1
    (film,) = films(data)
    assert ffmpeg_decodes(office_key.decrypt(film)) == (0, "")
    library = Library(data)
    try:
        for rec_id in empty.values():
            assert library.index.get(rec_id).state == State.EMPTY
            assert not library.data.film(rec_id).exists()
        said = {r.recording for r in library.audit.rows() if r.event == "nothing was recorded"}
        assert said == set(empty.values())
        # what there was is kept as it was, beside where the film would be
        kept = library.data.interrupted_original(empty["hundred"]).read_bytes()
        assert len(kept) == 100
    finally:
        library.close()
    again = vigkit("recover", "--data", data, "-i", office_key.path, "--reserve-mb", "10")
    assert "nothing to do" in again.stdout
