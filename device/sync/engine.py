"""One sync run: send what the office does not have yet, prove it arrived, then tidy.

Order matters, so an interruption at any point leaves an honest state:
1. hash every file to send (cached) and note which are already verified remotely;
2. ``rclone copy`` the rest (rclone skips files already there at the same size, so a
   re-run after a kill or a dropped connection sends only what is missing or cut short;
   one that is the right size but wrong is caught by step 3);
3. check every sent file on the remote (hash, or read back when the remote has none);
   only a file whose remote copy matches, and which did not change meanwhile, is marked
   verified. A mismatch is sent once more with ``--ignore-times`` and checked again;
4. then each recording's manifest, the kit's audit file and its erase requests and
   erase-by dates (``erasures.json``, :mod:`device.sync.erasures`), sent and checked the
   same way; only now is the recording "synced" and an erase request "sent";
   each case's encrypted file (``cases/<id>.age``) goes before them, sent and checked
   like a film's files, and ``cases.json`` (:mod:`device.sync.casefiles`) with them;
5. retention, if given, under the same lock.
The web page can run this in-process (``Syncer.run(progress=…)``) and show
:func:`device.sync.state.read_status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device.cases import Registry as CaseRegistry
from device.cases import mark_sent
from device.errors import SyncError, VerificationFailed
from device.library import Library, RecordingRow, atomic_write
from device.library.signing import ensure_signing_key
from device.sync import casefiles
from device.sync import state as st
from device.sync.diagnose import diagnose
from device.sync.erasures import ERASURES_NAME, from_index
from device.sync.manifest import AUDIT_NAME, Entry, Manifest, audit_json, manifest_name
from device.sync.outbox import OutFile, collect, held, not_listed, out_file, to_send, unchanged
from device.sync.rclone import Rclone, Transfer
from device.sync.retention import Erased, Retention


@dataclass(frozen=True)
class Progress:
    phase: str  # "looking", "sending", "verifying", "manifests", "tidying", "done"
    done: int  # bytes while sending, else files
    total: int
    current: str = ""


@dataclass
class SyncResult:
    sent: list[str] = field(default_factory=list)  # files verified on the remote this run
    manifests: list[str] = field(default_factory=list)  # manifests and audit file, likewise
    already: int = 0  # files that were verified before this run
    synced: list[str] = field(default_factory=list)  # recordings now wholly at the office
    erased: list[Erased] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # films damaged on the card: not sent
    resumed_after: str | None = None  # start of an earlier run that never finished
    not_listed: list[str] = field(default_factory=list)  # films on the card the index lacks
    held: list[str] = field(default_factory=list)  # Unassigned films, kept on the kit
    unsent: list[str] = field(default_factory=list)  # files still not verified at the office


log = logging.getLogger(__name__)

AUDIT_OWNER = "-"  # the audit and erasures files' "recording" in the index's sync_files
META_ERASURES = "erasures_sent"  # the erasures file the office last verifiably got
META_CASES = "cases_sent"  # likewise, cases.json


def remote_folder(remote: str, kit_id: str) -> str:
    """``remote:path`` + the kit's folder; ``office:`` alone means the remote's root."""
    if remote.endswith(":"):
        return remote + kit_id
    return f"{remote.rstrip('/')}/{kit_id}"


class Syncer:
    def __init__(
        self,
        *,
        library: Library,
        remote: str,
        rclone: Rclone,
        clock: st.Clock = st.utc_now,
        retention: Retention | None = None,
        lock_wait_s: float = 30.0,
    ) -> None:
        self._library = library
        self._remote = remote
        self._rclone = rclone
        self._clock = clock
        self._retention = retention
        self._lock_wait_s = lock_wait_s
        self._outbox = library.data.root / "outbox"  # manifests: plain, no personal data

    def run(self, progress: Callable[[Progress], None] | None = None) -> SyncResult:
        tell = progress or (lambda p: None)
        index = self._library.index
        with st.SyncLock(self._library.data.root) as lock:
            lock.acquire(self._lock_wait_s)
            result = SyncResult(resumed_after=st.set_running(index, self._clock))
            try:
                self._sync(result, tell)
            except SyncError as e:
                self._finish(result, e.message)
                raise
            except BaseException:
                self._finish(result, "the sync stopped part-way")
                raise
            self._finish(result, "")
            if self._retention is not None:
                tell(Progress("tidying", 0, 0))
                result.erased = self._retention.run_locked()
        tell(Progress("done", len(result.sent), len(result.sent)))
        return result

    def _finish(self, result: SyncResult, error: str) -> None:
        index = self._library.index
        for row in index.all():
            if row.sync_state == st.SyncState.SENDING:
                index.update(row.id, sync_state=st.SyncState.FAILED)
        st.set_finished(index, self._clock, error)
        if result.sent:
            self._library.audit.append(
                "sync", files=len(result.sent), recordings=len(result.synced), ok=not error
            )

    def _sync(self, result: SyncResult, tell: Callable[[Progress], None]) -> None:
        index = self._library.index
        tell(Progress("looking", 0, 0))
        dest = remote_folder(self._remote, index.kit_id())
        rows = {row.id: row for row in to_send(index)}
        files = {rec_id: collect(self._library.data, index, row) for rec_id, row in rows.items()}
        for rec_id in [r for r, fs in files.items() if any(f.damaged for f in fs)]:
            self._hold_damaged(rows[rec_id], files.pop(rec_id))
            result.damaged.append(rec_id)
        pending = [f for fs in files.values() for f in fs if not f.verified]
        result.already = sum(1 for fs in files.values() for f in fs if f.verified)
        hashes = self._rclone.hashes(dest)  # also proves the remote answers
        if pending:
            for rec_id in {f.recording for f in pending}:
                index.update(rec_id, sync_state=st.SyncState.SENDING)
            self._transfer(self._library.data.recordings, dest, pending, hashes, result.sent, tell)
        done = [
            rec_id
            for rec_id, fs in files.items()
            if fs and all(f.verified or f.name in result.sent for f in fs)
        ]
        case_files = self._send_cases(dest, hashes, result, tell)
        self._send_manifests(dest, done, files, hashes, result, tell, case_files)
        result.unsent = [
            f.name
            for fs in files.values()
            for f in fs
            if not f.verified and f.name not in result.sent
        ]
        result.not_listed = not_listed(self._library.data, index)
        result.held = held(index)

    def _hold_damaged(self, row: RecordingRow, files: list[OutFile]) -> None:
        """A film that no longer hashes as recorded is not sent as good: the kit's page
        says so and, once unlocked, keeps every intact second in a repaired copy (which
        the next sync sends); the damaged original is kept. Said once per finding."""
        film = next(f for f in files if f.damaged)
        if row.sync_state == st.SyncState.DAMAGED:
            return
        self._library.index.update(row.id, sync_state=st.SyncState.DAMAGED)
        log.warning("%s was damaged on the card after recording: not sent", film.name)
        self._library.audit.append(
            "film damaged on the card",
            row.id,
            file=film.name,
            recorded_sha256=row.sha256,
            found_sha256=film.sha256,
            decision="not sent; repaired on the kit once unlocked",
        )

    def _transfer(
        self,
        source: Path,
        dest: str,
        files: Sequence[OutFile],
        hashes: list[str],
        verified: list[str],
        tell: Callable[[Progress], None],
    ) -> None:
        """Copy ``files``, check each on the remote, send mismatches once more regardless of
        size and time (a remote without modification times, such as plain WebDAV, takes an
        edited file of the same size for the old one), then say why anything is left."""

        def moving(t: Transfer) -> None:
            tell(Progress("sending", t.done, t.total, t.current))

        copied = self._rclone.copy(source, dest, [f.name for f in files], progress=moving)
        left = self._verify(source, dest, files, hashes, verified, tell)
        if copied.returncode == 0 and left:
            again = self._rclone.copy(
                source, dest, [f.name for f in left], again=True, progress=moving
            )
            left = self._verify(source, dest, left, hashes, verified, tell)
            copied = again if again.returncode != 0 else copied
        if copied.returncode != 0:
            free = self._rclone.free_bytes(dest)
            short = free is not None and free < sum(f.size for f in left)
            raise diagnose(copied.errors, "send", short_of_space=short)
        if left:
            raise VerificationFailed(
                f"{len(left)} file(s) did not arrive intact: {', '.join(f.name for f in left)}"
            )

    def _verify(
        self,
        source: Path,
        dest: str,
        files: Sequence[OutFile],
        hashes: list[str],
        verified: list[str],
        tell: Callable[[Progress], None],
    ) -> list[OutFile]:
        """Mark verified what matches remotely; return what does not. A file that changed
        on the kit meanwhile (notes saved during the sync) is neither: the next run sends it."""
        tell(Progress("verifying", 0, len(files)))
        check = self._rclone.check(source, dest, [f.name for f in files], download=not hashes)
        at = st.stamp(self._clock)
        left = []
        for f in files:
            if not unchanged(f):
                continue
            if f.name in check.same:
                st.save_verified(self._library.index, f.recording, f.name, f.sha256, at)
                verified.append(f.name)
            else:
                left.append(f)
        tell(Progress("verifying", len(files) - len(left), len(files)))
        return left

    def _send_cases(
        self, dest: str, hashes: list[str], result: SyncResult, tell: Callable[[Progress], None]
    ) -> list[OutFile]:
        """Send each case's file that changed since the office last had it; the case
        files now verified at the office."""
        index = self._library.index
        folder = self._library.data.root / casefiles.CASES_DIR
        found = (out_file(index, c, folder / f"{c}.age") for c in casefiles.to_send(index))
        files = [f for f in found if f is not None]
        pending = [f for f in files if not f.verified]
        if pending:
            remote = f"{dest}/{casefiles.CASES_DIR}"
            self._transfer(folder, remote, pending, hashes, result.sent, tell)
        return [f for f in files if f.verified or f.name in result.sent]

    def _send_manifests(
        self,
        dest: str,
        done: list[str],
        files: dict[str, list[OutFile]],
        hashes: list[str],
        result: SyncResult,
        tell: Callable[[Progress], None],
        case_files: list[OutFile],
    ) -> None:
        index = self._library.index
        self._outbox.mkdir(mode=0o700, exist_ok=True)
        audit_seq = int(index.meta(st.META_AUDIT_SEQ) or 0)
        rows = self._library.audit.rows()
        since = tuple(r for r in rows if r.seq > audit_seq)
        kit = index.kit_id()
        key = ensure_signing_key(self._library.data)  # a kit from before signing: made now
        written: list[tuple[str, Path]] = []
        keys: dict[str, str] = {}
        for rec_id in done:
            row = index.get(rec_id)
            entries = tuple(Entry(f.name, f.size, f.sha256) for f in files[rec_id])
            manifest = Manifest(
                kit, rec_id, str(row.state), row.duration_s, entries, since, st.stamp(self._clock)
            )
            keys[rec_id] = manifest.body_key()
            if (
                row.sync_state == st.SyncState.SYNCED
                and index.meta(f"manifest:{rec_id}") == keys[rec_id]
            ):
                continue
            path = self._outbox / manifest_name(rec_id)
            atomic_write(path, manifest.to_json(key))
            written.append((rec_id, path))
        if since:
            path = self._outbox / AUDIT_NAME
            atomic_write(path, audit_json(kit, rows, key))
            written.append((AUDIT_OWNER, path))
        erasures = self._erasures(written, key)
        cases = self._cases(written, case_files, key)
        if not written:
            return
        tell(Progress("manifests", 0, len(written)))
        outs = [f for rec_id, path in written if (f := out_file(index, rec_id, path)) is not None]
        self._transfer(self._outbox, dest, outs, hashes, result.manifests, tell)
        for rec_id, _path in written:
            if rec_id != AUDIT_OWNER:
                index.set_meta(f"manifest:{rec_id}", keys[rec_id])
                index.update(
                    rec_id, sync_state=st.SyncState.SYNCED, synced_at=st.stamp(self._clock)
                )
                result.synced.append(rec_id)
        if since:
            index.set_meta(st.META_AUDIT_SEQ, str(rows[-1].seq))
        if erasures is not None:
            index.set_meta(META_ERASURES, erasures[0])
            mark_sent(CaseRegistry(index), erasures[1])
        if cases is not None:
            index.set_meta(META_CASES, cases)

    def _erasures(
        self, written: list[tuple[str, Path]], key: Ed25519PrivateKey
    ) -> tuple[str, list[int]] | None:
        """Write ``erasures.json`` to send when it differs from what the office has; its
        body (to note once verified) and the requests it carries for the first time."""
        erasures, unsent = from_index(self._library.index)
        if erasures.empty:
            return None
        body = self._plain(written, ERASURES_NAME, META_ERASURES, erasures.to_json(key).decode())
        return None if body is None else (body, unsent)

    def _cases(
        self, written: list[tuple[str, Path]], case_files: list[OutFile], key: Ed25519PrivateKey
    ) -> str | None:
        """``cases.json``, signed, to send when it changed (a kit with no case yet sends
        none; one that sent it unsigned before signing sends it again, signed)."""
        index = self._library.index
        if not case_files and not index.meta(META_CASES):
            return None
        listed = [(f.recording, f.size, f.sha256) for f in case_files]
        body = casefiles.listing(index, listed, key)
        return self._plain(written, casefiles.CASES_NAME, META_CASES, body)

    def _plain(
        self, written: list[tuple[str, Path]], name: str, meta: str, body: str
    ) -> str | None:
        """Write the plain file ``name`` to send when it differs from what the office
        has (``meta``); its body, to note once verified."""
        if self._library.index.meta(meta) == body:
            return None
        path = self._outbox / name
        atomic_write(path, body.encode())
        written.append((AUDIT_OWNER, path))
        return body
