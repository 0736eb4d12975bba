"""axe-core (vendored) on every page, in the phone's light and dark themes: no serious or
critical violations. Also: the live parts of Home never move the layout."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from device import age
from device.library import exports
from device.library.notes import add_item
from tests.browser.conftest import ServedKit, axe_violations, leave_review, unlock
from tests.web.web_helpers import PASSPHRASE, wait_until


@pytest.fixture(scope="package")
def review_ready(served: ServedKit) -> str:
    """The long film with a mark, an exported clip and a still: every list on the film
    page and the shared review have something in them."""
    kit = served.appliance.kit
    store = served.appliance.app.services.notes
    rec_id = served.long_film_id
    keys = [age.unwrap_identity(kit.library.data.kit_identity_file.read_bytes(), PASSPHRASE)]
    notes = store.apply(
        rec_id,
        [
            add_item("marks", {"t": 5, "principles": ["Guiding"], "note": "A look up"}),
            add_item("clips", {"in": 10, "out": 12}),
        ],
        keys,
        kit.recipients,
    )
    clip = notes.to_json()["clips"][-1]["id"]
    exports.export_clip(kit.library, store, rec_id, clip, keys, kit.recipients)
    exports.export_still(kit.library, store, rec_id, 20.0, keys, kit.recipients, caption="A look")
    return rec_id


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe(
    page: Page, served: ServedKit, review_ready: str, scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)
    found: dict[str, list[object]] = {}

    page.goto(served.url + "/unlock")
    found["unlock"] = axe_violations(page)
    unlock(page, served.url)
    expect(page.locator("[data-preview]")).to_be_visible()
    found["home"] = axe_violations(page)
    page.goto(served.url + "/recordings")
    found["recordings"] = axe_violations(page)
    page.goto(f"{served.url}/recordings/{served.long_film_id}")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    page.get_by_role("button", name="Go to the moment at 0:05").tap()
    expect(page.locator("[data-mark-tools]")).to_be_visible()  # note, clip, supervision
    found["film"] = axe_violations(page)
    page.get_by_role("button", name="Remove the moment at 0:05").tap()
    expect(page.locator("[data-undo]")).to_be_visible()
    found["film, removed with undo"] = axe_violations(page)
    page.locator("[data-undo]").get_by_role("button", name="Undo").tap()
    expect(page.get_by_role("button", name="Remove the moment at 0:05")).to_be_visible()
    for tab in ("Clips", "Stills", "Notes"):
        page.get_by_role("tab", name=tab).tap()
        expect(page.get_by_role("tabpanel", name=tab)).to_be_visible()
        found[f"film, {tab}"] = axe_violations(page)
    page.goto(f"{served.url}/recordings/{review_ready}")
    page.get_by_role("tab", name="Clips").tap()
    page.get_by_role("button", name="Start the shared review").tap()
    expect(page.locator("[data-question]")).to_be_visible()
    found["shared review, the question"] = axe_violations(page)
    page.get_by_role("button", name="Begin").tap()
    expect(page.locator("[data-item]").first).to_be_visible()
    # a clip's prompt and field show once it has played (the first clip may be seconds long)
    expect(page.locator("[data-item]").first.locator("[data-prompt]")).to_be_visible(timeout=30_000)
    found["shared review, a moment and its reflection"] = axe_violations(page)
    while page.get_by_role("button", name="Next").is_visible():
        page.get_by_role("button", name="Next").tap()
    expect(page.locator("[data-item] img").last).to_be_visible()
    page.get_by_role("button", name="Finish").tap()
    found["shared review, reflections"] = axe_violations(page)
    page.goto(served.url + "/recordings")
    expect(
        page.get_by_role("heading", name="This phone is showing a shared review")
    ).to_be_visible()
    found["shared review, the gate"] = axe_violations(page)
    leave_review(page, served.url)
    page.goto(served.url + "/recordings/20260101T000000Z-abcd")
    expect(page.get_by_role("heading")).to_have_text("There is no such recording on this kit.")
    found["error"] = axe_violations(page)
    page.goto(served.url + "/settings")
    found["settings"] = axe_violations(page)
    # the case pages (#14) and the erase and assign steps behind them
    case_id = served.appliance.kit.library.index.get(review_ready).case_id
    pages = {
        "cases": "/case",
        "new case": "/case/new",
        "case": f"/case/{case_id}",
        "consent": f"/case/{case_id}/consent",
        "cycle review": f"/case/{case_id}/cycles/1/review",
        "erase a film": f"/recordings/{review_ready}/erase-now",
        "erase a cycle": f"/case/{case_id}/cycles/1/erase",
        "erase a case": f"/case/{case_id}/erase",
        "withdraw consent": f"/case/{case_id}/withdraw",
        "assign": f"/recordings/{review_ready}/assign",
    }
    for name, path in pages.items():
        response = page.goto(served.url + path)
        assert response is not None and response.ok, (name, response and response.status)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        found[name] = axe_violations(page)
    page.context.clear_cookies()
    page.goto(served.url + "/unlock")
    page.get_by_label("Passphrase").fill("not the passphrase at all")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["unlock, wrong passphrase"] = axe_violations(page)
    keyring = served.appliance.app.services.keyring
    wait_until(lambda: time.monotonic() >= keyring.backoff_ends_at(), 5, "the back-off")

    assert {name: v for name, v in found.items() if v} == {}


def test_the_live_parts_of_home_never_shift_the_layout(page: Page, served: ServedKit) -> None:
    """The preview, the meter, the running time and the words update in place."""
    unlock(page, served.url)
    expect(page.locator("[data-level]")).to_be_visible()
    page.evaluate(
        """() => { window.shifts = 0;
             new PerformanceObserver(list => list.getEntries().forEach(e => {
               if (!e.hadRecentInput) window.shifts += e.value; }))
             .observe({ type: 'layout-shift', buffered: false }); }"""
    )
    boxes = page.evaluate(_BOXES)
    # a few status polls and preview refreshes, with the meter moving
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".filter(r => r.name.includes('/status')).length >= 6"
    )
    assert page.evaluate(_BOXES) == boxes
    assert page.evaluate("() => window.shifts") == 0


_BOXES = """() => ['.preview', '[data-level]', '.minutes', '[data-record-button]']
  .map(s => { const r = document.querySelector(s).getBoundingClientRect();
              return [s, r.x, r.y, r.width, r.height]; })"""
