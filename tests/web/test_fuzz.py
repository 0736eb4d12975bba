"""Random and hostile requests over the whole page: never a 500, never a traceback.

One kit (a 30-second film recorded as fast as possible, so real playback paths are
hit) is shared by the module. Hypothesis varies paths, ids, methods, Range headers,
bodies, CSRF tokens and session cookies, both unlocked and locked; a seeded pass then
sends malformed raw HTTP to the same app behind waitress.
"""

from __future__ import annotations

import errno
import random
import re
import socket
import string
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.kit.assembly import Kit
from tests.web.web_helpers import FakeClock, HttpSession, csrf, make_kit, page_settings, unlock
from web.common.serving import make_server
from web.kit import KitApp, create_app

PATHS = [
    "/",
    "/unlock",
    "/lock",
    "/status",
    "/record",
    "/preview.jpg",
    "/recordings",
    "/recordings/{id}",
    "/recordings/{id}/film.mp4",
    "/recordings/{id}/thumbs/0.jpg",
    "/recordings/{id}/thumbs/99999999999999999999.jpg",
    "/static/app.css",
    "/static/../web/__init__.py",
    "/settings",
    "/settings/sync",
    "/recordings/{id}/notes",
    "/recordings/{id}/review",
    "/recordings/{id}/clips/c1.mp4",
    "/recordings/{id}/clips/{id}.mp4",
    "/recordings/{id}/clips/c1/export",
    "/recordings/{id}/clips/c1/download",
    "/recordings/{id}/stills",
    "/recordings/{id}/stills/s1.jpg",
    "/recordings/{id}/stills/{id}/download",
    "/cases",
    "/cases/unassigned",
    "/cases/current",
    "/cases/{id}",
    "/cases/{id}/consent",
    "/cases/{id}/cycles",
    "/cases/{id}/cycles/1/erase",
    "/cases/{id}/erase",
    "/cases/{id}/withdraw",
    "/recordings/{id}/case",
    "/recordings/{id}/erase",
]
HOSTILE = [
    "..",
    "../../etc/passwd",
    "%2e%2e%2f%2e%2e",
    "20260101T000000Z-abcd",
    "20260101T000000Z-abcd%00",
    "a" * 3000,
    "%ff%fe",
    "<script>alert(1)</script>",
    "'; DROP TABLE recordings; --",
    "\u202e\u0000",
    "{{7*7}}",
    "CON",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]
RANGES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "bytes=0-1",
            "bytes=0-",
            "bytes=-1",
            "bytes=-0",
            "bytes=9-1",
            "bytes=0-1,2-3",
            "bytes=99999999999999999999999-",
            "bytes=-99999999999999999999",
            "bytes= 1 - 2",
            "items=0-1",
            "bytes=\u00ff-",
            "bytes=0-1" * 500,
            "",
        ]
    ),
    st.builds(lambda a, b: f"bytes={a}-{b}", st.integers(-10, 10**12), st.integers(-10, 10**12)),
    st.text(st.characters(blacklist_characters="\r\n"), max_size=60),  # a header is a line
)
FORM_KEYS = st.sampled_from(["action", "passphrase", "csrf_token", "x", ""])
FORM_VALUES = st.one_of(
    st.sampled_from(["start", "stop", "toggle", "", "\x00", "a" * 20_000]), st.text(max_size=40)
)


@pytest.fixture(scope="module")
def fuzz_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kit, str]]:
    kit = make_kit(tmp_path_factory.mktemp("fuzz") / "data", fast=True)
    rec_id = kit.recorder.start(max_seconds=120)  # ~8 MB: more than waitress and TCP buffer
    assert kit.recorder.wait(60)
    yield kit, rec_id
    kit.close()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_kit: tuple[Kit, str]) -> Iterator[KitApp]:
    app = create_app(
        fuzz_kit[0],
        settings=page_settings(),
        secret_key="fuzz",
        idle_timeout_s=60,
        clock=FakeClock(),
    )
    yield app
    app.close()


