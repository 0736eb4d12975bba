"""The kit's installed TLS files: what ``install`` takes and refuses (in sentences), the
files' modes, the demo's throw-away CA whose key is never written, and sync leaving them
on the kit."""

from __future__ import annotations

import datetime as dt
import stat
import subprocess
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from device.errors import TlsError, TlsMissing
from device.library import DataDir
from device.tls import KIT_NAMES, KitTls, demo_tls, fingerprint, issue, new_key
from device.tls.authority import (
    Authority,
    ca_certificate,
    certificate_pem,
    chain_pem,
    demo_authority,
    issue_for_csr,
    private_key_pem,
)
from tests.sync.conftest import KitFiles, Server, kit, kit_template, office_key, sync
from tests.tls.conftest import KIT_ID, Ca, Issued

__all__ = ["kit", "kit_template", "office_key"]  # the sync test's fixtures

LOCAL = (IPv4Address("127.0.0.1"),)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def remade(
    cert: x509.Certificate,
    signer: ec.EllipticCurvePrivateKey,
    *,
    drop: type[x509.ExtensionType] | None = None,
    days: int | None = None,
) -> x509.Certificate:
    """``cert`` built again by hand and signed by ``signer``: without the extension
    ``drop``, or lasting ``days`` — what another tool might have made."""
    start = cert.not_valid_before_utc
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days) if days else cert.not_valid_after_utc)
    )
    for ext in cert.extensions:
        if drop is None or not isinstance(ext.value, drop):
            builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(signer, hashes.SHA256())


def test_install_puts_the_chain_and_key_where_nginx_and_phones_take_them(
    tmp_path: Path, ca: Ca, issued: Issued
) -> None:
    tls = KitTls.of(DataDir(tmp_path / "data"))
    assert tls.folder == tmp_path / "data" / "keys" / "tls"
    assert not tls.present()
    leaf = tls.install(issued.chain, issued.key_pem)
    assert tls.present() and tls.require() is tls
    assert (_mode(tls.key), _mode(tls.certificate), _mode(tls.ca)) == (0o600, 0o644, 0o644)
    assert _mode(tls.folder) == 0o700 and _mode(tls.folder.parent) == 0o700
    assert tls.certificate.read_bytes() == issued.chain  # the kit's, then the CA's
    assert tls.ca.read_bytes() == ca.cert.read_bytes()
    assert x509.load_der_x509_certificate(tls.ca_der()) == ca.authority.certificate
    assert tls.ca_fingerprint() == fingerprint(ca.authority.certificate)
    assert tls.not_after == leaf.not_valid_after_utc
    assert tls.check() == leaf
    # the real openssl agrees that key and certificate belong together
    key_pub = subprocess.run(
        ["openssl", "pkey", "-in", tls.key, "-pubout"], capture_output=True, check=True
    ).stdout
    cert_pub = subprocess.run(
        ["openssl", "x509", "-in", tls.certificate, "-noout", "-pubkey"],
        capture_output=True,
        check=True,
    ).stdout
    assert key_pub == cert_pub


def test_without_its_files_the_kit_says_what_to_run(tmp_path: Path) -> None:
    tls = KitTls.of(tmp_path / "data")
    with pytest.raises(TlsMissing) as missing:
        tls.require()
    assert missing.value.message == (
        "the kit has no certificate for its secure page: kit.key, kit.crt, ca.crt missing "
        f"in {tls.folder}"
    )
    assert "vigkit tls request" in missing.value.hint
    assert "vigkit office ca issue" in missing.value.hint
    assert "vigkit tls install" in missing.value.hint
    with pytest.raises(TlsMissing) as no_key:
        tls.install(b"")
    assert no_key.value.message == f"there is no key for the certificate: {tls.key} is missing"


