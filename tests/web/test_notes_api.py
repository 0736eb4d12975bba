"""The notes API, exported media, downloads, the list's case and consent, shared review.

One kit with one short film recorded as fast as the machine allows is shared by the
module; each test makes its own notes changes on it (they only add).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from device import age
from device.kit.assembly import Kit
from tests.web.web_helpers import (
    CONSENT,
    PASSPHRASE,
    FakeClock,
    csrf,
    make_kit,
    page_settings,
    unlock,
)
from web.kit import KitApp, create_app

FILM_S = 4


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kit, str]]:
    kit = make_kit(tmp_path_factory.mktemp("notes") / "data", fast=True)
    rec_id = kit.recorder.start(max_seconds=FILM_S)
    assert kit.recorder.wait(60)
    yield kit, rec_id
    kit.close()


def _app(kit: Kit, **options: Any) -> KitApp:
    return create_app(
        kit,
        settings=page_settings(),
        secret_key="notes",
        idle_timeout_s=60,
        clock=FakeClock(),
        thumbnails=False,
        **options,
    )


@pytest.fixture(scope="module")
def app(film: tuple[Kit, str]) -> Iterator[KitApp]:
    app = _app(film[0])
    yield app
    app.close()


class Phone:
    """One browser session: unlocked, with its CSRF token, speaking JSON."""

    def __init__(self, app: KitApp, rec_id: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.rec_id = rec_id
        assert unlock(self.client) == 302
        self.token = csrf(self.client, "/")

    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        response = self.client.post(
            path.replace("{id}", self.rec_id),
            data=body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-CSRF-Token": self.token if token is None else token,
            },
        )
        return response.status_code, response.get_json(silent=True)

    def ops(self, *ops: dict[str, Any]) -> tuple[int, Any]:
        return self.post("/recordings/{id}/notes", {"ops": list(ops)})

    def notes(self) -> dict[str, Any]:
        response = self.client.get(
            f"/recordings/{self.rec_id}/notes", headers={"Accept": "application/json"}
        )
        assert response.status_code == 200
        doc: dict[str, Any] = response.get_json()["notes"]
        return doc


@pytest.fixture
def phone(app: KitApp, film: tuple[Kit, str]) -> Phone:
    return Phone(app, film[1])


def _set(field: str, value: Any) -> dict[str, Any]:
    return {"op": "set", "field": field, "value": value}


def _add(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"op": "add", "list": kind, "item": item}


def _update(kind: str, item_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"op": "update", "list": kind, "id": item_id, "fields": fields}


def test_ops_change_the_notes_and_answer_with_the_new_document(phone: Phone) -> None:
    before = phone.notes()
    status, body = phone.ops(
        _set("case.code", "f-0231"), _set("case.cycle", 2), _add("marks", {"t": 1.5})
    )
    assert status == 200, body
    assert body["revision"] == before["revision"] + 1
    assert body["notes"]["case"]["code"] == "F-0231"  # stored as the kit writes codes
    assert body["notes"]["case"]["cycle"] == 2
    mark = next(m for m in body["notes"]["marks"] if m["id"] == f"m{body['notes']['next_id'] - 1}")
    two = ["Guiding", "Being attentive"]
    note = "He holds out the block; she waits, then takes it. " * 4  # 200 characters
    status, body = phone.ops(_update("marks", mark["id"], {"principles": two, "note": note}))
    assert status == 200, body
    assert {
        "id": mark["id"],
        "t": 1.5,
        "principles": two,
        "note": note,
        "supervision": False,
        "source": "phone",
    } in body["notes"]["marks"]
    response = phone.client.get(f"/recordings/{phone.rec_id}/notes")
    assert response.get_json()["principles"][0] == "Being attentive"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"ops": [_set("case.code", "Jane Smith")]}, "does not look like a case code"),
        ({"ops": [_set("case.cycle", 99)]}, "whole number from 1 to 20"),
        ({"ops": [_set("consent.given_on", "2026-11-01")]}, "recorded for the whole case"),
        ({"ops": [_add("marks", {"t": 1, "principles": ["Shouting"]})]}, "not one of this kit"),
        ({"ops": [_add("marks", {"t": 1, "principles": "Guiding"})]}, "must be a list"),
        ({"ops": [_add("marks", {"t": 1, "note": "x" * 201})]}, "201 characters, at most 200"),
        ({"ops": [_add("marks", {"t": 1, "note": "one\ntwo"})]}, "a mark's note is one line"),
        ({"ops": [_add("clips", {"in": 1, "out": 2, "principle": "Guiding"})]}, "no field"),
        ({"ops": [_add("clips", {"in": 3, "out": 2})]}, "End must be after its Start"),
        ({"ops": [_add("clips", {"in": 1, "out": 2, "file": "x"})]}, "has no field file"),
        ({"ops": [{"op": "explode"}]}, "unknown change"),
        ({"ops": []}, "list of 1 to 100"),
        ({"ops": "set everything"}, "list of 1 to 100"),
        ({"ops": [_set("case.code", "F-1")] * 101}, "list of 1 to 100"),
        ([1, 2], "not a JSON object"),
        ("{not json", "not a JSON object"),
    ],
)
def test_refusals_are_sentences_and_change_nothing(phone: Phone, body: Any, words: str) -> None:
    before = phone.notes()
    status, answer = phone.post("/recordings/{id}/notes", body)
    assert status == 400, answer
    assert words.lower() in answer["error"].lower()
    assert answer["hint"]
    assert phone.notes()["revision"] == before["revision"]


def test_supervision_only_where_the_case_consent_lets_a_supervisor_watch(
    phone: Phone, film: tuple[Kit, str]
) -> None:
    kit, rec_id = film
    status, body = phone.ops(_add("clips", {"in": 0.5, "out": 2.5, "supervision": True}))
    assert status == 200, body  # the helper case's consent includes a supervisor
    clip_id = f"c{body['notes']['next_id'] - 1}"
    case_id = kit.library.index.get(rec_id).case_id
    assert case_id is not None
    keys = [_identity(kit)]
    no_supervisor = {**CONSENT, "supervisor": False}
    kit.cases.apply(case_id, [{"op": "consent", "consent": no_supervisor}], keys, kit.recipients)
    try:
        before = phone.notes()["revision"]
        for op in (
            _add("marks", {"t": 1.0, "supervision": True}),
            _update("clips", clip_id, {"supervision": True, "name": "kept?"}),
        ):
            status, answer = phone.ops(op)
            assert status == 400, answer
            assert answer["error"] == (
                "The parent's consent for this case does not include a supervisor watching,"
                " so this cannot be flagged for supervision."
            )
            assert answer["hint"] == "If the parent agrees, record it in the case's consent first."
        assert phone.notes()["revision"] == before  # all or nothing
        status, body = phone.ops(_update("clips", clip_id, {"supervision": False}))
        assert status == 200  # taking a flag away is always allowed
    finally:
        kit.cases.apply(case_id, [{"op": "consent", "consent": CONSENT}], keys, kit.recipients)


def test_remove_then_undo_brings_the_clip_back_from_any_phone(
    app: KitApp, film: tuple[Kit, str]
) -> None:
    first, second = Phone(app, film[1]), Phone(app, film[1])
    status, body = first.ops(_add("clips", {"in": 1.0, "out": 3.0, "name": "undo me"}))
    clip = body["notes"]["clips"][-1]
    status, body = first.ops({"op": "delete", "list": "clips", "id": clip["id"]})
    assert status == 200 and clip not in body["notes"]["clips"]
    status, body = second.ops({"op": "restore", "list": "clips", "id": clip["id"]})
    assert status == 200, body
    assert clip in body["notes"]["clips"]
    status, body = first.ops({"op": "restore", "list": "clips", "id": clip["id"]})
    assert status == 400
    assert body["error"] == "That clip can no longer be brought back."


def test_notes_of_an_older_kit_open_through_the_page(phone: Phone, film: tuple[Kit, str]) -> None:
    """The film's notes written back as version 2 (one ``principle`` per mark and clip)
    open through the page as lists, and the next save stores version 3."""
    kit, rec_id = film
    path = kit.library.data.derived(rec_id, "notes")
    keys = [_identity(kit)]
    doc = json.loads(age.decrypt_bytes(path.read_bytes(), keys))
    doc["version"] = 2
    doc.pop("removed", None)
    doc["marks"].append({"id": "m900", "t": 2.0, "principle": "Guiding", "source": "phone"})
    doc["clips"].append(
        {"id": "c901", "name": "old", "principle": "", "in": 1.0, "out": 2.0, "order": 99}
    )
    for item in doc["marks"] + doc["clips"]:
        for key in ("principles", "note", "supervision", "mark"):
            item.pop(key, None)
    path.write_bytes(age.encrypt_bytes(json.dumps(doc).encode(), kit.recipients))
    notes = phone.notes()
    assert next(m for m in notes["marks"] if m["id"] == "m900")["principles"] == ["Guiding"]
    assert next(c for c in notes["clips"] if c["id"] == "c901")["principles"] == []
    assert phone.client.get(f"/recordings/{rec_id}").status_code == 200
    status, body = phone.ops(_update("marks", "m900", {"note": "still here"}))
    assert status == 200, body
    assert json.loads(age.decrypt_bytes(path.read_bytes(), keys))["version"] == 3


def test_every_change_needs_the_csrf_token_and_an_unlocked_kit(
    phone: Phone, app: KitApp, film: tuple[Kit, str]
) -> None:
    before = phone.notes()["revision"]
    for token in ("", "forged"):
        status, answer = phone.post(
            "/recordings/{id}/notes", {"ops": [_add("marks", {"t": 1})]}, token
        )
        assert status == 400
        assert "did not act on it" in answer["error"]
    status, _ = phone.post("/recordings/{id}/clips/c1/export", {}, "forged")
    assert status == 400
    with app.test_client() as stranger:
        token = csrf(stranger)
        response = stranger.post(
            f"/recordings/{film[1]}/notes",
            json={"ops": [_add("marks", {"t": 1})]},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )
        assert response.status_code == 401
        assert response.get_json()["error"] == "The kit is locked."
    assert phone.notes()["revision"] == before


def test_two_phones_editing_at_once_both_keep_their_edits(
    app: KitApp, film: tuple[Kit, str]
) -> None:
    first, second = Phone(app, film[1]), Phone(app, film[1])
    seen_by_first = first.notes()  # the first phone's page, now out of date
    assert second.ops(_add("clips", {"in": 0.5, "out": 1.5, "name": "second phone"}))[0] == 200
    status, body = first.ops(_set("case.question", "More shared smiles at tea time"))
    assert status == 200
    assert body["revision"] == seen_by_first["revision"] + 2
    doc = body["notes"]
    assert doc["case"]["question"] == "More shared smiles at tea time"
    assert any(c["name"] == "second phone" for c in doc["clips"])

    # many at the same moment, from two sessions on threads: every mark arrives
    errors: list[Any] = []

    def mark(phone: Phone, t: float) -> None:
        status, body = phone.ops(_add("marks", {"t": t}))
        if status != 200:
            errors.append(body)

    threads = [
        threading.Thread(target=mark, args=(phone, 2 + n / 100))
        for n, phone in enumerate([first, second] * 5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    times = {m["t"] for m in first.notes()["marks"]}
    assert {round(2 + n / 100, 3) for n in range(10)} <= times


def test_unknown_ids_are_404_with_a_sentence(phone: Phone) -> None:
    status, body = phone.ops(_update("clips", "c999", {"name": "gone"}))
    assert status == 404
    assert body["error"] == "That clip is no longer in this recording's notes."
    status, body = phone.ops({"op": "delete", "list": "marks", "id": "m999"})
    assert status == 404
    assert "mark is no longer" in body["error"]
    status, body = phone.post("/recordings/{id}/clips/c999/export", {})
    assert status == 404
    for path, sentence in [
        ("/recordings/20260101T000000Z-abcd/notes", "There is no such recording on this kit."),
        ("/recordings/not-an-id/notes", "There is no such recording on this kit."),
        ("/recordings/..%2f..%2fetc/notes", "There is nothing here."),
    ]:
        status, body = phone.post(path, {"ops": [_set("case.code", "F-1")]})
        assert status == 404
        assert body["error"] == sentence
    for path in (
        f"/recordings/{phone.rec_id}/clips/c999.mp4",
        f"/recordings/{phone.rec_id}/stills/s999.jpg",
        f"/recordings/{phone.rec_id}/review".replace(phone.rec_id, "20260101T000000Z-abcd"),
    ):
        response = phone.client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 404, path
        assert response.get_json()["error"].endswith(".")


def test_a_clip_exports_and_plays_from_its_own_encrypted_file(
    phone: Phone, film: tuple[Kit, str]
) -> None:
    kit, rec_id = film
    status, body = phone.ops(_add("clips", {"in": 1.0, "out": 2.0, "name": "wait"}))
    clip_id = f"c{body['notes']['next_id'] - 1}"
    # not exported yet: nothing to play
    assert phone.client.get(f"/recordings/{rec_id}/clips/{clip_id}.mp4").status_code == 404
    status, body = phone.post(f"/recordings/{{id}}/clips/{clip_id}/export", {"exact": False})
    assert status == 200, body
    clip = next(c for c in body["notes"]["clips"] if c["id"] == clip_id)
    assert re.fullmatch(r"clip-\d+\.mp4", clip["file"])
    assert clip["exported_in"] == pytest.approx(1.0, abs=1 / 30)
    stored = kit.library.data.derived(rec_id, clip["file"])
    plain = age.decrypt_bytes(stored.read_bytes(), [_identity(kit)])

    response = phone.client.get(
        f"/recordings/{rec_id}/clips/{clip_id}.mp4", headers={"Range": "bytes=0-1"}
    )
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-1/{len(plain)}"
    assert response.mimetype == "video/mp4"
    assert response.get_data() == plain[:2]
    assert phone.client.get(f"/recordings/{rec_id}/clips/{clip_id}.mp4").get_data() == plain

    status, body = phone.post("/recordings/{id}/clips/" + clip_id + "/export", {"exact": "yes"})
    assert status == 400
    status, body = phone.post("/recordings/{id}/stills", {"t": 99, "caption": ""})
    assert status == 400
    assert "no frame at" in body["error"]


def test_a_still_is_kept_encrypted_and_shown_decrypted(phone: Phone, film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    for bad in ({"t": "soon"}, {"t": -1}, {"t": 1, "caption": 7}, {}):
        assert phone.post("/recordings/{id}/stills", bad)[0] == 400
    status, body = phone.post("/recordings/{id}/stills", {"t": 1.5, "caption": "a shared look"})
    assert status == 200, body
    still = body["notes"]["stills"][-1]
    assert still["caption"] == "a shared look"
    assert still["t"] == pytest.approx(1.5, abs=1 / 30)
    stored = kit.library.data.derived(rec_id, still["file"]).read_bytes()
    assert not stored.startswith(b"\xff\xd8")  # ciphertext on the card
    response = phone.client.get(f"/recordings/{rec_id}/stills/{still['id']}.jpg")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.get_data().startswith(b"\xff\xd8")
    assert response.headers["Cache-Control"] == "no-store"


def test_downloads_are_off_unless_allowed_and_each_one_is_audited(
    phone: Phone, film: tuple[Kit, str]
) -> None:
    kit, rec_id = film
    status, body = phone.post("/recordings/{id}/stills", {"t": 0.5})
    assert status == 200
    still_id = body["notes"]["stills"][-1]["id"]
    url = f"/recordings/{rec_id}/stills/{still_id}/download"
    response = phone.client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "Downloads to the phone are turned off on this kit."
    assert "allow_downloads" in response.get_json()["hint"]
    assert 'href="' + url not in phone.client.get(f"/recordings/{rec_id}").get_data(as_text=True)

    allowing = _app(kit, allow_downloads=True)
    try:
        other = Phone(allowing, rec_id)
        before = len(kit.library.audit.rows())
        response = other.client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.get_data().startswith(b"\xff\xd8")
        rows = kit.library.audit.rows()[before:]
        assert [(r.event, r.recording) for r in rows] == [("download", rec_id)]
        assert rows[0].detail["file"].startswith("still-")
    finally:
        allowing.close()


def test_the_list_and_the_film_page_show_the_case_and_its_consent(
    phone: Phone, film: tuple[Kit, str]
) -> None:
    kit, rec_id = film
    page = phone.client.get("/recordings").get_data(as_text=True)
    # the list names the case and cycle the film is filed in (#14: the kit's helper case)
    assert "Case F-0231 · cycle 1" in page
    assert "No consent recorded" not in page  # the list follows the case's consent
    row = kit.library.index.get(rec_id)
    film_page = phone.client.get(f"/recordings/{rec_id}").get_data(as_text=True)
    # the film page shows its case's consent, with a link to the case; no consent of its own
    assert f'<a href="/case/{row.case_id}">Case F-0231</a> · cycle 1 · consent recorded on' in (
        film_page
    )
    assert "No consent recorded" not in film_page and 'id="tab-consent"' not in film_page
    assert 'data-field="consent.' not in film_page and 'data-field="case.code"' not in film_page
    status, body = phone.ops(
        _set("consent.given_on", "2026-11-01"), _set("consent.stops_on_request", True)
    )
    assert status == 400 and "recorded for the whole case" in body["error"]
    assert phone.notes()["consent"] is None and phone.notes()["consent_recorded"] is False
    page = phone.client.get("/recordings").get_data(as_text=True)
    assert 'option value="F-0231"' in page
    assert rec_id in phone.client.get("/recordings?case=F-0231").get_data(as_text=True)
    # an unknown case shows every film, and never repeats what was asked
    page = phone.client.get("/recordings?case=<b>X-1</b>").get_data(as_text=True)
    assert rec_id in page
    assert "<b>X-1" not in page and "&lt;b&gt;X-1" not in page


def test_the_shared_review_offers_no_way_into_the_film(phone: Phone, film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    status, body = phone.ops(_add("clips", {"in": 0.2, "out": 1.2, "name": "first smile"}))
    clip_id = f"c{body['notes']['next_id'] - 1}"
    page = phone.client.get(f"/recordings/{rec_id}/review").get_data(as_text=True)
    assert f"/clips/{clip_id}.mp4" not in page  # not exported: not in the review
    phone.post(f"/recordings/{{id}}/clips/{clip_id}/export", {})
    response = phone.client.get(f"/recordings/{rec_id}/review")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"/clips/{clip_id}.mp4" in page
    assert "What did you notice going well?" in page
    assert "film.mp4" not in page
    # one link only, "Back to the case" (behind the passphrase once the review is started
    # as the parent's, tests/web/test_review_mode.py): not to the film, not to other families
    case_id = kit.library.index.get(rec_id).case_id
    assert re.findall(r'<a [^>]*href="([^"]*)"', page) == [f"/case/{case_id}"]
    assert ".age" not in page and "clip-" not in page and "first smile" not in page
    assert " controls" not in page  # no player clock of minutes remaining

    status, body = phone.ops(
        _set("review.reflections", "She waited for him."), _set("review.done", True)
    )
    assert status == 200
    assert kit.library.index.get(rec_id).review_done is True


def test_a_long_note_fits_but_a_huge_body_is_a_413(phone: Phone) -> None:
    words = "☺" * 20_000  # the longest free notes, three bytes each in UTF-8
    status, body = phone.ops(_set("case.notes", words))
    assert status == 200, body
    assert body["notes"]["case"]["notes"] == words
    status, body = phone.ops(_set("case.notes", "x" * 200_000))
    assert status == 413
    assert "more than this page accepts" in body["error"]


def _identity(kit: Kit) -> age.X25519Identity:
    wrapped = kit.library.data.kit_identity_file.read_bytes()
    return age.unwrap_identity(wrapped, PASSPHRASE)
