"""The organisation's CA and the kits' certificates, read back as phones and OpenSSL read
them: extensions, the encrypted key, refusals in sentences."""

from __future__ import annotations

import datetime as dt
import stat
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from device import age
from device.errors import TlsError
from device.tls import (
    KIT_ADDRESS,
    KIT_NAMES,
    fingerprint,
    init_ca,
    issue,
    issue_for_csr,
    load_ca,
    new_key,
)
from device.tls.authority import MAX_LEAF_DAYS, certificate_request
from tests.tls.conftest import KIT_ID, ORGANISATION, PASSPHRASE, Ca


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ca_may_vouch_only_for_the_kits_names_and_network(ca: Ca) -> None:
    cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ext = cert.extensions
    constraints = ext.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert constraints.value.permitted_subtrees == [
        x509.DNSName("vigkit.lan"),
        x509.DNSName("kit.lan"),
        x509.IPAddress(IPv4Network("10.42.0.1/32")),
    ]
    assert constraints.value.excluded_subtrees is None
    basic = ext.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORGANISATION
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common == f"{ORGANISATION} VIG kits"
    cert.verify_directly_issued_by(cert)  # self-signed, ECDSA P-256 with SHA-256
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_the_ca_key_is_encrypted_on_disk_and_only_its_owner_reads_it(ca: Ca) -> None:
    text = ca.key.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "BEGIN PRIVATE KEY" not in text and "BEGIN EC PRIVATE KEY" not in text
    with pytest.raises(TypeError):  # "Password was not given but private key is encrypted"
        serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert (_mode(ca.key), _mode(ca.cert), _mode(ca.folder)) == (0o600, 0o644, 0o700)
    # the real openssl opens it with the passphrase, and only with it
    wrong = subprocess.run(
        ["openssl", "pkey", "-in", ca.key, "-passin", "pass:not the passphrase", "-noout"],
        capture_output=True,
    )
    assert wrong.returncode != 0
    right = subprocess.run(
        ["openssl", "pkey", "-in", ca.key, "-passin", f"pass:{PASSPHRASE}", "-pubout"],
        capture_output=True,
        check=True,
    )
    cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    assert serialization.load_pem_public_key(right.stdout) == cert.public_key()


def test_a_wrong_passphrase_or_no_ca_is_a_sentence(ca: Ca, tmp_path: Path) -> None:
    with pytest.raises(TlsError) as wrong:
        load_ca(ca.folder, "velvet crater juniper mosaic thunder lanterns")
    assert wrong.value.message == (
        f"the passphrase does not open the certificate authority's key {ca.key}"
    )
    assert "case sensitive" in wrong.value.hint
    with pytest.raises(TlsError) as none:
        load_ca(tmp_path / "elsewhere", PASSPHRASE)
    assert "there is no certificate authority in" in none.value.message
    assert "vigkit office ca init --ca DIR" in none.value.hint


def test_a_ca_is_never_replaced(ca: Ca) -> None:
    before = (ca.cert.read_bytes(), ca.key.read_bytes())
    with pytest.raises(TlsError) as refused:
        init_ca(ca.folder, PASSPHRASE, "Someone Else")
    assert "there is a certificate authority in" in refused.value.message
    assert "move the old one away" in refused.value.hint
    assert (ca.cert.read_bytes(), ca.key.read_bytes()) == before


def test_the_ca_passphrase_must_outlast_fast_guessing(tmp_path: Path) -> None:
    # good enough for a kit (scrypt: ~10^12 guesses), not for a key PBKDF2 guards
    kit_passphrase = "apple orchard sunset"
    age.check_passphrase(kit_passphrase)
    for weak in ("Summer2024!!", kit_passphrase):
        with pytest.raises(TlsError) as refused:
            init_ca(tmp_path / "ca", weak, ORGANISATION)
        assert "the passphrase is too weak for the certificate authority's key" in (
            refused.value.message
        )
        assert "six or more random words" in refused.value.hint
    assert not (tmp_path / "ca").exists()


def test_the_kits_certificate_is_what_phones_accept(ca: Ca) -> None:
    key = new_key()
    before = dt.datetime.now(dt.UTC)
    leaf = issue(ca.authority, KIT_ID, key.public_key())
    ext = leaf.extensions
    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == list(KIT_NAMES)
    assert san.get_values_for_type(x509.IPAddress) == [KIT_ADDRESS]
    assert ext.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    basic = ext.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.authority.certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    assert aki.key_identifier == ca_ski.digest
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == (
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    )
    # valid from a day back (phones' clocks), for at most Apple's 825 days
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    assert before - dt.timedelta(days=1, minutes=1) <= start <= before - dt.timedelta(hours=23)
    assert end - start == dt.timedelta(days=MAX_LEAF_DAYS)
    assert leaf.issuer == ca.authority.certificate.subject
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == KIT_ID
    leaf.verify_directly_issued_by(ca.authority.certificate)