def test_the_request_path_installs_with_the_kits_own_key(tmp_path: Path, ca: Ca) -> None:
    tls = KitTls.of(tmp_path / "data")
    request = tls.request()
    assert _mode(tls.key) == 0o600
    key_before = tls.key.read_bytes()
    assert tls.request() != b""  # a second request keeps the key
    assert tls.key.read_bytes() == key_before
    leaf = issue_for_csr(ca.authority, KIT_ID, request)
    tls.install(chain_pem(ca.authority, leaf))  # no key given: the one request made
    assert tls.key.read_bytes() == key_before
    assert tls.check().public_key() == leaf.public_key()


def test_a_certificate_for_another_key_is_refused(tmp_path: Path, issued: Issued) -> None:
    tls = KitTls.of(tmp_path / "data")
    with pytest.raises(TlsError) as refused:
        tls.install(issued.chain, private_key_pem(new_key()), source="kit-1a2b3c4d.crt")
    assert refused.value.message == "kit-1a2b3c4d.crt was issued for another key, not this kit's"
    assert "--key KIT-ID.key" in refused.value.hint
    assert not tls.folder.exists()  # nothing written


def test_a_chain_without_its_ca_or_from_another_ca_is_refused(
    tmp_path: Path, ca: Ca, issued: Issued
) -> None:
    tls = KitTls.of(tmp_path / "data")
    leaf_only = issued.chain.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    with pytest.raises(TlsError) as alone:
        tls.install(leaf_only, issued.key_pem, source="kit.crt")
    assert alone.value.message == (
        "kit.crt holds one certificate; the kit's must be followed by its CA's"
    )
    other = demo_authority(["vigkit.lan", "kit.lan"], [IPv4Network("10.42.0.0/24")])
    mixed = leaf_only + certificate_pem(other.certificate)
    with pytest.raises(TlsError) as another:
        tls.install(mixed, issued.key_pem, source="kit.crt")
    assert "was not issued by the certificate authority that follows it" in another.value.message
    assert "another CA's chain" in another.value.message
    assert "vigkit office ca issue" in another.value.hint
    for junk in (b"", b"not a certificate", issued.key_pem):
        with pytest.raises(TlsError) as none:
            tls.install(junk, issued.key_pem, source="kit.crt")
        assert none.value.message == "kit.crt holds no certificate (PEM)"
    with pytest.raises(TlsError) as not_a_key:
        tls.install(issued.chain, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert "is not a private key the kit can use" in not_a_key.value.message
    assert not tls.folder.exists()


def test_a_ca_without_name_constraints_is_refused(tmp_path: Path) -> None:
    """A phone that trusted it would trust it for any website: not installed, not offered."""
    ca_key = new_key()
    open_ca = x509.load_pem_x509_certificate(
        certificate_pem(ca_certificate(ca_key, "Careless", ["vigkit.lan", "kit.lan"], []))
    )
    # the same CA without its NameConstraints (as another tool would make it)
    unconstrained = remade(open_ca, ca_key, drop=x509.NameConstraints)
    key = new_key()
    leaf = issue(Authority(open_ca, ca_key), KIT_ID, key.public_key(), addresses=())
    with pytest.raises(TlsError) as refused:
        KitTls.of(tmp_path).install(certificate_pem(leaf, unconstrained), private_key_pem(key))
    assert "is not limited to the kits' names (it has no name constraints)" in (
        refused.value.message
    )


def test_an_expired_or_not_yet_valid_certificate_is_refused(tmp_path: Path, ca: Ca) -> None:
    key = new_key()
    leaf = issue(ca.authority, KIT_ID, key.public_key(), days=2)
    tls = KitTls.of(tmp_path)
    tls.install(chain_pem(ca.authority, leaf), private_key_pem(key))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with pytest.raises(TlsError) as expired:
        tls.check(at=later)
    assert expired.value.message == (
        f"the certificate in {tls.certificate} expired on {leaf.not_valid_after_utc:%Y-%m-%d}"
    )
    assert "vigkit office ca issue" in expired.value.hint
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with pytest.raises(TlsError) as early:
        tls.check(at=earlier)
    assert "this computer's clock says" in early.value.message
    assert "Set the kit's clock" in early.value.hint


def test_a_certificate_iphones_would_refuse_for_its_length_is_refused(tmp_path: Path) -> None:
    """Apple's limit (825 days) holds for private CAs too; a certificate made by another
    tool for ten years would open everywhere but on an iPhone."""
    authority = demo_authority(list(KIT_NAMES), [IPv4Network("10.42.0.0/24")])
    key = new_key()
    leaf = issue(authority, KIT_ID, key.public_key())
    long = remade(leaf, authority.key, days=826)
    with pytest.raises(TlsError) as refused:
        KitTls.of(tmp_path).install(
            certificate_pem(long, authority.certificate), private_key_pem(key)
        )
    assert "lasts longer than 825 days, and iPhones refuse" in refused.value.message


def test_demo_tls_writes_no_ca_key_and_keeps_valid_files(tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    tls = demo_tls(data, ("localhost",), LOCAL)
    leaf = tls.check(("localhost",), LOCAL)
    ca_cert = tls.ca_certificate()
    constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert constraints.value.permitted_subtrees == [
        x509.DNSName("localhost"),
        x509.IPAddress(IPv4Network("127.0.0.1/32")),
    ]
    # no private key anywhere under the data folder is the CA's: only the kit's key
    keys = []
    for path in data.rglob("*"):
        if path.is_file() and b"PRIVATE KEY" in path.read_bytes():
            keys.append(serialization.load_pem_private_key(path.read_bytes(), None))
    assert [k.public_key() for k in keys] == [leaf.public_key()]
    assert ca_cert.public_key() not in [k.public_key() for k in keys]
    # started again: the same files are kept
    before = {p: p.read_bytes() for p in tls.folder.iterdir()}
    assert demo_tls(data, ("localhost",), LOCAL) == tls
    assert {p: p.read_bytes() for p in tls.folder.iterdir()} == before
    # other names (a demo on the LAN): new files, valid for them
    lan = (ip_address("192.168.1.20"),)
    again = demo_tls(data, ("localhost",), lan)
    assert again.certificate.read_bytes() != before[tls.certificate]
    again.check(("localhost",), lan)


def test_demo_tls_replaces_a_certificate_about_to_end(tmp_path: Path) -> None:
    authority = demo_authority(["localhost"], [IPv4Network("127.0.0.1/32")])
    key = new_key()
    names = ["localhost"]
    short = issue(authority, "demo", key.public_key(), names=names, addresses=LOCAL, days=3)
    tls = KitTls.of(tmp_path)
    tls.install(chain_pem(authority, short), private_key_pem(key), names=names, addresses=LOCAL)
    demo_tls(tmp_path, ("localhost",), LOCAL)
    assert tls.not_after > dt.datetime.now(dt.UTC) + dt.timedelta(days=800)


def test_sync_never_sends_the_kits_tls_files(kit: KitFiles, tmp_path: Path) -> None:
    tls = demo_tls(kit.data, ("localhost",), LOCAL)
    office, work = tmp_path / "office", tmp_path / "server"
    office.mkdir()
    work.mkdir()
    server = Server("local", office, work)  # a USB drive: the office sees every file
    done = sync(kit.write_config(server))
    assert done.returncode == 0, done.stderr
    sent = [p for p in office.rglob("*") if p.is_file()]
    assert len(sent) > 5  # films, notes, manifests…
    secrets = {tls.key.read_bytes(), tls.certificate.read_bytes(), tls.ca.read_bytes()}
    for path in sent:
        assert path.name not in {"kit.key", "kit.crt", "ca.crt"}, path
        assert path.read_bytes() not in secrets, path
        assert b"PRIVATE KEY" not in path.read_bytes(), path
