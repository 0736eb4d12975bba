"""Finding 4: a recipient slipped into keys/recipients.txt on a borrowed card.

The review added one line to the plain recipients file; every later film was also
encrypted to a stranger (3 stanzas, the stranger's key decrypts). Replayed on a kit from
before pinning: its first unlock pins the recipients inside the passphrase-wrapped key;
then the stranger's line is added, the kit restarts and films. The next unlock is refused
with a page naming the stranger's key and the film; once the line is taken out again the
kit unlocks, and its Home page still names the film.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from device import age
from device.config import load
from device.errors import RecipientsChanged
from device.kit import Kit, open_kit
from device.library.pinning import check_pinned
from tests.web.web_helpers import PASSPHRASE, FakeClock, csrf, make_keys, page_settings
from web.kit.app import create_app


def _open(data: Path) -> Kit:
    """The kit started (a boot): the recipients are read from the card."""
    cfg = load(overrides={"data_dir": data, "camera": "synthetic", "microphone": "synthetic",
                          "width": 320, "height": 180, "fps": 30, "bitrate": 500_000,
                          "storage_reserve_mb": 10})  # fmt: skip
    return open_kit(cfg)


def _reopen(kit: Kit) -> Kit:
    kit.close()
    return _open(kit.library.data.root)


def _unlock_page(kit: Kit) -> tuple[int, str, str]:
    """Unlock once on a fresh page; the status, the answer's text and Home's text."""
    app = create_app(kit, settings=page_settings(), secret_key="t", idle_timeout_s=60,
                     clock=FakeClock())  # fmt: skip
    try:
        with app.test_client() as client:
            answer = client.post(
                "/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf(client)}
            )
            home = client.get("/").get_data(as_text=True) if answer.status_code == 302 else ""
            return answer.status_code, answer.get_data(as_text=True), home
    finally:
        app.close()


def test_a_stranger_slipped_into_recipients_stops_the_kit(tmp_path: Path) -> None:
    make_keys(tmp_path / "data")  # a kit from before pinning: office + kit
    kit = _open(tmp_path / "data")
    data = kit.library.data
    before = data.kit_identity_file.read_bytes()
    assert age.unwrap_kit_key(before, PASSPHRASE).pinned is None
    assert _unlock_page(kit)[0] == 302  # the first unlock pins what is in use
    own = [str(r) for r in kit.recipients]
    assert age.unwrap_kit_key(data.kit_identity_file.read_bytes(), PASSPHRASE).pinned == tuple(own)

    stranger = age.X25519Identity.generate()
    clean = data.recipients_file.read_text()
    data.recipients_file.write_text(clean + f"{stranger.recipient()}\n")  # the borrowed card
    try:
        kit = _reopen(kit)
        rec_id = kit.recorder.start(max_seconds=1.0)
        assert kit.recorder.wait(60)
        film = data.film(rec_id)
        with film.open("rb") as f:
            header, _ = age.read_header(f)
        assert len(header.stanzas) == 3 == len(own) + 1  # the attack as the review saw it
        assert age.Reader(film.open("rb"), [stranger], close_source=True).read(16)

        status, page, _ = _unlock_page(kit)
        assert status == 409 and "This kit has stopped" in page
        assert str(stranger.recipient()) in page and rec_id in page
        print(f"unlock refused (409), naming {stranger.recipient()} and film {rec_id}")
        again = kit.recorder.start(max_seconds=1.0)  # filmed after the refusal
        assert kit.recorder.wait(60)
        with data.film(again).open("rb") as f:
            assert len(age.read_header(f)[0].stanzas) == 2  # the stranger is dropped

        data.recipients_file.write_text(clean)  # the stranger tidies up
        kit = _reopen(kit)
        status, _, home = _unlock_page(kit)
        assert status == 302 and "data-flagged-films" in home and rec_id in home
    finally:
        kit.close()


def test_a_recipient_taken_out_is_named_too() -> None:
    kit, office = age.X25519Identity.generate(), str(age.X25519Identity.generate().recipient())
    own = str(kit.recipient())
    key = age.KitKey(kit, (office, own), 10)
    check_pinned(key, [own, office])  # the order of the lines does not matter
    with pytest.raises(RecipientsChanged, match="no longer encrypted to") as gone:
        check_pinned(key, [own])
    assert gone.value.missing == [office] and not gone.value.unknown
