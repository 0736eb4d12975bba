"""The kit on a phone: Chromium at 390x844 with touch drives the real kit over HTTP."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from device.recording.recorder import RecorderState
from tests.browser.conftest import BUTTON, LONG_FILM_S, ServedKit, unlock
from tests.web.web_helpers import PASSPHRASE, wait_until

METADATA = "v => v.readyState >= 1"


def _film_at(url: str) -> re.Pattern[str]:
    """A film page's address; its tabs put the open one in the #fragment (tabs.js)."""
    return re.compile(re.escape(url) + r"(#[a-z]+)?$")


def _video_ready(page: Page) -> None:
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); return v && v.readyState >= 1; }"
    )


def test_unlock_record_five_seconds_list_play_and_seek(page: Page, served: ServedKit) -> None:
    recorder = served.appliance.kit.recorder
    page.goto(served.url + "/")
    expect(page).to_have_url(served.url + "/unlock")
    expect(page.locator("[data-words]")).to_have_text("Locked")  # nothing of the room
    unlock(page, served.url)

    record = page.locator("[data-record-button]")
    expect(record).to_have_text("Record")
    record.tap()
    expect(page.locator("[data-words]")).to_have_text("Recording")
    expect(record).to_have_text("Stop")
    expect(page.locator("[data-elapsed]")).to_have_text("0:05", timeout=60_000)
    record.tap()
    expect(page.locator("[data-words]")).to_have_text("Ready to record", timeout=60_000)
    assert recorder.wait(60)
    newest = served.appliance.kit.library.index.all()[0]
    # the page's clock runs from the press, the film from its first frame (which may come
    # a few frames later on a busy machine)
    assert newest.duration_s is not None and 4.5 <= newest.duration_s < 8

    page.get_by_role("link", name="Recordings").tap()
    first = page.locator(".card").first
    expect(first.locator(".length")).to_have_text("0:0" + str(int(newest.duration_s)))
    first.get_by_role("link").tap()
    expect(page).to_have_url(_film_at(f"{served.url}/recordings/{newest.id}"))
    _video_ready(page)
    video = page.locator("video")
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(newest.duration_s, abs=0.5)

    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.5")
    middle = duration / 2
    video.evaluate(
        """(v, t) => new Promise(done => {
             v.addEventListener('seeked', done, { once: true }); v.currentTime = t; })""",
        middle,
    )
    page.wait_for_function(
        "t => { const v = document.querySelector('video');"
        " return !v.paused && v.currentTime > t; }",
        arg=middle + 0.5,
    )
    assert video.evaluate("v => v.error") is None


def test_a_double_tap_on_record_asks_and_stop_says_what_was_saved(
    page: Page, served: ServedKit
) -> None:
    """Issue #16: unlock returns to the page asked for, Lock is on it; the kit's name is
    whole; a double tap (60 ms) on Record asks rather than stops, and leaves no 0:00 film;
    Stop then says "Saved · 0:05 · Case …, cycle N" with Open the film; the film's card
    in the list carries its thumbnail."""
    kit = served.appliance.kit
    before = {r.id for r in kit.library.index.all()}
    film_url = f"{served.url}/recordings/{served.short_film_id}"
    page.goto(film_url)
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    expect(page).to_have_url(_film_at(film_url))
    expect(page.get_by_role("button", name="Lock")).to_be_visible()

    page.goto(served.url + "/")
    name = page.locator(".bar .kit")
    assert name.evaluate("n => n.scrollWidth <= n.clientWidth")  # never cut to "Test …"
    expect(page.get_by_role("button", name="Lock")).to_be_visible()
    record = page.locator("[data-record-button]")
    expect(record).to_have_accessible_name("Record")  # the drawn "●" is not read out
    box = record.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.wait_for_timeout(60)
    page.touchscreen.tap(x, y)
    ask = page.locator("[data-ask]")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("Tap Stop again to stop it")
    wait_until(lambda: kit.recorder.status.state == RecorderState.RECORDING, 10, "the start")
    expect(ask).to_be_hidden(timeout=10_000)  # unanswered, the question goes; the film goes on
    assert kit.recorder.status.state == RecorderState.RECORDING
    expect(record).to_have_accessible_name("Stop")
    record.tap()
    saved = page.locator("[data-just-saved]")
    expect(saved).to_be_visible(timeout=60_000)
    assert kit.recorder.wait(60)
    (new,) = [r for r in kit.library.index.all() if r.id not in before]  # one film, not two
    assert new.duration_s is not None and new.duration_s >= 2
    expect(saved.locator("[data-just-saved-words]")).to_have_text(
        re.compile(rf"^Saved · 0:0{int(new.duration_s)} · Case [A-Z]-\d{{4}}, cycle {new.cycle}$")
    )
    saved.get_by_role("link", name="Open the film").tap()
    expect(page).to_have_url(_film_at(f"{served.url}/recordings/{new.id}"))

    thumbs = kit.library.data.derived(new.id, "thumbs")
    wait_until(thumbs.exists, 60, "the new film's thumbnails")
    page.goto(served.url + "/recordings")
    thumb = page.locator(f'a[href="/recordings/{new.id}"] img.card-thumb')
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("i => i.naturalWidth") > 0


