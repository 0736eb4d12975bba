"""The recorder's state machine with the synthetic sources, in process: faults that happen
in a living room (a stalled camera, a microphone pulled out) and the shared state."""

from __future__ import annotations

import time

import pytest

from device import age
from device.app import Kit
from device.errors import RecordingError
from device.hardware.synthetic import SyntheticCamera, SyntheticMicrophone
from device.library import State
from device.recorder import RecorderState
from tests.mediacheck import stream_duration
from tests.recording.conftest import wait_for


def _decrypt(kit: Kit, rec_id: str, office: age.X25519Identity) -> bytes:
    return age.decrypt_bytes(kit.library.data.film(rec_id).read_bytes(), [office])


def test_toggle_records_and_the_state_is_shared(kit: Kit, office: age.X25519Identity) -> None:
    seen: list[RecorderState] = []
    kit.recorder.subscribe(lambda s: seen.append(s.state))
    kit.recorder.toggle()
    rec_id = kit.recorder.status.recording_id
    assert rec_id and kit.recorder.status.state == RecorderState.RECORDING
    with pytest.raises(RecordingError, match="already running"):
        kit.recorder.start()
    time.sleep(2.2)
    kit.recorder.add_marker()
    kit.recorder.toggle()
    assert kit.recorder.wait(30)
    assert seen == [RecorderState.RECORDING, RecorderState.FINALIZING, RecorderState.IDLE]
    row = kit.library.index.get(rec_id)
    assert row.state == State.COMPLETE and 2.0 <= row.duration_s <= 3.5
    assert [r.event for r in kit.library.audit.rows()] == ["record start", "record stop"]
    markers = age.decrypt_bytes(kit.library.data.derived(rec_id, "markers").read_bytes(), [office])
    assert 1.5 <= float(markers.strip(b"[]")) <= 3.0


def test_a_stalled_camera_is_restarted_and_the_film_goes_on(
    kit: Kit, office: age.X25519Identity
) -> None:
    camera = kit.camera
    assert isinstance(camera, SyntheticCamera)
    rec_id = kit.recorder.start()
    time.sleep(1.5)
    camera.trigger_fake_failure()  # no more frames until the camera is reopened
    wait_for(
        lambda: (
            kit.library.index.get(rec_id).camera_restarts == 0
            and any(r.event == "camera restarted" for r in kit.library.audit.rows())
        )
    )
    time.sleep(1.5)
    kit.recorder.stop()
    row = kit.library.index.get(rec_id)
    assert row.state == State.COMPLETE and row.camera_restarts == 1
    mp4 = _decrypt(kit, rec_id, office)
    assert stream_duration(mp4) >= 3.5  # before, the silent gap, and after the restart


def test_an_unplugged_microphone_leaves_a_picture_only_tail(
    kit: Kit, office: age.X25519Identity
) -> None:
    mic = kit.microphone
    assert isinstance(mic, SyntheticMicrophone)
    rec_id = kit.recorder.start()
    time.sleep(1.5)
    mic.trigger_fake_unplug()
    time.sleep(3)
    kit.recorder.stop()
    row = kit.library.index.get(rec_id)
    assert row.state == State.COMPLETE and row.mic_lost
    assert any(r.event == "microphone lost" for r in kit.library.audit.rows())
    mp4 = _decrypt(kit, rec_id, office)
    assert stream_duration(mp4, "v") >= 4.0
    assert stream_duration(mp4, "a") <= 2.5
