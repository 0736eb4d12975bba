"""Issue #13: a film plays and seeks to the frame in both browser engines, Chromium and
WebKit (Safari's engine).

Each film (the session's hour at 5 frames a second and its 12-second film at 30) is
opened on the kit's own film page (over HTTPS, as a phone opens it), and for comparison
as a plain progressive MP4 served statically over plain HTTP (``plain_films``), opened as
a page of its own origin (nothing of one origin loads from the other). The two are held to
the same checks, each against the frame counter in its own picture and never against the
other's timings, so the scheme does not change what is compared. In each: the player
knows the true length; seeking to 10%, 90% and 50% fires ``seeked``, lands within one
frame of the target, and the frame the player then shows (read from the picture's own
frame counter) is the one at that time; from 50% it plays on for two seconds and shows
the frame it has reached. Then a review clip, exported frame-exact, shows its first
chosen frame and plays.
"""

from __future__ import annotations

import json
import math
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import LONG_FILM_S, SHORT_FILM_S, ServedKit
from tests.browser.engines import Phone
from tests.browser.playback import (
    VIDEO,
    StaticFilms,
    first_frame,
    frame_shown,
    metadata,
    seek,
)
from tests.web.web_helpers import HttpSession

FILMS = {"hour": (LONG_FILM_S, 5), "short": (SHORT_FILM_S, 30)}
PLAY_ON_S = 2.0


def _film_url(served: ServedKit, plain: StaticFilms | None, film: str) -> str:
    if plain is not None:
        return f"{plain.url}/play/{film}"
    rec_id = served.long_film_id if film == "hour" else served.short_film_id
    return f"{served.url}/recordings/{rec_id}"


@pytest.mark.parametrize("film", FILMS)
@pytest.mark.parametrize("source", ["kit", "faststart"])
def test_a_film_plays_and_seeks_to_the_frame(
    phone: Phone, served: ServedKit, request: pytest.FixtureRequest, source: str, film: str
) -> None:
    plain = request.getfixturevalue("plain_films") if source == "faststart" else None
    if source == "kit":
        phone.unlock(served.url)
    length_s, fps = FILMS[film]
    frame = 1 / fps
    phone.goto(_film_url(served, plain, film))

    assert metadata(phone) == pytest.approx(length_s, abs=frame)
    first = first_frame(phone)  # the frame at 0 s: the film's first frame number
    for part in (0.1, 0.9, 0.5):
        target = part * length_s
        landed = seek(phone, target)
        assert landed == pytest.approx(target, abs=frame), (part, landed)
        _assert_shows(phone, first, landed, fps)

    phone.run(f"() => {{ {VIDEO}.muted = true; return {VIDEO}.play(); }}")
    phone.wait_for(f"t => {VIDEO}.currentTime >= t", landed + PLAY_ON_S, timeout_s=20)
    reached = seek(phone, phone.run(f"() => {VIDEO}.currentTime"))  # pause on that frame
    assert reached >= landed + PLAY_ON_S
    _assert_shows(phone, first, reached, fps)
    assert phone.run(f"() => {VIDEO}.error") is None


def _assert_shows(phone: Phone, first: int, t: float, fps: int) -> None:
    """The frame shown is the one whose time span holds ``t`` (one frame either side:
    a target on a frame boundary may round either way)."""
    expected = first + math.floor(t * fps + 1e-6)
    shown = frame_shown(phone)
    assert abs(shown - expected) <= 1, f"at {t:.3f} s: frame {shown}, expected {expected}"


def test_a_review_clip_plays_from_its_first_chosen_frame(phone: Phone, served: ServedKit) -> None:
    """A clip from frame 100 to frame 160 of the short film, exported frame-exact: on the
    review page its player shows frame 100 first, then plays."""
    rec_id, fps = served.short_film_id, FILMS["short"][1]
    office = served.session()
    assert office.unlock() in (302, 303)
    clip = {"in": 100 / fps, "out": 160 / fps, "name": "Playback check"}
    doc = _notes_ops(office, rec_id, {"op": "add", "list": "clips", "item": clip})
    clip_id = max(doc["clips"], key=lambda c: int(c["id"][1:]))["id"]
    try:
        status, _ = _post_json(office, f"/recordings/{rec_id}/clips/{clip_id}/export", exact=True)
        assert status == 200
        phone.unlock(served.url)
        phone.goto(f"{served.url}/recordings/{rec_id}")
        metadata(phone)
        first = first_frame(phone)
        phone.goto(f"{served.url}/recordings/{rec_id}/review")
        video = f'video[src$="/clips/{clip_id}.mp4"]'
        phone.run(
            f"() => {{ const v = document.querySelector({video!r}); v.muted = true;"
            " v.preload = 'auto'; v.load(); }"
        )
        phone.wait_for(f"() => document.querySelector({video!r}).readyState >= 1")
        assert seek(phone, 0, video) == 0
        assert frame_shown(phone, video) == first + 100
        phone.run(f"() => document.querySelector({video!r}).play()")
        phone.wait_for(f"() => document.querySelector({video!r}).currentTime >= 1")
        # playing: a later frame of the clip (the picture may trail currentTime a little)
        assert first + 100 < frame_shown(phone, video) <= first + 160
    finally:
        _notes_ops(office, rec_id, {"op": "delete", "list": "clips", "id": clip_id})


def _post_json(session: HttpSession, path: str, **body: Any) -> tuple[int, Any]:
    req = urllib.request.Request(
        session.base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": session.token},
    )
    with session.opener.open(req, timeout=120) as answer:
        return answer.status, json.loads(answer.read())


def _notes_ops(session: HttpSession, rec_id: str, *ops: dict[str, Any]) -> dict[str, Any]:
    status, answer = _post_json(session, f"/recordings/{rec_id}/notes", ops=list(ops))
    assert status == 200, answer
    doc: dict[str, Any] = answer["notes"]
    return doc
