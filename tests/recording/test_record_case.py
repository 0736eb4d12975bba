"""`vigkit record --case CODE` (#14): the film goes into that case, refused in words for a
case without consent, a name or an unknown code; without --case it goes where the
button's would (the current case, or Unassigned)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from device import age, cases
from device.library import Library
from tests.recording.conftest import OfficeKey, vigkit
from tests.web.web_helpers import CONSENT


def _rows(data: Path) -> list[tuple[str, str | None, int | None, int]]:
    db = sqlite3.connect(data / "kit.sqlite")
    rows = db.execute("SELECT id, case_id, cycle, held FROM recordings ORDER BY seq").fetchall()
    db.close()
    return rows


def _record(data: Path, key: OfficeKey, *extra: str | Path) -> tuple[int, str]:
    done = vigkit(
        "record", "--data", data, "--seconds", "1", "--fast", "--mic", "none",
        "-r", key.public, *extra, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    return done.returncode, done.stderr


def test_record_into_a_case_by_its_code(tmp_path: Path, office_key: OfficeKey) -> None:
    data = tmp_path / "kit"
    assert _record(data, office_key)[0] == 0  # no case chosen: Unassigned, as the button
    ((_, case_id, _, held),) = _rows(data)
    assert case_id is None and held == 1
    library = Library(data)
    try:
        store = cases.CaseStore(library)
        ids = age.load_identities(office_key.path)
        keys = age.parse_recipients(office_key.public)
        with_consent = cases.new_case(store, "F-0231", "Who leads?", CONSENT, ids, keys)
        without = cases.new_case(store, "F-0400", "", None, ids, keys)
    finally:
        library.close()

    key = ("-i", office_key.path)
    for args, words in (
        (("--case", "F-0400", *key), "vigkit: consent has not been recorded for case F-0400"),
        (("--case", "Jo Smith", *key), "'Jo Smith' does not look like a case code"),
        (("--case", "../F-0231", *key), "does not look like a case code"),
        (("--case", "F-0999", *key), "there is no case F-0999 on this kit"),
        (("--case", "F-0231"), "finding case F-0231 needs a key"),
    ):
        status, said = _record(data, office_key, *args)
        assert status == 1 and words in said, (args, said)
    assert len(_rows(data)) == 1  # nothing was filmed for any of those

    assert _record(data, office_key, "--case", "f-0231", *key)[0] == 0
    assert _record(data, office_key, "--case", with_consent.id)[0] == 0  # the id needs no key
    filed = [(c, n, h) for _, c, n, h in _rows(data)[1:]]
    assert filed == [(with_consent.id, 1, 0)] * 2
    assert without.id not in {c for _, c, _, _ in _rows(data)}
    db = sqlite3.connect(data / "kit.sqlite")  # --case files the film; the current case stays
    assert db.execute("SELECT value FROM meta WHERE key = 'current_case'").fetchall() == []
    db.close()
