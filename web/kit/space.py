"""Settings → Space: the films that are safe at the office, which can be erased now to
make room on the card (a full card's sentence sends the practitioner here).

Only films whose every file was verified on the office's storage are listed; each links
to the film's own "Erase now" confirmation, so nothing here erases by itself.
"""

from __future__ import annotations

from device.errors import VigKitError
from device.kit.wall_clock import ClockBook, start_time
from device.library import Library, State
from device.sync import SyncState
from web.common.display import clock_text


def safe_at_office(library: Library) -> list[dict[str, str]]:
    """Each synced film still on the card: id, when, length and size, newest first."""
    try:
        corrections = ClockBook(library.data).load()
    except VigKitError:
        corrections = []
    films = []
    for row in library.index.all():
        if row.sync_state != SyncState.SYNCED or row.state == State.DELETED:
            continue
        try:
            when = start_time(row, corrections).astimezone().strftime("%-d %b %Y, %H:%M")
        except VigKitError:
            when = row.started_at
        films.append(
            {
                "id": row.id,
                "when": when,
                "length": clock_text(row.duration_s),
                "size": f"{row.size / 1e6:.0f} MB",
            }
        )
    return films
