"""HTTPS on the hotspot: the organisation's certificate authority, the kit's certificate
and its installed files (issue #17, finding 1).

``authority`` makes and loads the CA (name-constrained to the kits' names and the
hotspot's network) and issues kits' certificates; ``kit_files`` installs and checks the
kit's key, chain and CA under ``keys/tls/``; ``demo`` gives ``vigkit demo`` and the tests
a throw-away CA whose key is never written.
"""

from device.tls.authority import (
    KIT_ADDRESS,
    KIT_NAMES,
    KIT_NETWORK,
    Authority,
    fingerprint,
    init_ca,
    issue,
    issue_for_csr,
    load_ca,
    new_key,
)
from device.tls.demo import demo_tls
from device.tls.kit_files import RENEW_BEFORE_DAYS, KitTls

__all__ = [
    "KIT_ADDRESS",
    "KIT_NAMES",
    "KIT_NETWORK",
    "RENEW_BEFORE_DAYS",
    "Authority",
    "KitTls",
    "demo_tls",
    "fingerprint",
    "init_ca",
    "issue",
    "issue_for_csr",
    "load_ca",
    "new_key",
]
