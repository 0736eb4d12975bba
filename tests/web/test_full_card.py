"""A full card on every write path (issue #15, finding 7), for real.

One kit (``vigkit demo``) runs on a 32 MB card of its own — a private tmpfs in a mount
namespace of its own, reached from here through ``/proc/<pid>/root`` — and is spoken to
over HTTP as a phone would. Each write path is tried with the card filled to the last
byte: it answers 507 with the sentence that says the card is full, what was not saved
and what to do, and nothing that was saved before is damaged; with the filler removed,
the same save works. Thumbnails that could not be saved are made once space returns.
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from device import age
from device.commands.demo import DEMO_ADDRESSES, DEMO_NAMES
from device.library import Library, State
from device.tls import demo_tls
from tests.web.web_helpers import (
    CASE,
    CONSENT_FORM,
    PASSPHRASE,
    HttpSession,
    free_port,
    make_kit,
    wait_until,
)

DEMO = [sys.executable, "-m", "device.cli", "demo"]
CARD_MB = 32
FULL = "The kit's card is full:"
WHAT_TO_DO = "Erase films that are safe at the office (Settings → Space), then save again."
KEPT_NOTES = "Jo waited for Sam's turn and smiled"


@dataclass
class Card:
    """The served kit and its card as this process sees it."""

    session: HttpSession
    root: Path  # the kit's data folder on the card, through /proc/<pid>/root
    rec_id: str
    case_id: str
    clip_id: str

    @property
    def filler(self) -> Path:
        return self.root.parent / "filler"

    def fill(self) -> None:
        """Write until the card takes not one byte more."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for block in (1 << 20, 1 << 12, 1):
                data = b"\0" * block
                try:
                    while True:
                        os.write(fd, data)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        status, _, raw = self.session.request(
            path,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-CSRF-Token": self.session.token,
            },
            method="POST",
            body=json.dumps(body).encode(),
        )
        return status, json.loads(raw)

    def post_form(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        status, _, raw = self.session.request(path, {**form, "csrf_token": self.session.token})
        return status, raw.decode()

    def notes(self) -> dict[str, Any]:
        _, _, raw = self.session.request(
            f"/recordings/{self.rec_id}/notes", headers={"Accept": "application/json"}
        )
        doc: dict[str, Any] = json.loads(raw)["notes"]
        return doc


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Card]:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to make a small private card")
    base = tmp_path_factory.mktemp("full-card")
    data = base / "data"
    kit = make_kit(data, fast=True)
    rec_id = kit.recorder.start(max_seconds=3)
    assert kit.recorder.wait(60)
    kit.close()
    (data / "demo-passphrase.txt").write_text(PASSPHRASE + "\n")
    mount = base / "card"
    mount.mkdir()
    # the demo's certificate, made before the card is (the same files are copied onto it)
    ca = demo_tls(data, DEMO_NAMES, DEMO_ADDRESSES).ca
    port = free_port()
    script = (
        f'set -e; mount -t tmpfs -o size={CARD_MB}m tmpfs "$1"; cp -a "$2" "$1/kit"; '
        'exec "${@:3}" --data "$1/kit"'
    )
    command = ["unshare", "--map-root-user", "--mount", "bash", "-c", script, "bash"]
    command += [str(mount), str(data), *DEMO, "--port", str(port), "--http-port", str(free_port())]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            assert b"VIG Kit demo" in proc.stdout.readline(), proc.stderr
            yield _ready(proc.pid, mount, port, rec_id, ca)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _ready(pid: int, mount: Path, port: int, rec_id: str, ca: Path) -> Card:
    """Unlocked, with notes, a clip and thumbnails saved while there was room."""
    session = HttpSession(f"https://127.0.0.1:{port}", cafile=ca)
    wait_until(lambda: _answers(session), 30, "the demo's page")
    assert session.unlock() == 302
    root = Path(f"/proc/{pid}/root{mount}/kit")
    card = Card(session, root, rec_id, "", "")
    cases = json.loads(session.request("/cases", headers={"Accept": "application/json"})[2])
    card.case_id = cases["current"]
    status, answer = card.post_json(
        f"/recordings/{rec_id}/notes",
        {
            "ops": [
                {"op": "set", "field": "case.notes", "value": KEPT_NOTES},
                {"op": "add", "list": "clips", "item": {"in": 0.5, "out": 2.0}},
            ]
        },
    )
    assert status == 200, answer
    card.clip_id = answer["notes"]["clips"][-1]["id"]
    wait_until(lambda: _thumbs(card).exists(), 60, "the first film's thumbnails")
    return card


