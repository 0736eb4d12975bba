"""`vigkit office keygen` and `vigkit office decrypt`, checked against the real age CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from device import age
from tests.recording.conftest import vigkit


def _public(key_file: Path) -> str:
    return next(
        line.split(": ")[1] for line in key_file.read_text().splitlines() if "public key" in line
    )


def test_keygen_makes_a_key_the_real_age_uses(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    done = vigkit("office", "keygen", "-o", key)
    assert done.stdout.strip() == f"Public key: {_public(key)}"
    assert key.stat().st_mode & 0o777 == 0o600
    sealed = subprocess.run(
        ["age", "-r", _public(key)], input=b"hello", capture_output=True, check=True
    ).stdout
    (tmp_path / "x.age").write_bytes(sealed)
    assert vigkit("office", "decrypt", "-i", key, tmp_path / "x.age").stdout == "hello"
    again = vigkit("office", "keygen", "-o", key, check=False)
    assert again.returncode == 1 and "was not overwritten" in again.stderr


def test_decrypt_failure_leaves_no_partial_output(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    recipient = age.X25519Recipient.parse(_public(key))
    data = age.encrypt_bytes(b"x" * 200_000, [recipient])
    damaged = tmp_path / "damaged.age"
    damaged.write_bytes(data[:-1000])
    out = tmp_path / "out.mp4"
    done = vigkit("office", "decrypt", "-i", key, "-o", out, damaged, check=False)
    assert done.returncode == 1
    assert "ends" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.age", "org.key"]


def test_salvage_keeps_the_complete_parts(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    plain = bytes(range(256)) * 1000  # 256 000 bytes: 3 full chunks and a short one
    data = age.encrypt_bytes(plain, [age.X25519Recipient.parse(_public(key))])
    cut = tmp_path / "cut.age"
    cut.write_bytes(data[: len(data) - 5000])
    out = tmp_path / "kept.bin"
    done = vigkit("office", "decrypt", "--salvage", "-i", key, "-o", out, cut)
    assert "cut short; kept the 196,608 bytes" in done.stderr
    assert out.read_bytes() == plain[:196_608]


@pytest.mark.parametrize("passphrase_ok", [True, False])
def test_kit_identity_opens_with_its_passphrase(tmp_path: Path, passphrase_ok: bool) -> None:
    kit = age.X25519Identity.generate()
    wrapped = tmp_path / "kit-identity.age"
    wrapped.write_bytes(age.wrap_identity(kit, "river lantern quietly folds", work_factor=10))
    film = tmp_path / "f.age"
    film.write_bytes(age.encrypt_bytes(b"film", [kit.recipient()]))
    pw = tmp_path / "pw"
    pw.write_text("river lantern quietly folds\n" if passphrase_ok else "wrong one entirely\n")
    done = vigkit("office", "decrypt", "-i", wrapped, "--passphrase-file", pw, film, check=False)
    if passphrase_ok:
        assert (done.returncode, done.stdout) == (0, "film")
    else:
        assert done.returncode == 1 and "passphrase" in done.stderr.lower()
        assert "Traceback" not in done.stderr
