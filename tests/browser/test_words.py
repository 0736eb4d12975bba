"""Issue #16, "words that don't help", on a phone: each message names what the page shows
(Start, End, the field's own label), says what to do next and keeps what was typed; the
limits show before they bite; Settings and Home speak the same plain words.

One journey over the hour-long film (5 frames a second), Chromium at 390x844."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from device.library.notes_schema import NOTES_TEXT_LIMIT
from tests.browser.conftest import ServedKit, unlock
from tests.browser.test_marking import _seek

IN_VIEW = """e => { const r = e.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }"""


def test_messages_name_the_field_and_keep_what_was_typed(page: Page, served: ServedKit) -> None:
    unlock(page, served.url)
    home_space = page.locator("[data-space]").inner_text()
    page.goto(f"{served.url}/recordings/{served.long_film_id}")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    page.get_by_role("tab", name="Clips").tap()
    said = page.locator("[data-saved]")
    start = page.locator('[data-point="in"] [data-time]')
    end = page.locator('[data-point="out"] [data-time]')

    # an End set first, then a Start after it: refused in the editor's words, End kept
    _seek(page, 10)
    page.get_by_role("button", name="Set end here").tap()
    expect(end).to_have_text(re.compile(r"^0:10\.[12]\d$"))  # the frame on screen included
    end_at = end.inner_text()
    _seek(page, 20)
    page.get_by_role("button", name="Set start here").tap()
    expect(said).to_have_text(
        f"The Start must be before the End ({end_at}). "
        "Choose a moment before it, or move the End first."
    )
    expect(start).to_have_text("not set")
    expect(end).to_have_text(end_at)

    # nudging the End back over the Start says so and moves nothing
    _seek(page, 10)
    page.get_by_role("button", name="Set start here").tap()
    start_at = start.inner_text()
    page.get_by_role("button", name="End half a second earlier").tap()
    expect(said).to_contain_text(f"The End must be after the Start ({start_at})")
    expect(end).to_have_text(end_at)

    # a clip over a minute gets a gentle hint (not a refusal)
    hint = page.locator("[data-clip-long]")
    expect(hint).to_be_hidden()
    _seek(page, 80)
    page.get_by_role("button", name="Set end here").tap()
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("usually under 30 seconds")

    # the notes: a count before the limit, the refusal under the field naming it, the
    # text kept, and the save line in sight while typing
    page.get_by_role("tab", name="Notes").tap()
    box = page.get_by_label("Notes about this film")
    count = page.locator("#f-notes-count")
    box.fill("x" * (NOTES_TEXT_LIMIT - 100))
    expect(count).to_have_text("19,900 of 20,000 characters")
    box.fill("x" * (NOTES_TEXT_LIMIT + 1))
    expect(count).to_have_text("20,001 of 20,000 characters: shorten it by 1 to save it.")
    problem = page.locator("#f-notes-problem")
    expect(problem).to_contain_text(
        "The text of “Notes about this film” is too long: 20,001 characters"
    )
    expect(problem).to_contain_text("Shorten it by 1 characters")
    expect(said).to_have_text(
        "Notes about this film: not saved yet. The reason is under the field; "
        "what you typed is still there."
    )
    assert said.evaluate(IN_VIEW)
    assert box.input_value() == "x" * (NOTES_TEXT_LIMIT + 1)
    box.fill("A calm morning.")
    expect(said).to_have_text("Saved")
    expect(problem).to_be_hidden()

    # Settings: plain words, and space left in the unit Home uses
    page.goto(served.url + "/settings")
    text = page.locator("main").inner_text()
    assert "sync_remote" not in text and "<code>" not in page.content()
    expect(page.locator("main")).to_contain_text(f"Space left: {home_space} of film")
    expect(page.get_by_role("button", name="Lock")).to_be_visible()
