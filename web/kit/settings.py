"""The Settings page: the kit's name, how a second phone joins the kit's Wi-Fi (a join code
to scan only when asked for: ``?wifi=qr``, issue #17), the kit's clock against the
phone's (and setting it), storage left and the lock timeout.

What the page needs beyond the kit (the Wi-Fi details, the clock it reads and sets) is
the ``PageSettings`` given to ``create_app``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from device.errors import CardFull, NotesError
from device.kit import wall_clock
from device.kit.label import PAGE_ADDRESS, PAGE_ADDRESS_IP, PAGE_NAME, qr_svg
from device.library import rebuilt_words
from device.library.notes import load_principles, save_principles
from device.library.prompts import load_prompts, save_prompts
from device.tls import RENEW_BEFORE_DAYS
from web.common.display import space_text
from web.common.errors import status_for
from web.common.security import wants_json
from web.kit.case_pages import problem_text
from web.kit.landing import secure_page
from web.kit.services import current_identity, current_kit
from web.kit.space import safe_at_office
from web.kit.sync import summary as sync_summary

bp = Blueprint("settings", __name__)

# A phone's clock outside these years is a broken phone, not a correction to make.
EARLIEST = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


@bp.get("/settings")
def page() -> str:
    kit = current_kit().kit
    saved = request.args.get("saved")
    return _render(
        load_principles(kit.library.data, _identities()),
        saved="The principles are saved." if saved == "principles" else "",
        prompts_saved=saved == "prompts",
        join_code=request.args.get("wifi") == "qr",
    )


def _render(
    principles: list[str],
    problem: str = "",
    saved: str = "",
    *,
    prompts_typed: str | None = None,
    prompts_problem: str = "",
    prompts_saved: bool = False,
    join_code: bool = False,
) -> str:
    """``join_code``: the Wi-Fi join code was asked for (a code on a screen can be scanned
    from across the room, so it is not drawn unasked)."""
    s = current_kit().settings
    kit = current_kit().kit
    qr = None
    if join_code and s.wifi_name and s.wifi_password:
        # segno's SVG: the name and password are encoded in the path, never as text.
        qr = Markup(qr_svg(s.wifi_name, s.wifi_password))  # noqa: S704
    now = s.wall()
    return render_template(
        "settings.html",
        secure=secure_page() is not None,
        certificate=certificate_words(now),
        wifi_name=s.wifi_name,
        wifi_password=s.wifi_password,
        qr=qr,
        page_name=PAGE_NAME,
        page_address=PAGE_ADDRESS,
        page_address_ip=PAGE_ADDRESS_IP,
        kit_now_ms=int(now * 1000),
        kit_now_text=datetime.fromtimestamp(now, UTC).strftime("%-d %b %Y, %H:%M UTC"),
        space_left=space_text(kit.recorder.minutes_left()),
        free_gb=f"{kit.library.free_bytes() / 1e9:.1f}",
        lock_minutes=s.lock_minutes,
        tolerance_s=int(wall_clock.TOLERANCE_S),
        sync=sync_summary(),
        principles=principles,
        principles_problem=problem,
        principles_saved=saved,
        safe_films=safe_at_office(kit.library),
        rebuilt=rebuilt_words(kit.library.index),
        prompts=(
            "\n".join(load_prompts(kit.library.data, _identities()))
            if prompts_typed is None
            else prompts_typed
        ),
        prompts_problem=prompts_problem,
        prompts_saved=prompts_saved,
    )


@dataclass(frozen=True)
class CertificateWords:
    words: str
    soon: bool  # shown as a problem: phones will refuse the page after it


def certificate_words(now: float) -> CertificateWords | None:
    """When the kit's HTTPS certificate ends, in words (None: the page is in clear)."""
    secure = secure_page()
    if secure is None or secure.valid_until is None:
        return None
    ends = secure.valid_until
    days = (ends.timestamp() - now) / 86400
    day = ends.strftime("%-d %B %Y")
    if days < 0:
        return CertificateWords(
            f"The kit's certificate ended on {day}: phones warn before they open this page. "
            "Ask the office for a new one.",
            soon=True,
        )
    if days < RENEW_BEFORE_DAYS:
        return CertificateWords(
            f"The kit's certificate ends on {day}: ask the office for a new one before then.",
            soon=True,
        )
    return CertificateWords(f"Secure page: the kit's certificate is valid until {day}.", soon=False)


