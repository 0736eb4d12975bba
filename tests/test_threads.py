"""The one background-thread helper: stops when asked, says so when a thread will not."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from device.threads import BackgroundThread, OnDemandWorker


def test_stop_sets_the_event_and_joins() -> None:
    seen: list[str] = []
    thread = BackgroundThread(lambda: seen.append("ran"), name="quick")
    waiting = BackgroundThread(lambda: waiting.stopping.wait(), name="waiting")
    thread.start()
    assert thread.join_within(5)
    waiting.start()
    assert waiting.daemon and waiting.is_alive()
    assert waiting.stop(5)
    assert not waiting.is_alive() and seen == ["ran"]


def test_a_thread_that_will_not_stop_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = threading.Event()
    stubborn = BackgroundThread(release.wait, name="stubborn", join_s=0.05)
    stubborn.start()
    with caplog.at_level(logging.WARNING, logger="device.threads"):
        assert not stubborn.stop()
    assert "the stubborn thread did not stop within 0.1 s" in caplog.text
    release.set()
    assert stubborn.join_within(5)


def test_a_given_event_is_the_threads_stopping_event() -> None:
    stop = threading.Event()
    thread = BackgroundThread(stop.wait, name="loop", stopping=stop)
    thread.start()
    assert thread.stop(5) and stop.is_set()


def test_joining_from_the_thread_itself_or_before_start_does_not_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[bool] = []
    holder: list[BackgroundThread] = []
    thread = BackgroundThread(lambda: answers.append(holder[0].stop()), name="self-stop")
    holder.append(thread)
    assert BackgroundThread(lambda: None, name="never started").join_within(0)
    with caplog.at_level(logging.WARNING, logger="device.threads"):
        thread.start()
        assert thread.join_within(5)
    assert answers == [False] and thread.stopping.is_set()
    assert "did not stop" not in caplog.text


def test_an_on_demand_worker_runs_per_kick_and_survives_a_failing_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    done = threading.Event()

    def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the library closed under it")
        done.set()

    worker = OnDemandWorker(work, name="vigkit-test-worker", join_s=5)
    assert not worker.closed
    worker.kick()  # the thread starts here, not before
    deadline = time.monotonic() + 5
    while not rounds and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.kick()  # the failed round did not end the thread
    assert done.wait(5)
    worker.close()
    assert worker.closed
    worker.kick()  # a closed worker starts nothing
    assert len(rounds) == 2
    assert "the vigkit-test-worker thread stopped a round" in caplog.text
    assert not [t for t in threading.enumerate() if t.name == "vigkit-test-worker"]
