"""Issue #14 on a phone: a family's case from consent to its second cycle, erase now, the
question refined, consent withdrawn while filming and the case erased; a case without
consent; and a film the kit's button filmed into Unassigned.

Chromium at 390x844 with touch drives the session's live kit. The film page's marking
and cutting are tested in test_marking.py; here a clip is cut and exported through the
notes store (as the film page would), and the rest goes through the case pages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from device import age
from device.cases import recording_files
from device.library import RecordingRow, exports
from device.library.notes import add_item
from device.recording.recorder import RecorderState
from tests.browser.conftest import BUTTON, ServedKit, axe_violations, leave_review, unlock
from tests.web.web_helpers import PASSPHRASE, wait_until

CODE = "F-0231"
QUESTION = "How do Jo and Sam enjoy playing together?"
REFINED = "How do Jo and Sam take turns when they play?"


def _keys(served: ServedKit) -> list[age.Identity]:
    data = served.appliance.kit.library.data
    return [age.unwrap_identity(data.kit_identity_file.read_bytes(), PASSPHRASE)]


@pytest.fixture
def current_restored(served: ServedKit) -> Iterator[None]:
    """The session's other tests film into the case current before this test."""
    registry = served.appliance.kit.cases.registry
    before = registry.current()
    yield
    registry.set_current(before)


def _open(page: Page, link: Locator) -> None:
    """Tap ``link`` and wait for its page to load: a tap only starts the navigation, and
    axe-core run while the page is being left fails ("reading 'documentElement'")."""
    with page.expect_navigation():
        link.tap()


