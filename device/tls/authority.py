"""The organisation's certificate authority for its kits, and the certificates it issues.

Why a CA of the organisation's own: the phone page is served over HTTPS on the kit's
hotspot, at names (``vigkit.lan``, ``kit.lan``) and an address (10.42.0.1) no public CA
will vouch for. The office makes one CA (``vigkit office ca init``), each phone trusts it
once, and every kit gets a certificate from it (``vigkit office ca issue``).

A phone that trusts a CA trusts it for every name, unless the CA itself says otherwise.
So the CA certificate carries critical **name constraints** permitting only the kits'
names and the hotspot's network: were its key ever leaked, it still could not vouch for
a real website — browsers and OpenSSL refuse such a certificate (tests/tls shows it with
``openssl verify`` and a real TLS handshake).

The CA key is ECDSA P-256, kept as PKCS#8 PEM encrypted with a passphrase
(cryptography's ``BestAvailableEncryption``, which ``openssl pkey`` reads too: PBES2,
PBKDF2-HMAC-SHA256 and AES-256-CBC). That PBKDF2 runs only 2048 rounds, so a guess costs
microseconds: the CA's passphrase must be far harder to guess than the kit's
(:data:`MIN_CA_GUESSES`), and the key should live offline. Everything here is
cryptography's X.509 support; no ``openssl`` process is run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from device.age.strength import THIEF_GUESSES_PER_S, estimated_guesses, time_to_guess
from device.errors import TlsError
from device.library import atomic_write

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Every kit's hotspot: scripts/setup-hotspot.sh gives it this address and these names
# (dnsmasq answers them; ``.lan`` is never public DNS).
KIT_NAMES: tuple[str, ...] = ("vigkit.lan", "kit.lan")
KIT_ADDRESS = IPv4Address("10.42.0.1")
KIT_NETWORK = IPv4Network("10.42.0.1/32")  # the kit's one address: nothing else on a network

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
CA_DAYS = 3653  # ten years: phones trust it once; the kits' certificates are renewed inside it
# Apple's limit for a TLS server certificate (iOS 13 and macOS 10.15 on), private CAs included.
MAX_LEAF_DAYS = 825
BACKDATE = dt.timedelta(days=1)  # a phone whose clock runs a little behind still accepts it
# The CA key's file is guessed at PBKDF2's speed (2048 rounds: millions a second on one
# GPU), not scrypt's, so its passphrase needs 10^4 times the kit's 10^12 guesses.
MIN_CA_GUESSES = 10**16
# One current graphics card against PBKDF2-HMAC-SHA256 at 2048 rounds: a few million a
# second (hashcat's published figures for its mode 10900), rounded up.
PBKDF2_GUESSES_PER_S = 10**7

# One part of a host name between dots (RFC 1123), lower case.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# A kit id is one such label (``kit-1a2b3c4d``, as vigkit setup names kits): it names
# files at the office, so no dots, slashes or spaces.
KIT_ID = _LABEL


@dataclass(frozen=True)
class Authority:
    """A CA certificate with its private key, loaded and checked to belong together."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def organisation(self) -> str:
        found = self.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(found[0].value) if found else ""

    @property
    def names(self) -> tuple[str, ...]:
        """The DNS names (and their subdomains) this CA may vouch for."""
        return tuple(
            str(tree.value)
            for tree in name_constraints(self.certificate).permitted_subtrees or ()
            if isinstance(tree, x509.DNSName)
        )

    @property
    def networks(self) -> tuple[IPNetwork, ...]:
        """The address ranges this CA may vouch for."""
        return tuple(
            tree.value
            for tree in name_constraints(self.certificate).permitted_subtrees or ()
            if isinstance(tree, x509.IPAddress)
            and isinstance(tree.value, IPv4Network | IPv6Network)
        )


