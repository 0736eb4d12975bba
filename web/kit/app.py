"""The kit's phone page: unlock, record and stop, the list of recordings, and playback.

``create_app`` is given an open :class:`device.kit.Kit` and everything else the page
needs as typed keyword arguments; it reads no config and no environment, and there is no
second step. The kit's identity is unlocked into this process's memory only.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from flask import redirect, request, url_for
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from device.cases import supervisor_may_watch
from device.hardware import board
from device.kit import Kit
from device.kit.wall_clock import ntp_of
from device.library import NotesStore
from device.library.pinning import RecipientGuard, recipients_in_use
from web.common.films import Layouts
from web.common.keyring import Keyring
from web.common.security import wants_json
from web.kit import (
    auth,
    case_edit,
    case_pages,
    cases,
    cycle_review,
    erase_pages,
    landing,
    media,
    notes_api,
    pages,
    probes,
    review,
    review_mode,
    review_save,
    settings,
    sync,
)
from web.kit.case_codes import CaseCodes
from web.kit.export_queue import ExportQueue
from web.kit.review_scope import ReviewModes
from web.kit.sealer import Sealer
from web.kit.services import Control, KitApp, KitServices, PageSettings, current_identity
from web.kit.sync_runner import SyncRunner, SyncSettings
from web.kit.thumbnailer import Thumbnailer

__all__ = ["create_app"]

PUBLIC_ENDPOINTS = (
    frozenset({"auth.unlock_page", "auth.unlock", "pages.status", "static"})
    | probes.ENDPOINTS
    | landing.ENDPOINTS
)
HTML_PAGES = (
    frozenset({"pages.home", "pages.recordings", "pages.film", "settings.page", "review.page"})
    | case_pages.HTML_PAGES
    | erase_pages.HTML_PAGES
    | {"cycle_review.page", "review_mode.gate_page"}
)
BLUEPRINTS = (
    auth,
    pages,
    notes_api,
    cases,
    case_pages,
    case_edit,
    erase_pages,
    cycle_review,
    media,
    review,
    review_mode,
    review_save,
    settings,
    sync,
    probes,
    landing,
)
T = TypeVar("T")


def _direct(call: Callable[[], T]) -> T:
    return call()


def create_app(
    kit: Kit,
    *,
    settings: PageSettings,
    sync: SyncSettings | None = None,
    secret_key: bytes | str | None = None,
    idle_timeout_s: float = 900,
    clock: Callable[[], float] = time.monotonic,
    control: Control = _direct,
    kit_name: str = "VIG Kit",
    thumbnails: bool = True,
    allow_downloads: bool = False,
    secure: landing.SecurePage | None = None,
) -> KitApp:
    """The page over ``kit``. ``settings``: the Settings page's Wi-Fi details and the
    clock it reads and sets; ``sync``: where "Sync now" sends (None: not set up).
    ``control`` runs the recorder's start and stop (``vigkit run`` passes a full-priority
    thread, see ``web.common.serving``); ``thumbnails`` makes missing thumbnails in the
    background while the kit is unlocked and idle; ``allow_downloads`` lets a phone save
    decrypted clips and stills (off by default; each download is in the audit log).
    ``secure``: the page is served over HTTPS (``web.common.tls_front``), so plain HTTP
    answers only the landing page (``web.kit.landing``) and cookies are ``Secure``.
    ``app.close()`` stops the background work."""
    layouts = Layouts()
    reviews = ReviewModes(clock)
    case_codes = CaseCodes()

    def forget() -> None:  # what was opened with the key, and the review-only sessions
        layouts.clear()
        case_codes.clear()
        reviews.clear()

    keyring, guard = _keyring(kit, idle_timeout_s, clock, on_forget=forget)
    thumbnailer = Thumbnailer(kit, keyring, enabled=thumbnails)
    sealer = Sealer(kit, keyring, kit.recorder.reserve_bytes, on_sealed=thumbnailer.kick)
    notes = NotesStore(
        kit.library.data,
        kit.library.index,
        kit.library.audit,
        supervision=functools.partial(supervisor_may_watch, kit.cases),
    )
    services = KitServices(
        kit=kit,
        keyring=keyring,
        control=control,
        thumbnailer=thumbnailer,
        exports=ExportQueue(kit, keyring, notes),
        sealer=sealer,
        layouts=layouts,
        notes=notes,
        sync=SyncRunner(
            kit, sync or SyncSettings(), ntp=ntp_of(settings.set_clock), on_damaged=sealer.kick
        ),
        settings=settings,
        allow_downloads=allow_downloads,
        reviews=reviews,
        case_codes=case_codes,
        recipients=guard,
    )
    app = KitApp(services, title=kit_name, secret_key=secret_key, secure=secure)
    # right after the Host check, before the CSRF check: a form posted over plain HTTP
    # gets the landing page, not an error
    app.before_request_funcs.setdefault(None, []).insert(1, landing.plain_http_gate)
    app.before_request(_require_unlock)
    app.before_request(review_mode.gate)  # review-only mode: only the review answers
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint.bp)
    return app


def _require_unlock() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None  # None: no route matched, so the 404 handler answers
    if current_identity() is not None:
        return None
    if request.method == "GET" and request.endpoint in HTML_PAGES and not wants_json():
        # after the unlock the browser comes back to the page it asked for (Home by default)
        asked = request.full_path.rstrip("?")
        return redirect(url_for("auth.unlock_page", next=asked if asked != "/" else None))
    raise Unauthorized


def _keyring(
    kit: Kit, idle_timeout_s: float, clock: Callable[[], float], on_forget: Callable[[], None]
) -> tuple[Keyring, RecipientGuard]:
    """The keyring, with the scrypt cap of this board and the pinned-recipients check."""
    model = board.board_model()
    data = kit.library.data
    guard = RecipientGuard(
        data, lambda: recipients_in_use(data, kit.recipients), partial(_drop_recipients, kit)
    )
    keyring = Keyring(
        data.kit_identity_file,
        idle_timeout_s=idle_timeout_s,
        clock=clock,
        on_forget=on_forget,
        max_work_factor=board.reading_cap(model),
        on_open=guard,
    )
    return keyring, guard


def _drop_recipients(kit: Kit, unknown: list[str]) -> None:
    """Stop encrypting new films to keys the kit was not set up with: the recorder's
    film factory reads this same list at each film's start."""
    kit.recipients[:] = [r for r in kit.recipients if str(r) not in unknown]
