"""Fixtures for the TLS tests: a real organisation CA on disk, made once per session (its
passphrase check runs zxcvbn), and a kit's key with its issued chain."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from device.tls import Authority, init_ca, issue, load_ca, new_key
from device.tls.authority import chain_pem, private_key_pem

PASSPHRASE = "velvet crater juniper mosaic thunder lantern"  # six random words
ORGANISATION = "Northfield Family Services"
KIT_ID = "kit-1a2b3c4d"


@dataclass(frozen=True)
class Ca:
    folder: Path
    authority: Authority

    @property
    def cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def key(self) -> Path:
        return self.folder / "ca.key"


@dataclass(frozen=True)
class Issued:
    """A kit's key and the chain the CA issued for it, as the office hands them over."""

    key: ec.EllipticCurvePrivateKey
    chain: bytes

    @property
    def key_pem(self) -> bytes:
        return private_key_pem(self.key)


@pytest.fixture(scope="session")
def ca_template(tmp_path_factory: pytest.TempPathFactory) -> Ca:
    folder = tmp_path_factory.mktemp("office") / "ca"
    init_ca(folder, PASSPHRASE, ORGANISATION)
    return Ca(folder, load_ca(folder, PASSPHRASE))


@pytest.fixture
def ca(ca_template: Ca, tmp_path: Path) -> Ca:
    """A copy of the session's CA for one test (modes kept)."""
    folder = tmp_path / "ca"
    shutil.copytree(ca_template.folder, folder)
    return Ca(folder, ca_template.authority)


@pytest.fixture
def issued(ca_template: Ca) -> Issued:
    key = new_key()
    leaf = issue(ca_template.authority, KIT_ID, key.public_key())
    return Issued(key, chain_pem(ca_template.authority, leaf))
