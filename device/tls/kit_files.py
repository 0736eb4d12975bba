"""The kit's installed TLS files: its key, its certificate chain, and the CA for phones.

They live in ``keys/tls/`` of the data folder (0700):

- ``kit.key`` (0600): the kit's private key, unencrypted, because the TLS front reads it
  at every start, unattended (like the signing key beside it, it proves "this card",
  nothing more). It protects the phone page's traffic; no film is encrypted to it.
- ``kit.crt`` (0644): the kit's certificate followed by the CA's, what nginx's
  ``ssl_certificate`` takes.
- ``ca.crt`` (0644): the organisation's CA alone, offered on the landing page for a
  phone to trust once.

Nothing is installed that would not work: :meth:`KitTls.install` checks that the key is
the certificate's, that the certificate was issued by the CA that follows it, that the CA
is limited to the kits' names (name constraints) and that the chain verifies — with
cryptography's verifier, as a browser would — for every name and address of the page.

Sync never sends these files: it sends only ``recordings/``, ``cases/`` and ``outbox/``
(tests/tls/test_kit_files.py syncs a kit that has them and looks at the office's copy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509 import verification

from device.errors import TlsError, TlsMissing
from device.library import DataDir, atomic_write
from device.tls.authority import (
    KIT_ADDRESS,
    KIT_NAMES,
    MAX_LEAF_DAYS,
    IPAddress,
    certificate_pem,
    certificate_request,
    fingerprint,
    name_constraints,
    new_key,
    private_key_pem,
)

ISSUE_HINT = (
    "Give the KIT-ID.crt that vigkit office ca issue wrote for this kit (it holds the kit's "
    "certificate and the organisation's CA), with the key it was issued for."
)


RENEW_BEFORE_DAYS = 30  # the kit warns (log, Settings) this long before its certificate ends


@dataclass(frozen=True)
class KitTls:
    """The paths of one kit's TLS files, and what can be done with them."""

    folder: Path

    @classmethod
    def of(cls, data: DataDir | Path) -> KitTls:
        keys = data.keys if isinstance(data, DataDir) else DataDir(Path(data)).keys
        return cls(keys / "tls")

    @property
    def key(self) -> Path:
        return self.folder / "kit.key"

    @property
    def certificate(self) -> Path:
        """The kit's certificate and the CA's after it (nginx's ``ssl_certificate``)."""
        return self.folder / "kit.crt"

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    def present(self) -> bool:
        """Whether all three files are there (not whether they are still valid: :meth:`check`)."""
        return all(path.is_file() for path in (self.key, self.certificate, self.ca))

    def require(self) -> KitTls:
        """These files, or a :class:`TlsMissing` that says what to run to get them."""
        missing = [p.name for p in (self.key, self.certificate, self.ca) if not p.is_file()]
        if missing:
            raise TlsMissing(
                f"the kit has no certificate for its secure page: {', '.join(missing)} "
                f"missing in {self.folder}"
            )
        return self

    def chain(self) -> list[x509.Certificate]:
        """The installed ``kit.crt``: the kit's certificate first, the CA's last."""
        return _certificates(self.require().certificate.read_bytes(), str(self.certificate))

    @property
    def not_after(self) -> dt.datetime:
        """When the kit's certificate ends (UTC): re-issue before then."""
        return self.chain()[0].not_valid_after_utc

    def ca_certificate(self) -> x509.Certificate:
        return _certificates(self.require().ca.read_bytes(), str(self.ca))[0]

    def ca_der(self) -> bytes:
        """The CA certificate in DER, as phones download it (``application/x-x509-ca-cert``)."""
        return self.ca_certificate().public_bytes(serialization.Encoding.DER)

    def ca_fingerprint(self) -> str:
        return fingerprint(self.ca_certificate())

    def request(self, names: Sequence[str] = KIT_NAMES) -> bytes:
        """A certificate request for the kit's key, made (0600) if there is none yet."""
        if not self.key.is_file():
            self._folder()
            atomic_write(self.key, private_key_pem(new_key()), 0o600)
        key = _private_key(self.key.read_bytes(), str(self.key))
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TlsError(
                f"{self.key} is not an ECDSA key",
                hint=f"Move {self.key} away and run vigkit tls request again.",
            )
        return certificate_request(key, names)

    def install(
        self,
        chain_pem: bytes,
        key_pem: bytes | None = None,
        *,
        names: Sequence[str] = KIT_NAMES,
        addresses: Sequence[IPAddress] = (KIT_ADDRESS,),
        source: str = "the certificate",
    ) -> x509.Certificate:
        """Install the kit's chain (and key; without one, the key ``request`` made), once
        checked to work for every one of ``names`` and ``addresses``. Returns the kit's
        certificate. Nothing is written when a check fails."""
        if key_pem is None:
            if not self.key.is_file():
                raise TlsMissing(
                    f"there is no key for the certificate: {self.key} is missing",
                    hint="Give the key the office made with --key, or start again with "
                    "vigkit tls request on this kit.",
                )
            key_bytes, key_source = self.key.read_bytes(), str(self.key)
        else:
            key_bytes, key_source = key_pem, "the key"
        chain = _certificates(chain_pem, source)
        key = _private_key(key_bytes, key_source)
        leaf = verify_chain(chain, key, names, addresses, source=source)
        self._folder()
        if key_pem is not None:
            atomic_write(self.key, private_key_pem(key), 0o600)
        atomic_write(self.certificate, certificate_pem(leaf, chain[-1]), 0o644)
        atomic_write(self.ca, certificate_pem(chain[-1]), 0o644)
        return leaf

    def check(
        self,
        names: Sequence[str] = KIT_NAMES,
        addresses: Sequence[IPAddress] = (KIT_ADDRESS,),
        *,
        at: dt.datetime | None = None,
    ) -> x509.Certificate:
        """The installed files checked as ``install`` checks them (at ``at``, default now)."""
        self.require()
        chain = self.chain()
        key = _private_key(self.key.read_bytes(), str(self.key))
        if self.ca_certificate() != chain[-1]:
            raise TlsError(
                f"{self.ca} is not the CA that issued the kit's certificate",
                hint="Install the certificate again with vigkit tls install.",
            )
        return verify_chain(chain, key, names, addresses, source=str(self.certificate), at=at)

    def _folder(self) -> None:
        """``keys/tls`` (and any missing folder above it) readable by the kit's user only."""
        for folder in reversed([self.folder, *self.folder.parents][:3]):  # data/keys/tls
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)


