"""Upgrading a kit from before cases: its films, with case codes, consent and cycles in
their own notes (today's notes API), are sorted into cases at the first unlock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device import age
from device.kit.assembly import Kit
from device.library import NotesStore
from device.library.notes import set_field
from tests.web.web_helpers import PASSPHRASE, FakeClock, make_kit, page_settings, unlock
from web.kit import create_app


def _old_kit(data: Path) -> tuple[Kit, dict[str, str]]:
    """Films recorded and annotated as today's kit does: the case lives in each film's
    notes; the index has no case columns set (as an index from before the update)."""
    kit = make_kit(data, fast=True, case=False)
    films = {}
    for name in ("a1", "a2", "b1", "none"):
        films[name] = kit.recorder.start(max_seconds=1)
        assert kit.recorder.wait(60)
    with kit.library.index.transaction() as db:  # what an older index holds
        db.execute("UPDATE recordings SET held = 0, case_id = NULL, cycle = NULL")
    return kit, films


def _notes(kit: Kit, films: dict[str, str], identity: object) -> NotesStore:
    store = NotesStore(kit.library.data, kit.library.index, kit.library.audit)
    consent = [
        set_field("consent.given_on", "2026-10-01"),
        set_field("consent.practitioner", True),
        set_field("consent.supervisor", True),
        set_field("consent.training", False),
        set_field("consent.stops_on_request", True),
    ]
    ids = [identity]
    for name, code, cycle, extra in (
        ("a1", "F-0231", 1, consent),
        ("a2", "f-0231", 2, [set_field("case.question", "Who leads?")]),
        ("b1", "AB12", 1, []),
    ):
        ops = [set_field("case.code", code), set_field("case.cycle", cycle), *extra]
        store.apply(films[name], ops, ids, kit.recipients)  # type: ignore[arg-type]
    return store


@pytest.fixture
def old(tmp_path: Path) -> Iterator[tuple[Kit, dict[str, str]]]:
    kit, films = _old_kit(tmp_path / "data")
    yield kit, films
    kit.close()


def test_films_become_cases_at_the_first_unlock(old: tuple[Kit, dict[str, str]]) -> None:
    kit, films = old
    app = create_app(
        kit,
        settings=page_settings(),
        secret_key="up",
        idle_timeout_s=60,
        clock=FakeClock(),
        thumbnails=False,
    )
    try:
        wrapped = kit.library.data.kit_identity_file.read_bytes()
        identity = age.unwrap_identity(wrapped, PASSPHRASE)
        _notes(kit, films, identity)
        before = {p.name: p.read_bytes() for p in kit.library.data.recordings.iterdir()}
        for _ in range(2):  # twice: the second unlock finds nothing left to sort
            assert unlock(app.test_client()) == 302
        by_code = {c.code: c for c in kit.cases.all([identity])}
        assert sorted(by_code) == ["AB12", "F-0231"]
        f = by_code["F-0231"]
        assert f.consented and f.consent is not None and f.consent.given_on == "2026-10-01"
        assert f.consent.supervisor and not f.consent.training
        assert [c.n for c in f.cycles] == [1, 2] and f.question == "Who leads?"
        assert not by_code["AB12"].consented
        rows = {r.id: r for r in kit.library.index.all()}
        assert (rows[films["a1"]].case_id, rows[films["a1"]].cycle) == (f.id, 1)
        assert (rows[films["a2"]].case_id, rows[films["a2"]].cycle) == (f.id, 2)
        assert rows[films["b1"]].case_id == by_code["AB12"].id
        assert rows[films["none"]].held and rows[films["none"]].case_id is None
        after = {p.name: p.read_bytes() for p in kit.library.data.recordings.iterdir()}
        assert after == before  # nothing lost, nothing rewritten
        events = [r.event for r in kit.library.audit.rows()]
        assert events.count("cases upgrade") == 1
    finally:
        app.close()