def new_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 key: every phone's TLS speaks it, and a Pi signs with it in well under 1 ms."""
    return ec.generate_private_key(ec.SECP256R1())


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint as ``AB:CD:…``, the way iPhone and Android
    show it, for a person to compare before trusting the CA."""
    digest = certificate.fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def private_key_pem(key: PrivateKeyTypes) -> bytes:
    """The key as unencrypted PKCS#8 PEM: what nginx's ``ssl_certificate_key`` reads."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate_pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def chain_pem(authority: Authority, leaf: x509.Certificate) -> bytes:
    """The kit's certificate followed by the CA's: what the kit installs as ``kit.crt``."""
    return certificate_pem(leaf, authority.certificate)


def check_kit_id(kit_id: str) -> str:
    """Refuse a kit id that is not one plain DNS label (it names the office's files)."""
    if not KIT_ID.fullmatch(kit_id):
        raise TlsError(
            f"{kit_id!r} is not a kit id",
            hint="Give the kit's id as vigkit setup printed it (kit- and eight letters or "
            "digits): lower-case letters, digits and dashes only, no dots, slashes or spaces.",
        )
    return kit_id


def check_ca_passphrase(passphrase: str, organisation: str = "") -> None:
    """Refuse a CA passphrase that PBKDF2's 2048 rounds would not hold for decades."""
    guesses = estimated_guesses(passphrase, (organisation,))
    if guesses < MIN_CA_GUESSES:
        # time_to_guess counts at a kit thief's scrypt pace: scale to PBKDF2's
        time = time_to_guess(guesses * THIEF_GUESSES_PER_S / PBKDF2_GUESSES_PER_S)
        raise TlsError(
            "the passphrase is too weak for the certificate authority's key: with the key "
            f"file, one graphics card could guess it in about {time}",
            hint="Use six or more random words (a diceware list), written down and kept "
            "with the CA key, away from the kits.",
        )


def _names(names: Iterable[str]) -> tuple[str, ...]:
    """Lower-case DNS names, each checked (no wildcards: a kit has exact names)."""
    checked = []
    for name in names:
        lowered = name.strip().lower().rstrip(".")
        labels = lowered.split(".")
        if not lowered or not all(_LABEL.fullmatch(label) for label in labels):
            raise TlsError(
                f"{name!r} is not a host name",
                hint="Give names such as vigkit.lan: letters, digits, dashes and dots only.",
            )
        checked.append(lowered)
    return tuple(dict.fromkeys(checked))


def name_constraints(certificate: x509.Certificate) -> x509.NameConstraints:
    try:
        return certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        raise TlsError(
            "this certificate authority is not limited to the kits' names (it has no name "
            "constraints): a phone that trusted it would trust it for any website",
            hint="Make the organisation's CA with vigkit office ca init; it is limited to the "
            "kits' names and the hotspot's addresses.",
        ) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ca_certificate(
    key: ec.EllipticCurvePrivateKey,
    organisation: str,
    names: Sequence[str],
    networks: Sequence[IPNetwork],
    days: int = CA_DAYS,
) -> x509.Certificate:
    """A self-signed CA certificate that may vouch only for ``names`` (and their
    subdomains) and ``networks``, and only for servers one step below it (pathlen 0)."""
    organisation = organisation.strip()
    if not organisation:
        raise TlsError(
            "the certificate authority needs the organisation's name",
            hint="Give it with --organisation (phones show it when asked to trust the CA).",
        )
    dns = _names(names)
    if not dns and not networks:
        raise TlsError(
            "a certificate authority limited to no names and no addresses vouches for nothing",
            hint="Give at least one name (vigkit.lan) or one network (10.42.0.1/32).",
        )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} VIG kits"[:64]),
        ]
    )
    permitted: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    permitted += [x509.IPAddress(ip_network(net)) for net in networks]
    start = _now() - BACKDATE
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def init_ca(
    directory: Path,
    passphrase: str,
    organisation: str,
    *,
    names: Sequence[str] = KIT_NAMES,
    networks: Sequence[IPNetwork] = (KIT_NETWORK,),
    days: int = CA_DAYS,
) -> Path:
    """Make the organisation's CA in ``directory``: ``ca.key`` (0600, encrypted with
    ``passphrase``) and ``ca.crt`` (0644, what phones trust). Never replaces a CA: every
    phone and kit that trusts it would need the new one. Returns the path of ``ca.crt``."""
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    for path in (cert_path, key_path):
        if path.exists() or path.is_symlink():
            raise TlsError(
                f"{path} already exists: there is a certificate authority in {directory}",
                hint="It was not replaced (every phone and kit that trusts it would need the "
                "new one). Choose another --ca folder, or move the old one away first.",
            )
    check_ca_passphrase(passphrase, organisation)
    key = new_key()
    certificate = ca_certificate(key, organisation, names, networks, days)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise TlsError(
            f"cannot make the folder {directory}: {e.strerror}",
            hint="Choose a folder this user can write to with --ca (on the office's "
            "offline computer or a USB stick kept locked away).",
        ) from e
    atomic_write(key_path, encrypted, 0o600)
    atomic_write(cert_path, certificate_pem(certificate), 0o644)
    return cert_path


