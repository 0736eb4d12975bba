"""rclone's error lines turned into one plain cause: unreachable, wrong credentials, full,
or (when nothing matches) rclone's own last words, shortened.

The patterns come from what real backends say: SSH and TCP errors for SFTP, HTTP status
lines for WebDAV/S3/OneDrive, and the operating system's words for a folder or USB drive.
"""

from __future__ import annotations

import re

from device.errors import RemoteAuthError, RemoteFull, RemoteUnreachable, SyncError

_AUTH = re.compile(
    r"unable to authenticate|permission denied \(publickey|401 unauthorized|"
    r"\b403 forbidden|invalid credentials|authentication failed|access ?denied|"
    r"signaturedoesnotmatch|invalidaccesskeyid|login incorrect|logon failure|"
    r"status_logon_failure|invalid_grant|token.*expired",
    re.I,
)
_FULL = re.compile(
    r"no space left|disk full|insufficient storage|\b507\b|quota|storage.*full|"
    r"not enough space|entitytoolarge|sstoragequota",
    re.I,
)
_UNREACHABLE = re.compile(
    r"connection refused|no route to host|network is unreachable|no such host|"
    r"i/o timeout|timed out|connection reset|broken pipe|unexpected eof|\beof\b|"
    r"server misbehaving|host is down|connection lost|use of closed network connection|"
    r"couldn't connect|failed to dial|handshake failed|tls: ",
    re.I,
)


def diagnose(errors: list[str], doing: str, *, short_of_space: bool = False) -> SyncError:
    """The error that names the cause of ``errors`` (rclone's lines) while ``doing``;
    ``short_of_space``: the remote says it has less room than the files left to send
    (some servers answer a full disk with a vague error)."""
    text = "\n".join(errors)
    if _AUTH.search(text):
        return RemoteAuthError("the office server refused the kit's user name or password")
    if _FULL.search(text) or short_of_space:
        return RemoteFull("the office storage is full")
    if _UNREACHABLE.search(text):
        return RemoteUnreachable("the office server cannot be reached")
    last = _short(errors[-1]) if errors else "rclone gave no reason"
    return SyncError(f"sync could not {doing} the files: {last}")


def _short(line: str, limit: int = 200) -> str:
    line = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\s+", "", line.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"
