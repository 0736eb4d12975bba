"""Interoperability with the real age and age-keygen CLIs, in both directions."""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest

from device import age

from .conftest import run_age
from .ttyage import age_tty

SIZES = [0, 1, 65535, 65536, 65537, 1_000_007]


def plaintext(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_ours(
    age_cli: str, tmp_path: Path, key_file: Path, identity: age.X25519Identity, size: int
) -> None:
    data = plaintext(size)
    path = tmp_path / "ours.age"
    with age.Writer(path.open("wb"), [identity.recipient()]) as writer:
        writer.write(data)
    assert run_age("-d", "-i", key_file, path) == data


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_ages(age_cli: str, identity: age.X25519Identity, size: int) -> None:
    data = plaintext(size)
    ciphertext = run_age("-r", str(identity.recipient()), stdin=data)
    assert age.decrypt_bytes(ciphertext, [identity]) == data
    reader = age.Reader(io.BytesIO(ciphertext), [identity])
    assert (reader.size, reader.read()) == (size, data)


def test_two_recipients_both_ways(age_cli: str, tmp_path: Path) -> None:
    one, two = age.X25519Identity.generate(), age.X25519Identity.generate()
    data = plaintext(70_000)
    ours = tmp_path / "ours.age"
    ours.write_bytes(age.encrypt_bytes(data, [one.recipient(), two.recipient()]))
    theirs = run_age("-r", str(one.recipient()), "-r", str(two.recipient()), stdin=data)
    for key in (one, two):
        key_path = tmp_path / "key"
        key_path.write_text(f"{key}\n")
        assert run_age("-d", "-i", key_path, ours) == data
        assert age.decrypt_bytes(theirs, [key]) == data


def test_recipients_file_we_write_is_read_by_age(
    age_cli: str, tmp_path: Path, key_file: Path, identity: age.X25519Identity
) -> None:
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(f"# the office\n\n{identity.recipient()}\n")
    ciphertext = run_age("-R", recipients, stdin=b"note")
    assert age.parse_recipients(recipients.read_text()) == [identity.recipient()]
    assert age.decrypt_bytes(ciphertext, age.load_identities(key_file)) == b"note"


def test_armor_both_ways(
    age_cli: str, tmp_path: Path, key_file: Path, identity: age.X25519Identity
) -> None:
    data = plaintext(100_001)
    ours = tmp_path / "ours.age.txt"
    ours.write_bytes(age.encrypt_bytes(data, [identity.recipient()], armor=True))
    assert ours.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert run_age("-d", "-i", key_file, ours) == data
    theirs = run_age("-a", "-r", str(identity.recipient()), stdin=data)
    assert age.decrypt_bytes(theirs, [identity]) == data


def test_keys_from_age_keygen_work_here(age_keygen: str, tmp_path: Path) -> None:
    key_path = tmp_path / "office.key"
    subprocess.run([age_keygen, "-o", key_path], check=True, capture_output=True)
    public = subprocess.run(
        [age_keygen, "-y", key_path], check=True, capture_output=True, text=True
    ).stdout.strip()
    [office] = age.load_identities(key_path)
    assert str(office.recipient()) == public
    assert str(age.X25519Identity.parse(str(office))) == str(office)
    ciphertext = age.encrypt_bytes(b"clip", age.parse_recipients(public))
    assert run_age("-d", "-i", key_path, stdin=ciphertext) == b"clip"


def test_age_keygen_agrees_with_our_keys(
    age_keygen: str, key_file: Path, identity: age.X25519Identity
) -> None:
    public = subprocess.run(
        [age_keygen, "-y", key_file], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert public == str(identity.recipient())


def test_age_opens_our_passphrase_file(age_cli: str, tmp_path: Path) -> None:
    path = tmp_path / "secret.age"
    path.write_bytes(age.encrypt_bytes(b"by passphrase", [age.ScryptRecipient("pass word", 10)]))
    out = tmp_path / "out"
    age_tty("-d", "-o", out, path, answers=["pass word"])
    assert out.read_bytes() == b"by passphrase"


def test_we_open_ages_passphrase_file(age_cli: str, tmp_path: Path) -> None:
    source, path = tmp_path / "plain", tmp_path / "secret.age"
    source.write_bytes(b"from age -p")
    age_tty("-p", "-o", path, source, answers=["staple battery", "staple battery"])
    assert b"scrypt" in path.read_bytes()[:100]
    found = age.decrypt_bytes(path.read_bytes(), [age.ScryptIdentity("staple battery")])
    assert found == b"from age -p"


def test_age_opens_our_wrapped_identity(
    age_cli: str, tmp_path: Path, identity: age.X25519Identity
) -> None:
    passphrase = "plum tractor vivid seven"
    wrapped = tmp_path / "kit-identity.age"
    office = age.X25519Identity.generate().recipient()
    pinned = [str(office), str(identity.recipient())]  # comments: age skips them
    wrapped.write_bytes(age.wrap_identity(identity, passphrase, work_factor=12, pinned=pinned))
    assert age.unwrap_kit_key(wrapped.read_bytes(), passphrase).pinned == tuple(pinned)
    out = tmp_path / "kit-identity.txt"
    age_tty("-d", "-o", out, wrapped, answers=[passphrase])
    assert age.parse_identities(out.read_text())[0].recipient() == identity.recipient()
    ciphertext = run_age("-r", str(identity.recipient()), stdin=b"film")
    assert run_age("-d", "-i", out, stdin=ciphertext) == b"film"