def _check(response_status: int, body: bytes) -> None:
    assert response_status != 500, body[:400]
    assert response_status < 500 or response_status in (503, 507), response_status
    assert b"Traceback" not in body
    assert b'File "/' not in body


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(PATHS),
    rec_id=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.just("REAL")),
    method=st.sampled_from(METHODS),
    range_header=RANGES,
    form=st.dictionaries(FORM_KEYS, FORM_VALUES, max_size=3),
    token=st.sampled_from(["good", "none", "forged"]),
    unlocked=st.booleans(),
    accept=st.sampled_from(["text/html", "application/json", "*/*", "image/jpeg"]),
    query=st.sampled_from(["", "?v=1", "?t=%00", "?" + "x" * 3000]),
)
def test_any_request_gets_a_plain_answer(
    fuzz_app: KitApp,
    fuzz_kit: tuple[Kit, str],
    path: str,
    rec_id: str,
    method: str,
    range_header: str | None,
    form: dict[str, str],
    token: str,
    unlocked: bool,
    accept: str,
    query: str,
) -> None:
    kit, real_id = fuzz_kit
    with fuzz_app.test_client() as client:
        if unlocked:
            fuzz_app.services.keyring._clock.now += 61  # past any back-off
            assert unlock(client) == 302
        good = csrf(client, "/" if unlocked else "/unlock")
        headers = {"Accept": accept}
        if range_header is not None:
            headers["Range"] = range_header
        if token != "none":
            form = {**form, "csrf_token": good if token == "good" else "forged"}
        url = path.replace("{id}", real_id if rec_id == "REAL" else rec_id) + query
        try:
            response = client.open(url, method=method, headers=headers, data=form or None)
        except UnicodeError:  # the test client cannot even send it; nor can a browser
            return
        body = b"" if method == "HEAD" else response.get_data()
        response.close()
        _check(response.status_code, body)
    if kit.recorder.status.state != "idle":  # a fuzzed "start" got through: finish it
        kit.recorder.stop(wait=True)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OPS = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["set", "add", "update", "delete", "restore", "x"]),
        "field": st.sampled_from(
            ["case.code", "case.cycle", "consent.erase_by", "review.done", "x.y"]
        ),
        "list": st.sampled_from(["marks", "clips", "stills", "x"]),
        "id": st.sampled_from(["m1", "c1", "s1", "b1", ""]) | st.text(max_size=5),
        "value": JSON,
        "item": JSON,
        "fields": JSON,
    }
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(JSON, st.fixed_dictionaries({"ops": st.lists(OPS, max_size=4)})),
    path=st.sampled_from(
        ["/recordings/{id}/notes", "/recordings/{id}/stills", "/recordings/{id}/clips/c1/export"]
    ),
)
def test_any_json_to_the_notes_gets_a_plain_answer(
    fuzz_app: KitApp, fuzz_kit: tuple[Kit, str], body: object, path: str
) -> None:
    """Hostile or random notes operations: a sentence (400/404), never a 500."""
    with fuzz_app.test_client() as client:
        fuzz_app.services.keyring._clock.now += 61
        assert unlock(client) == 302
        response = client.post(
            path.replace("{id}", fuzz_kit[1]),
            json=body,
            headers={"Accept": "application/json", "X-CSRF-Token": csrf(client, "/")},
        )
        _check(response.status_code, response.get_data())
        assert response.status_code in (200, 400, 404, 409), response.get_data()[:300]
        assert response.get_json()


CASE_OPS = st.fixed_dictionaries(
    {
        "op": st.sampled_from(
            ["question", "notes", "consent", "close", "reopen", "new_cycle", "withdraw", "x"]
        ),
        "text": JSON,
        "base": JSON,
        "cycle": JSON,
        "on": JSON,
        "consent": JSON,
        "question": JSON,
    }
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        JSON,
        st.fixed_dictionaries({"ops": st.lists(CASE_OPS, max_size=4)}),
        st.fixed_dictionaries({"code": JSON, "question": JSON, "consent": JSON, "case": JSON}),
    ),
    path=st.sampled_from(
        [
            "/cases",
            "/cases/current",
            "/cases/{case}",
            "/cases/{case}/consent",
            "/cases/{case}/cycles",
            "/cases/{case}/erase",
            "/cases/{case}/withdraw",
            "/cases/{case}/cycles/1/erase",
            "/recordings/{id}/case",
            "/recordings/{id}/erase",
        ]
    ),
)
def test_any_json_to_the_cases_gets_a_plain_answer(
    fuzz_app: KitApp, fuzz_kit: tuple[Kit, str], body: object, path: str
) -> None:
    """Hostile or random case changes: a sentence (400/404/409), never a 500."""
    kit, rec_id = fuzz_kit
    case_id = kit.library.index.get(rec_id).case_id or "case-000000000000"
    with fuzz_app.test_client() as client:
        fuzz_app.services.keyring._clock.now += 61
        assert unlock(client) == 302
        response = client.post(
            path.replace("{id}", rec_id).replace("{case}", case_id),
            json=body,
            headers={"Accept": "application/json", "X-CSRF-Token": csrf(client, "/")},
        )
        _check(response.status_code, response.get_data())
        assert response.status_code in (200, 201, 400, 404, 409), response.get_data()[:300]
        assert response.get_json()


