"""The suite's own end-of-run checks find what they are there to find."""

from __future__ import annotations

import threading

from tests.conftest import leaked_threads


def test_a_kit_thread_left_running_is_found() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="synthetic-mic", daemon=True)
    thread.start()
    try:
        assert leaked_threads(grace_s=0.1) == ["synthetic-mic"]
    finally:
        stop.set()
        thread.join()
    assert leaked_threads(grace_s=0.1) == []
