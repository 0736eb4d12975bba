"""The kit's page, served on its own Wi-Fi: unlock, record, the recordings, playback,
marks, clips and stills, the shared review, settings and sync.

``create_app`` builds it over an open :class:`device.kit.Kit`; one blueprint per area:
``auth`` (unlock, lock), ``pages`` (home, list, film, preview, status), ``notes_api``
and ``media`` (marks, clips, stills), ``review``, ``settings``, ``sync``, ``probes``
(phones' connectivity checks); ``status`` and ``thumbnailer`` serve them.
"""

from web.kit.app import create_app

__all__ = ["create_app"]
