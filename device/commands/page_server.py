"""The phone page's server as ``vigkit run`` and ``vigkit demo`` start it.

With ``https`` (every kit; the demo too) the page is served over HTTPS by the TLS front
(``web.common.tls_front``: nginx in front of waitress) with the kit's certificate from
``keys/tls/`` (``device.tls.KitTls``); plain HTTP on ``http_port`` answers only the
landing page (``web.kit.landing``). Without it (a development machine, some tests)
waitress serves the page itself on ``http_port``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from device.errors import ConfigError
from device.library import DataDir

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from device.tls import KitTls
    from web.common.serving import KitServer
    from web.common.tls_front import SecureServer
    from web.kit.landing import SecurePage


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageAddress:
    """Where the page listens: ``http_port`` always, ``https_port`` when ``https``."""

    host: str
    http_port: int
    https_port: int
    https: bool


def secure_page(data_dir: Path, address: PageAddress) -> SecurePage | None:
    """What the page needs to know of its HTTPS (the CA for phones to install), or None
    when it is served in clear. A kit without its certificate stops here, in words."""
    if not address.https:
        return None
    from device.tls import RENEW_BEFORE_DAYS
    from web.kit.landing import SecurePage

    tls = _installed(data_dir)
    valid_until = tls.not_after
    if valid_until - datetime.now(UTC) < timedelta(days=RENEW_BEFORE_DAYS):
        log.warning(
            "the kit's certificate ends on %s: phones will refuse the page after it; "
            "ask the office for a new one (vigkit office ca issue)",
            valid_until.date(),
        )
    return SecurePage(address.https_port, tls.ca_der(), tls.ca_fingerprint(), valid_until)


def _installed(data_dir: Path) -> KitTls:
    """The kit's TLS files; missing ones are a settings problem (``vigkit run`` exits 78,
    so systemd does not restart it in a loop), said with what to run."""
    from device.errors import TlsError
    from device.tls import KitTls

    try:
        return KitTls.of(DataDir(data_dir)).require()
    except TlsError as e:
        raise ConfigError(str(e), hint=e.hint) from e


def page_server(
    app: WSGIApplication, data_dir: Path, address: PageAddress
) -> KitServer | SecureServer:
    """The server for ``app`` at ``address``; ``port`` is the one phones open."""
    if not address.https:
        from web.common.serving import make_server

        return make_server(app, address.host, address.http_port)
    from web.common.tls_front import SecureServer

    tls = _installed(data_dir)
    return SecureServer(
        app,
        address.host,
        https_port=address.https_port,
        http_port=address.http_port,
        chain_file=tls.certificate,
        key_file=tls.key,
    )


def page_url(address: PageAddress, port: int) -> str:
    scheme = "https" if address.https else "http"
    host = "127.0.0.1" if address.host in ("0.0.0.0", "::") else address.host  # noqa: S104
    return f"{scheme}://{host}:{port}/"
