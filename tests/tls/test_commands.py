"""``vigkit office ca init|issue`` and ``vigkit tls request|install`` end to end, as
separate processes the way the office and the kit run them, with their sentences for
bad input (never a stack trace)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from device.commands.office_ca import _new_passphrase
from device.errors import VigKitError
from device.kit import diceware
from device.tls import KIT_ADDRESS, KIT_NAMES, KitTls, fingerprint
from tests.recording.conftest import VIGKIT
from tests.tls.conftest import KIT_ID, ORGANISATION, PASSPHRASE

OTHER_KIT = "kit-99aa88bb"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``vigkit`` with no terminal on stdin (as from a script): nothing can be asked."""
    return subprocess.run(
        [*VIGKIT, *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def refused(done: subprocess.CompletedProcess[str], words: str) -> str:
    """A refusal: exit 1, two lines — what happened, what to do — and no trace."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith(f"vigkit: {words}"), done.stderr
    assert len(done.stderr.splitlines()) == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An office folder with the CA made by ``vigkit office ca init`` and its passphrase."""
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "ca-passphrase").write_text(f"{PASSPHRASE}\n")
    done = run(
        "office", "ca", "init", "--ca", folder / "ca", "--organisation", ORGANISATION,
        "--passphrase-file", folder / "ca-passphrase",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cert = x509.load_pem_x509_certificate((folder / "ca" / "ca.crt").read_bytes())
    assert fingerprint(cert) in done.stdout.splitlines()[-3]  # printed for phones' users
    assert "It may vouch only for vigkit.lan, kit.lan, 10.42.0.1/32." in done.stdout
    return folder


def issue(office: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(
        "office", "ca", "issue", "--ca", office / "ca", "--out", office / "certs",
        "--passphrase-file", office / "ca-passphrase", *args,
    )  # fmt: skip


def test_the_request_path_from_kit_to_office_and_back(tmp_path: Path, office: Path) -> None:
    data = tmp_path / "kit-data"
    data.mkdir()
    csr = tmp_path / "kit.csr"
    asked = run("tls", "request", "--data", data, "--out", csr)
    assert asked.returncode == 0, asked.stderr
    tls = KitTls.of(data)
    assert _mode(tls.key) == 0o600 and b"PRIVATE" not in csr.read_bytes()
    done = issue(office, "--kit", KIT_ID, "--csr", csr)
    assert done.returncode == 0, done.stderr
    chain = office / "certs" / f"{KIT_ID}.crt"
    assert not (office / "certs" / f"{KIT_ID}.key").exists()  # the key stayed on the kit
    assert "for vigkit.lan, kit.lan, 10.42.0.1, and the CA's" in done.stdout
    installed = run("tls", "install", "--data", data, "--cert", chain)
    assert installed.returncode == 0, installed.stderr
    ca = x509.load_pem_x509_certificate((office / "ca" / "ca.crt").read_bytes())
    assert fingerprint(ca) in installed.stdout
    leaf = tls.check(KIT_NAMES, (KIT_ADDRESS,))
    assert leaf.public_key() == x509.load_pem_x509_csr(csr.read_bytes()).public_key()
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", office / "ca" / "ca.crt", tls.certificate],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # the same request issued again does not overwrite without --force
    refused(issue(office, "--kit", KIT_ID, "--csr", csr), f"{chain} already exists")
    assert issue(office, "--kit", KIT_ID, "--csr", csr, "--force").returncode == 0


def test_the_kits_settings_name_its_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "var-lib-vigkit"
    data.mkdir()
    settings = tmp_path / "vigkit.toml"
    settings.write_text(f'data_dir = "{data}"\n')
    asked = run("tls", "request", "--config", settings, "--out", tmp_path / "kit.csr")
    assert asked.returncode == 0, asked.stderr
    assert KitTls.of(data).key.is_file()
    refused(
        run("tls", "request", "--data", tmp_path / "nowhere", "--out", tmp_path / "x.csr"),
        f"there is no data folder {tmp_path / 'nowhere'}",
    )


def test_a_key_made_at_the_office_is_installed_with_it(tmp_path: Path, office: Path) -> None:
    done = issue(office, "--kit", KIT_ID)
    assert done.returncode == 0, done.stderr
    key = office / "certs" / f"{KIT_ID}.key"
    assert _mode(key) == 0o600
    assert "Move it to the kit, then delete it here" in done.stdout
    data = tmp_path / "kit-data"
    installed = run(
        "tls", "install", "--data", data, "--cert", office / "certs" / f"{KIT_ID}.crt",
        "--key", key,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert f"Now delete {key}" in installed.stdout
    assert KitTls.of(data).key.read_bytes() == key.read_bytes()
    assert _mode(KitTls.of(data).key) == 0o600


def test_bad_input_gets_sentences(tmp_path: Path, office: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("velvet crater juniper mosaic thunder lanterns\n")
    refused(
        run("office", "ca", "issue", "--ca", office / "ca", "--kit", KIT_ID, "--out", tmp_path,
            "--passphrase-file", wrong),
        "the passphrase does not open the certificate authority's key",
    )  # fmt: skip
    refused(
        issue(office, "--kit", KIT_ID, "--ca", tmp_path / "nowhere"),
        f"there is no certificate authority in {tmp_path / 'nowhere'}",
    )
    refused(issue(office, "--kit", "../../etc/kit"), "'../../etc/kit' is not a kit id")
    not_a_csr = tmp_path / "kit.csr"
    not_a_csr.write_text("hello\n")
    refused(
        issue(office, "--kit", KIT_ID, "--csr", not_a_csr),
        f"{not_a_csr} is not a certificate request",
    )
    refused(
        run("office", "ca", "init", "--ca", office / "ca", "--organisation", "X",
            "--passphrase-file", office / "ca-passphrase"),
        f"{office / 'ca' / 'ca.crt'} already exists: there is a certificate authority",
    )  # fmt: skip
    refused(
        run("office", "ca", "init", "--ca", tmp_path / "ca2", "--organisation", "X"),
        "no passphrase for the CA's key and no terminal to ask on",
    )
    weak = tmp_path / "weak"
    weak.write_text("Summer2024!!\n")
    refused(
        run("office", "ca", "init", "--ca", tmp_path / "ca3", "--organisation", "X",
            "--passphrase-file", weak),
        "the passphrase is too weak for the certificate authority's key",
    )  # fmt: skip
    assert not (tmp_path / "ca3").exists()


def test_install_refuses_another_key_or_another_cas_chain(tmp_path: Path, office: Path) -> None:
    # kit A's certificate (and key made at the office) offered to kit B, which has its own key
    assert issue(office, "--kit", KIT_ID).returncode == 0
    chain_a = office / "certs" / f"{KIT_ID}.crt"
    kit_b = tmp_path / "kit-b"
    kit_b.mkdir()
    assert run("tls", "request", "--data", kit_b, "--out", tmp_path / "b.csr").returncode == 0
    refused(
        run("tls", "install", "--data", kit_b, "--cert", chain_a),
        f"{chain_a} was issued for another key, not this kit's",
    )
    # another organisation's CA appended to kit A's certificate
    other = tmp_path / "other"
    other.mkdir()
    (other / "pw").write_text(f"{PASSPHRASE} again\n")
    made = run(
        "office", "ca", "init", "--ca", other / "ca", "--organisation", "Elsewhere",
        "--passphrase-file", other / "pw",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    leaf_a = chain_a.read_text().split("-----END CERTIFICATE-----")[0]
    mixed = tmp_path / "mixed.crt"
    mixed.write_text(f"{leaf_a}-----END CERTIFICATE-----\n{(other / 'ca' / 'ca.crt').read_text()}")
    refused(
        run("tls", "install", "--data", tmp_path / "kit-a", "--cert", mixed,
            "--key", office / "certs" / f"{KIT_ID}.key"),
        f"the kit's certificate in {mixed} was not issued by the certificate authority",
    )  # fmt: skip
    refused(
        run("tls", "install", "--data", tmp_path / "kit-c", "--cert", chain_a),
        "there is no key for the certificate",
    )
    refused(
        run("tls", "install", "--data", kit_b, "--cert", tmp_path / "missing.crt"),
        f"cannot read the certificate {tmp_path / 'missing.crt'}",
    )
    assert not KitTls.of(kit_b).certificate.exists()


def test_the_offered_passphrase_must_be_typed_again(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diceware, "generate", lambda count: PASSPHRASE)
    answers = iter(["Summer2024!!", "", "not the words", "", PASSPHRASE])
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    assert _new_passphrase(ORGANISATION, ask) == PASSPHRASE  # Enter takes the words offered
    out = capsys.readouterr().out
    assert f"\n    {PASSPHRASE}\n" in out
    assert asked == ["Passphrase: ", "Passphrase: ", "Again, to be sure: ", "Passphrase: ",
                     "Again, to be sure: "]  # fmt: skip
    assert "too weak for the certificate authority's key" in out
    assert "The two did not match; once more." in out
    with pytest.raises(VigKitError) as gave_up:
        _new_passphrase(ORGANISATION, lambda prompt: "Summer2024!!")
    assert gave_up.value.message == "no passphrase was chosen"
