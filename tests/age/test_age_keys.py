"""Keys, key files, passphrase-wrapped identities and the passphrase rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from device import age
from device.errors import KeyFormatError, WeakPassphrase, WorkFactorTooHigh, WrongPassphrase

# A key pair from age-keygen (the C2SP vectors use the same secret).
SECRET = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
GOOD = "plum tractor vivid seven"


def test_identity_text_round_trips_in_upper_case() -> None:
    identity = age.X25519Identity.parse(SECRET)
    assert str(identity) == SECRET
    assert str(age.X25519Identity.parse(SECRET.lower())) == SECRET
    recipient = identity.recipient()
    assert str(recipient).startswith("age1") and len(str(recipient)) == 62
    assert age.X25519Recipient.parse(str(recipient)) == recipient
    assert SECRET not in repr(identity)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (SECRET[:-1] + "Q", "checksum"),
        (SECRET[:20] + SECRET[20:].lower(), "mixed"),
        ("age1qqqq", "separator"),
        ("AGE-SECRET-KEY-1" + "B" * 58, "invalid character"),
    ],
)
def test_bad_keys_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(KeyFormatError, match=why):
        age.X25519Identity.parse(text)


def test_a_recipient_is_not_an_identity() -> None:
    recipient = str(age.X25519Identity.parse(SECRET).recipient())
    with pytest.raises(KeyFormatError, match="not an age X25519 identity"):
        age.X25519Identity.parse(recipient)


def test_recipients_file_skips_comments_and_blank_lines() -> None:
    one, two = age.X25519Identity.generate().recipient(), age.X25519Identity.generate().recipient()
    text = f"# office\n{one}\n\n   \n# kit\r\n{two}\r\n"
    assert age.parse_recipients(text) == [one, two]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("ssh-ed25519 AAAAC3Nza office@example", "SSH keys are not supported"),
        (SECRET, "secret key"),
        ("age1nope", "line 2"),
    ],
)
def test_recipients_file_errors_name_the_line(line: str, why: str) -> None:
    with pytest.raises(KeyFormatError, match=why):
        age.parse_recipients(f"# comment\n{line}\n")


def test_empty_key_files_are_refused() -> None:
    with pytest.raises(KeyFormatError, match="no keys"):
        age.parse_recipients("# nothing here\n")
    with pytest.raises(KeyFormatError, match="no secret keys"):
        age.parse_identities("\n")


@pytest.mark.parametrize(
    "passphrase",
    ["short one", "aaaaaaaaaaaaaaaa", "Password1234", "1234567890123", "abababababababab"],
)
def test_weak_passphrases_are_refused_with_a_reason(passphrase: str) -> None:
    with pytest.raises(WeakPassphrase, match=r"could be guessed in about .* by a stolen card"):
        age.check_passphrase(passphrase)


def test_the_kits_own_names_count_as_known() -> None:
    age.check_passphrase("Harbourside lounge 2031")
    with pytest.raises(WeakPassphrase):
        age.check_passphrase("Harbourside lounge 2031", ("Harbourside lounge", "VIG Kit"))


def test_a_good_passphrase_passes() -> None:
    age.check_passphrase(GOOD)


def test_default_work_factor_fits_a_pi_zero() -> None:
    scrypt_bytes = 128 * 8 * (1 << age.DEFAULT_WORK_FACTOR)
    assert scrypt_bytes <= 64 * 1024 * 1024
    assert age.DEFAULT_WORK_FACTOR < age.MAX_WORK_FACTOR <= 22
    assert age.time_to_guess(0.5) == "under a second"
    assert age.time_to_guess(86400 * 1000 * 3) == "3 days"


def test_wrap_and_unwrap_an_identity() -> None:
    identity = age.X25519Identity.generate()
    wrapped = age.wrap_identity(identity, GOOD, work_factor=10)
    assert wrapped.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert str(age.unwrap_identity(wrapped, GOOD)) == str(identity)
    with pytest.raises(WrongPassphrase):
        age.unwrap_identity(wrapped, GOOD + "!")
    with pytest.raises(WeakPassphrase):
        age.wrap_identity(identity, "letmein")


def test_unwrap_refuses_too_much_work_before_doing_it() -> None:
    wrapped = age.wrap_identity(age.X25519Identity.generate(), GOOD, work_factor=10)
    greedy = wrapped.replace(b" 10\n", b" 22\n", 1)
    with pytest.raises(WorkFactorTooHigh, match="22"):
        age.unwrap_identity(greedy, GOOD)
    with pytest.raises(WorkFactorTooHigh):
        age.unwrap_identity(wrapped, GOOD, max_work_factor=9)


def test_load_identities_plain_and_wrapped(tmp_path: Path) -> None:
    identity = age.X25519Identity.generate()
    plain, wrapped = tmp_path / "key.txt", tmp_path / "key.age"
    plain.write_text(age.identity_file_text(identity))
    wrapped.write_bytes(age.wrap_identity(identity, GOOD, work_factor=10))
    assert [str(i) for i in age.load_identities(plain)] == [str(identity)]
    assert [str(i) for i in age.load_identities(wrapped, GOOD)] == [str(identity)]
    with pytest.raises(WrongPassphrase, match="none was given"):
        age.load_identities(wrapped)
    assert age.is_encrypted(wrapped.read_bytes()) and not age.is_encrypted(plain.read_bytes())
