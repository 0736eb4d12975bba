"""Cases and consent first (issue #14), through the phone's JSON: a real synthetic kit,
real encryption, the real recorder; every refusal a sentence, never a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device import cases
from device.kit.assembly import Kit
from device.library import State
from device.recording.recorder import RecorderState
from device.sync import outbox
from tests.recording.conftest import wait_for
from tests.web.web_helpers import CASE, CONSENT, FakeClock, csrf, make_kit, page_settings, unlock
from web.kit import KitApp, create_app


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = make_kit(tmp_path / "data", fast=True, case=False)
    yield kit
    kit.close()


@pytest.fixture
def app(kit: Kit) -> Iterator[KitApp]:
    app = create_app(
        kit,
        settings=page_settings(),
        secret_key="cases",
        idle_timeout_s=60,
        clock=FakeClock(),
        thumbnails=False,
    )
    yield app
    app.close()


class Phone:
    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        assert unlock(self.client) == 302
        self.token = csrf(self.client, "/")

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        r = self.client.post(
            path,
            data=json.dumps(body),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-CSRF-Token": self.token,
            },
        )
        return r.status_code, r.get_json(silent=True)

    def get(self, path: str) -> tuple[int, Any]:
        r = self.client.get(path, headers={"Accept": "application/json"})
        return r.status_code, r.get_json(silent=True)

    def record(self, action: str) -> tuple[int, Any]:
        r = self.client.post(
            "/record",
            # a Stop this soon after the start is asked once more: the test has answered
            data={"action": action, "csrf_token": self.token, "confirm": "yes"},
            headers={"Accept": "application/json"},
        )
        return r.status_code, r.get_json(silent=True)

    def new_case(self, code: str = CASE, consent: Any = CONSENT) -> dict[str, Any]:
        status, body = self.post(
            "/cases", {"code": code, "question": "How do we take turns?", "consent": consent}
        )
        assert status == 201, body
        case: dict[str, Any] = body["case"]
        return case


@pytest.fixture
def phone(app: Flask) -> Phone:
    return Phone(app)


def _film(kit: Kit, seconds: float = 1.5) -> str:
    rec_id = kit.recorder.start(max_seconds=seconds)
    assert kit.recorder.wait(60)
    return rec_id


def test_a_case_is_encrypted_under_an_opaque_name(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    assert case["code"] == CASE and case["consented"] and case["cycles"][0]["n"] == 1
    assert case["erase_by"] is None  # two months after closing: the case is open
    files = list((kit.library.data.root / "cases").iterdir())
    assert [f.name for f in files] == [f"{case['id']}.age"]
    assert CASE not in case["id"]
    for path in kit.library.data.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert CASE.encode() not in data and b"take turns" not in data, path
    status, body = phone.post(
        f"/cases/{case['id']}", {"ops": [{"op": "question", "text": "How do we share play?"}]}
    )
    assert status == 200
    questions = body["case"]["cycles"][0]["questions"]
    assert [q["text"] for q in questions] == ["How do we take turns?", "How do we share play?"]
    status, listed = phone.get("/cases")
    assert [c["id"] for c in listed["cases"]] == [case["id"]]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"code": "Sarah"}, 400, "does not look like a case code"),
        ({"code": "../F-01"}, 400, "does not look like a case code"),
        ({"code": "F/0231"}, 400, "does not look like a case code"),
        ({"code": "F-0777", "consent": {**CONSENT, "given_on": "2999-01-01"}}, 400, "still to"),
        (
            {"code": "F-0777", "consent": {**CONSENT, "erase_on": "2020-01-01"}},
            400,
            "before the date consent was given",
        ),
        ({"code": "F-0777", "consent": {**CONSENT, "training": None}}, 400, "yes or no"),
        ({"code": CASE}, 409, "already a case"),
    ],
)
def test_bad_input_is_refused_in_words_and_nothing_is_kept(
    kit: Kit, phone: Phone, body: dict[str, Any], status: int, words: str
) -> None:
    phone.new_case()
    got, answer = phone.post("/cases", body)
    assert got == status and words in answer["error"], answer
    assert answer["hint"]
    assert len(kit.cases.registry.all()) == 1
    assert len(list((kit.library.data.root / "cases").iterdir())) == 1


def test_the_page_cannot_film_without_consent(kit: Kit, phone: Phone) -> None:
    status, body = phone.record("start")
    assert status == 409 and body["error"] == "No case is chosen for filming."
    status, made = phone.post("/cases", {"code": "F-0232"})
    assert status == 201 and not made["case"]["consented"]
    assert phone.post("/cases/current", {"case": made["case"]["id"]})[0] == 200
    status, body = phone.record("start")
    assert status == 409 and body["error"] == "Consent has not been recorded for the current case."
    assert kit.library.index.all() == []
    status, _ = phone.post(f"/cases/{made['case']['id']}/consent", {"consent": CONSENT})
    assert status == 200
    assert phone.record("start")[0] == 200
    wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    phone.record("stop")
    assert kit.recorder.wait(60)
    (row,) = kit.library.index.all()
    assert (row.case_id, row.cycle, row.held) == (made["case"]["id"], 1, False)


def test_cycles_count_themselves_and_the_question_carries(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    first = _film(kit)
    second = _film(kit)
    status, _ = phone.post(
        f"/recordings/{first}/notes",
        {"ops": [{"op": "set", "field": "review.done", "value": True}]},
    )
    assert status == 200
    third = _film(kit)
    _, body = phone.get(f"/cases/{case['id']}")
    cycles = body["case"]["cycles"]
    assert [c["n"] for c in cycles] == [1, 2]
    assert cycles[0]["films"] == [first, second] and cycles[1]["films"] == [third]
    assert cycles[1]["question"] == "How do we take turns?"
    status, body = phone.post(f"/cases/{case['id']}/cycles", {"question": "Who leads now?"})
    assert status == 200 and [c["n"] for c in body["case"]["cycles"]] == [1, 2, 3]
    assert kit.library.index.get(_film(kit)).cycle == 3


def test_an_unassigned_film_is_held_until_assigned(kit: Kit, phone: Phone) -> None:
    rec_id = _film(kit)  # no current case: the recorder (as the button) still films
    row = kit.library.index.get(rec_id)
    assert row.held and row.case_id is None and row.state == State.COMPLETE
    assert rec_id not in [r.id for r in outbox.to_send(kit.library.index)]
    assert phone.get("/cases/unassigned")[1]["recordings"] == [rec_id]
    ops = [{"op": "add", "list": "clips", "item": {"in": 0.2, "out": 1.0}}]
    _, notes = phone.post(f"/recordings/{rec_id}/notes", {"ops": ops})
    clip = notes["notes"]["clips"][0]["id"]
    status, body = phone.post(f"/recordings/{rec_id}/clips/{clip}/export", {})
    assert status == 409 and "not in a case yet" in body["error"]
    status, body = phone.get(f"/recordings/{rec_id}/review")
    assert status == 409 and "not in a case yet" in body["error"]
    case = phone.new_case()
    status, body = phone.post(f"/recordings/{rec_id}/case", {"case": case["id"]})
    assert status == 200 and body["case"]["cycles"][0]["films"] == [rec_id]
    assert not kit.library.index.get(rec_id).held
    assert rec_id in [r.id for r in outbox.to_send(kit.library.index)]


def _files_of(kit: Kit, rec_id: str) -> list[Path]:
    return [p for p in kit.library.data.root.rglob(f"*{rec_id}*") if p.is_file()]


def test_erase_a_film_removes_every_file_and_queues_a_request(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    rec_id = _film(kit)
    phone.post(f"/recordings/{rec_id}/stills", {"t": 0.5})
    phone.post(
        f"/recordings/{rec_id}/notes", {"ops": [{"op": "set", "field": "case.notes", "value": "x"}]}
    )
    assert len(_files_of(kit, rec_id)) >= 4  # film, index, notes, still (and more)
    status, body = phone.post(f"/recordings/{rec_id}/erase", {"code": "F-9999"})
    assert status == 400 and "does not match" in body["error"]
    assert len(_files_of(kit, rec_id)) >= 4
    status, body = phone.post(f"/recordings/{rec_id}/erase", {"code": "f-0231"})
    assert status == 200 and body["erased"] == [rec_id]
    assert _files_of(kit, rec_id) == []
    assert kit.library.index.get(rec_id).state == State.DELETED
    assert [r.event for r in kit.library.audit.rows() if r.recording == rec_id][-1] == "erase now"
    assert kit.library.audit.verify() == []
    (request,) = cases.pending_requests(kit.cases.registry)
    assert (request.kind, request.case_id, request.recordings) == ("film", case["id"], (rec_id,))
    assert CASE not in json.dumps(request.__dict__)
    assert phone.get(f"/cases/{case['id']}")[1]["case"]["cycles"][0]["films"] == []
    assert phone.get(f"/recordings/{rec_id}")[0] == 404


def test_erase_a_cycle_and_a_case(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    one = _film(kit)
    phone.post(f"/cases/{case['id']}/cycles", {})
    two = _film(kit)
    status, body = phone.post(f"/cases/{case['id']}/cycles/1/erase", {"code": CASE})
    assert status == 200 and body["erased"] == [one]
    assert _files_of(kit, one) == [] and _files_of(kit, two) != []
    status, body = phone.post(f"/cases/{case['id']}/erase", {"code": CASE})
    assert status == 200 and body["erased"] == [two]
    assert _files_of(kit, two) == []
    assert list((kit.library.data.root / "cases").iterdir()) == []
    assert phone.get(f"/cases/{case['id']}")[0] == 404
    kinds = [r.kind for r in cases.pending_requests(kit.cases.registry)]
    assert kinds == ["cycle", "case"]
    assert kit.cases.registry.current() is None


def test_withdrawing_consent_during_a_recording_leaves_only_the_audit(
    kit: Kit, phone: Phone
) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    earlier = _film(kit)
    rec_id = kit.recorder.start(max_seconds=60)
    wait_for(lambda: kit.library.data.film(rec_id).exists())
    status, body = phone.post(f"/cases/{case['id']}/withdraw", {"code": CASE})
    assert status == 200, body
    assert kit.recorder.status.state == RecorderState.IDLE
    assert body["case"]["open"] is False and body["case"]["consent"]["withdrawn_on"]
    for film in (earlier, rec_id):
        assert _files_of(kit, film) == []
        assert kit.library.index.get(film).state == State.DELETED
        assert "erase now" in [r.event for r in kit.library.audit.rows() if r.recording == film]
    assert kit.cases.registry.current() is None
    assert phone.record("start")[0] == 409


def test_two_phones_editing_one_case_keep_both_edits(app: Flask, phone: Phone) -> None:
    other = Phone(app)
    case = phone.new_case()
    path = f"/cases/{case['id']}"
    assert phone.post(path, {"ops": [{"op": "question", "text": "Who leads?"}]})[0] == 200
    assert (
        other.post(path, {"ops": [{"op": "notes", "text": "Met at home.", "base": ""}]})[0] == 200
    )
    _, body = phone.get(path)
    assert body["case"]["question"] == "Who leads?" and body["case"]["notes"] == "Met at home."
    status, answer = phone.post(path, {"ops": [{"op": "notes", "text": "Mine.", "base": ""}]})
    assert status == 409 and "Someone else changed" in answer["error"]
    assert phone.get(path)[1]["case"]["notes"] == "Met at home."


def test_unknown_cases_and_odd_bodies_are_sentences(phone: Phone) -> None:
    for path in ("/cases/case-000000000000", "/cases/..%2F..%2Fetc", "/cases/F-0231"):
        status, body = phone.get(path)
        assert status == 404 and body["error"], path
    status, body = phone.post("/cases", [1, 2])
    assert status == 400 and body["error"]
    status, body = phone.post("/cases/current", {"case": "case-000000000000"})
    assert status == 404


def test_two_phones_editing_at_the_same_moment_keep_every_edit_or_say_why(
    app: Flask, phone: Phone
) -> None:
    """Two phones, each on its own thread, sending edits of one case over HTTP at once:
    every question lands (a lock and the latest document); of two notes written from the
    same starting point, one is kept and the other is told, in words, with a 409."""
    case_id = phone.new_case()["id"]
    path = f"/cases/{case_id}"
    phones = [phone, Phone(app)]
    answers: dict[int, list[tuple[int, Any]]] = {0: [], 1: []}
    start = threading.Barrier(2)

    def edit(n: int) -> None:
        start.wait()
        for k in range(6):
            op = {"op": "question", "text": f"Phone {n}, wording {k}"}
            answers[n].append(phones[n].post(path, {"ops": [op]}))
        note = {"op": "notes", "text": f"Written on phone {n}.", "base": ""}
        answers[n].append(phones[n].post(path, {"ops": [note]}))

    threads = [threading.Thread(target=edit, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    questions = [a for n in (0, 1) for a in answers[n][:6]]
    assert [status for status, _ in questions] == [200] * 12
    notes = sorted((answers[n][6][0], n) for n in (0, 1))
    assert [status for status, _ in notes] == [200, 409], answers
    (kept,), (lost,) = [n for s, n in notes if s == 200], [n for s, n in notes if s == 409]
    assert "Someone else changed this case's notes" in answers[lost][6][1]["error"]
    _, body = phone.get(path)
    wordings = [q["text"] for q in body["case"]["cycles"][0]["questions"][1:]]
    assert sorted(wordings) == sorted(f"Phone {n}, wording {k}" for n in (0, 1) for k in range(6))
    assert body["case"]["notes"] == f"Written on phone {kept}."
    assert body["case"]["revision"] == 1 + 12 + 1


def test_withdrawal_cannot_be_sent_as_a_plain_edit(kit: Kit, phone: Phone) -> None:
    """Withdrawing must erase: only the withdraw route (with the typed code) does it."""
    case = phone.new_case()
    status, body = phone.post(f"/cases/{case['id']}", {"ops": [{"op": "withdraw"}]})
    assert status == 400 and body["error"].startswith("Unknown change 'withdraw'")
    assert phone.get(f"/cases/{case['id']}")[1]["case"]["consented"]
    status, body = phone.post(f"/cases/{case['id']}/withdraw", {"code": "F-1111"})
    assert status == 400 and "does not match" in body["error"]
    assert phone.get(f"/cases/{case['id']}")[1]["case"]["consented"]


def test_films_erase_by_follows_their_case(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    rec_id = _film(kit)
    assert kit.library.index.get(rec_id).erase_by is None  # open, rule in months
    row = kit.cases.registry.get(case["id"])
    assert row is not None and row.consent_on == CONSENT["given_on"] and row.erase_by is None
    status, body = phone.post(
        f"/cases/{case['id']}", {"ops": [{"op": "close", "on": "2026-11-30"}]}
    )
    assert status == 200 and body["case"]["erase_by"] == "2027-01-30"
    assert kit.library.index.get(rec_id).erase_by == "2027-01-30"
    dated = {**CONSENT, "erase_on": "2026-12-24"}
    status, body = phone.post(f"/cases/{case['id']}/consent", {"consent": dated})
    assert status == 200 and kit.library.index.get(rec_id).erase_by == "2026-12-24"
    with kit.library.index.transaction() as db:  # the index: ids, dates and numbers only
        cells = [
            str(v)
            for t in ("cases", "erase_requests", "meta")
            for r in db.execute(f"SELECT * FROM {t}")
            for v in r
        ]
    assert not any(CASE in c or "turns" in c for c in cells)


def test_erasing_a_case_being_filmed_erases_nothing(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    earlier = _film(kit)
    rec_id = kit.recorder.start(max_seconds=60)
    try:
        status, body = phone.post(f"/cases/{case['id']}/erase", {"code": CASE})
        assert status == 400 and "being recorded now" in body["error"]
        assert _files_of(kit, earlier) != [] and phone.get(f"/cases/{case['id']}")[0] == 200
        assert cases.pending_requests(kit.cases.registry) == []
    finally:
        kit.recorder.stop(wait=True)
    assert kit.library.index.get(rec_id).state != State.DELETED  # untouched by the erase
    assert _files_of(kit, rec_id) != []


def test_an_erasure_cut_short_by_a_power_cut_is_finished_at_start(kit: Kit, phone: Phone) -> None:
    case = phone.new_case()
    phone.post("/cases/current", {"case": case["id"]})
    rec_id = _film(kit)
    left = _files_of(kit, rec_id)
    kit.library.index.update(rec_id, state=State.DELETED)  # the row marked, then the cut
    assert cases.finish_erasures(kit.library) == len(left)
    assert _files_of(kit, rec_id) == []


def test_a_film_whose_case_has_no_consent_is_not_clipped_exported_or_reviewed(
    kit: Kit, phone: Phone
) -> None:
    """As a film from before cases lands after the upgrade, when its old notes had a case
    code but no consent: in the case, and refused (409) until the case's consent is in."""
    rec_id = _film(kit)
    status, made = phone.post("/cases", {"code": "F-0500"})
    case_id = made["case"]["id"]
    kit.cases.registry.assign(rec_id, case_id, 1)  # what the upgrade does with such a film
    ops = [{"op": "add", "list": "clips", "item": {"in": 0.2, "out": 1.0}}]
    _, notes = phone.post(f"/recordings/{rec_id}/notes", {"ops": ops})
    clip = notes["notes"]["clips"][0]["id"]
    sentence = "Consent has not been recorded for this film's case"
    for status, body in (
        phone.post(f"/recordings/{rec_id}/clips/{clip}/export", {}),
        phone.post(f"/recordings/{rec_id}/stills", {"t": 0.5}),
        phone.get(f"/recordings/{rec_id}/review"),
        phone.get(f"/case/{case_id}/cycles/1/review"),
    ):
        assert status == 409 and body["error"].startswith(sentence), body
    made_files = [p.name for p in kit.library.data.recordings.glob(f"{rec_id}.*")]
    assert not [n for n in made_files if "clip-" in n or "still-" in n], made_files
    film_page = phone.client.get(f"/recordings/{rec_id}").get_data(as_text=True)
    assert "Record the consent for case F-0500" in film_page
    assert f'href="/case/{case_id}/consent"' in film_page
    assert phone.post(f"/cases/{case_id}/consent", {"consent": CONSENT})[0] == 200
    status, body = phone.post(f"/recordings/{rec_id}/clips/{clip}/export", {})
    assert status == 200 and body["notes"]["clips"][0]["file"], body
    assert phone.get(f"/case/{case_id}/cycles/1/review")[0] == 200
