"""Findings 5 and 6 of issue #17, replayed: a stranger on the hotspot guesses the
passphrase over and over, or holds 200 idle connections, while the practitioner unlocks.

Before: one back-off for the whole kit (the right passphrase got "Please wait 60
seconds" for as long as the stranger guessed), and waitress's 100 connections, each idle
one kept 120 s. Now the back-off is the stranger's alone, and the page takes 512
connections, 32 an address, idle ones closed after 15 s. Run with ``-s`` for the figures.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from tests.security.live_kit import (
    PRACTITIONER,
    STRANGER,
    WORK_FACTOR,
    Phone,
    idle_connection,
    served_kit,
    timed_unlock,
)
from tests.web.web_helpers import wait_until
from web.common.backoff import Backoff, TooManyTries, client_keys
from web.common.limits import LIMITS, ConnectionLimits

UNLOCK_BUDGET_S = 10.0  # a few scrypt times on a loaded CI machine; the old failure is 429


def _guess(base: str, answers: Counter[int], stop: threading.Event, fresh: bool) -> None:
    """The stranger: wrong passphrases as fast as the page answers; ``fresh``: with a
    new session (no cookie) each time, as a script would."""
    phone = Phone(base, STRANGER)
    while not stop.is_set():
        if fresh:
            phone = Phone(base, STRANGER)
        phone.page("/unlock")
        status, _, _ = phone.request(
            "/unlock", {"passphrase": "Summer2024!!", "csrf_token": phone.token}
        )
        answers[status] += 1


def test_the_practitioner_unlocks_while_a_stranger_guesses(tmp_path: Path) -> None:
    with served_kit(tmp_path) as base:
        _, alone = timed_unlock(Phone(base, "127.0.0.3"))
        answers: Counter[int] = Counter()
        stop = threading.Event()
        strangers = [
            threading.Thread(target=_guess, args=(base, answers, stop, fresh))
            for fresh in (False, True)
        ]
        for stranger in strangers:
            stranger.start()
        try:
            wait_until(lambda: answers[429] >= 5, what="the stranger to be backing off")
            status, under_attack = timed_unlock(Phone(base, PRACTITIONER))
            guessing_s = 4.0  # and the stranger keeps trying a while longer
            before = answers.copy()
            time.sleep(guessing_s)
        finally:
            stop.set()
            for stranger in strangers:
                stranger.join(30)
    wrong_in_window = answers[401] - before[401]
    print(
        f"\nscrypt logN {WORK_FACTOR}: unlock alone {alone * 1000:.0f} ms; "
        f"under a guessing stranger {under_attack * 1000:.0f} ms (status {status}); "
        f"stranger's answers {dict(answers)}, of which {wrong_in_window} passphrases "
        f"actually tried in {guessing_s:.0f} s"
    )
    assert status == 302, "the practitioner's right passphrase must open the kit"
    assert under_attack < UNLOCK_BUDGET_S
    assert answers[429] > 0, "the stranger still backs off"
    # doubling waits: in 4 s one address gets at most ~3 real tries, cookie or not
    assert wrong_in_window <= 4


def test_the_practitioner_unlocks_while_200_idle_connections_are_open(tmp_path: Path) -> None:
    with served_kit(tmp_path) as base:
        port = urllib.parse.urlsplit(base).port or 80
        # 200 strangers with one idle connection each, and one stranger trying for 200
        many = [idle_connection(port, f"127.0.{1 + i // 200}.{1 + i % 200}") for i in range(200)]
        one = [idle_connection(port, STRANGER) for _ in range(200)]
        try:
            wait_until(lambda: sum(_closed(s) for s in one) == 200 - LIMITS.per_source)
            status, took = timed_unlock(Phone(base, PRACTITIONER))
            kept_many = sum(not _closed(s) for s in many)
        finally:
            for sock in many + one:
                sock.close()
    print(
        f"\nunlock with 200 idle connections from 200 addresses and 200 from one "
        f"(kept {LIMITS.per_source}): {took * 1000:.0f} ms (status {status}); "
        f"{kept_many} of the 200 single ones still open"
    )
    assert status == 302
    assert took < UNLOCK_BUDGET_S
    assert kept_many == 200  # under the limit, nothing of theirs is refused either


def test_waitress_defaults_fell_to_100_idle_connections(tmp_path: Path) -> None:
    """The attack as the review made it, against the old settings: the page stops
    answering (the test above is not passing by luck of the machine)."""
    old = ConnectionLimits(connection_limit=100, per_source=1000, channel_timeout_s=120)
    with served_kit(tmp_path, old) as base:
        port = urllib.parse.urlsplit(base).port or 80
        idle = [idle_connection(port, STRANGER) for _ in range(100)]
        practitioner = idle_connection(port, PRACTITIONER)
        try:
            practitioner.sendall(b"GET /unlock HTTP/1.1\r\nHost: vigkit.lan\r\n\r\n")
            practitioner.settimeout(2.0)
            try:
                answer = practitioner.recv(64)
            except TimeoutError:
                answer = b""
        finally:
            for sock in [*idle, practitioner]:
                sock.close()
    assert answer == b"", "the old settings answered: the attack did not reproduce"


def test_an_idle_connection_is_closed_after_the_channel_timeout(tmp_path: Path) -> None:
    short = ConnectionLimits(channel_timeout_s=1.0, cleanup_interval_s=0.5)
    with served_kit(tmp_path, short) as base:
        port = urllib.parse.urlsplit(base).port or 80
        sock = idle_connection(port, STRANGER)
        start = time.monotonic()
        try:
            wait_until(lambda: _closed(sock), timeout=10, what="the idle connection to close")
        finally:
            sock.close()
    print(f"\nan idle connection closed after {time.monotonic() - start:.1f} s (timeout 1 s)")


def _closed(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (it reads as end of file)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_the_back_off_follows_the_stranger_by_address_and_by_session() -> None:
    now = [1000.0]
    backoff = Backoff(lambda: now[0], max_clients=8)
    stranger = client_keys("10.42.0.9", "stranger's session")
    backoff.failed(stranger)
    for elsewhere in (
        client_keys("10.42.0.9", None),  # the cookie dropped: the address still waits
        client_keys("10.42.0.99", "stranger's session"),  # a new address, the same cookie
    ):
        with pytest.raises(TooManyTries):
            backoff.check(elsewhere)
    backoff.check(client_keys("10.42.0.5", "the practitioner's session"))  # never waits
    now[0] += 1.0
    backoff.check(stranger)  # the first wait was one second
    for n in range(20):  # made-up sessions cannot grow the table without end
        backoff.failed(client_keys(f"10.42.1.{n}", f"session {n}"))
    assert len(backoff._waits) == 8