@bp.post("/settings/prompts")
def prompts_save() -> Response | tuple[str, int]:
    """The shared review's prompts, one per line (kept encrypted, like the principles).
    A refusal shows on the page with the lines as typed."""
    typed = request.form.get("prompts", "")
    kit = current_kit().kit
    try:
        save_prompts(kit.library.data, typed.splitlines(), kit.recipients)
        kit.library.audit.append("review prompts edited")
    except (NotesError, CardFull) as e:
        if wants_json():
            raise
        principles = load_principles(kit.library.data, _identities())
        page = _render(principles, prompts_typed=typed, prompts_problem=problem_text(e))
        return page, status_for(e)
    return redirect("/settings?saved=prompts#prompts-heading", code=303)


@bp.post("/settings/principles")
def principles_save() -> Response | tuple[str, int]:
    """The kit's tag list for marks and clips, one per line (kept encrypted, like notes).
    Marks already made keep the words they were tagged with."""
    lines = [line.strip() for line in request.form.get("principles", "").splitlines()]
    kit = current_kit().kit
    try:
        save_principles(kit.library.data, [line for line in lines if line], kit.recipients)
        kit.library.audit.append("principles edited")
    except (CardFull, NotesError) as e:  # the page again: the typed list, the sentence
        if wants_json():
            raise
        problem = problem_text(e)
        if isinstance(e, NotesError):  # 13 lines, none, or two the same: nothing changed
            problem = (
                f"{_sentence(e.message)} Change the list and save again;"
                " the principles in use are unchanged."
            )
        return _render(lines, problem), status_for(e)
    return redirect(url_for("settings.page", saved="principles") + "#principles-heading", code=303)


def _identities() -> list[Any]:
    identity = current_identity()
    return [] if identity is None else [identity]


@bp.get("/settings/clock")
def clock_check() -> Response:
    """The kit's clock against the phone's (``phone_ms``: the phone's Date.now())."""
    s = current_kit().settings
    found = wall_clock.check(_phone_seconds(request.args.get("phone_ms")), wall=s.wall)
    return jsonify(_clock_json(found))


@bp.post("/settings/clock")
def clock_set() -> Response | tuple[Response, int]:
    s = current_kit().settings
    phone = _phone_seconds(request.form.get("phone_ms"))
    try:
        correction = wall_clock.set_from_phone(
            current_kit().kit.library, phone, s.set_clock, wall=s.wall
        )
    except wall_clock.ClockError as e:
        if wants_json():
            return jsonify(error=_sentence(e.message), hint=e.hint), 409
        raise
    if correction is not None:  # a clock set this boot: the kit's latest time seen moves on
        current_kit().sync.retention().trust.see(datetime.now(UTC))
    if not wants_json():
        return redirect("/settings", code=303)
    moved = correction.offset_s if correction else 0.0
    return jsonify(set=correction is not None, offset_s=moved)


def _phone_seconds(raw: str | None) -> float:
    try:
        ms = float(raw or "")
    except ValueError:
        abort(400)
    if not math.isfinite(ms) or not EARLIEST <= ms / 1000 <= LATEST:
        abort(400)
    return ms / 1000


def _clock_json(found: wall_clock.ClockCheck) -> dict[str, Any]:
    return {
        "kit_ms": int(found.kit.timestamp() * 1000),
        "phone_ms": int(found.phone.timestamp() * 1000),
        "offset_s": round(found.offset_s, 1),
        "needs_setting": found.needs_setting,
    }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."