def _certificates(data: bytes, source: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        raise TlsError(f"{source} holds no certificate (PEM)", hint=ISSUE_HINT)
    return found


def _private_key(data: bytes, source: str) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise TlsError(
            f"{source} is not a private key the kit can use (PEM, without a passphrase)",
            hint="Give the KIT-ID.key that vigkit office ca issue wrote, or leave --key out "
            "to use the key vigkit tls request made on this kit.",
        ) from None


def verify_chain(
    chain: Sequence[x509.Certificate],
    key: PrivateKeyTypes,
    names: Sequence[str],
    addresses: Sequence[IPAddress],
    *,
    source: str = "the certificate",
    at: dt.datetime | None = None,
) -> x509.Certificate:
    """The kit's certificate (``chain[0]``) once proven to be the key's, issued by the
    name-constrained CA at ``chain[-1]``, in date, and verified for every name and address
    (cryptography's verifier: a browser's rules, name constraints included)."""
    if len(chain) < 2:
        raise TlsError(
            f"{source} holds one certificate; the kit's must be followed by its CA's",
            hint=ISSUE_HINT,
        )
    leaf, ca, between = chain[0], chain[-1], list(chain[1:-1])
    if key.public_key() != leaf.public_key():
        raise TlsError(
            f"{source} was issued for another key, not this kit's",
            hint="Issue it from this kit's own request (vigkit tls request), or give the key "
            "it was issued with (--key KIT-ID.key).",
        )
    if not _signed_by(ca, ca):
        raise TlsError(
            f"the last certificate in {source} is not a certificate authority's own",
            hint=ISSUE_HINT,
        )
    if not _signed_by(between[-1] if between else ca, leaf):
        raise TlsError(
            f"the kit's certificate in {source} was not issued by the certificate authority "
            f"that follows it ({ca.subject.rfc4514_string()}): another CA's chain",
            hint=ISSUE_HINT,
        )
    name_constraints(ca)  # an unconstrained CA would be trusted by phones for any site
    now = at or dt.datetime.now(dt.UTC)
    if now < leaf.not_valid_before_utc:
        raise TlsError(
            f"the certificate in {source} is valid only from "
            f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC, and this computer's clock says "
            f"{now:%Y-%m-%d %H:%M} UTC",
            hint="Set the kit's clock (Settings → Clock on its page), then install again.",
        )
    if now >= leaf.not_valid_after_utc:
        raise TlsError(
            f"the certificate in {source} expired on {leaf.not_valid_after_utc:%Y-%m-%d}",
            hint="Issue a new one at the office (vigkit office ca issue) and install that.",
        )
    if leaf.not_valid_after_utc - leaf.not_valid_before_utc > dt.timedelta(days=MAX_LEAF_DAYS):
        raise TlsError(
            f"the certificate in {source} lasts longer than {MAX_LEAF_DAYS} days, and iPhones "
            "refuse such a certificate for a web page",
            hint="Issue it with vigkit office ca issue, which keeps within the limit.",
        )
    store = verification.Store([ca])
    builder = verification.PolicyBuilder().store(store).time(now)
    subjects: list[verification.Subject] = [x509.DNSName(n) for n in names]
    subjects += [x509.IPAddress(a) for a in addresses]
    for subject, shown in zip(subjects, [*names, *map(str, addresses)], strict=True):
        try:
            builder.build_server_verifier(subject).verify(leaf, between)
        except verification.VerificationError as e:
            raise TlsError(
                f"phones would refuse the certificate in {source} for {shown}: {e}",
                hint=ISSUE_HINT,
            ) from None
    return leaf


def _signed_by(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
