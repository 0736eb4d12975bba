"""Words the kit could not save (its card full) stay on the phone's page until they are
saved (issue #15, finding 7): the kit's sentence under the field, the field never
overwritten by later notes, and the words sent again once a save goes through.

The kit's 507 answer is the one ``tests/web/test_full_card.py`` gets from a kit on a
full card; here Chromium's network layer gives it to the page for the first save only.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ServedKit, unlock

FULL = {
    "error": "The kit's card is full: your words were not saved.",
    "hint": "Erase films that are safe at the office (Settings → Space), then save again.",
}
TYPED = "Sam waited, then took his turn with the blue car"


def test_words_refused_by_a_full_card_stay_in_the_field_until_saved(
    page: Page, served: ServedKit
) -> None:
    unlock(page, served.url)
    page.goto(f"{served.url}/recordings/{served.short_film_id}")
    page.get_by_role("tab", name="Notes").tap()
    refused: list[str] = []

    def card_full(route: Route) -> None:
        if route.request.method != "POST" or refused:
            route.continue_()
            return
        refused.append(route.request.post_data or "")
        route.fulfill(status=507, content_type="application/json", body=json.dumps(FULL))

    page.route("**/recordings/*/notes", card_full)
    notes = page.get_by_label("Notes about this film")
    notes.fill(TYPED)
    page.get_by_role("tab", name="Clips").tap()  # leaving the field saves it: refused
    page.get_by_role("tab", name="Notes").tap()

    problem = page.locator("#f-notes-problem")
    expect(problem).to_contain_text("The kit's card is full: your words were not saved.")
    expect(problem).to_contain_text("Settings → Space")
    assert TYPED in refused[0]
    stored = page.request.get(
        f"{served.url}/recordings/{served.short_film_id}/notes",
        headers={"Accept": "application/json"},
    )
    assert stored.json()["notes"]["case"]["notes"] != TYPED

    # another save goes through (space came back): its answer's notes must not
    # overwrite the refused words, which are then sent again
    page.get_by_role("textbox", name="The parent's reflections (from the shared review)").fill(
        "He liked waiting for the car"
    )
    page.get_by_role("tab", name="Clips").tap()
    page.get_by_role("tab", name="Notes").tap()
    expect(notes).to_have_value(TYPED)
    expect(problem).to_be_hidden()
    page.wait_for_function(
        "async ([url]) => (await (await fetch(url, {headers: {Accept: 'application/json'}}))"
        ".json()).notes.case.notes === " + json.dumps(TYPED),
        arg=[f"{served.url}/recordings/{served.short_film_id}/notes"],
        polling=200,
    )
