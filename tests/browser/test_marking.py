"""Issue #5 on a phone: mark moments, cut clips to the frame, keep a still, write the film's
own notes, export, run the shared review, and find everything kept after a reload.

Chromium at 390x844 with touch drives the live kit over HTTP; the short 30 fps film of
the session (``served.short_film_id``) is the one worked on. Every wait is for an event.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, ServedKit, leave_review, unlock

FRAME = 1 / 30


def _seek(page: Page, t: float) -> None:
    """Move the player to ``t`` and wait until it has got there (and paused)."""
    page.locator("video").evaluate(
        """(v, t) => new Promise(done => {
             v.pause();
             v.addEventListener('seeked', done, { once: true }); v.currentTime = t; })""",
        t,
    )


def _now(page: Page) -> float:
    t: float = page.locator("video").evaluate("v => v.currentTime")
    return t


def _notes(page: Page, served: ServedKit) -> dict[str, Any]:
    response = page.request.get(
        f"{served.url}/recordings/{served.short_film_id}/notes",
        headers={"Accept": "application/json"},
    )
    assert response.ok
    doc: dict[str, Any] = response.json()["notes"]
    return doc


def _open_film(page: Page, served: ServedKit) -> None:
    page.goto(f"{served.url}/recordings/{served.short_film_id}")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")


def _mark(page: Page, at: float, principle: str, count: int) -> None:
    _seek(page, at)
    page.get_by_role("button", name="Mark moment").tap()
    expect(page.locator("[data-mark-list] li")).to_have_count(count)
    chip = page.locator("[data-chips]").get_by_role("button", name=principle, exact=True)
    chip.tap()
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-mark-list] [aria-current='true']")).to_contain_text(principle)


def _clip(page: Page, start: float, end: float, nudges: list[str], name: str) -> None:
    _seek(page, start)
    page.get_by_role("button", name="Set start here").tap()
    _seek(page, end)
    page.get_by_role("button", name="Set end here").tap()
    for label in nudges:
        page.get_by_role("button", name=label, exact=True).tap()
    page.get_by_label("Name", exact=True).fill(name)
    chip = page.locator("[data-clip-chips]").get_by_role("button", name="Receiving initiatives")
    chip.tap()
    expect(chip).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Save clip").tap()
    expect(page.locator("[data-clip-list] li", has_text=name)).to_be_visible()


def test_mark_cut_keep_note_export_review_and_reload(page: Page, served: ServedKit) -> None:
    unlock(page, served.url)
    _open_film(page, served)
    # consent is the case's (#14): the film page names its case and that consent, no form
    expect(page.locator("[data-case-line]")).to_contain_text(
        "Case T-0001 · cycle 1 · consent recorded on"
    )
    expect(page.get_by_role("tab", name="Consent")).to_have_count(0)

    # three moments, each a few seconds before the tap, each with its own principle
    _mark(page, 5, "Being attentive", 1)
    _mark(page, 8, "Receiving initiatives", 2)
    _mark(page, 11, "Guiding", 3)
    expect(page.locator("[data-pins] .pin")).to_have_count(3)
    marks = _notes(page, served)["marks"]
    assert [(m["t"], m["principles"]) for m in marks] == [
        (pytest.approx(2, abs=0.05), ["Being attentive"]),
        (pytest.approx(5, abs=0.05), ["Receiving initiatives"]),
        (pytest.approx(8, abs=0.05), ["Guiding"]),
    ]
    page.locator("[data-mark-list] [data-mark-id]").first.tap()  # jumps the player
    page.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 2) < 0.1")

    # two clips, set from the player and moved by single frames and half seconds
    page.get_by_role("tab", name="Clips").tap()
    _seek(page, 3)
    page.get_by_role("button", name="One frame on").tap()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video').currentTime - t) < 0.01", arg=3 + FRAME
    )
    _clip(
        page,
        2,
        4,
        ["Start one frame later", "Start one frame later", "End half a second later"],
        "Waiting for her",
    )
    _clip(
        page,
        6,
        8,
        ["Start half a second earlier", "End one frame earlier"],
        "A shared smile",
    )
    clips = _notes(page, served)["clips"]
    assert all(c["principles"] == ["Receiving initiatives"] for c in clips)
    assert [(c["name"], c["in"], c["out"]) for c in clips] == [
        (
            "Waiting for her",
            pytest.approx(2 + 2 * FRAME, abs=0.002),
            pytest.approx(4 + FRAME + 0.5, abs=0.002),
        ),
        ("A shared smile", pytest.approx(5.5, abs=0.002), pytest.approx(8, abs=0.002)),
    ]
    # the shared smile first in the review; loop it once to check it
    page.get_by_role("button", name="Move A shared smile earlier").tap()
    expect(page.locator("[data-clip-list] li").first).to_contain_text("A shared smile")
    page.get_by_role("button", name="Change A shared smile").tap()
    page.get_by_role("button", name="Play the clip on repeat").tap()
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return !v.paused && v.currentTime > 5.6 && v.currentTime < 8; }"
    )
    page.get_by_role("button", name="Stop playing the clip").tap()
    page.get_by_role("button", name="Start a new clip instead").tap()

    # export: one as a stream copy, one frame-exact
    page.get_by_role("button", name="Export A shared smile").tap()
    expect(page.locator("[data-clip-list] li").first).to_contain_text("Exported")
    page.get_by_label("Export frame-exact").check()
    page.get_by_role("button", name="Export Waiting for her").tap()
    # a re-encode: more than expect's usual 5 s on a loaded 2-CPU machine
    exact = page.locator("[data-clip-list] li").nth(1)
    expect(exact).to_contain_text("Exported, frame-exact", timeout=TIMEOUT_MS)

    # a still, with a caption for the review
    page.get_by_role("tab", name="Stills").tap()
    _seek(page, 6.5)
    page.get_by_label("Caption for the next still").fill("Looking at each other")
    page.get_by_role("button", name="Keep this frame as a still").tap()
    picture = page.locator("[data-still-list] img")
    expect(picture).to_have_count(1)
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("i => i.naturalWidth") == 320

    # the film's own notes, saved as they are typed
    page.get_by_role("tab", name="Notes").tap()
    notes_box = page.get_by_label("Notes about this film")
    notes_box.fill("Calm start; lots of turn taking.")
    page.get_by_role("tab", name="Clips").tap()  # leaving the field saves it
    expect(page.locator("[data-saved]")).to_have_text("Saved")

    # reload: everything is still there
    page.reload()
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    expect(page.locator("[data-mark-list] li")).to_have_count(3)
    expect(page.locator("[data-mark-list]")).to_contain_text("Guiding")
    page.get_by_role("tab", name="Clips").tap()
    expect(page.locator("[data-clip-list] li")).to_have_count(2)
    expect(page.locator("[data-clip-list] li").first).to_contain_text("A shared smile")
    page.get_by_role("tab", name="Notes").tap()
    expect(page.get_by_label("Notes about this film")).to_have_value(
        "Calm start; lots of turn taking."
    )
    # the recordings list shows the case the film belongs to (issue #14), T-0001
    page.goto(served.url + "/recordings")
    card = page.locator(".card", has=page.locator(f'a[href$="/{served.short_film_id}"]'))
    expect(card).to_contain_text("Case T-0001 · cycle 1")
    expect(card.locator(".flag")).to_have_count(0)

    # the shared review: clips in order, then the still, each with a prompt; no film
    _open_film(page, served)
    page.get_by_role("tab", name="Clips").tap()
    # what the review page itself asks for (the film page left behind may still be
    # starting a request for its film as the link is followed: that one is not the
    # review's; the page sends no Referer, so the frame's address tells)
    asked: set[str] = set()
    review_url = f"{served.url}/recordings/{served.short_film_id}/review"
    page.on(
        "request",
        lambda r: asked.add(r.url) if r.frame.url == review_url else None,
    )
    page.get_by_role("button", name="Start the shared review").tap()
    expect(page).to_have_url(f"{served.url}/recordings/{served.short_film_id}/review")
    # one link only: "Back to the case", which asks for the passphrase
    expect(page.locator("a")).to_have_count(1)
    assert page.locator("a").get_attribute("href") == "/review/leave"
    expect(page.locator("[data-question]")).to_contain_text("How do we take turns?")
    page.get_by_role("button", name="Begin").tap()
    moments = page.locator("[data-item]")
    expect(moments).to_have_count(3)
    first = moments.nth(0)
    expect(first).to_be_visible()
    # the prompt shows when the clip has played to its end
    expect(first.locator("[data-prompt]")).to_be_visible(timeout=30_000)
    expect(first.locator(".prompt")).to_have_text("What did you notice going well?")
    page.get_by_role("button", name="Play again").tap()
    expect(first.locator("[data-prompt]")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Next").tap()
    expect(moments.nth(1)).to_be_visible()
    expect(moments.nth(1).locator("[data-prompt]")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Previous").tap()
    expect(first).to_be_visible()
    page.get_by_role("button", name="Next").tap()
    expect(moments.nth(1)).to_be_visible()
    page.get_by_role("button", name="Next").tap()
    expect(moments.nth(2).locator("img")).to_have_js_property("complete", True)
    expect(moments.nth(2)).to_contain_text("Looking at each other")
    expect(moments.nth(2).locator("[data-prompt]")).to_be_visible()
    page.get_by_role("button", name="Finish").tap()
    page.get_by_label("What will you take away from today?").fill("I waited and he showed me.")
    page.get_by_role("button", name="Save and finish the review").tap()
    expect(page.locator("[data-saved]")).to_contain_text("the review is done")
    media = {url for url in asked if url.endswith((".mp4", ".jpg"))}
    assert any("/clips/" in url for url in media), "the review played no clip"
    assert not any("film.mp4" in url for url in media), media  # never the raw film

    # the parent's words are the case's, with its cycle; the film's review is done
    leave_review(page, served.url)
    expect(page.locator(".cycle-reflections").first).to_contain_text("I waited and he showed me.")
    _open_film(page, served)
    expect(page.locator("[data-review-done-badge]")).to_be_visible()


def _gap(a: Any, b: Any) -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(b["x"] - (a["x"] + a["width"]), a["x"] - (b["x"] + b["width"]), 0)
    dy = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]), 0)
    return float(max(dx, dy))


def test_a_mark_with_two_principles_and_a_note_becomes_a_clip_then_remove_and_undo(
    page: Page, served: ServedKit
) -> None:
    """Issue #16: micro-analysis. The chips toggle each on its own; the mark takes a note
    and a supervision flag (the test case's consent includes a supervisor); "Make a clip"
    starts a clip at the mark, 8 s long (clamped to the film), with both principles; it
    is nudged and saved; the pins are thumb-sized; a clip and a mark are removed and
    brought back with Undo, whole."""
    unlock(page, served.url)
    _open_film(page, served)
    before = _notes(page, served)
    _seek(page, 6)
    page.get_by_role("button", name="Mark moment").tap()
    expect(page.locator("[data-mark-list] li")).to_have_count(len(before["marks"]) + 1)
    chips = page.locator("[data-chips]")
    guiding = chips.get_by_role("button", name="Guiding", exact=True)
    attentive = chips.get_by_role("button", name="Being attentive", exact=True)
    for chip in (guiding, attentive, guiding, guiding):  # on, on, off, on again
        chip.tap()
    expect(guiding).to_have_attribute("aria-pressed", "true")
    expect(attentive).to_have_attribute("aria-pressed", "true")
    note = "He offers the cup; she smiles back."
    page.get_by_label("What happened (one line)").fill(note)
    flag = page.locator("[data-mark-tools]").get_by_role("button", name="For supervision")
    flag.tap()
    expect(flag).to_have_attribute("aria-pressed", "true")
    mark_id = f"m{_notes(page, served)['next_id'] - 1}"
    page.wait_for_function(  # the note saved itself when the field was left
        f"""async () => (await (await fetch('/recordings/{served.short_film_id}/notes'))
             .json()).notes.marks.some(m => m.id === '{mark_id}' && m.note !== '')"""
    )
    mark = next(m for m in _notes(page, served)["marks"] if m["id"] == mark_id)
    assert (mark["t"], mark["principles"], mark["note"], mark["supervision"]) == (
        pytest.approx(3, abs=0.05), ["Being attentive", "Guiding"], note, True,
    )  # fmt: skip

    # every pin is a thumb-sized tap target (the line drawn in it stays slim)
    pins = page.locator("[data-pins] [data-pin]")
    expect(pins).to_have_count(len(before["marks"]) + 1)
    for box in [pins.nth(n).bounding_box() for n in range(pins.count())]:
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    _seek(page, 0)
    page.get_by_role("button", name=f"Go to the moment at 0:0{int(mark['t'])}").tap()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video').currentTime - t) < 0.1", arg=mark["t"]
    )

    # "Make a clip": the Clips tab, from the mark to 8 s later, both principles, flagged
    page.get_by_role("button", name="Make a clip", exact=True).tap()
    expect(page.get_by_role("tab", name="Clips")).to_have_attribute("aria-selected", "true")
    start, end = mark["t"], min(mark["t"] + 8, 12)
    expect(page.locator('[data-point="in"] [data-time]')).to_have_text(f"0:0{int(start)}.00")
    expect(page.locator('[data-point="out"] [data-time]')).to_have_text(f"0:{int(end):02d}.00")
    clip_chips = page.locator("[data-clip-chips]")
    for name in ("Guiding", "Being attentive"):
        expect(clip_chips.get_by_role("button", name=name)).to_have_attribute(
            "aria-pressed", "true"
        )
    expect(page.get_by_label("Name", exact=True)).to_have_value(note)
    page.get_by_role("button", name="Start one frame later").tap()
    page.get_by_role("button", name="End half a second earlier").tap()
    page.get_by_role("button", name="Save clip").tap()
    expect(page.locator("[data-clip-list] li", has_text=note)).to_be_visible()
    clip = next(c for c in _notes(page, served)["clips"] if c["name"] == note)
    assert (clip["in"], clip["out"]) == (
        pytest.approx(start + FRAME, abs=0.002), pytest.approx(end - 0.5, abs=0.002),
    )  # fmt: skip
    assert (clip["principles"], clip["supervision"], clip["mark"]) == (
        ["Being attentive", "Guiding"], True, mark_id,
    )  # fmt: skip

    # Remove is well away from Change; removing shows "Removed · Undo", which restores it
    row = page.locator("[data-clip-list] li", has_text=note)
    change_box = row.get_by_role("button", name=f"Change {note}").bounding_box()
    remove_box = row.get_by_role("button", name=f"Remove {note}").bounding_box()
    assert _gap(change_box, remove_box) >= 40, (change_box, remove_box)
    row.get_by_role("button", name=f"Remove {note}").tap()
    expect(page.locator("[data-clip-list] li", has_text=note)).to_have_count(0)
    bar = page.locator("[data-undo]")
    expect(bar).to_contain_text(f"Removed the clip “{note}”")
    bar.get_by_role("button", name="Undo").tap()
    expect(page.locator("[data-clip-list] li", has_text=note)).to_be_visible()
    expect(bar).to_be_hidden()
    assert clip in _notes(page, served)["clips"]  # frame-exact points, name, principles

    page.get_by_role("tab", name="Marks").tap()
    page.get_by_role("button", name=f"Remove the moment at 0:0{int(mark['t'])}").tap()
    expect(page.locator("[data-mark-list] li")).to_have_count(len(before["marks"]))
    expect(bar).to_contain_text(f"Removed the moment at 0:0{int(mark['t'])}")
    bar.get_by_role("button", name="Undo").tap()
    expect(page.locator("[data-mark-list] li", has_text=note)).to_be_visible()
    assert mark in _notes(page, served)["marks"]

    page.reload()  # all of it kept
    expect(page.locator("[data-mark-list] li", has_text=note)).to_contain_text(
        "Being attentive, Guiding"
    )
    page.get_by_role("tab", name="Clips").tap()
    expect(page.locator("[data-clip-list] li", has_text=note)).to_contain_text("For supervision")