def _answers(session: HttpSession) -> bool:
    try:
        session.page("/unlock")
    except OSError:
        return False
    return True


def _thumbs(card: Card) -> Path:
    return card.root / "recordings" / f"{card.rec_id}.thumbs.age"


# each write path: what it is, what was not saved, and the save (its status and answer text)
Save = Callable[[Card], tuple[int, str]]


def _json(path: str, body: Any) -> Save:
    def save(card: Card) -> tuple[int, str]:
        status, answer = card.post_json(path.format(card=card), body)
        return status, f"{answer.get('error')} {answer.get('hint')}"

    return save


def _form(path: str, form: dict[str, str]) -> Save:
    def save(card: Card) -> tuple[int, str]:
        status, page = card.post_form(path.format(card=card), form)
        return status, html.unescape(page)

    return save


def _ops(*ops: Any) -> Save:
    return _json("/recordings/{card.rec_id}/notes", {"ops": list(ops)})


WORDS = "your words were not saved"
# (what, what was not saved, the typed words a refused form must give back, the save)
PATHS: list[tuple[str, str, str, Save]] = [
    ("notes", WORDS, "", _ops(
        {"op": "set", "field": "review.reflections", "value": "Sam led the game"})),
    ("mark", WORDS, "", _ops(
        {"op": "add", "list": "marks", "item": {"t": 1.0, "principles": ["Guiding"]}})),
    ("case record", WORDS, "", _json(
        "/cases/{card.case_id}", {"ops": [{"op": "question", "text": "Who leads the play?"}]})),
    ("case consent form", WORDS, CONSENT_FORM["given_on"], _form(
        "/case/{card.case_id}/consent", CONSENT_FORM)),
    ("new case form", WORDS, "How do we share?", _form(
        "/case/new", {"code": "G-0417", "question": "How do we share?", **CONSENT_FORM})),
    ("case notes form", WORDS, "Mum noticed Sam's waiting", _form(
        "/case/{card.case_id}/notes",
        {"notes": "Mum noticed Sam's waiting", "base": hashlib.sha256(b"").hexdigest()})),
    ("case question form", WORDS, "What helps Sam wait?", _form(
        "/case/{card.case_id}/question", {"question": "What helps Sam wait?"})),
    ("principles", WORDS, "Taking turns together", _form(
        "/settings/principles", {"principles": "Being attentive\nTaking turns together"})),
    ("clip", "the clip was not saved", "", _json(
        "/recordings/{card.rec_id}/clips/{card.clip_id}/export", {"exact": False})),
    ("exact clip", "the clip was not saved", "", _json(
        "/recordings/{card.rec_id}/clips/{card.clip_id}/export", {"exact": True})),
    ("date confirmation", "the kit's date was not confirmed", "", _json(
        "/settings/sync/confirm-clock", {})),
    ("still", "the still was not saved", "", _json(
        "/recordings/{card.rec_id}/stills", {"t": 1.0, "caption": "Sam's smile"})),
]  # fmt: skip


@pytest.mark.parametrize(("what", "lost", "typed", "save"), PATHS, ids=[p[0] for p in PATHS])
def test_a_full_card_is_said_in_words_and_the_same_save_works_once_space_returns(
    card: Card, what: str, lost: str, typed: str, save: Save
) -> None:
    card.fill()
    try:
        status, text = save(card)
    finally:
        card.free()
    assert status == 507, (what, text)
    assert f"{FULL} {lost}" in text and WHAT_TO_DO in text, (what, text)
    assert "restart" not in text.lower() and "Traceback" not in text
    assert typed in text  # a form comes back as it was typed, beside the sentence
    assert card.notes()["case"]["notes"] == KEPT_NOTES  # nothing saved before was damaged
    assert not list(card.root.rglob(".*.tmp")), "a refused save leaves no temp file"

    status, text = save(card)

    assert status in (200, 201, 303), (what, text)