def load_ca(directory: Path, passphrase: str) -> Authority:
    """The CA in ``directory``, its key opened with ``passphrase``."""
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    try:
        cert_bytes, key_bytes = cert_path.read_bytes(), key_path.read_bytes()
    except FileNotFoundError:
        raise TlsError(
            f"there is no certificate authority in {directory} (it needs {CA_CERT} and {CA_KEY})",
            hint="Give the folder vigkit office ca init made with --ca, or make the CA first: "
            "vigkit office ca init --ca DIR.",
        ) from None
    except OSError as e:
        raise TlsError(
            f"cannot read the certificate authority in {directory}: {e.strerror}",
            hint="Check the folder given with --ca and that this user may read it.",
        ) from e
    try:
        certificate = x509.load_pem_x509_certificate(cert_bytes)
    except ValueError:
        raise TlsError(
            f"{cert_path} is not a certificate",
            hint="Put back the ca.crt that vigkit office ca init wrote.",
        ) from None
    try:
        key = serialization.load_pem_private_key(key_bytes, passphrase.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise TlsError(
            f"the passphrase does not open the certificate authority's key {key_path}",
            hint="Check the passphrase (it is case sensitive) and try again.",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != (
        certificate.public_key()
    ):
        raise TlsError(
            f"{key_path} is not the key of {cert_path}",
            hint="Keep the ca.crt and ca.key that vigkit office ca init made together.",
        )
    name_constraints(certificate)  # a CA without them is refused here, not after issuing
    return Authority(certificate, key)


def demo_authority(names: Sequence[str], networks: Sequence[IPNetwork]) -> Authority:
    """A throw-away CA limited to exactly ``names`` and ``networks``, its key in memory
    only: ``vigkit demo`` and the tests issue one certificate with it and drop the key."""
    key = new_key()
    return Authority(ca_certificate(key, "VIG Kit demo", names, networks, days=MAX_LEAF_DAYS), key)


def _within(authority: Authority, names: Sequence[str], addresses: Sequence[IPAddress]) -> None:
    """Refuse names and addresses outside the CA's constraints (a phone would refuse them)."""
    allowed = authority.names
    for name in names:
        if not any(name == tree or name.endswith(f".{tree}") for tree in allowed):
            raise TlsError(
                f"this certificate authority may not vouch for {name}: it is limited to "
                f"{', '.join(allowed) or 'no names'}",
                hint="Issue the certificate for the kits' names only (leave the names out).",
            )
    for address in addresses:
        if not any(address in net for net in authority.networks):
            raise TlsError(
                f"this certificate authority may not vouch for {address}: it is limited to "
                f"{', '.join(map(str, authority.networks)) or 'no addresses'}",
                hint="Issue the certificate for the hotspot's address only (leave it out).",
            )


def _check_public_key(public_key: object) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """A key every phone's TLS accepts: ECDSA P-256 or P-384, or RSA of 2048 bits or more."""
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
        public_key.curve, ec.SECP256R1 | ec.SECP384R1
    ):
        return public_key
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= 2048:
        return public_key
    raise TlsError(
        "the kit's key is of a kind phones do not accept for a web page",
        hint="Make the request with vigkit tls request (an ECDSA P-256 key).",
    )


def issue(
    authority: Authority,
    kit_id: str,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    names: Sequence[str] = KIT_NAMES,
    addresses: Sequence[IPAddress] = (KIT_ADDRESS,),
    days: int = MAX_LEAF_DAYS,
) -> x509.Certificate:
    """The kit's certificate: ``names`` and ``addresses`` (all inside the CA's
    constraints), for a TLS server only, valid from a day ago for ``days`` (at most 825,
    and never past the CA's own end)."""
    check_kit_id(kit_id)
    _check_public_key(public_key)
    dns = _names(names)
    if not dns and not addresses:
        raise TlsError(
            "a certificate for no names and no addresses would be of no use",
            hint="Leave --name out: the kit's names and address are used.",
        )
    if not 1 <= days <= MAX_LEAF_DAYS:
        raise TlsError(
            f"a kit's certificate may last 1 to {MAX_LEAF_DAYS} days, not {days}",
            hint=f"iPhones refuse longer ones: give {MAX_LEAF_DAYS} or fewer days.",
        )
    _within(authority, dns, addresses)
    ca = authority.certificate
    now = _now()
    if ca.not_valid_after_utc <= now + dt.timedelta(days=1):
        raise TlsError(
            f"the certificate authority expired on {ca.not_valid_after_utc:%Y-%m-%d}",
            hint="Make a new CA (vigkit office ca init with another --ca folder); phones must "
            "then trust the new one.",
        )
    start = now - BACKDATE
    end = min(start + dt.timedelta(days=days), ca.not_valid_after_utc)
    san: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    san += [x509.IPAddress(address) for address in addresses]
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, authority.organisation or "VIG Kit")]
    subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, kit_id))
    if dns:
        subject.append(x509.NameAttribute(NameOID.COMMON_NAME, dns[0]))
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(authority.key, hashes.SHA256())
    )


