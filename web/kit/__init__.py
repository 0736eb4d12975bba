"""The kit's page, served on its own Wi-Fi: unlock, record, the recordings, playback,
marks, clips and stills, the shared review, settings and sync.

``create_app`` builds it over an open :class:`device.kit.Kit`, with the Settings page's
``PageSettings`` and the ``SyncSettings``; request handlers reach the kit's services
through ``services.current_kit()``. One blueprint per area: ``auth`` (unlock, lock),
``pages`` (home, list, film, preview, status), ``notes_api`` and ``media`` (marks,
clips, stills), ``review``, ``settings``, ``sync``, ``probes`` (phones' connectivity
checks); ``status``, ``thumbnailer`` and ``sync_runner`` serve them.
"""

from web.kit.app import create_app
from web.kit.services import KitApp, PageSettings
from web.kit.sync_runner import SyncSettings

__all__ = ["KitApp", "PageSettings", "SyncSettings", "create_app"]
