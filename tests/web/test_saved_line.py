"""`/status`'s "Saved · 0:01 · Case F-0231, cycle 1" line: an idle page polls it about once
a second, so the case's record (encrypted) is decrypted once per film and unlock, not at
every poll — and the line still follows what can change: the film's cycle, its case, an
erase, a Lock."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from flask.testing import FlaskClient

from device import age, cases
from device.kit.assembly import Kit
from tests.web.web_helpers import CONSENT, csrf, unlock
from web.kit import KitApp


def _decryptions_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every age decryption made on this thread (the test client serves its requests on
    it; the page's background threads, thumbnails and sealing, are not counted)."""
    here, made = threading.current_thread(), [0]
    real = age.decrypt_bytes

    def counting(data: bytes, identities: Sequence[age.Identity]) -> bytes:
        if threading.current_thread() is here:
            made[0] += 1
        return real(data, identities)

    monkeypatch.setattr(age, "decrypt_bytes", counting)
    return made


def _line(client: FlaskClient) -> str | None:
    saved = client.get("/status").get_json()["saved"]
    return None if saved is None else str(saved["words"])


def _kit_key(client: FlaskClient) -> age.X25519Identity:
    app = client.application
    assert isinstance(app, KitApp)
    key = app.services.keyring.held_identity()
    assert key is not None
    return key


def test_the_saved_line_decrypts_the_case_once_per_film_and_unlock(
    unlocked: FlaskClient, kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec_id = kit.recorder.start(max_seconds=1)
    assert kit.recorder.wait(30)
    case_id = kit.library.index.get(rec_id).case_id
    assert case_id is not None
    made = _decryptions_here(monkeypatch)

    first = _line(unlocked)
    assert first is not None and first.endswith("· Case F-0231, cycle 1"), first
    assert made == [1]
    for _ in range(5):
        assert _line(unlocked) == first
    assert made == [1]  # the idle polls decrypted nothing

    kit.cases.registry.assign(rec_id, case_id, 2)  # the cycle is the film's, in the index
    assert str(_line(unlocked)).endswith("· Case F-0231, cycle 2")
    assert made == [1]

    key = _kit_key(unlocked)
    other = cases.new_case(kit.cases, "F-0400", "", CONSENT, [key], kit.recipients)
    kit.cases.registry.assign(rec_id, other.id, 1)  # moved to another case: read it
    made[0] = 0
    assert str(_line(unlocked)).endswith("· Case F-0400, cycle 1")
    assert _line(unlocked) == _line(unlocked)
    assert made == [1]

    unlocked.post("/lock", data={"csrf_token": csrf(unlocked, "/")})
    assert _line(unlocked) is None  # locked: no case code
    assert unlock(unlocked) == 302
    made[0] = 0
    assert str(_line(unlocked)).endswith("· Case F-0400, cycle 1")
    assert made == [1]  # read again with the key of this unlock

    cases.erase_film(kit.library, kit.cases.registry, rec_id)
    assert _line(unlocked) is None  # erased: nothing to announce
