"""First-party static files carry a hash of their content in the URL (as Datasette does).

``url_for('static', filename='app.css')`` becomes ``/static/app.css?v=<hash>``, so a
phone may keep a static file for a year and still never runs yesterday's script after
the kit is updated. Static files are the only responses a browser may cache: they hold
no film and nothing a person typed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Response, request

HASH_CHARS = 12
CACHE_FOREVER = "public, max-age=31536000, immutable"
CACHE_CHECK = "no-cache"  # an unhashed or stale URL: the browser asks again each time


class Assets:
    """Content hashes of the files in ``static_folder``, computed once at start-up."""

    def __init__(self, static_folder: Path) -> None:
        self._hashes: dict[str, str] = {}
        for path in sorted(static_folder.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]
                self._hashes[path.relative_to(static_folder).as_posix()] = digest

    def hash_of(self, filename: str) -> str | None:
        return self._hashes.get(filename)

    def add_hash(self, endpoint: str, values: dict[str, Any]) -> None:
        """``url_defaults`` hook: put the file's hash into every static URL."""
        if endpoint != "static" or "v" in values:
            return
        digest = self.hash_of(str(values.get("filename", "")))
        if digest is not None:
            values["v"] = digest

    def cache_headers(self, response: Response) -> Response:
        """A static response with the current hash may be kept; anything else is checked."""
        filename = (request.view_args or {}).get("filename", "")
        current = self.hash_of(str(filename))
        fresh = current is not None and request.args.get("v") == current
        response.headers["Cache-Control"] = CACHE_FOREVER if fresh else CACHE_CHECK
        return response
