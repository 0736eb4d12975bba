"""The CA's key leaked: an attacker signs certificates for a real website and a public
address with it, by hand (not through ``issue``, which would refuse). The real ``openssl
verify`` and a real TLS handshake (Python's ``ssl``, OpenSSL underneath, trusting only
``ca.crt`` as a phone that installed it does) refuse them, because the CA's name
constraints permit only the kits' names and the hotspot's network; the kit's own
certificate passes both. cryptography's verifier, which ``vigkit tls install`` uses,
refuses them too, and so does Debian's Chromium trusting the CA from its NSS database."""

from __future__ import annotations

import datetime as dt
import os
import shutil
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
from tests.needs import missing
from tests.tls.conftest import Ca, Issued

Forged = tuple[bytes, bytes]  # chain PEM, key PEM
CHROMIUM = "/usr/bin/chromium"  # Debian's, as the browser tests drive it


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


PAGE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<p>the kit</p>"


@contextmanager
def tls_server(chain: bytes, key: bytes, folder: Path) -> Iterator[int]:
    """A real TLS server on 127.0.0.1 presenting ``chain`` and answering one small page to
    every connection until the block ends; yields its port."""
    (folder / "chain.pem").write_bytes(chain)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(4096)  # the request
                    tls.sendall(PAGE)
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate: what the attack tests expect

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


def handshake(ca: Ca, port: int, host: str) -> bytes:
    """A phone that trusts the CA opens ``https://host/``; the kit answers on 127.0.0.1."""
    context = ssl.create_default_context(cafile=str(ca.cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return tls.recv(4096)


def chromium(ca: Ca, port: int, host: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Debian's Chromium, trusting the CA through its NSS database as a phone trusts an
    installed CA, opens ``https://host:port/`` (``host`` resolved to 127.0.0.1)."""
    if not Path(CHROMIUM).exists() or shutil.which("certutil") is None:
        missing("Chromium and certutil are needed: apt install chromium libnss3-tools")
    nssdb = home / ".pki" / "nssdb"
    if not nssdb.exists():
        nssdb.mkdir(parents=True)
        db = f"sql:{nssdb}"
        subprocess.run(["certutil", "-d", db, "-N", "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-d", db, "-A", "-t", "C,,", "-n", "org-ca", "-i", str(ca.cert)],
            check=True,
        )
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={home / 'profile'}",
            f"--host-resolver-rules=MAP {host} 127.0.0.1",
            "--dump-dom", f"https://{host}:{port}/",
        ],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


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
        assert handshake(ca, port, host) == PAGE


@pytest.mark.parametrize(
    ("names", "host", "opens"),
    [
        pytest.param(None, "vigkit.lan", True, id="the-kits-own"),
        pytest.param(["vigkit.lan"], "vigkit.lan", True, id="forged-for-the-kits-name"),
        pytest.param(["www.example.com"], "www.example.com", False, id="forged-for-a-website"),
    ],
)
def test_chromium_opens_the_kit_and_refuses_a_forged_website(
    ca: Ca, issued: Issued, tmp_path: Path, names: list[str] | None, host: str, opens: bool
) -> None:
    """Chromium's own verifier (as on Android and desktops) enforces the constraints of a
    CA its user installed: the attacker's build of a certificate opens for a kit's name
    (so nothing else about it is wrong) and fails for a real website's."""
    chain, key = (issued.chain, issued.key_pem) if names is None else forge(ca.authority, names, [])
    with tls_server(chain, key, tmp_path) as port:
        shown = chromium(ca, port, host, tmp_path / "home")
    if opens:
        assert "<p>the kit</p>" in shown.stdout, shown.stderr[-2000:]
    else:
        assert "<p>the kit</p>" not in shown.stdout
        assert "ERR_CERT_INVALID" in shown.stderr, shown.stderr[-2000:]
