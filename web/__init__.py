"""The phone pages: the kit's (``web.kit``), the office's (``web.office``), and what both
share (``web.common``: security, errors, byte ranges, static assets, the server, films).

Templates and static files live here, in ``templates/`` and ``static/``, for both pages.
Only the commands that serve a page (``device.commands``) import this package.
"""

__all__: list[str] = []  # nothing at this level: import web.kit or web.office
