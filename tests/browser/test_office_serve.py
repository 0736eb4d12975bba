"""The office's review page in Chromium: open it through the printed address with its
access code, play a film, seek with the thumbnail strip, comment, and see the comment
again after a reload. The archive is a real synced one (tests/office/test_serve.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from device.commands.office_serve import load_key
from device.office.kit_register import load_register
from device.office.recordings import ArchiveRecordings
from tests.browser.conftest import axe_violations
from tests.office.test_serve import served_archive
from tests.recording.conftest import OfficeKey
from tests.sync.conftest import KitFiles, kit, kit_template, office_key
from web.common.serving import make_server
from web.office import Gate, create_office_app

__all__ = ["kit", "kit_template", "office_key", "served_archive"]  # fixtures used here

CODE = "a-code-for-the-browser-test"


@pytest.fixture
def office_url(served_archive: Path, office_key: OfficeKey) -> Iterator[str]:
    """The office page on a free port, served as ``vigkit office serve`` serves it."""
    identities = load_key([office_key.path], None).identities
    recordings = ArchiveRecordings(served_archive, load_register(office_key.kits))
    app = create_office_app(recordings, identities, Gate(CODE))
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve, name="office-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        thread.join(10)
        server.close()
        app.close()


@pytest.fixture
def tab(browser: BrowserContext) -> Iterator[Page]:
    """A fresh tab with no session; fails the test on any CSP violation or script error."""
    browser.clear_cookies()
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    yield page
    page.close()
    assert not problems, problems


def test_a_supervisor_watches_seeks_and_comments(
    tab: Page, office_url: str, kit: KitFiles, served_archive: Path
) -> None:
    tab.goto(office_url + "/")
    expect(tab).to_have_url(office_url + "/enter")
    tab.goto(f"{office_url}/?token={CODE}")  # the address the command printed
    expect(tab).to_have_url(office_url + "/")
    card = tab.locator(".card", has=tab.locator(f'a[href$="/{kit.film}"]'))
    expect(card).to_contain_text("Case F-0231, cycle 2")  # from the case record
    expect(card).not_to_contain_text("No consent recorded")  # the case's consent
    assert axe_violations(tab) == []
    card.get_by_role("link").click()
    (folder,) = served_archive.iterdir()
    expect(tab).to_have_url(f"{office_url}/recordings/{folder.name}/{kit.film}")

    video = tab.locator("video")
    tab.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert video.evaluate("v => v.duration") == pytest.approx(6.0, abs=0.5)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    tab.wait_for_function("() => document.querySelector('video').currentTime > 0.5")
    thumbs = tab.locator("[data-strip] .thumb")
    assert thumbs.count() >= 3
    target = float(thumbs.nth(2).get_attribute("data-t") or "nan")
    thumbs.nth(2).click()  # seek with the timeline
    tab.wait_for_function(
        "t => { const v = document.querySelector('video');"
        " return v.currentTime >= t && v.currentTime < t + 1.5 && v.readyState >= 2; }",
        arg=target,
    )
    video.evaluate("v => v.pause()")
    tab.get_by_role("button", name="0:01 · Being attentive").click()  # a mark seeks too
    tab.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 1.5) < 0.1")
    assert video.evaluate("v => v.error") is None

    tab.get_by_label("Your comment").fill("Look at the turn-taking here.")
    tab.get_by_label("About").select_option(label="Clip “Taking turns with the blocks”")
    tab.get_by_label("At the moment on screen").check()
    tab.get_by_label("Your initials (optional)").fill("JS")
    tab.get_by_role("button", name="Add comment").click()
    comment = tab.locator(".office-comment")
    expect(comment).to_contain_text("Look at the turn-taking here.")
    expect(comment).to_contain_text("Clip “Taking turns with the blocks”")
    expect(comment).to_contain_text("at 0:01")
    tab.reload()
    expect(tab.locator(".office-comment")).to_have_count(1)
    expect(tab.locator(".office-comment")).to_contain_text("Look at the turn-taking here.")
    assert axe_violations(tab) == []
    assert not tab.get_by_role("button", name="Mark moment").count()
    assert (folder / f"{kit.film}.office-notes.age").exists()

    # the case's journey, read-only, with that comment under its film
    tab.get_by_role("link", name="Cases").click()
    tab.locator(".case-card", has_text="Case F-0231").get_by_role("link").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Case F-0231")
    film = tab.locator("article.journey-film", has_text="Taking turns with the blocks")
    expect(film).to_have_count(1)
    expect(film.locator(".office-comment")).to_contain_text("Look at the turn-taking here.")
    expect(film.locator(".journey-stills img")).to_have_count(1)
    assert film.locator(".journey-stills img").evaluate("i => i.naturalWidth") > 0
    assert axe_violations(tab) == []
