"""A synced archive as the office sees it: kit folders holding ``<id>.*.age`` files, one
``<id>.manifest.json`` per recording, the kit's ``audit.json``, ``erasures.json`` and
``cases.json`` (with the case files in ``cases/``).

ARCHIVE may be the folder the kits sync into (holding ``kit-…/`` folders, at any depth)
or one kit's folder. Nothing here needs a key: the manifests are plain (see
device.sync.manifest for why that is safe). This is the one place the office opens an
archive, always with its register of kits: every manifest, ``audit.json``,
``erasures.json`` and ``cases.json`` must carry the signature of an enrolled kit, and is
parsed from the very bytes whose signature was checked. One that does not is left out
(its reason in ``unreadable``), so no command trusts it: verify, serve, export,
annotations, supervision and retention all read the archive through :func:`open_archive`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from device.errors import ArchiveError
from device.office.kit_register import Register
from device.sync.casefiles import CASES_DIR, CASES_NAME, CaseFiles, parse_cases
from device.sync.erasures import ERASURES_NAME, Erasures, parse_erasures
from device.sync.manifest import AUDIT_NAME, Manifest, parse_manifest

MANIFEST_SUFFIX = ".manifest.json"
# The office's own files in a kit folder (supervisors' comments, ``vigkit office serve``).
# No kit ever makes a file of this name and sync sends only the kit's own files by name,
# so the kit never overwrites one; verify knows them as the office's, not unlisted.
OFFICE_SUFFIX = ".office-notes.age"


@dataclass
class KitFolder:
    path: Path
    manifests: dict[str, Manifest] = field(default_factory=dict)  # by recording id
    audit_file: Path | None = None  # signed by the kit
    unreadable: list[str] = field(default_factory=list)  # files left out, and why
    erasures: Erasures | None = None  # the kit's signed erase requests and dates
    cases: CaseFiles | None = None  # the kit's signed list of its case files

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name


def open_archive(root: Path, register: Register) -> list[KitFolder]:
    """Every kit folder under ``root`` with what its manifests say: only what a kit
    enrolled in ``register`` signed."""
    if not root.is_dir():
        raise ArchiveError(f"{root} is not a folder")
    folders: dict[Path, KitFolder] = {}
    for path in sorted(root.rglob(f"*{MANIFEST_SUFFIX}")):
        kit = folders.setdefault(path.parent, KitFolder(path.parent))
        try:
            data = path.read_bytes()
            manifest = parse_manifest(data, str(path.relative_to(root)))
            register.check(manifest.kit, data, path.name)
        except ArchiveError as e:
            kit.unreadable.append(e.message)
            continue
        except OSError as e:
            kit.unreadable.append(f"{path.name} cannot be read: {e.strerror}")
            continue
        kit.manifests[manifest.recording] = manifest
    for path in sorted(root.rglob(AUDIT_NAME)):
        kit = folders.setdefault(path.parent, KitFolder(path.parent))
        if _signed(kit, path, register) is not None:
            kit.audit_file = path
    if not folders:
        raise ArchiveError(f"{root} holds no VIG Kit manifests")
    for kit in folders.values():
        erasures = _signed(kit, kit.path / ERASURES_NAME, register)
        cases = _signed(kit, kit.path / CASES_NAME, register)
        try:
            if erasures is not None:
                kit.erasures = parse_erasures(erasures, f"{kit.name}/{ERASURES_NAME}")
            if cases is not None:
                kit.cases = parse_cases(cases, f"{kit.name}/{CASES_NAME}")
        except ArchiveError as e:
            kit.unreadable.append(e.message)
    return [folders[p] for p in sorted(folders)]


def _signed(kit: KitFolder, path: Path, register: Register) -> bytes | None:
    """``path``'s bytes if an enrolled kit signed them; None if it is absent, or not
    signed (the reason then kept in ``kit.unreadable``)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        kit.unreadable.append(f"{path.name} cannot be read: {e.strerror}")
        return None
    try:
        doc = json.loads(data)
        owner = str(doc.get("kit", kit.name)) if isinstance(doc, dict) else kit.name
        register.check(owner, data, path.name)
    except ArchiveError as e:
        kit.unreadable.append(e.message)
        return None
    except ValueError:
        kit.unreadable.append(f"{path.name} cannot be read as a VIG Kit file")
        return None
    return data


def read_listed(folder: Path, manifest: Manifest, name: str) -> bytes | None:
    """The bytes of the recording's file ``name`` (its notes, markers, pictures) if they
    are the ones the kit's signed manifest lists; None if the file is not there. They
    are encrypted to public keys anyone can use, so this hash is what says the kit wrote
    them: a file changed since, or one the manifest does not list, is refused."""
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        return None
    entry = next((f for f in manifest.files if f.name == name), None)
    if entry is None or entry.size != len(data) or entry.sha256 != hashlib.sha256(data).hexdigest():
        raise ArchiveError(
            f"{name} is damaged or was changed after the kit sent it (it is not the file "
            "the kit signed for), so it is not trusted",
            hint="Sync from the kit again; vigkit office verify shows what differs.",
        )
    return data


def unlisted_files(kit: KitFolder) -> list[str]:
    """Ciphertext in the folder that no manifest lists: a sync that has not finished yet
    (its manifest goes last), or something put there by hand. The office's own comment
    files are not the kit's to list."""
    listed = {f.name for m in kit.manifests.values() for f in m.files}
    return sorted(
        p.name
        for p in kit.path.glob("*.age")
        if p.name not in listed and not p.name.endswith(OFFICE_SUFFIX)
    )


def unlisted_cases(kit: KitFolder) -> list[str]:
    """Case files in ``cases/`` that the kit's signed ``cases.json`` does not list: no
    office command reads them (a sync under way sends them before the listing, or
    someone put them there)."""
    listed = {c.name for c in kit.cases.cases} if kit.cases else set()
    return sorted(
        f"{CASES_DIR}/{p.name}" for p in kit.file(CASES_DIR).glob("*.age") if p.name not in listed
    )
