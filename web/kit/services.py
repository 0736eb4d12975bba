"""What the kit's page works with, built once by ``create_app`` and typed.

A request handler asks for :func:`current_kit` (the kit, its cases, its key ring, the film
readers, the notes, the thumbnails, the sync, the page's settings) and :func:`current_identity`
(the kit's key when this browser has unlocked it); there is no other lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, session

from device import age
from device.cases import CaseStore
from device.kit import Kit
from device.kit.wall_clock import ClockSetter
from device.library import NotesStore
from device.library.pinning import RecipientGuard
from web.common.films import Layouts
from web.common.keyring import Keyring
from web.common.page import PageApp
from web.kit import probes
from web.kit.case_codes import CaseCodes
from web.kit.export_queue import ExportQueue
from web.kit.landing import SecurePage
from web.kit.review_scope import ReviewModes
from web.kit.sealer import Sealer
from web.kit.sync_runner import SyncRunner
from web.kit.thumbnailer import Thumbnailer

# Runs the recorder's start and stop: ``vigkit run`` passes a full-priority thread.
Control = Callable[[Callable[[], Any]], Any]
# Polling, the preview and thumbnails are not "activity": a page left open must still
# lock itself.
PASSIVE_ENDPOINTS = frozenset({"pages.status", "pages.preview", "pages.thumb", "static"})
# the case notes (20,000 characters) fit, URL-encoded; waitress keeps request bodies
# under 64 KiB in memory (web.common.serving), so this stays below that
MAX_FORM_BYTES = 62 * 1024


@dataclass(frozen=True, kw_only=True)
class PageSettings:
    """What the Settings page shows and does beyond the kit: from the kit's settings, and
    the clock it reads and sets (``vigkit run``: the system's; the demo: its own)."""

    set_clock: ClockSetter
    wall: Callable[[], float] = time.time
    wifi_name: str = ""
    wifi_password: str = ""
    lock_minutes: float | None = None


@dataclass(frozen=True, kw_only=True)
class KitServices:
    kit: Kit
    keyring: Keyring
    control: Control
    thumbnailer: Thumbnailer
    exports: ExportQueue
    sealer: Sealer
    layouts: Layouts
    notes: NotesStore
    sync: SyncRunner
    settings: PageSettings
    allow_downloads: bool
    recipients: RecipientGuard  # pinned recipients, checked at each unlock
    reviews: ReviewModes = field(default_factory=ReviewModes)  # review-only sessions
    case_codes: CaseCodes = field(default_factory=CaseCodes)  # the Saved line's (status)

    @property
    def cases(self) -> CaseStore:
        """The kit's cases (encrypted documents) and their registry (``cases.registry``)."""
        return self.kit.cases

    def close(self) -> None:
        self.sync.close()
        self.sealer.close()
        self.thumbnailer.close()
        self.exports.close()
        self.layouts.clear()  # the film readers kept open between range requests


class KitApp(PageApp):
    """The kit's page: a :class:`PageApp` holding the kit's services."""

    def __init__(
        self,
        services: KitServices,
        *,
        title: str,
        secret_key: bytes | str | None,
        secure: SecurePage | None = None,
    ) -> None:
        super().__init__(
            cookie_name="vigkit",
            max_form_bytes=MAX_FORM_BYTES,
            title=title,
            secret_key=secret_key,
            any_host=probes.ENDPOINTS,  # asked for by the phone makers' names
            secure=secure is not None,
        )
        self.config["VIGKIT_SECURE"] = secure  # web.kit.landing
        self.services = services
        # Lock sits in the top bar of every page of an unlocked browser (base.html)
        self.context_processor(lambda: {"may_lock": current_identity() is not None})

    def close(self) -> None:
        self.services.close()


def current_kit() -> KitServices:
    """The kit's services, in a request to the kit's page."""
    app = current_app
    if not isinstance(app, KitApp):  # a blueprint registered on the wrong app
        raise TypeError("this view belongs to the kit's page (web.kit.create_app)")
    return app.services


def current_identity() -> age.X25519Identity | None:
    """The kit's key if this browser has unlocked it (and the idle timeout has not passed)."""
    token = session.get("unlock")
    return current_kit().keyring.identity(
        token if isinstance(token, str) else None,
        touch=request.endpoint not in PASSIVE_ENDPOINTS,
    )
