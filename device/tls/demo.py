"""A throw-away certificate for ``vigkit demo`` and the tests: HTTPS on this computer.

The demo makes its own CA, limited by name constraints to exactly the demo's names and
addresses (``localhost``, 127.0.0.1), issues the kit's certificate with it and installs
that. The CA's key lives in memory only and is dropped: nothing can ever be signed with
it again, so trusting the demo's ``ca.crt`` in a test browser risks nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from ipaddress import ip_network
from pathlib import Path

from device.errors import TlsError
from device.library import DataDir
from device.tls.authority import (
    IPAddress,
    chain_pem,
    demo_authority,
    issue,
    new_key,
    private_key_pem,
)
from device.tls.kit_files import KitTls

DEMO_KIT = "demo"
# Files that end sooner than this are replaced rather than kept: a demo left running
# overnight must not go out of date under the browser.
KEEP_IF_VALID_FOR = dt.timedelta(days=7)


def demo_tls(
    data_dir: DataDir | Path, names: Sequence[str], addresses: Sequence[IPAddress]
) -> KitTls:
    """The data folder's TLS files, valid for ``names`` and ``addresses``: kept if they
    already are (for another week at least), else made anew from a throw-away CA."""
    tls = KitTls.of(data_dir)
    if tls.present():
        try:
            tls.check(names, addresses)
            tls.check(names, addresses, at=dt.datetime.now(dt.UTC) + KEEP_IF_VALID_FOR)
        except TlsError:
            pass  # another CA's, other names, damaged or ending soon: replaced below
        else:
            return tls
    authority = demo_authority(names, [ip_network(a) for a in addresses])
    key = new_key()
    leaf = issue(authority, DEMO_KIT, key.public_key(), names=names, addresses=addresses)
    tls.install(chain_pem(authority, leaf), private_key_pem(key), names=names, addresses=addresses)
    return tls
