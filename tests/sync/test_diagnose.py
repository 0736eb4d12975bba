"""rclone's words become one plain cause, whatever the backend said it in."""

from __future__ import annotations

import pytest

from device.errors import RemoteAuthError, RemoteFull, RemoteUnreachable, SyncError
from device.sync.diagnose import diagnose


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        ('NewFs: couldn\'t connect SSH: ssh: handshake failed: ssh: unable to authenticate, '
         'attempted methods [none password], no supported methods remain', RemoteAuthError),
        ("read metadata failed: Unauthorized: 401 Unauthorized", RemoteAuthError),
        ("InvalidAccessKeyId: The AWS Access Key Id you provided does not exist", RemoteAuthError),
        ('STATUS_LOGON_FAILURE', RemoteAuthError),
        ('Update Close failed: sftp: "write /srv/a: no space left on device" (SSH_FX_FAILURE)',
         RemoteFull),
        ("Insufficient Storage: 507 Insufficient Storage", RemoteFull),
        ("quotaLimitReached: Insufficient Space Available", RemoteFull),
        ("dial tcp 127.0.0.1:2240: connect: connection refused", RemoteUnreachable),
        ("Update ReadFrom failed: connection lost", RemoteUnreachable),
        ("dial tcp: lookup nas.example.org: no such host", RemoteUnreachable),
        ("dial tcp 10.0.0.5:22: i/o timeout", RemoteUnreachable),
        ("Method Not Allowed: 405 Method Not Allowed", SyncError),
    ],
)  # fmt: skip
def test_causes(line: str, cause: type[SyncError]) -> None:
    error = diagnose([line], "send")
    assert type(error) is cause
    assert error.hint


def test_a_vague_error_with_no_room_left_is_a_full_disk() -> None:
    vague = ["Failed to copy: Method Not Allowed: 405 Method Not Allowed"]
    assert type(diagnose(vague, "send", short_of_space=True)) is RemoteFull
    other = diagnose(vague, "send")
    assert other.message == "sync could not send the files: " + vague[0]