def test_the_kit_clock_set_on_a_full_card_says_its_note_was_lost(card: Card) -> None:
    phone_ms = int((time.time() + 3 * 3600) * 1000)
    card.fill()
    try:
        status, _, raw = card.session.request(
            "/settings/clock",
            {"phone_ms": str(phone_ms)},
            {"Accept": "application/json", "X-CSRF-Token": card.session.token},
        )
    finally:
        card.free()
    answer = json.loads(raw)
    assert status == 507, answer
    assert answer["error"] == f"{FULL} the kit's clock was set, but the change could not be noted."


def test_thumbnails_that_found_the_card_full_are_made_once_space_returns(card: Card) -> None:
    _thumbs(card).unlink()
    card.fill()
    try:
        card.session.request(f"/recordings/{card.rec_id}/thumbs/0.jpg")  # a phone looks: a run
        time.sleep(3)  # (a run that finds the card full must not give the film up)
        assert not _thumbs(card).exists()
    finally:
        card.free()
    card.session.request(f"/recordings/{card.rec_id}/thumbs/0.jpg")

    wait_until(lambda: _thumbs(card).exists(), 60, "the thumbnails, once space returned")


def test_settings_space_lists_films_safe_at_the_office(card: Card) -> None:
    page = card.session.page("/settings")
    assert re.search(r'<h2 id="space-heading">Space</h2>', page)
    assert "No film on this kit is safe at the office yet" in page  # nothing synced here


def test_erasing_a_film_works_on_a_full_card(card: Card) -> None:
    """Erase now is the way out of a full card, so it must work on one (this film is the
    module's last use of it). A folder named like one of its files is not the kit's: it
    is left alone (finding 10), and does not stop the erase."""
    stranger = card.root / "recordings" / f"{card.rec_id}.clip-9.mp4.age"
    stranger.mkdir()
    card.fill()
    try:
        status, page = card.post_form(f"/recordings/{card.rec_id}/erase-now", {"code": CASE})
        assert status == 303, html.unescape(page)
        assert list((card.root / "recordings").glob(f"{card.rec_id}.*")) == [stranger]
        status, text = _ops({"op": "set", "field": "case.notes", "value": "x"})(card)
        assert status == 404, text  # the film is gone, and the kit says so in words
    finally:
        card.free()


def test_record_on_a_full_card_says_so_and_leaves_no_recording_row(tmp_path: Path) -> None:
    """``vigkit record`` on a card with no byte left: a sentence, exit 1, no traceback,
    and the index (read again once there is room) says nothing is being recorded."""
    key = age.X25519Identity.generate().recipient()
    record = [*DEMO[:-1], "record", "--fast", "--reserve-mb", "10", "--bitrate", "200000"]
    record += ["-r", str(key), "--seconds"]
    script = (
        'mount -t tmpfs -o size=24m tmpfs "$1"; "${@:2}" 1 --data "$1/kit" > /dev/null || exit 9; '
        'dd if=/dev/zero of="$1/filler" bs=64k 2> /dev/null; '
        '"${@:2}" 1 --data "$1/kit"; echo "exit $?"; '
        'rm "$1/kit/room.reserve"; dd if=/dev/zero of="$1/more" bs=4k 2> /dev/null; '
        '"${@:2}" 1 --data "$1/kit"; echo "then exit $?"; rm "$1/filler" "$1/more"; '
        '"${@:2}" 1 --data "$1/kit" > /dev/null; cp -r "$1/kit" "$1.copy"'
    )
    card = tmp_path / "card"
    card.mkdir()
    done = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "bash", "-c", script, "bash", str(card), *record],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "exit 1" in done.stdout, (done.stdout, done.stderr)
    # the room kept for a full card opens the index; the recorder then refuses in words
    assert "less than a minute of space is left (0 MB free)" in done.stderr, done.stderr
    # without that room, the index cannot be opened: said as a full card, not as damage
    assert "then exit 1" in done.stdout
    assert "vigkit: the kit's card is full: its index" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    library = Library(tmp_path / "card.copy")
    try:
        states = [row.state for row in library.index.all()]
    finally:
        library.close()
    assert states == [State.COMPLETE, State.COMPLETE]  # the refused one left no row behind
