"""The TLS front as the kit runs it: Debian's nginx in front of waitress, for real.

Each test starts ``SecureServer`` (nginx + waitress) with a certificate from a demo CA and
talks to it over real sockets with Python's ``ssl`` (OpenSSL) trusting that CA only."""

from __future__ import annotations

import http.client
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from device.errors import ConfigError
from device.tls import KitTls, demo_tls
from tests.web.web_helpers import free_port, serving, wait_until
from web.common.serving import MAX_REQUEST_BODY
from web.common.tls_front import SecureServer

HOST = "127.0.0.1"
BIG = 8 << 20  # an answer far beyond every buffer on the way


def _echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Says who asked and how; ``/big`` sends ``BIG`` bytes; a POST says how much came."""
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Length", str(BIG))])
        return (b"x" * (1 << 16) for _ in range(BIG >> 16))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    got = len(environ["wsgi.input"].read(length)) if length else 0
    body = f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']} {got}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> KitTls:
    data = tmp_path_factory.mktemp("tls") / "data"
    return demo_tls(data, ("localhost",), (ipaddress.IPv4Address(HOST),))


def _server(tls: KitTls, app: Any = _echo, https_port: int = 0) -> SecureServer:
    return SecureServer(
        app,
        HOST,
        https_port=https_port or free_port(),
        http_port=free_port(),
        chain_file=tls.certificate,
        key_file=tls.key,
    )


@contextmanager
def served(tls: KitTls) -> Iterator[SecureServer]:
    server = _server(tls)
    with serving(server):
        yield server


def _client(tls: KitTls, **versions: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca))
    for name, version in versions.items():
        setattr(context, name, version)
    return context


def _get(
    server: SecureServer, tls: KitTls, path: str = "/", source: str = HOST, **kw: Any
) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection(
        HOST, server.port, context=_client(tls), source_address=(source, 0), timeout=30
    )
    try:
        connection.request(kw.pop("method", "GET"), path, **kw)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_the_page_learns_the_phones_address_and_scheme_and_no_forged_header(tls: KitTls) -> None:
    with served(tls) as server:
        forged = {
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "http",
            "Forwarded": "for=6.6.6.6",
        }
        status, body = _get(server, tls, source="127.0.0.2", headers=forged)
        assert (status, body.decode()) == (200, "127.0.0.2 https 0")
        plain = http.client.HTTPConnection(HOST, server.http_port, source_address=("127.0.0.3", 0))
        plain.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
        assert plain.getresponse().read().decode() == "127.0.0.3 http 0"
        plain.close()


def test_only_tls_1_2_and_1_3_are_spoken(tls: KitTls) -> None:
    with served(tls) as server:
        for top, expected in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (None, "TLSv1.3")):
            context = _client(tls) if top is None else _client(tls, maximum_version=top)
            with (
                socket.create_connection((HOST, server.port)) as raw,
                context.wrap_socket(raw, server_hostname="localhost") as s,
            ):
                assert s.version() == expected
        # a client willing to speak only TLS 1.0/1.1 (allowed on the client's side here)
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(str(tls.ca))
        old.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():  # deprecated: which is why the kit refuses them
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection((HOST, server.port)) as raw, pytest.raises(ssl.SSLError):
            old.wrap_socket(raw, server_hostname="localhost").close()


def test_a_client_without_the_ca_is_refused_by_its_own_check(tls: KitTls) -> None:
    with (
        served(tls) as server,
        socket.create_connection((HOST, server.port)) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")


def _files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_nothing_passing_through_the_front_touches_the_disk(tls: KitTls) -> None:
    """A slow reader of a big answer and the largest form the page takes: nginx keeps both
    in memory (its temporary folders stay empty); a larger body is refused (413)."""
    with served(tls) as server:
        run_dir = server.front.run_dir
        connection = http.client.HTTPSConnection(HOST, server.port, context=_client(tls))
        connection.request("GET", "/big")
        answer = connection.getresponse()
        read = len(answer.read(1 << 16))
        time.sleep(1.0)  # the phone pauses: everything behind it waits in buffers
        assert _files_in(run_dir) == {"nginx.conf", "nginx.pid"}
        while chunk := answer.read(1 << 20):
            read += len(chunk)
        assert read == BIG
        connection.close()
        form = b"n" * (MAX_REQUEST_BODY - 1024)
        status, body = _get(server, tls, "/form", method="POST", body=form)
        assert (status, body.split()[-1]) == (200, str(len(form)).encode())
        status, _ = _get(server, tls, "/form", method="POST", body=b"n" * (MAX_REQUEST_BODY + 1))
        assert status == 413
        assert _files_in(run_dir) == {"nginx.conf", "nginx.pid"}


def test_nginx_that_dies_is_started_again(tls: KitTls) -> None:
    with served(tls) as server:
        first = server.front.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: server.front.pid not in (None, first), 15, "a new nginx")

        def answers() -> bool:
            try:
                return _get(server, tls)[0] == 200
            except OSError:
                return False

        wait_until(answers, 15, "the page again")


def _run_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("vigkit-tls-*"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_killed_kit_leaves_no_nginx_behind(tls: KitTls, tmp_path: Path) -> None:
    """SIGKILL to the kit (no clean-up runs): nginx goes with it, freeing the ports."""
    port = free_port()
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from tests.web.test_tls_front import _echo
        from web.common.tls_front import SecureServer
        s = SecureServer(_echo, "{HOST}", https_port={port}, http_port={free_port()},
                         chain_file=Path("{tls.certificate}"), key_file=Path("{tls.key}"))
        print(s.front.pid, flush=True)
        time.sleep(120)
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as kit:
        assert kit.stdout is not None
        nginx = int(kit.stdout.readline())
        assert _alive(nginx)
        kit.kill()
        kit.wait()
        wait_until(lambda: not _alive(nginx), 10, "nginx to end with the kit")
    with socket.socket() as again:  # the port is free for the next start
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind((HOST, port))


def test_a_certificate_that_is_not_the_keys_is_refused_in_words(
    tls: KitTls, tmp_path: Path
) -> None:
    other = demo_tls(tmp_path / "other", ("localhost",), (ipaddress.IPv4Address(HOST),))
    mismatched = KitTls(tls.folder.parent / "mismatched")
    mismatched.folder.mkdir()
    mismatched.certificate.write_bytes(tls.certificate.read_bytes())
    mismatched.key.write_bytes(other.key.read_bytes())
    before = _run_dirs()
    with pytest.raises(ConfigError) as refused:
        _server(mismatched)
    assert _run_dirs() == before  # nothing left behind
    said = str(refused.value)
    assert "secure page cannot start" in said and "key" in said, said
    assert "vigkit tls install" in refused.value.hint


def test_a_port_in_use_is_said_in_words(tls: KitTls) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        with pytest.raises(ConfigError) as refused:
            _server(tls, https_port=taken.getsockname()[1])
    assert "port" in str(refused.value) and "is in use" in str(refused.value), refused.value