def test_the_button_on_the_kit_shows_on_an_open_page(page: Page, served: ServedKit) -> None:
    recorder = served.appliance.kit.recorder
    unlock(page, served.url)
    words = page.locator("[data-words]")
    expect(words).to_have_text("Ready to record")
    pin = served.pins.pin(BUTTON)
    _press(pin)
    wait_until(lambda: recorder.status.state == RecorderState.RECORDING, 10, "the recorder")
    # The page polls twice a second: the press shows within a second of the recorder
    # starting (the wait allows the machine's own jitter, not a slower page).
    expect(words).to_have_text("Recording", timeout=1_500)
    expect(page.locator("[data-record-button]")).to_have_text("Stop")
    _press(pin)
    wait_until(lambda: recorder.status.state == RecorderState.IDLE, 60, "the film saved")
    expect(words).to_have_text("Ready to record", timeout=1_500)
    assert served.shutdowns == []


def _press(pin: object) -> None:
    pin.drive_low()  # type: ignore[attr-defined]
    time.sleep(0.15)  # a finger on the button: longer than the debounce, shorter than a hold
    pin.drive_high()  # type: ignore[attr-defined]


def test_an_hour_long_film_opens_and_seeks_with_few_requests(page: Page, served: ServedKit) -> None:
    unlock(page, served.url)
    films = served.films
    films.clear()
    page.goto(f"{served.url}/recordings/{served.long_film_id}")
    _video_ready(page)
    opened = films.snapshot()
    duration = page.locator("video").evaluate("v => v.duration")
    assert duration == pytest.approx(LONG_FILM_S, abs=1)
    assert len(opened) <= 3, opened
    # Every range is answered whole (WebKit needs it, web.common.ranges): the player reads
    # ahead what it buffers — a few MB, as from a plain file served statically (bench
    # playback) — and never the 3.8 GB film.
    assert sum(r.sent for r in opened) < 40_000_000, opened

    films.clear()
    seek_ms = page.locator("video").evaluate(
        """v => new Promise(done => { const t0 = performance.now();
             v.addEventListener('seeked', () => done(performance.now() - t0), { once: true });
             v.currentTime = 1800; })"""
    )
    seek = films.snapshot()
    assert 1 <= len(seek) <= 5, seek
    assert all(r.status.startswith("206") for r in seek), seek
    # the answer the player dropped for the seek is no longer being made: the kit stops
    # decrypting once the phone has gone (waitress ends the response on the closed socket)
    wait_until(lambda: all(r.end for r in opened), 5, "the dropped answer to end")
    print(f"far seek (cold, after the first open): {seek_ms:.0f} ms")
    # the target is 150 ms (issue #13); a loaded 2-CPU test machine gets some slack
    assert seek_ms < 1000


def test_tapping_a_thumbnail_goes_to_that_moment(page: Page, served: ServedKit) -> None:
    unlock(page, served.url)  # unlocking lets the kit make the thumbnails it lacks
    thumbs = served.appliance.kit.library.data.derived(served.long_film_id, "thumbs")
    wait_until(thumbs.exists, 180, "the hour's thumbnails")
    page.goto(f"{served.url}/recordings/{served.long_film_id}")
    _video_ready(page)
    strip = page.locator("[data-strip] [data-t]")
    expect(strip).to_have_count(120)  # one every 30 s across the hour
    third = strip.nth(2)
    expect(third.locator("img")).to_have_js_property("complete", True)
    assert third.locator("img").evaluate("i => i.naturalWidth") > 0
    t = float(third.get_attribute("data-t") or "nan")
    assert t == pytest.approx(60, abs=1)
    third.tap()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video').currentTime - t) < 0.5", arg=t
    )
    expect(third).to_have_attribute("aria-current", "true")
