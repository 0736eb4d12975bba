"""The shared review as a conversation (#16), in Chromium at phone size: started from the
film page it opens with the case's helping question, takes a reflection after each
moment and a closing one, plays a clip changed after its export at its new length
("Preparing the clip…" first), and holds the phone: neither Back nor a typed address
leaves it without the kit's passphrase. The words are then in the case view."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from device import age
from device.library import exports
from device.library.notes import add_item, update_item
from tests.browser.conftest import ServedKit, unlock
from tests.web.web_helpers import PASSPHRASE, wait_until

GATE = "This phone is showing a shared review"


@pytest.fixture
def changed_clip(served: ServedKit) -> str:
    """A 2-second clip of the hour-long film, exported, then made 5 seconds long (the
    export is now out of date), and a still; the clip's moment address."""
    kit = served.appliance.kit
    store = served.appliance.app.services.notes
    rec_id = served.long_film_id
    keys = [age.unwrap_identity(kit.library.data.kit_identity_file.read_bytes(), PASSPHRASE)]
    notes = store.apply(rec_id, [add_item("clips", {"in": 30, "out": 32})], keys, kit.recipients)
    clip = notes.to_json()["clips"][-1]["id"]
    exports.export_clip(kit.library, store, rec_id, clip, keys, kit.recipients)
    store.apply(rec_id, [update_item("clips", clip, {"out": 35})], keys, kit.recipients)
    exports.export_still(kit.library, store, rec_id, 40.0, keys, kit.recipients, caption="Look")
    return f"{rec_id}/{clip}"


def test_the_review_is_a_conversation_the_parent_cannot_leave(
    page: Page, served: ServedKit, changed_clip: str
) -> None:
    rec_id = served.long_film_id
    unlock(page, served.url)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.goto(f"{served.url}/recordings/{rec_id}")
    page.get_by_role("tab", name="Clips").tap()
    page.get_by_role("button", name="Start the shared review").tap()
    review = f"{served.url}/recordings/{rec_id}/review"
    expect(page).to_have_url(review)

    # the question first, in the parent's words
    expect(page.get_by_role("heading", name="Your question")).to_be_visible()
    expect(page.locator("[data-question]")).to_contain_text("How do we take turns?")
    page.get_by_role("button", name="Begin").tap()

    moments = page.locator("[data-item]")
    for k in range(moments.count()):
        moment = moments.nth(k)
        expect(moment).to_be_visible()
        if moment.get_attribute("data-at") == changed_clip:
            # cut again before it plays: 5 seconds now, not the 2 of its first export
            page.wait_for_function(
                "(el) => el.querySelector('video').duration > 0", arg=moment.element_handle()
            )
            clip_id = changed_clip.partition("/")[2]
            assert any(f"/clips/{clip_id}/prepare" in url for url in posted), posted
            length = moment.locator("video").evaluate("v => v.duration")
            assert length == pytest.approx(5.0, abs=0.4)
        words = moment.get_by_label("Your thoughts about this moment")
        expect(words).to_be_visible(timeout=20_000)  # a clip: once it has played
        expect(moment.locator(".prompt")).not_to_be_empty()
        words.fill(f"Moment {k + 1}: he waited for me.")
        page.get_by_role("button", name="Finish" if k == moments.count() - 1 else "Next").tap()

    page.get_by_label("What will you take away from today?").fill("We take turns now.")
    page.get_by_role("button", name="Save and finish the review").tap()
    expect(page.locator("[data-saved]")).to_contain_text("the review is done")

    # the parent presses Back, or types an address: the review holds
    page.go_back()
    expect(page.get_by_role("heading", name=GATE)).to_be_visible()
    page.goto(served.url + "/recordings")
    expect(page.get_by_role("heading", name=GATE)).to_be_visible()
    assert page.request.get(served.url + "/recordings").status == 403
    page.get_by_role("link", name="Go back to the review").tap()
    expect(page).to_have_url(review)

    # "Back to the case", behind the passphrase
    page.get_by_role("button", name="Begin").tap()
    for _ in range(moments.count()):
        page.get_by_role("button", name="Next").or_(page.get_by_role("button", name="Finish")).tap()
    page.get_by_role("link", name="Back to the case").tap()
    page.get_by_label("Kit passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Back to the case").tap()
    expect(page.get_by_role("alert")).to_contain_text("the review stays open")
    keyring = served.appliance.app.services.keyring
    wait_until(lambda: time.monotonic() >= keyring.backoff_ends_at(), 5, "the back-off")
    page.get_by_label("Kit passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Back to the case").tap()
    expect(page).to_have_url(
        f"{served.url}/case/{served.appliance.kit.library.index.get(rec_id).case_id}"
    )
    said = page.locator(".cycle-reflections").first
    expect(said).to_contain_text("he waited for me.")
    expect(said).to_contain_text("We take turns now.")
    page.goto(served.url + "/recordings")
    expect(page.get_by_role("heading", name=GATE)).to_have_count(0)