def test_issue_refuses_what_the_ca_may_not_vouch_for(ca: Ca) -> None:
    key = new_key().public_key()
    with pytest.raises(TlsError) as name:
        issue(ca.authority, KIT_ID, key, names=("www.example.com",))
    assert name.value.message == (
        "this certificate authority may not vouch for www.example.com: it is limited to "
        "vigkit.lan, kit.lan"
    )
    with pytest.raises(TlsError) as address:
        issue(ca.authority, KIT_ID, key, addresses=(IPv4Address("8.8.8.8"),))
    assert "may not vouch for 8.8.8.8: it is limited to 10.42.0.1/32" in address.value.message
    with pytest.raises(TlsError) as days:
        issue(ca.authority, KIT_ID, key, days=MAX_LEAF_DAYS + 1)
    assert days.value.message == "a kit's certificate may last 1 to 825 days, not 826"
    # a subdomain of a permitted name is inside the constraints
    sub = issue(ca.authority, KIT_ID, key, names=("kit-1a2b3c4d.vigkit.lan",), addresses=())
    san = sub.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["kit-1a2b3c4d.vigkit.lan"]


@pytest.mark.parametrize("kit_id", ["../kit-1", "kit/1", "kit 1", "Kit-1", "kit.1", "kit-1\n", ""])
def test_a_kit_id_with_path_characters_is_refused(ca: Ca, kit_id: str) -> None:
    with pytest.raises(TlsError) as refused:
        issue(ca.authority, kit_id, new_key().public_key())
    assert refused.value.message == f"{kit_id!r} is not a kit id"
    assert "no dots, slashes or spaces" in refused.value.hint


def test_a_request_gives_its_key_and_the_ca_decides_the_names(ca: Ca) -> None:
    key = new_key()
    asking = certificate_request(key, ("www.example.com", "vigkit.lan"))
    leaf = issue_for_csr(ca.authority, KIT_ID, asking)
    assert leaf.public_key() == key.public_key()
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == list(KIT_NAMES)
    assert san.get_values_for_type(x509.IPAddress) == [KIT_ADDRESS]
    # DER is taken too
    der = x509.load_pem_x509_csr(asking).public_bytes(serialization.Encoding.DER)
    assert issue_for_csr(ca.authority, KIT_ID, der).public_key() == key.public_key()


def test_a_request_that_is_not_one_or_is_altered_is_refused(ca: Ca) -> None:
    for junk in (b"hello", ca.cert.read_bytes(), b""):
        with pytest.raises(TlsError) as refused:
            issue_for_csr(ca.authority, KIT_ID, junk, source="kit.csr")
        assert refused.value.message == "kit.csr is not a certificate request"
        assert "vigkit tls request --out" in refused.value.hint
    # someone swaps the key in a request: its signature no longer holds
    theirs = x509.load_pem_x509_csr(certificate_request(new_key()))
    mine = x509.load_pem_x509_csr(certificate_request(new_key()))
    der = theirs.public_bytes(serialization.Encoding.DER)
    key_der = theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    other_der = mine.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    swapped = der.replace(key_der, other_der)
    assert swapped != der
    with pytest.raises(TlsError) as altered:
        issue_for_csr(ca.authority, KIT_ID, swapped, source="kit.csr")
    assert altered.value.message == (
        "kit.csr is not signed by its own key (damaged or altered on the way)"
    )


def test_a_request_for_a_key_phones_refuse_is_refused(ca: Ca) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigkit.lan")]))
        .sign(key, None)
    )
    with pytest.raises(TlsError) as refused:
        issue_for_csr(ca.authority, KIT_ID, csr.public_bytes(serialization.Encoding.PEM))
    assert refused.value.message == "the kit's key is of a kind phones do not accept for a web page"


def test_the_fingerprint_is_the_one_openssl_and_phones_show(ca: Ca) -> None:
    shown = subprocess.run(
        ["openssl", "x509", "-in", ca.cert, "-noout", "-fingerprint", "-sha256"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown.split("=", 1)[1] == fingerprint(ca.authority.certificate)  # "sha256 Fingerprint="
    digest = ca.authority.certificate.fingerprint(hashes.SHA256())
    assert fingerprint(ca.authority.certificate) == ":".join(f"{b:02X}" for b in digest)
