"""The CA's key leaked: an attacker signs certificates for a real website and a public
address with it, by hand (not through ``issue``, which would refuse). The real ``openssl
verify`` and a real TLS handshake (Python's ``ssl``, OpenSSL underneath, trusting only
``ca.crt`` as a phone that installed it does) refuse them, because the CA's name
constraints permit only the kits' names and the hotspot's network; the kit's own
certificate passes both. cryptography's verifier, which ``vigkit tls install`` uses,
refuses them too."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from device.errors import TlsError
from device.tls import KitTls, new_key
from device.tls.authority import Authority, certificate_pem, private_key_pem
from tests.tls.conftest import Ca, Issued

Forged = tuple[bytes, bytes]  # chain PEM, key PEM


def forge(authority: Authority, names: list[str], addresses: list[IPv4Address]) -> Forged:
    """What an attacker holding the CA's key builds: a proper server certificate for
    names the CA may not vouch for, signed with the CA's key."""
    key = new_key()
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(a) for a in addresses]
    now = dt.datetime.now(dt.UTC)
    common = names[0] if names else str(addresses[0])
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
    return certificate_pem(leaf, authority.certificate), private_key_pem(key)


def openssl_verify(ca: Ca, chain: bytes, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(chain.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n")
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca.cert), "-purpose", "sslserver", str(leaf)],
        capture_output=True,
        text=True,
    )


@contextmanager
def tls_server(chain: bytes, key: bytes, folder: Path) -> Iterator[int]:
    """A real TLS server on 127.0.0.1 presenting ``chain``; yields its port."""
    (folder / "chain.pem").write_bytes(chain)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve_one() -> None:  # each test opens one connection
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello from the kit")
        except (ssl.SSLError, OSError):
            pass  # the client refused the certificate: what the attack tests expect

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        thread.join(timeout=10)
        listener.close()


def handshake(ca: Ca, port: int, host: str) -> bytes:
    """A phone that trusts the CA opens ``https://host/``; the kit answers on 127.0.0.1."""
    context = ssl.create_default_context(cafile=str(ca.cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.recv(64)


ATTACKS = [
    pytest.param(["www.example.com"], [], "www.example.com", id="a-real-website"),
    pytest.param([], [IPv4Address("8.8.8.8")], "8.8.8.8", id="a-public-address"),
    pytest.param(["vigkit.lan", "bank.example"], [], "bank.example", id="a-site-beside-the-kit"),
]


@pytest.mark.parametrize(("names", "addresses", "host"), ATTACKS)
def test_a_leaked_ca_key_cannot_vouch_for_a_real_website(
    ca: Ca, tmp_path: Path, names: list[str], addresses: list[IPv4Address], host: str
) -> None:
    chain, key = forge(ca.authority, names, addresses)
    verified = openssl_verify(ca, chain, tmp_path)
    assert verified.returncode != 0
    assert "permitted subtree violation" in verified.stdout + verified.stderr
    with tls_server(chain, key, tmp_path) as port, pytest.raises(ssl.SSLCertVerificationError) as e:
        handshake(ca, port, host)
    assert "permitted subtree violation" in str(e.value)
    # and vigkit tls install (cryptography's verifier) refuses it for that host
    with pytest.raises(TlsError) as refused:
        KitTls.of(tmp_path / "data").install(
            chain,
            key,
            names=[host] if names else [],
            addresses=[ip_address(host)] if addresses else [],
        )
    assert f"phones would refuse the certificate in the certificate for {host}" in (
        refused.value.message
    )
    assert not (tmp_path / "data" / "keys" / "tls" / "kit.crt").exists()


@pytest.mark.parametrize("host", ["vigkit.lan", "kit.lan", "10.42.0.1"])
def test_the_kits_own_certificate_passes_both(
    ca: Ca, issued: Issued, tmp_path: Path, host: str
) -> None:
    verified = openssl_verify(ca, issued.chain, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().endswith(": OK")
    with tls_server(issued.chain, issued.key_pem, tmp_path) as port:
        assert handshake(ca, port, host) == b"hello from the kit"
