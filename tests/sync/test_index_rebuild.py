"""A damaged or deleted ``kit.sqlite`` before ``vigkit sync``, against a real ``rclone serve
sftp``: the films are listed again from the card, a film not yet at the office is sent,
the films already there are not sent twice, and the office's archive still verifies (the
kit goes on in the same folder, its audit chain unbroken)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from device.cases import CaseStore
from device.library import Library, State
from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import KitFiles, Server, sync


def _add_unsent_film(kit: KitFiles) -> str:
    """A second finished film of the case, recorded after the last sync."""
    new = kit.film[:-4] + "f00d"
    rec = kit.data / "recordings"
    for kind in ("mp4", "index", "notes"):
        shutil.copyfile(rec / f"{kit.film}.{kind}.age", rec / f"{new}.{kind}.age")
    library = Library(kit.data)
    try:
        film = library.index.get(kit.film)
        library.index.add(new, film.started_at, 0, True)
        library.index.update(
            new, state=State.COMPLETE, size=film.size, sha256=film.sha256, duration_s=6.0
        )
        store = CaseStore(library)
        case_id = film.case_id
        assert case_id is not None
        store.registry.assign(new, case_id, 2)
    finally:
        library.close()
    return new


def _damage(db: Path, how: str) -> None:
    if how == "header":
        with db.open("r+b") as f:
            f.write(b"\xff" * 100)
    elif how == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    else:
        db.unlink()


@pytest.mark.parametrize("how", ["header", "truncated", "deleted"])
def test_after_the_index_is_lost_unsent_films_are_sent_and_sent_ones_are_not(
    kit: KitFiles, sftp: Server, how: str, office_key: OfficeKey
) -> None:
    config = kit.write_config(sftp)
    first = sync(config)
    assert first.returncode == 0, first.stderr
    remote = sftp.kit_folder()
    sent = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in remote.glob("*.age")}
    new = _add_unsent_film(kit)
    _damage(kit.data / "kit.sqlite", how)

    done = sync(config)
    assert done.returncode == 0, done.stderr
    assert "already has everything" not in done.stdout
    assert [p.name for p in (sftp.disk / "vigkit").iterdir()] == [remote.name]  # same folder
    for kind in ("mp4", "index", "notes"):
        name = f"{new}.{kind}.age"
        assert (remote / name).read_bytes() == (kit.data / "recordings" / name).read_bytes()
    now = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in remote.glob("*.age")}
    assert {n: now[n] for n in sent} == sent  # not one file sent a second time
    check = vigkit("office", "verify", sftp.disk / "vigkit", "--kits", office_key.kits, check=False)
    assert check.returncode == 3, check.stdout + check.stderr  # 3: only the interrupted flag
    assert "complete and untouched" in check.stdout and "PROBLEM" not in check.stdout

    library = Library(kit.data, kit_lock=False)
    try:
        rows = {row.id: row for row in library.index.all()}
        assert set(rows) == {kit.film, kit.copy, kit.interrupted, new}
        assert rows[kit.copy].state == State.COMPLETE  # no fragment index: the manifest says
        assert rows[kit.interrupted].state == State.INTERRUPTED
        assert not any(row.held for row in rows.values())  # each film back in its case
        assert {row.sync_state for row in rows.values()} == {"synced"}
        assert library.audit.verify() == []
        assert "index rebuilt" in [r.event for r in library.audit.rows()]
    finally:
        library.close()
    aside = list(kit.data.glob("kit.sqlite.damaged-*"))
    assert bool(aside) == (how != "deleted")  # set aside, never deleted
    again = sync(config)
    assert again.returncode == 0 and "already has everything" in again.stdout, again.stdout