def _axe(page: Page, name: str, found: dict[str, list[Any]]) -> None:
    """axe-core on the page as it is, in the phone's light and dark themes."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found[f"{name}, {scheme}"] = axe_violations(page)
    page.emulate_media(color_scheme="light")


def _tick_consent(page: Page) -> None:
    page.get_by_label("I, the practitioner, may watch the films").check()
    page.get_by_label("A VIG supervisor may watch the films").check()
    page.get_by_label("No, not in training").check()
    page.get_by_label("I have told the parent that filming stops whenever they ask").check()


def _record_from_home(page: Page, served: ServedKit, seconds: int) -> RecordingRow:
    recorder = served.appliance.kit.recorder
    page.goto(served.url + "/")
    record = page.locator("[data-record-button]")
    expect(record).to_have_text("Record")
    record.tap()
    expect(page.locator("[data-elapsed]")).to_have_text(f"0:0{seconds}", timeout=60_000)
    record.tap()
    expect(page.locator("[data-words]")).to_have_text("Ready to record", timeout=60_000)
    assert recorder.wait(60)
    return served.appliance.kit.library.index.all()[0]


def _cut_a_clip(served: ServedKit, rec_id: str) -> None:
    """A mark and an exported clip on the film, through the notes store."""
    kit = served.appliance.kit
    store = served.appliance.app.services.notes
    notes = store.apply(
        rec_id,
        [
            add_item("marks", {"t": 1, "principles": ["Being attentive"]}),
            add_item("clips", {"in": 0.5, "out": 2.0, "principles": ["Being attentive"]}),
        ],
        _keys(served),
        kit.recipients,
    )
    clip = notes.to_json()["clips"][-1]["id"]
    exports.export_clip(kit.library, store, rec_id, clip, _keys(served), kit.recipients)


def test_a_family_journey_from_consent_to_cycle_two_and_erase(
    page: Page, served: ServedKit, current_restored: None
) -> None:
    kit = served.appliance.kit
    found: dict[str, list[Any]] = {}
    unlock(page, served.url)
    _open(page, page.get_by_role("link", name="New case"))
    _axe(page, "new case", found)
    page.get_by_label("Case code").fill(CODE)
    page.get_by_label("The helping question").fill(QUESTION)
    _tick_consent(page)
    page.get_by_role("button", name="Save consent").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {CODE}")
    page.get_by_role("link", name="Home").tap()
    expect(page.locator("[data-current-case]")).to_have_text(f"Case {CODE} · cycle 1")

    first = _record_from_home(page, served, 3)
    case_id = kit.cases.registry.current()
    assert first.case_id == case_id and first.cycle == 1 and not first.held
    _cut_a_clip(served, first.id)

    # the shared review of cycle 1, started from the case view
    page.goto(f"{served.url}/case/{case_id}")
    page.get_by_role("button", name="Start the shared review of cycle 1").tap()
    expect(page.locator("[data-item]")).to_have_count(1)
    page.get_by_role("button", name="Begin").tap()
    expect(page.locator("[data-item] [data-prompt]")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Finish").tap()
    page.get_by_label("What will you take away from today?").fill("He looked at me and waited.")
    page.get_by_role("button", name="Save and finish the review").tap()
    expect(page.locator("[data-saved]")).to_contain_text("the review is done")
    leave_review(page, served.url)

    second = _record_from_home(page, served, 2)
    assert second.case_id == case_id and second.cycle == 2
    expect(page.locator("[data-current-case]")).to_have_text(f"Case {CODE} · cycle 2")

    page.goto(f"{served.url}/case/{case_id}")
    two, one = page.locator("section.cycle").nth(0), page.locator("section.cycle").nth(1)
    expect(two.get_by_role("heading", level=2)).to_have_text("Cycle 2")
    expect(two.locator(".question")).to_have_text(f"“{QUESTION}”")  # carried forward
    expect(one.locator(".question")).to_have_text(f"“{QUESTION}”")
    expect(one.locator(".journey-clips li")).to_have_count(1)
    expect(one.locator(".journey-clips li")).to_contain_text("Being attentive")
    expect(one.locator(".reflection")).to_have_text("He looked at me and waited.")
    expect(one.get_by_text("Review done")).to_be_visible()
    _axe(page, "case view", found)

    # cycle 2's review with cycle 1's clip ("look how this has grown")
    two.get_by_label("Cycle 1: clip 1 (Being attentive)").check()
    two.get_by_role("button", name="Start the shared review of cycle 2").tap()
    expect(page.locator("[data-item]")).to_have_count(1)
    src = page.locator("[data-item] video").get_attribute("src") or ""
    assert f"/recordings/{first.id}/clips/" in src
    leave_review(page, served.url)

    # erase the cycle-1 film: one confirmed step, by typing the case code
    page.goto(f"{served.url}/case/{case_id}")
    one = page.locator("section.cycle").nth(1)
    _open(page, one.get_by_role("link", name="Erase film 1 of cycle 1"))
    _axe(page, "erase film", found)
    page.get_by_label(f"To confirm, type {CODE}").fill("F-0213")
    page.get_by_role("button", name="Erase film").tap()
    expect(page.get_by_role("alert")).to_contain_text("nothing was erased")
    expect(page.get_by_label(f"To confirm, type {CODE}")).to_have_value("F-0213")
    assert recording_files(kit.library, first.id)
    page.get_by_label(f"To confirm, type {CODE}").fill(CODE.lower())
    page.get_by_role("button", name="Erase film").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {CODE}")
    expect(page.locator("section.cycle").nth(1)).to_contain_text("No film in this cycle yet.")
    expect(page.locator("section.cycle").nth(0).locator(".journey-film")).to_have_count(1)
    assert recording_files(kit.library, first.id) == []
    assert not list(kit.library.data.recordings.glob(f"{first.id}*"))
    erased = [r for r in kit.library.audit.rows() if r.event == "erase now"]
    assert any(r.recording == first.id for r in erased)

    _refine_the_question(page, found)
    _withdraw_while_filming_then_erase_the_case(page, served, case_id, second.id, found)
    _axe(page, "cases", found)
    assert {name: v for name, v in found.items() if v} == {}


def _refine_the_question(page: Page, found: dict[str, list[Any]]) -> None:
    """The case view's own form: cycle 2's question reworded, the first wording kept."""
    page.get_by_label("Refine the helping question of cycle 2").fill(REFINED)
    page.get_by_role("button", name="Save the question").tap()
    two = page.locator("section.cycle").nth(0)
    expect(two.locator("p.question")).to_have_text(f"“{REFINED}”")
    expect(two.locator(".question-history")).to_contain_text(f"“{QUESTION}”")
    _axe(page, "case view with its forms", found)


def _withdraw_while_filming_then_erase_the_case(
    page: Page, served: ServedKit, case_id: str, filmed: str, found: dict[str, list[Any]]
) -> None:
    """Withdraw consent while the kit films the case: the recording stops and nothing of
    it (or of the case's other film) stays on disk but the audit rows; then Erase case."""
    kit = served.appliance.kit
    page.goto(served.url + "/")
    page.locator("[data-record-button]").tap()
    expect(page.locator("[data-elapsed]")).to_have_text("0:01", timeout=60_000)
    filming = kit.library.index.all()[0]
    assert filming.case_id == case_id and filming.state == "recording"
    page.goto(f"{served.url}/case/{case_id}")
    _open(page, page.get_by_role("link", name="Withdraw consent"))
    _axe(page, "withdraw consent", found)
    page.get_by_label(f"To confirm, type {CODE}").fill(CODE)
    page.get_by_role("button", name="Withdraw consent").tap()
    expect(page.get_by_text("Consent was withdrawn on")).to_be_visible()
    assert kit.recorder.status.state == RecorderState.IDLE
    audit = kit.library.audit.rows()
    for rec_id in (filmed, filming.id):
        assert not [p for p in kit.library.data.root.rglob(f"*{rec_id}*") if p.is_file()]
        assert "erase now" in [r.event for r in audit if r.recording == rec_id]
    page.get_by_role("link", name="Erase case").tap()
    page.get_by_label(f"To confirm, type {CODE}").fill(CODE)
    page.get_by_role("button", name="Erase case").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    assert kit.cases.find_by_code(CODE, _keys(served)) is None


def test_a_case_without_consent_offers_no_record_and_says_why(
    page: Page, served: ServedKit, current_restored: None
) -> None:
    found: dict[str, list[Any]] = {}
    unlock(page, served.url)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    made = page.request.post(
        f"{served.url}/cases",
        data={"code": "F-0400", "question": "Mealtimes"},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert made.status == 201
    page.get_by_role("link", name="Change case").tap()
    page.get_by_role("button", name="Film into case F-0400").tap()
    expect(page.locator("[data-current-case]")).to_have_text("Case F-0400 · cycle 1")
    expect(page.locator("[data-record-button]")).to_be_hidden()
    needs = page.locator("[data-needs-case]")
    expect(needs).to_contain_text("Consent has not been recorded for the current case.")
    # the status poll keeps Record away too
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".filter(r => r.name.includes('/status')).length >= 2"
    )
    expect(page.locator("[data-record-button]")).to_be_hidden()
    _axe(page, "home without consent", found)

    _open(page, needs.get_by_role("link", name="Record the consent for case F-0400"))
    _axe(page, "consent", found)
    page.get_by_role("button", name="Save consent").tap()  # nothing ticked: refused
    expect(page.get_by_role("alert")).to_contain_text("Answer yes or no")
    _tick_consent(page)
    page.get_by_role("button", name="Save consent").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case F-0400")
    page.get_by_role("link", name="Home").tap()
    expect(page.locator("[data-record-button]")).to_have_text("Record")
    expect(page.locator("[data-needs-case]")).to_be_hidden()
    assert {name: v for name, v in found.items() if v} == {}


def test_a_film_from_the_button_with_no_case_is_offered_for_assignment_first(
    page: Page, served: ServedKit, current_restored: None
) -> None:
    kit = served.appliance.kit
    recorder = kit.recorder
    kit.cases.registry.set_current(None)  # as after a case was closed: no case to film into
    unlock(page, served.url)
    expect(page.locator("[data-current-case]")).to_have_text("No case chosen")
    pin = served.pins.pin(BUTTON)
    _press(pin)
    wait_until(lambda: recorder.status.state == RecorderState.RECORDING, 10, "the recorder")
    expect(page.locator("[data-record-button]")).to_have_text("Stop")  # can always stop
    time.sleep(2)
    _press(pin)
    wait_until(lambda: recorder.status.state == RecorderState.IDLE, 60, "the film saved")
    held = kit.library.index.all()[0]
    assert held.held and held.case_id is None

    page.get_by_role("link", name="Recordings").tap()
    first = page.locator(".card").first
    expect(first).to_contain_text("Unassigned")
    expect(first.get_by_role("link", name="Erase")).to_be_visible()
    found: dict[str, list[Any]] = {}
    _axe(page, "recordings with an Unassigned film", found)
    _open(page, first.get_by_role("link", name="Assign to a case"))
    _axe(page, "assign", found)
    base = kit.cases.find_by_code("T-0001", _keys(served))
    assert base is not None
    page.get_by_label("Case", exact=True).select_option(value=base.id)
    page.get_by_role("button", name="Assign to a case").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case T-0001")
    row = kit.library.index.get(held.id)
    assert not row.held and row.case_id == base.id
    assert {name: v for name, v in found.items() if v} == {}


def _press(pin: object) -> None:
    pin.drive_low()  # type: ignore[attr-defined]
    time.sleep(0.15)  # a finger on the button: longer than the debounce, shorter than a hold
    pin.drive_high()  # type: ignore[attr-defined]
