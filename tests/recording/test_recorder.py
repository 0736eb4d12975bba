"""The recorder's state machine with the synthetic sources, in process: faults that happen
in a living room (a stalled camera, a microphone pulled out) and the shared state."""

from __future__ import annotations

import math
import time

import pytest

from device import age
from device.errors import RecordingError
from device.hardware.synthetic import SyntheticCamera, SyntheticMicrophone
from device.kit.assembly import Kit
from device.library import State
from device.recording.recorder import RecorderState
from tests.mediacheck import ffprobe, stream_duration
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


# --- the microphone between recordings, and sound that breaks up -------------------------


def _level(kit: Kit) -> float:
    level = kit.recorder.audio_level_dbfs()
    assert level is not None
    return level


def test_the_meter_is_live_before_and_between_recordings(kit: Kit) -> None:
    wait_for(lambda: _level(kit) > -31)  # before any recording: the mic is listening
    assert _level(kit) == pytest.approx(-30, abs=0.5)
    assert kit.recorder.status.warning is None
    rec_id = kit.recorder.start()
    time.sleep(1.5)
    kit.recorder.stop()
    assert kit.library.index.get(rec_id).state == State.COMPLETE
    mic = kit.microphone
    assert isinstance(mic, SyntheticMicrophone)
    blocks = mic.blocks_delivered
    time.sleep(0.3)
    assert mic.blocks_delivered == blocks  # listening again, delivering nothing
    assert _level(kit) == pytest.approx(-30, abs=0.5)


def test_a_microphone_gone_while_idle_warns_and_the_film_has_picture_only(
    kit: Kit, office: age.X25519Identity
) -> None:
    mic = kit.microphone
    assert isinstance(mic, SyntheticMicrophone)
    wait_for(lambda: _level(kit) > -31)
    mic.trigger_fake_unplug(permanent=True)
    wait_for(lambda: "microphone is not working" in (kit.recorder.status.warning or ""))
    assert _level(kit) == -math.inf
    rec_id = kit.recorder.start()  # the kit tries the mic again, and records regardless
    time.sleep(1.5)
    kit.recorder.stop()
    assert not kit.library.index.get(rec_id).has_audio
    mp4 = _decrypt(kit, rec_id, office)
    assert [s["codec_type"] for s in ffprobe(mp4)["streams"]] == ["video"]
    assert "microphone is not working" in (kit.recorder.status.warning or "")
    mic.trigger_fake_replug()
    rec_id = kit.recorder.start()  # plugged back in: sound again, and no warning
    assert kit.recorder.status.warning is None
    time.sleep(1.5)
    kit.recorder.stop()
    assert kit.library.index.get(rec_id).has_audio
    assert stream_duration(_decrypt(kit, rec_id, office), "a") >= 1.0


def test_overflows_that_keep_coming_flag_the_sound_as_having_gaps(
    kit: Kit, office: age.X25519Identity
) -> None:
    mic = kit.microphone
    assert isinstance(mic, SyntheticMicrophone)
    rec_id = kit.recorder.start()
    time.sleep(0.5)
    mic.trigger_fake_overflow(1)  # one glitch: noted, not yet a problem
    wait_for(lambda: any(r.event == "microphone overflowed" for r in kit.library.audit.rows()))
    assert kit.recorder.status.warning is None
    for _ in range(3):  # then every second: the kit cannot keep up
        mic.trigger_fake_overflow(5)
        time.sleep(1.2)
    wait_for(lambda: "sound is breaking up" in (kit.recorder.status.warning or ""))
    kit.recorder.stop()
    rows = {r.event: r for r in kit.library.audit.rows()}
    assert rows["sound has gaps"].detail["overflows"] >= 3
    stop = rows["record stop"].detail
    assert stop["audio_overflows"] == 16 and stop["sound_gaps"] is True
    assert "last recording's sound has gaps" in (kit.recorder.status.warning or "")
    # the lost sound is silence in the film: picture and sound still run side by side
    mp4 = _decrypt(kit, rec_id, office)
    assert stream_duration(mp4, "a") == pytest.approx(stream_duration(mp4, "v"), abs=0.2)
    kit.recorder.start()  # a new recording starts with a clean slate
    assert kit.recorder.status.warning is None
    kit.recorder.stop()


def test_a_single_overflow_is_only_noted(kit: Kit) -> None:
    mic = kit.microphone
    assert isinstance(mic, SyntheticMicrophone)
    kit.recorder.start()
    time.sleep(0.5)
    mic.trigger_fake_overflow(2)
    time.sleep(1.5)
    kit.recorder.stop()
    events = [r.event for r in kit.library.audit.rows()]
    assert "microphone overflowed" in events and "sound has gaps" not in events
    stop = kit.library.audit.rows()[-1].detail
    assert stop["audio_overflows"] == 2 and stop["sound_gaps"] is False
    assert kit.recorder.status.warning is None