def test_expired_session_and_stale_cookies(fuzz_app: KitApp, fuzz_kit: tuple[Kit, str]) -> None:
    clock: FakeClock = fuzz_app.services.keyring._clock
    with fuzz_app.test_client() as client:
        assert unlock(client) == 302
        token = csrf(client, "/")
        clock.now += 3600  # idle for an hour: the kit forgot its key
        for method, path in [
            ("GET", "/"),
            ("GET", f"/recordings/{fuzz_kit[1]}/film.mp4"),
            ("POST", "/record"),
        ]:
            response = client.open(
                path, method=method, data={"action": "start", "csrf_token": token}
            )
            _check(response.status_code, response.get_data())
            assert response.status_code in (302, 401)
        client.set_cookie("vigkit", "not-a-signed-cookie")
        response = client.get("/")
        assert response.status_code == 302
        client.set_cookie("vigkit", "x" * 4000)
        _check(client.get("/status").status_code, b"")


def test_oversized_form_is_a_413(fuzz_app: KitApp) -> None:
    with fuzz_app.test_client() as client:
        response = client.post("/unlock", data={"passphrase": "p" * 100_000})
        assert response.status_code == 413
        assert b"more than this page accepts" in response.get_data()


@pytest.fixture(scope="module")
def live(fuzz_app: KitApp) -> Iterator[int]:
    server = make_server(fuzz_app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server.port
    server.stop()
    thread.join(10)
    server.close()


def _raw(port: int, request: bytes) -> bytes:
    """Send one raw request and return whatever the server said before closing.

    waitress may answer an oversized or unparseable request early and close the
    socket while we are still sending: that is a refusal, not a failure, so what it
    already answered is still returned (and checked by the caller)."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                raise
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def test_malformed_raw_http_through_waitress(live: int, fuzz_kit: tuple[Kit, str]) -> None:
    rng = random.Random(4)
    junk = string.printable + "\x00\xff\u00e9"
    requests = [
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /recordings/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /unlock HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc",
        b"POST /unlock HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nCookie: vigkit=" + b"A" * 10000 + b"\r\n\r\n",
        b"GET /recordings/" + fuzz_kit[1].encode() + b"/film.mp4 HTTP/1.1\r\nHost: x\r\n"
        b"Range: bytes=0-1\r\n\r\n",
        b"BREW /coffee HTCPCP/1.0\r\n\r\n",
        b"\r\n\r\n",
    ]
    for _ in range(40):
        line = "".join(rng.choice(junk) for _ in range(rng.randint(1, 200)))
        requests.append(f"GET /{line} HTTP/1.1\r\nHost: x\r\n\r\n".encode("utf-8", "replace"))
    big = b"POST /unlock HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b"p" * 200000
    requests.append(big)
    for request in requests:
        answer = _raw(live, request)
        status = answer.split(b"\r\n", 1)[0]
        assert b" 500 " not in status, (request[:80], status)
        assert b"Traceback" not in answer, request[:80]
        if request is big and answer:
            assert b" 413 " in status, status


def test_waitress_never_buffers_a_film_to_a_file(
    live: int, fuzz_kit: tuple[Kit, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """waitress spills a big response buffer into a temporary file: for a film read
    slowly that would be plaintext on disk. A slow reader must never trigger it."""
    import waitress.buffers

    spilled: list[int] = []
    original = waitress.buffers.TempfileBasedBuffer.__init__

    def spy(self: object, *args: object) -> None:
        spilled.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(waitress.buffers.TempfileBasedBuffer, "__init__", spy)
    web = HttpSession(f"http://127.0.0.1:{live}")
    assert web.unlock() == 302
    cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", live))
        sock.sendall(
            f"GET /recordings/{fuzz_kit[1]}/film.mp4 HTTP/1.1\r\nHost: x\r\n"
            f"Cookie: {cookie}\r\n\r\n".encode()
        )
        got = sock.recv(4096)  # then stop reading, as a paused phone does
        assert got.startswith(b"HTTP/1.1 200"), got[:40]
        size = int(re.search(rb"Content-Length: (\d+)", got).group(1))  # type: ignore[union-attr]
        assert size > 6 * 2**20  # more than waitress and the sockets hold by default
        threading.Event().wait(3)  # the server's writer runs into the full socket
    assert spilled == []
