"""The phone page's server as ``vigkit run`` and ``vigkit demo`` start it.

With ``https`` (every kit; the demo too) the page is served over HTTPS by the TLS front
(``web.common.tls_front``: nginx in front of waitress) with the kit's certificate from
``keys/tls/`` (``device.tls.KitTls``); plain HTTP on ``http_port`` answers only the
landing page (``web.kit.landing``). Without it (a development machine, some tests)
waitress serves the page itself on ``http_port``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from device.library import DataDir

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from web.common.serving import KitServer
    from web.common.tls_front import SecureServer
    from web.kit.landing import SecurePage


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
    from device.tls import KitTls
    from web.kit.landing import SecurePage

    tls = KitTls.of(DataDir(data_dir)).require()
    return SecurePage(address.https_port, tls.ca_der(), tls.ca_fingerprint())


def page_server(
    app: WSGIApplication, data_dir: Path, address: PageAddress
) -> KitServer | SecureServer:
    """The server for ``app`` at ``address``; ``port`` is the one phones open."""
    if not address.https:
        from web.common.serving import make_server

        return make_server(app, address.host, address.http_port)
    from device.tls import KitTls
    from web.common.tls_front import SecureServer

    tls = KitTls.of(DataDir(data_dir)).require()
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
