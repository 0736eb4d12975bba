"""Retention on the kit: remove a recording's ciphertext once the office copy is proven.

- A film synced and verified is removed ``retention_days`` after its last verification,
  or as soon as its shared review is marked done.
- Never before verification: every file of the recording must be hashed again now and
  match a hash verified on the remote; a file changed since (notes edited) keeps it all.
- The consent's erase-by date removes a film verified at the office on that day. A film
  not verified by then waits for the practitioner's confirmation on the Sync section of
  the Settings page ("Erase now", :meth:`Retention.erase_confirmed`): the promise to the
  family stands, but a wrong clock must not make it (issue #15, finding 9).
- Nothing at all is removed on a clock that is not trustworthy this boot
  (:mod:`device.sync.clock_trust`): not set from a phone or NTP, earlier than the kit has
  seen, or jumped ahead by more than ``clock_jump_days`` without a confirmation.
- Every decision is in the audit log with its reason: each erasure, a pass held by the
  clock, a film waiting for confirmation (the last two once until the reason changes).
- What is removed is the recording's ciphertext files (and its plain manifest copy); the
  index row stays, in state "erased", with ids and times only. An SD card cannot promise
  the blocks are physically gone (wear levelling); without a key they are unreadable.

Time comes from an injectable clock; tests drive it with a fake one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from device.library import Library, RecordingRow, State, fsync_dir, sha256_file
from device.library.damaged import damaged_files
from device.sync import state as st
from device.sync.clock_trust import ClockTrust, Trust
from device.sync.manifest import manifest_name
from device.sync.outbox import recording_paths

HOLD_EVENTS = ("retention held", "erase waits")
WAITS = "waiting for your confirmation"


@dataclass(frozen=True)
class Erased:
    recording: str
    reason: str
    files: int


@dataclass(frozen=True)
class Decision:
    """What retention does with one recording now: "erase", "keep" or "confirm" (an
    unverified film past its erase-by date, erased only once the page confirms)."""

    action: str
    reason: str = ""


class Retention:
    def __init__(
        self,
        *,
        library: Library,
        retention_days: float,
        trust: ClockTrust,
        clock: st.Clock = st.utc_now,
    ) -> None:
        self._library = library
        self._grace = timedelta(days=retention_days)
        self._clock = clock
        self.trust = trust

    def run(self, lock_wait_s: float = 30.0) -> list[Erased]:
        """On its own: takes the sync lock, so it never runs beside a sync."""
        with st.SyncLock(self._library.data.root) as lock:
            lock.acquire(lock_wait_s)
            return self.run_locked()

    def run_locked(self) -> list[Erased]:
        """For a caller already holding the sync lock (the sync itself)."""
        self._library.remove_stale_temps()  # killed exports, stills, thumbnails
        now = self._clock()
        trust = self.trust.check(now)
        logged = self._logged_holds()
        if not trust.ok:
            self._log_hold(logged, "retention held", "", trust.reason)
            return []
        self.trust.see(now)
        erased = []
        for row in self._library.index.all():
            decision = self.decide(row, trust)
            if decision.action == "erase":
                erased.append(self._erase(row, decision.reason))
            elif decision.action == "confirm":
                self._log_hold(logged, "erase waits", row.id, decision.reason)
        return erased

    def waiting(self) -> list[tuple[RecordingRow, str]]:
        """The films past their erase-by date waiting for the page's confirmation."""
        trust = self.trust.check(self._clock())
        rows = self._library.index.all()
        return [(r, d.reason) for r in rows if (d := self.decide(r, trust)).action == "confirm"]

    def clock_trust(self) -> Trust:
        return self.trust.check(self._clock())

    def erase_confirmed(self, recording: str, lock_wait_s: float = 30.0) -> Erased | None:
        """The page's "Erase now": erase one film waiting for confirmation (None if it
        is no longer waiting: synced since, already erased, or the clock went wrong)."""
        with st.SyncLock(self._library.data.root) as lock:
            lock.acquire(lock_wait_s)
            row = self._library.index.get(recording)
            decision = self.decide(row, self.trust.check(self._clock()))
            if decision.action != "confirm":
                return None
            return self._erase(row, f"{decision.reason}; erased on the practitioner's confirmation")

    def decide(self, row: RecordingRow, trust: Trust) -> Decision:
        """What to do with ``row`` now, on a clock judged ``trust``."""
        if row.state in (State.RECORDING, State.DELETED) or not trust.ok:
            # a file being written, erased now (gone already), or a clock not to be believed
            return Decision("keep")
        reason = self.reason(row)
        if reason is not None:
            return Decision("erase", reason)
        if self._past_erase_by(row) and row.state != State.ERASED:
            return Decision(
                "confirm",
                f"consent erase-by date {row.erase_by}; not verified at the office, {WAITS}",
            )
        return Decision("keep")

    def reason(self, row: RecordingRow) -> str | None:
        """Why this recording should go now, or None to keep it (the clock trusted)."""
        now = self._clock()
        if row.state == State.ERASED and not recording_paths(self._library.data, row.id):
            return None
        if self._past_erase_by(row) and row.state != State.ERASED and self._all_verified(row):
            return f"consent erase-by date {row.erase_by}"
        if row.state == State.ERASED:  # finish an erasure a power cut interrupted
            done = self._all_verified(row) or self._erase_logged(row.id)
            return "finishing an earlier erasure" if done else None
        if row.sync_state != st.SyncState.SYNCED or not row.synced_at:
            return None
        if row.review_done:
            why = "synced and verified; shared review done"
        elif now - datetime.fromisoformat(row.synced_at) >= self._grace:
            why = (
                f"synced and verified {(now - datetime.fromisoformat(row.synced_at)).days} days ago"
            )
        else:
            return None
        return why if self._all_verified(row) else None

    def _past_erase_by(self, row: RecordingRow) -> bool:
        if not row.erase_by:
            return False
        return self._clock().date() >= date.fromisoformat(row.erase_by)

    def _erase_logged(self, recording: str) -> bool:
        """A decided erasure (a confirmed one included) a power cut left unfinished."""
        return any(
            r.event == "erase" and r.recording == recording for r in self._library.audit.rows()
        )

    def _logged_holds(self) -> dict[tuple[str, str], str]:
        """The last reason logged for each hold (event, recording), to log changes only."""
        rows = self._library.audit.rows()
        return {
            (r.event, r.recording): r.detail.get("reason", "")
            for r in rows
            if r.event in HOLD_EVENTS
        }

    def _log_hold(
        self, logged: dict[tuple[str, str], str], event: str, recording: str, reason: str
    ) -> None:
        if logged.get((event, recording)) != reason:
            self._library.audit.append(event, recording, reason=reason)

    def _all_verified(self, row: RecordingRow) -> bool:
        """Every file there is now was verified remotely with exactly this content."""
        paths = recording_paths(self._library.data, row.id)
        for path in paths:
            known = st.file_record(self._library.index, row.id, path.name)
            if known is None or known.verified_at is None:
                return False
            try:
                if sha256_file(path) != known.sha256:
                    return False
            except FileNotFoundError:
                continue
        return True

    def _erase(self, row: RecordingRow, reason: str) -> Erased:
        library = self._library
        # the row says "erased" before any file goes: a power cut part-way leaves the rest
        # to the next pass, and sync never sends a half-erased recording's manifest again
        paths = recording_paths(library.data, row.id)
        library.audit.append("erase", row.id, reason=reason, files=len(paths))
        if row.state != State.ERASED:
            library.index.update(row.id, state=State.ERASED, erased_at=st.stamp(self._clock))
        for path in paths:
            path.unlink(missing_ok=True)
        for path in damaged_files(library.data, row.id):  # kept as long as the film, no longer
            path.unlink(missing_ok=True)
        (library.data.root / "outbox" / manifest_name(row.id)).unlink(missing_ok=True)
        fsync_dir(library.data.recordings)
        return Erased(row.id, reason, len(paths))
