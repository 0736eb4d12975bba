"""Review-only mode (#16) through the page's routes: once a review starts, every route of
every blueprint but the review's own answers the gate page; only the kit's passphrase
leaves it; reflections go to the case's cycle; a changed clip is cut again before playing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import PASSPHRASE, FakeClock, csrf, make_kit, page_settings, unlock
from web.kit import KitApp, create_app

GATE = "This phone is showing a shared review"
OTHER = "20260101T000000Z-abcd"  # another family's recording, by its address
# what still answers in review mode, and why: the review's own page, its save endpoints
# and exported media (of its own films only), the gate itself, static files and the
# phones' connectivity probes (which carry no cookie of the kit's)
OPEN = {
    "static",
    "review.page",
    "review_save.film",
    "review_save.prepare",
    "media.clip_mp4",
    "media.still_jpg",
    "review_mode.gate_page",
    "review_mode.leave",
}


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kit]:
    kit = make_kit(tmp_path_factory.mktemp("review") / "data", fast=True)
    yield kit
    kit.close()


@pytest.fixture(scope="module")
def rec_id(kit: Kit) -> str:
    rec_id = kit.recorder.start(max_seconds=3)
    assert kit.recorder.wait(60)
    return rec_id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(kit: Kit, clock: FakeClock) -> Iterator[KitApp]:
    app = create_app(
        kit, settings=page_settings(), secret_key="review", clock=clock, thumbnails=False
    )
    yield app
    app.close()


def _post(client: FlaskClient, path: str, body: Any, token: str) -> tuple[int, Any]:
    r = client.post(
        path,
        data=json.dumps(body),
        headers={"Accept": "application/json", "Content-Type": "application/json",
                 "X-CSRF-Token": token},
    )  # fmt: skip
    return r.status_code, r.get_json(silent=True)


def _start(client: FlaskClient, rec_id: str, pin: str = "") -> str:
    token = csrf(client, "/")
    _post(client, f"/recordings/{rec_id}/notes", {"ops": [
        {"op": "add", "list": "clips", "item": {"in": 0.5, "out": 1.5}}]}, token)  # fmt: skip
    form = {"csrf_token": token, "pin": pin}
    r = client.post(f"/recordings/{rec_id}/review/start", data=form)
    assert r.status_code == 303 and r.location.endswith(f"/recordings/{rec_id}/review")
    return token


def _values(rule_args: set[str], rec_id: str, case_id: str) -> dict[str, Any]:
    known = {"rec_id": rec_id, "case_id": case_id, "n": 1, "clip_id": "c1", "still_id": "s1",
             "item_id": "c1", "kind": "clips", "filename": "app.css"}  # fmt: skip
    missing = rule_args - set(known)
    assert not missing, f"a new route argument {missing}: add a value for it here"
    return {name: known[name] for name in rule_args}


def test_every_route_outside_the_review_answers_the_gate(
    app: KitApp, kit: Kit, rec_id: str
) -> None:
    client = app.test_client()
    assert unlock(client) == 302
    token = _start(client, rec_id)
    case_id = kit.library.index.get(rec_id).case_id or ""
    answered: set[str] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "review_mode.leave":
            continue  # a wrong passphrase would make the kit wait; tested below
        for film in (rec_id, OTHER):
            path = app.url_map.bind("localhost").build(
                rule.endpoint, _values(set(rule.arguments), film, case_id)
            )
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                r = client.open(path, method=method, headers={"X-CSRF-Token": token})
                text = r.get_data(as_text=True)
                r.close()
                refused = r.status_code == 403 and "shared review" in text
                if not refused:
                    assert film == rec_id or "rec_id" not in rule.arguments, (
                        f"{method} {path} answered another family's address"
                    )
                    answered.add(rule.endpoint)
    probes = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("probes.")
    }
    assert answered == (OPEN - {"review_mode.leave"}) | probes


def test_back_and_typed_addresses_stay_in_the_review_until_the_passphrase(
    app: KitApp, kit: Kit, rec_id: str, clock: FakeClock
) -> None:
    client = app.test_client()
    assert unlock(client) == 302
    before = client.get_cookie("vigkit")
    assert before is not None
    token = _start(client, rec_id)
    for path in ("/recordings", f"/recordings/{rec_id}", "/", "/case", "/settings", "/unlock"):
        r = client.get(path)
        assert r.status_code == 403 and GATE in r.get_data(as_text=True), path
    # the cookie from before the review, sent again, is still in review mode
    other = app.test_client()
    other.set_cookie("vigkit", before.value)
    assert other.get("/recordings").status_code == 403
    r = client.post("/review/leave", data={"passphrase": "not it", "csrf_token": token})
    assert r.status_code == 401 and "review stays open" in r.get_data(as_text=True)
    clock.now = app.services.keyring.backoff_ends_at()  # the key ring's back-off, tested there
    r = client.post("/review/leave", data={"passphrase": PASSPHRASE, "csrf_token": token})
    case_id = kit.library.index.get(rec_id).case_id
    assert r.status_code == 303 and r.location.endswith(f"/case/{case_id}")
    assert client.get("/recordings").status_code == 200


def test_reflections_go_to_the_cycle_and_a_changed_clip_is_cut_again(
    app: KitApp, kit: Kit, rec_id: str
) -> None:
    client = app.test_client()
    assert unlock(client) == 302
    token = _start(client, rec_id)
    page = client.get(f"/recordings/{rec_id}/review").get_data(as_text=True)
    assert "How do we" in page or "Your question" in page
    status, body = _post(client, f"/recordings/{rec_id}/clips/c1/prepare", {}, token)
    assert status == 200, body
    doc = app.services.notes.load(rec_id, [app.services.keyring.held_identity()]).to_json()
    clip = next(c for c in doc["clips"] if c["id"] == "c1")
    first_file = clip["file"]
    assert abs((clip["exported_out"] - clip["exported_in"]) - 1.0) < 0.1
    # the same clip again: nothing to cut
    assert _post(client, f"/recordings/{rec_id}/clips/c1/prepare", {}, token)[0] == 200
    doc = app.services.notes.load(rec_id, [app.services.keyring.held_identity()]).to_json()
    assert next(c for c in doc["clips"] if c["id"] == "c1")["file"] == first_file
    # changed after export (on the film page, here straight into the notes store)
    identity = app.services.keyring.held_identity()
    assert identity is not None
    app.services.notes.apply(rec_id, [{"op": "update", "list": "clips", "id": "c1",
        "fields": {"out": 2.5}}], [identity], kit.recipients)  # fmt: skip
    assert _post(client, f"/recordings/{rec_id}/clips/c1/prepare", {}, token)[0] == 200
    doc = app.services.notes.load(rec_id, [identity]).to_json()
    clip = next(c for c in doc["clips"] if c["id"] == "c1")
    assert (
        clip["file"] != first_file and abs((clip["exported_out"] - clip["exported_in"]) - 2.0) < 0.1
    )
    # reflections: one per moment, a closing one, done
    moment = {
        "at": f"{rec_id}/c1",
        "prompt": "What did you notice going well?",
        "text": "She smiled.",
    }
    said = {"moments": [moment], "closing": "We take turns.", "done": True}
    status, body = _post(client, f"/recordings/{rec_id}/review/reflections", said, token)
    assert status == 200, body
    status, body = _post(client, f"/recordings/{rec_id}/review/reflections",
                         {"moments": [{**moment, "at": f"{OTHER}/c1"}]}, token)  # fmt: skip
    assert status == 400 and "not in this review" in body["error"]
    row = kit.library.index.get(rec_id)
    assert row.review_done and row.case_id is not None and row.cycle is not None
    case = kit.cases.load(row.case_id, [identity])
    review = next(c for c in case.cycles if c.n == row.cycle).review
    assert review.about(f"{rec_id}/c1") == "She smiled." and review.closing == "We take turns."


def test_the_prompts_are_the_kits_to_edit(app: KitApp, kit: Kit, rec_id: str) -> None:
    client = app.test_client()
    assert unlock(client) == 302
    token = csrf(client, "/settings")
    page = client.get("/settings").get_data(as_text=True)
    assert "What did you notice going well?\nHow did your child respond" in page  # the seeds
    typed = "\n".join(f"Question {n}?" for n in range(7))
    r = client.post("/settings/prompts", data={"prompts": typed, "csrf_token": token})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "between 1 and 6 prompts" in text and "Question 6?" in text
    mine = "What did you enjoy here?\n\nWhat did he do next?"
    r = client.post("/settings/prompts", data={"prompts": mine, "csrf_token": token})
    assert r.status_code == 303
    assert "The questions are saved." in client.get(r.location).get_data(as_text=True)
    stored = (kit.library.data.root / "prompts.age").read_bytes()
    assert b"enjoy" not in stored  # encrypted, like the principles
    page = client.get(f"/recordings/{rec_id}/review").get_data(as_text=True)
    assert "What did you enjoy here?" in page and "What did you notice going well?" not in page


def test_a_pin_set_for_the_review_leaves_it_and_is_kept_nowhere(
    app: KitApp, kit: Kit, rec_id: str, clock: FakeClock
) -> None:
    client = app.test_client()
    assert unlock(client) == 302
    token = csrf(client, "/")
    r = client.post(f"/recordings/{rec_id}/review/start", data={"csrf_token": token, "pin": "12"})
    assert r.status_code == 400 and "4 to 8 digits" in r.get_data(as_text=True)
    assert client.get("/recordings").status_code == 200  # refused: not held
    _start(client, rec_id, pin="2468")
    assert "or this review's PIN" in client.get("/recordings").get_data(as_text=True)

    def leave(typed: str) -> tuple[int, str]:
        r = client.post("/review/leave", data={"passphrase": typed, "csrf_token": token})
        return r.status_code, r.get_data(as_text=True)

    status, text = leave("1357")
    assert status == 401 and "PIN, so the review stays open" in text
    status, text = leave("2468")  # at once: each wrong try waits longer
    assert status == 429 and "wait 1 seconds" in text
    clock.now += 2
    assert leave("2468")[0] == 303
    assert client.get("/recordings").status_code == 200
    for path in kit.library.data.root.rglob("*"):
        if path.is_file():
            assert b"2468" not in path.read_bytes(), path

    # five wrong tries and the PIN is off: only the passphrase leaves
    _start(client, rec_id, pin="2468")
    for _ in range(5):
        assert leave("1111")[0] == 401
        clock.now += 100
    status, text = leave("2468")
    assert status == 401 and "passphrase, so the review stays open" in text
    clock.now = app.services.keyring.backoff_ends_at()  # the key ring's back-off, tested there
    assert leave(PASSPHRASE)[0] == 303
