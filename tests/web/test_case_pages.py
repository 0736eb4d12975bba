"""The case pages as plain forms (no JavaScript): New case with consent, Home's case line
and Record, refusals that keep what was typed, Change case, erase confirmed by the code."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device import age
from device.kit.assembly import Kit
from tests.web.web_helpers import CONSENT_FORM as CONSENT
from tests.web.web_helpers import csrf, make_kit, unlock
from web.kit import KitApp


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    """A kit with no case yet (the page starts from nothing)."""
    kit = make_kit(tmp_path / "data", fast=True, case=False)
    yield kit
    kit.close()


def _new_case(client: FlaskClient, **fields: str) -> tuple[int, str, str]:
    form = {"code": "F-0231", "question": "Jo and Sam enjoying play", **CONSENT, **fields}
    form = {k: v for k, v in form.items() if v != ""}
    form["csrf_token"] = csrf(client, "/case/new")
    answer = client.post("/case/new", data=form)
    return answer.status_code, answer.headers.get("Location", ""), answer.get_data(as_text=True)


def test_home_offers_record_only_with_a_consented_case(unlocked: FlaskClient, kit: Kit) -> None:
    home = unlocked.get("/").get_data(as_text=True)
    assert "No case chosen" in home and "Change case" in home and "New case" in home
    assert re.search(r"<form[^>]*data-record[^>]*\bhidden\b", home)
    assert "no case is chosen for filming" in home.lower()

    status, where, _ = _new_case(unlocked)
    assert status == 303 and where.startswith("/case/")
    home = unlocked.get("/").get_data(as_text=True)
    assert "Case F-0231 · cycle 1" in home
    assert not re.search(r"<form[^>]*data-record[^>]*\bhidden\b", home)
    case = kit.cases.registry.get(kit.cases.registry.current() or "")
    assert case is not None and case.consented


def test_a_refused_consent_keeps_what_was_typed(unlocked: FlaskClient, kit: Kit) -> None:
    status, _, page = _new_case(unlocked, stops_on_request="")
    assert status == 400
    assert "told that filming stops whenever they ask" in page
    assert 'value="F-0231"' in page and "Jo and Sam enjoying play" in page
    assert re.search(r'name="training" value="no" checked', page)
    assert kit.cases.registry.all() == []  # nothing kept of a refused case

    status, _, page = _new_case(unlocked, stops_on_request="yes", training="")
    assert status == 400 and "Answer yes or no: the films may be used in training" in page

    future = (date.today() + timedelta(days=3)).isoformat()
    status, _, page = _new_case(unlocked, given_on=future)
    assert status == 400 and "day still to come" in page

    status, _, page = _new_case(unlocked, code="Jo Smith")
    assert status == 400 and 'value="Jo Smith"' in page


def test_nothing_is_ticked_for_the_parent(unlocked: FlaskClient) -> None:
    page = unlocked.get("/case/new").get_data(as_text=True)
    for name in ("practitioner", "supervisor", "stops_on_request", "training"):
        for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', page):
            assert "checked" not in tag, tag


def test_a_case_without_consent_says_what_is_missing(unlocked: FlaskClient, kit: Kit) -> None:
    token = csrf(unlocked, "/")
    made = unlocked.post(
        "/cases", json={"code": "F-0300"}, headers={"X-CSRF-Token": token}
    ).get_json()["case"]
    answer = unlocked.post("/case/current", data={"case": made["id"], "csrf_token": token})
    assert answer.status_code == 303
    home = unlocked.get("/").get_data(as_text=True)
    assert "consent has not been recorded for the current case" in home.lower()
    assert f'href="/case/{made["id"]}/consent"' in home
    refused = unlocked.post("/record", data={"action": "start", "csrf_token": token})
    assert refused.status_code == 409


def test_erasing_a_case_needs_its_code(unlocked: FlaskClient, kit: Kit) -> None:
    _, where, _ = _new_case(unlocked)
    case_id = where.rsplit("/", 1)[1]
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert "Case F-0231" in page and "Erase case" in page and "Withdraw consent" in page
    token = csrf(unlocked, f"/case/{case_id}/erase")
    wrong = unlocked.post(f"/case/{case_id}/erase", data={"code": "F-0232", "csrf_token": token})
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "nothing was erased" in text and 'value="F-0232"' in text
    assert kit.cases.registry.get(case_id) is not None
    right = unlocked.post(f"/case/{case_id}/erase", data={"code": "f-0231", "csrf_token": token})
    assert right.status_code == 303 and kit.cases.registry.get(case_id) is None


def _film(kit: Kit, seconds: float = 1.5) -> str:
    rec_id = kit.recorder.start(max_seconds=seconds)
    assert kit.recorder.wait(60)
    return rec_id


def test_withdraw_and_erase_a_cycle_and_an_unassigned_film(unlocked: FlaskClient, kit: Kit) -> None:
    held = _film(kit)  # no case yet: held as Unassigned
    recordings = unlocked.get("/recordings").get_data(as_text=True)
    assert recordings.index(f"/recordings/{held}/assign") < recordings.index("</ul>")
    assert "Assign to a case" in recordings and "Unassigned" in recordings
    token = csrf(unlocked, f"/recordings/{held}/erase-now")
    kept = unlocked.post(f"/recordings/{held}/erase-now", data={"code": "F", "csrf_token": token})
    assert kept.status_code == 400 and "nothing was erased" in kept.get_data(as_text=True)
    gone = unlocked.post(
        f"/recordings/{held}/erase-now", data={"code": "erase", "csrf_token": token}
    )
    assert gone.status_code == 303 and kit.library.index.get(held).state == "deleted"

    _, where, _ = _new_case(unlocked)
    case_id = where.rsplit("/", 1)[1]
    filmed = _film(kit)
    assert kit.library.index.get(filmed).cycle == 1
    answer = unlocked.post(
        f"/case/{case_id}/cycles/1/erase", data={"code": "F-0231", "csrf_token": token}
    )
    assert answer.status_code == 303 and kit.library.index.get(filmed).state == "deleted"
    assert "No film in this cycle yet." in unlocked.get(f"/case/{case_id}").get_data(as_text=True)

    again = _film(kit)
    answer = unlocked.post(
        f"/case/{case_id}/withdraw", data={"code": "F-0231", "csrf_token": token}
    )
    assert answer.status_code == 303
    assert kit.library.index.get(again).state == "deleted"
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert "Consent was withdrawn on" in page
    assert kit.cases.registry.current() is None
    home = unlocked.get("/").get_data(as_text=True)
    assert "No case chosen" in home


def _case_of(where: str) -> str:
    return where.rsplit("/", 1)[1]


def _post(client: FlaskClient, path: str, **form: str) -> tuple[int, str, str]:
    form["csrf_token"] = csrf(client, "/")
    answer = client.post(path, data=form)
    return answer.status_code, answer.headers.get("Location", ""), answer.get_data(as_text=True)


def _problem_next_to(page: str, field: str) -> str:
    """The sentence shown for ``field``, which must point at it (aria-describedby)."""
    assert re.search(rf'aria-invalid="true" aria-describedby="[^"]*\b{field}-problem"', page)
    found = re.search(rf'<p class="problem" id="{field}-problem" role="alert">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


def test_the_helping_question_is_refined_and_its_history_shown(
    unlocked: FlaskClient, kit: Kit
) -> None:
    case_id = _case_of(_new_case(unlocked)[1])
    status, where, _ = _post(unlocked, f"/case/{case_id}/question", question="Who starts play?")
    assert status == 303 and where == f"/case/{case_id}#question"
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert "“Who starts play?”" in page
    assert "How the question was worded before" in page
    assert f'“Jo and Sam enjoying play” <span class="hint">({date.today()})' in page
    long = "Why " * 130
    status, _, page = _post(unlocked, f"/case/{case_id}/question", question=long)
    assert status == 400 and "too long" in _problem_next_to(page, "question")
    assert long.strip() in page  # what was typed comes back
    case = kit.cases.load(case_id, kit_ids(unlocked))
    assert [q.text for q in case.cycles[0].questions] == [
        "Jo and Sam enjoying play",
        "Who starts play?",
    ]


@pytest.fixture
def filmed_case(unlocked: FlaskClient, kit: Kit) -> tuple[str, str]:
    """A new consented case (the current one) and a film in its cycle 1."""
    return _case_of(_new_case(unlocked)[1]), _film(kit)


def test_the_next_cycle_starts_when_the_practitioner_says_so(
    unlocked: FlaskClient, kit: Kit, filmed_case: tuple[str, str]
) -> None:
    case_id, first = filmed_case
    status, _, page = _post(unlocked, f"/case/{case_id}/next-cycle", next_question="x" * 501)
    assert status == 400 and "too long" in _problem_next_to(page, "next_question")
    assert kit.cases.registry.get(case_id).cycle == 1  # type: ignore[union-attr]
    status, _, _ = _post(unlocked, f"/case/{case_id}/next-cycle", next_question="Who leads?")
    assert status == 303
    second = _film(kit)
    assert (kit.library.index.get(first).cycle, kit.library.index.get(second).cycle) == (1, 2)
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert page.index('id="cycle-2"') < page.index("“Who leads?”") < page.index('id="cycle-1"')
    assert "Start cycle 3" in page
    # carried forward: the form offers the question as it is
    assert _post(unlocked, f"/case/{case_id}/next-cycle", next_question="Who leads?")[0] == 303
    case = kit.cases.load(case_id, kit_ids(unlocked))
    assert [c.question for c in case.cycles] == [
        "Jo and Sam enjoying play",
        "Who leads?",
        "Who leads?",
    ]


def test_closing_starts_the_erase_clock_and_reopening_stops_it(
    unlocked: FlaskClient, kit: Kit, filmed_case: tuple[str, str]
) -> None:
    case_id, filmed = filmed_case
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert "its films are erased 2 months after this day" in page
    future = (date.today() + timedelta(days=2)).isoformat()
    status, _, page = _post(unlocked, f"/case/{case_id}/close", closed_on=future)
    assert status == 400 and "day still to come" in _problem_next_to(page, "closed_on")
    assert f'value="{future}"' in page and kit.cases.registry.get(case_id).closed_on is None  # type: ignore[union-attr]
    status, _, page = _post(unlocked, f"/case/{case_id}/close", closed_on="2026-01-31")
    assert status == 303
    page = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    assert "closed 2026-01-31" in page and "Its films are erased by 2026-03-31." in page
    assert kit.library.index.get(filmed).erase_by == "2026-03-31"
    assert "Start cycle 2" not in page and "Refine the helping question" not in page
    status, _, page = _post(unlocked, f"/case/{case_id}/next-cycle", next_question="")
    assert status == 400 and "is closed" in page
    assert kit.cases.registry.get(case_id).cycle == 1  # type: ignore[union-attr]
    assert _post(unlocked, f"/case/{case_id}/reopen")[0] == 303
    assert kit.library.index.get(filmed).erase_by is None
    assert "Close the case" in unlocked.get(f"/case/{case_id}").get_data(as_text=True)


def test_case_notes_from_two_phones_are_never_overwritten(
    unlocked: FlaskClient, kit: Kit, app: object
) -> None:
    case_id = _case_of(_new_case(unlocked)[1])
    other = app.test_client()  # type: ignore[attr-defined]
    assert unlock(other) == 302
    seen = unlocked.get(f"/case/{case_id}").get_data(as_text=True)
    base = re.search(r'name="base" value="([0-9a-f]{64})"', seen)
    assert base is not None
    assert (
        _post(other, f"/case/{case_id}/notes", notes="Met at home.", base=base.group(1))[0] == 303
    )
    status, _, page = _post(unlocked, f"/case/{case_id}/notes", notes="Mine.", base=base.group(1))
    assert status == 409
    assert "Someone else changed this case's notes" in _problem_next_to(page, "notes")
    assert ">Mine.</textarea>" in page and "Met at home.</blockquote>" in page
    assert kit.cases.load(case_id, kit_ids(unlocked)).notes == "Met at home."
    now = re.search(r'name="base" value="([0-9a-f]{64})"', page)
    assert now is not None and now.group(1) != base.group(1)
    both = "Met at home.\nMine."
    assert _post(unlocked, f"/case/{case_id}/notes", notes=both, base=now.group(1))[0] == 303
    assert kit.cases.load(case_id, kit_ids(unlocked)).notes == both
    long = "Notes, ".join(["é"] * 2_400)  # close to the 20,000 characters notes may hold
    fresh = re.search(r'name="base" value="([0-9a-f]{64})"', unlocked.get(f"/case/{case_id}").text)
    assert fresh is not None
    assert _post(unlocked, f"/case/{case_id}/notes", notes=long, base=fresh.group(1))[0] == 303
    assert kit.cases.load(case_id, kit_ids(unlocked)).notes == long


def kit_ids(client: FlaskClient) -> list[age.Identity]:
    app = client.application
    assert isinstance(app, KitApp)
    held = app.services.keyring.held_identity()
    assert held is not None
    return [held]


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"code": "Jo Smith"}, 400, "does not look like a case code"),
        ({"code": "../F-0231"}, 400, "does not look like a case code"),
        ({"code": "F-02/31"}, 400, "does not look like a case code"),
        ({"code": "f-0231"}, 409, "There is already a case F-0231 on this kit."),
        ({"code": "F-0777", "given_on": "2999-01-01"}, 400, "day still to come"),
        (
            {"code": "F-0777", "erase_rule": "date", "erase_on": "2020-01-01"},
            400,
            "The erase-by date is before the date consent was given.",
        ),
    ],
)
def test_bad_input_on_the_new_case_page_is_a_sentence_and_nothing_is_lost(
    unlocked: FlaskClient, kit: Kit, fields: dict[str, str], status: int, words: str
) -> None:
    _, where, _ = _new_case(unlocked)  # F-0231, the case already on the kit
    kept = kit.cases.load(_case_of(where), kit_ids(unlocked))
    got, _, page = _new_case(unlocked, question="Mealtimes together", **fields)
    assert got == status and words in html.unescape(page), page
    assert f'value="{html.escape(fields["code"])}"' in page  # what was typed comes back
    assert "Mealtimes together</textarea>" in page
    assert [r.id for r in kit.cases.registry.all()] == [kept.id]
    assert len(list((kit.library.data.root / "cases").iterdir())) == 1
    assert kit.cases.load(kept.id, kit_ids(unlocked)) == kept  # the other case untouched
