"""A synced archive as the office sees it: kit folders holding ``<id>.*.age`` files, one
``<id>.manifest.json`` per recording and the kit's ``audit.json``.

ARCHIVE may be the folder the kits sync into (holding ``kit-…/`` folders, at any depth)
or one kit's folder. Nothing here needs a key: the manifests are plain (see
device.sync.manifest for why that is safe). Given the office's register of kits, every
manifest, ``audit.json`` and ``erasures.json`` must carry the signature of an enrolled
kit; one that does not is left out (listed in ``unreadable``), so no command trusts it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from device.errors import ArchiveError
from device.office.kit_register import Register
from device.sync.erasures import ERASURES_NAME
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
    audit_file: Path | None = None
    unreadable: list[str] = field(default_factory=list)  # manifests that would not parse
    erasures_ok: bool = True  # False: erasures.json is not signed by the kit
    signatures_checked: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name


def open_archive(root: Path, register: Register | None = None) -> list[KitFolder]:
    """Every kit folder under ``root`` with what its manifests say; with ``register``,
    only what an enrolled kit signed."""
    if not root.is_dir():
        raise ArchiveError(f"{root} is not a folder")
    folders: dict[Path, KitFolder] = {}
    for path in sorted(root.rglob(f"*{MANIFEST_SUFFIX}")):
        kit = folders.setdefault(path.parent, KitFolder(path.parent))
        try:
            data = path.read_bytes()
            manifest = parse_manifest(data, str(path.relative_to(root)))
            if register is not None:
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
        if _trusted(kit, path, register):
            kit.audit_file = path
    if not folders:
        raise ArchiveError(f"{root} holds no VIG Kit manifests")
    for kit in folders.values():
        kit.signatures_checked = register is not None
        erasures = kit.path / ERASURES_NAME
        if erasures.exists():
            kit.erasures_ok = _trusted(kit, erasures, register)
    return [folders[p] for p in sorted(folders)]


def _trusted(kit: KitFolder, path: Path, register: Register | None) -> bool:
    """True when there is no register to check against, or the kit signed ``path``;
    otherwise the reason is kept in ``kit.unreadable``."""
    if register is None:
        return True
    try:
        data = path.read_bytes()
        doc = json.loads(data)
        owner = str(doc.get("kit", kit.name)) if isinstance(doc, dict) else kit.name
        register.check(owner, data, path.name)
    except ArchiveError as e:
        kit.unreadable.append(e.message)
        return False
    except (OSError, ValueError):
        kit.unreadable.append(f"{path.name} cannot be read as a VIG Kit file")
        return False
    return True


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