def load_request(data: bytes, source: str = "the request") -> x509.CertificateSigningRequest:
    """A certificate request (PEM or DER) whose signature proves its maker holds the key."""
    try:
        csr = (
            x509.load_pem_x509_csr(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_csr(data)
        )
    except ValueError:
        raise TlsError(
            f"{source} is not a certificate request",
            hint="Give the file vigkit tls request --out wrote on the kit (kit.csr).",
        ) from None
    try:
        valid = csr.is_signature_valid
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        valid = False
    if not valid:
        raise TlsError(
            f"{source} is not signed by its own key (damaged or altered on the way)",
            hint="Make a new request on the kit with vigkit tls request and bring that one.",
        )
    return csr


def issue_for_csr(
    authority: Authority,
    kit_id: str,
    csr_data: bytes,
    *,
    source: str = "the request",
    names: Sequence[str] = KIT_NAMES,
    addresses: Sequence[IPAddress] = (KIT_ADDRESS,),
    days: int = MAX_LEAF_DAYS,
) -> x509.Certificate:
    """The kit's certificate for the key in a request: its signature is checked, the
    names it asks for are ignored (the CA decides the names)."""
    csr = load_request(csr_data, source)
    try:
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        public_key = None
    key = _check_public_key(public_key)
    return issue(authority, kit_id, key, names=names, addresses=addresses, days=days)


def certificate_request(key: ec.EllipticCurvePrivateKey, names: Sequence[str] = KIT_NAMES) -> bytes:
    """A request (PEM) for the kit's key, to carry to the office; only the key counts."""
    dns = _names(names)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0] if dns else "vigkit")])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if dns:  # a hint for whoever reads the request; issue_for_csr ignores it
        san = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
