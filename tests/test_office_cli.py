"""`vigkit office keygen` and `vigkit office decrypt`, checked against the real age CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

from device import age
from tests.recording.conftest import VIGKIT, vigkit
from tests.recording.damage_helpers import flip_byte


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


def test_salvage_keeps_every_part_around_a_damaged_one(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    plain = bytes(range(256)) * 1000  # 256 000 bytes: 3 full chunks and a short one
    damaged = tmp_path / "damaged.age"
    damaged.write_bytes(age.encrypt_bytes(plain, [age.X25519Recipient.parse(_public(key))]))
    flip_byte(damaged, chunk=1)
    out = tmp_path / "kept.bin"
    done = vigkit("office", "decrypt", "--salvage", "-i", key, "-o", out, damaged)
    assert out.read_bytes() == plain[:65_536] + plain[131_072:]  # the end still proven
    assert "damaged (complete); kept 190,464 bytes" in done.stderr
    assert "65,536 bytes that failed authentication (bytes 65,536–131,072)" in done.stderr


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


def test_encrypt_makes_files_the_real_age_opens(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    other = age.X25519Identity.generate()
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(f"# another office\n{other.recipient()}\n")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(bytes(range(256)) * 1000 + b"tail")  # 3 full chunks and a short one
    sealed = tmp_path / "plain.bin.age"
    vigkit("office", "encrypt", "-r", _public(key), "-R", recipients, "-o", sealed, plain)
    assert sealed.stat().st_mode & 0o777 == 0o600
    other_key = tmp_path / "other.key"
    other_key.write_text(f"{other}\n")
    for identity_file in (key, other_key):  # each recipient opens it, with the real age
        opened = subprocess.run(
            ["age", "-d", "-i", identity_file, sealed], capture_output=True, check=True
        )
        assert opened.stdout == plain.read_bytes()
    armored = subprocess.run(
        [*VIGKIT, "office", "encrypt", "-a", "-r", _public(key)],
        input=b"from stdin",
        capture_output=True,
        check=True,
    ).stdout
    assert armored.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert age.decrypt_bytes(armored, age.load_identities(key)) == b"from stdin"


def test_encrypt_refuses_bad_keys_in_plain_words(tmp_path: Path) -> None:
    out = tmp_path / "x.age"
    done = vigkit("office", "encrypt", "-r", "age1notakey", "-o", out, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("vigkit: ") and "recipient" in done.stderr
    nothing = vigkit("office", "encrypt", "-o", out, check=False)
    assert nothing.returncode == 1 and "at least one public key" in nothing.stderr
    assert not out.exists()


@pytest.mark.parametrize("passphrase_ok", [True, False])
def test_decrypt_opens_a_passphrase_file_as_age_does(tmp_path: Path, passphrase_ok: bool) -> None:
    phrase = "quiet harbour lanterns at dawn"
    sealed = tmp_path / "note.age"
    sealed.write_bytes(age.encrypt_bytes(b"by passphrase", [age.ScryptRecipient(phrase, 10)]))
    pw = tmp_path / "pw"
    pw.write_text(f"{phrase}\n" if passphrase_ok else "not the passphrase at all\n")
    out = tmp_path / "note.txt"
    done = vigkit("office", "decrypt", "--passphrase-file", pw, "-o", out, sealed, check=False)
    if passphrase_ok:
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == b"by passphrase"
    else:
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "the passphrase does not open this file" in done.stderr
        assert not out.exists()


def test_decrypt_says_what_is_missing(tmp_path: Path) -> None:
    scrypt_file = tmp_path / "p.age"
    scrypt_file.write_bytes(age.encrypt_bytes(b"x", [age.ScryptRecipient("a b c d e f g h", 10)]))
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    keyed = tmp_path / "k.age"
    keyed.write_bytes(age.encrypt_bytes(b"x", [age.X25519Identity.generate().recipient()]))
    pw = tmp_path / "pw"
    pw.write_text("a b c d e f g h\n")
    cases = [
        ([scrypt_file], "decrypt needs a key file or a passphrase"),
        (["-i", key, scrypt_file], "this file is protected by a passphrase"),
        (["--passphrase-file", pw, keyed], "this file is encrypted to keys, not to a passphrase"),
        (["-i", key, keyed], "none of the given keys can open this file"),
    ]
    for args, words in cases:
        done = vigkit("office", "decrypt", *args, check=False)
        assert done.returncode == 1, args
        assert done.stderr.startswith(f"vigkit: {words}"), done.stderr
        assert len(done.stderr.splitlines()) == 2  # what happened, then what to do


HEAVY = {"av", "numpy", "flask", "werkzeug", "jinja2", "waitress", "PIL", "sqlite3"}
# Not on the office's decrypt/encrypt path either (docs/performance.md): the standard
# library's hmac loads _hashlib, a second OpenSSL beside pyca's (~5 ms); pathlib brings
# urllib.parse and ipaddress (~4 ms).
SLOW_START = {"hmac", "hashlib", "_hashlib", "pathlib", "urllib", "ipaddress"}
ROOT = Path(__file__).resolve().parents[1]


def _imported(*args: str | Path) -> set[str]:
    """The top-level packages a whole ``vigkit`` process imports (python -X importtime).

    Without ``site`` (-S), as an installed kit would be: the development venv's editable
    install imports pathlib and more from its ``.pth`` file before any of our code."""
    paths = [str(ROOT), sysconfig.get_paths()["purelib"]]
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-m", "device.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}


def test_help_and_office_decrypt_import_nothing_heavy(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    sealed = tmp_path / "x.age"
    sealed.write_bytes(age.encrypt_bytes(b"x", [age.X25519Recipient.parse(_public(key))]))
    for args in (["--help"], ["office", "decrypt", "--help"], ["office", "encrypt", "--help"]):
        found = _imported(*args)
        assert "device" in found and not found & (HEAVY | SLOW_START | {"cryptography"}), (
            args,
            found,
        )
    out = tmp_path / "x.txt"
    found = _imported("office", "decrypt", "-i", key, "-o", out, sealed)
    assert "cryptography" in found and not found & (HEAVY | SLOW_START), found
    found = _imported("office", "encrypt", "-r", _public(key), "-o", tmp_path / "y.age", out)
    assert "cryptography" in found and not found & (HEAVY | SLOW_START), found


def test_output_that_is_not_a_regular_file_is_written_to_not_replaced(tmp_path: Path) -> None:
    """-o follows a link to its file and writes into a pipe (or /dev/null) as age does:
    renaming a finished file over them would replace the link, or the device itself."""
    key = tmp_path / "org.key"
    vigkit("office", "keygen", "-o", key)
    recipient = age.X25519Recipient.parse(_public(key))
    sealed = tmp_path / "x.age"
    sealed.write_bytes(age.encrypt_bytes(b"through the pipe" * 10_000, [recipient]))
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    vigkit("office", "decrypt", "-i", key, "-o", pipe, sealed)
    reader.join(timeout=60)
    assert received == [b"through the pipe" * 10_000]
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link.txt"
    link.symlink_to(elsewhere / "real.txt")
    vigkit("office", "decrypt", "-i", key, "-o", link, sealed)
    assert link.is_symlink() and (elsewhere / "real.txt").read_bytes() == received[0]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["real.txt"]
