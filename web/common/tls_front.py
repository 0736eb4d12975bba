"""The page over HTTPS: Debian's nginx in front of waitress, as a child of the kit.

waitress has no TLS. Of the ways to add it, nginx in front was chosen (docs/security.md,
"HTTPS on the hotspot"): it is maintained by Debian with security updates, it does the
TLS handshake without blocking (a pure-Python server such as cheroot does the handshake on
its accepting thread, so a stranger's unfinished handshakes would stall every phone), it
holds hundreds of idle connections in a few MB, and it costs a 64 KiB range well under a
millisecond here (``bench/tls.py``). waitress stays as it is, on 127.0.0.1 only.

What the front must never do, and the settings that keep it so:

- **Write plaintext to disk.** nginx spills a proxied answer that outruns the client to a
  temporary file, and a request body larger than its buffer too. Here answers are never
  buffered (``proxy_buffering off``, ``proxy_max_temp_file_size 0``: nginx reads from
  waitress only as fast as the phone takes it, and waitress's own limits keep its buffer in
  memory, see ``web.common.serving``), and a request body bigger than the in-memory buffer
  is refused (``client_max_body_size`` = ``client_body_buffer_size``). Its temporary
  folders live in the run folder and stay empty (a test checks).
- **Hide who asks.** waitress learns the phone's real address and the scheme from
  ``X-Forwarded-For`` / ``X-Forwarded-Proto``, set here (never passed on from the client)
  and trusted from 127.0.0.1 only: the per-client back-off and limits see the phone.
- **Let one client crowd out the rest.** The same limits as the page's
  (``web.common.limits``): connections per address, idle connections closed after
  ``channel_timeout_s``, slow headers and bodies closed after ``SLOW_CLIENT_S``.

The kit starts nginx itself (not a second systemd unit) so the demo, the tests and the kit
run the same front; ``setpriv --pdeathsig`` ends it if the kit's process dies. It runs as
the kit's user and inherits the kit's one capability, binding ports 80 and 443.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from device.errors import ConfigError
from device.threads import BackgroundThread
from web.common.limits import LIMITS, ConnectionLimits
from web.common.serving import FRONT_ADDRESS, MAX_REQUEST_BODY, KitServer

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["NGINX", "FrontSettings", "SecureServer", "TlsFront", "nginx_config"]

log = logging.getLogger(__name__)

NGINX = "/usr/sbin/nginx"
SETPRIV = "/usr/bin/setpriv"  # util-linux: ends nginx when the kit's process dies
START_S = 10.0  # nginx listens within milliseconds; a loaded CI machine may take seconds
STOP_S = 5.0
RESTART_PAUSE_S = 1.0
SLOW_CLIENT_S = 10  # a request's headers or body must arrive within this
SEND_TIMEOUT_S = 60  # a paused film's answer is dropped after this; the player asks again
NOBODY = 65534  # the uid nginx started by root gives its worker
STDERR_LINES = 20  # nginx's last words, for the error when it will not start

# Mozilla's "intermediate" TLS settings (TLS 1.2 and 1.3 only), for ECDSA and RSA keys.
CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


@dataclass(frozen=True)
class FrontSettings:
    """Where the front listens, its certificate, and the waitress it passes requests to."""

    host: str  # 0.0.0.0 on a kit (the hotspot); 127.0.0.1 for the demo and the tests
    https_port: int
    http_port: int  # plain HTTP: the landing page and the phones' connectivity probes
    chain_file: Path  # the kit's certificate and the organisation's CA, PEM
    key_file: Path
    upstream_port: int  # waitress, on 127.0.0.1
    limits: ConnectionLimits = field(default=LIMITS)


def nginx_config(settings: FrontSettings, run_dir: Path) -> str:
    """nginx's whole configuration for ``settings``; every path inside ``run_dir``."""
    s, lim = settings, settings.limits
    body = f"{MAX_REQUEST_BODY // 1024}k"
    host = f"[{s.host}]" if ":" in s.host else s.host
    return f"""# Written by VIG Kit (web/common/tls_front.py) at each start; edits are lost.
{_one_process()}worker_processes 1;
worker_rlimit_nofile {lim.open_files};
pid {run_dir}/nginx.pid;
error_log stderr warn;
events {{
    # every phone's connection may hold one to waitress too
    worker_connections {2 * lim.connection_limit + 16};
}}
http {{
    access_log off;
    server_tokens off;
    default_type application/octet-stream;

    # never a file on disk: see web/common/tls_front.py
    client_body_temp_path {run_dir}/client_body;
    proxy_temp_path {run_dir}/proxy;
    fastcgi_temp_path {run_dir}/fastcgi;
    uwsgi_temp_path {run_dir}/uwsgi;
    scgi_temp_path {run_dir}/scgi;
    client_max_body_size {body};
    client_body_buffer_size {body};
    proxy_buffering off;
    proxy_request_buffering off;
    proxy_max_temp_file_size 0;

    client_header_timeout {SLOW_CLIENT_S}s;
    client_body_timeout {SLOW_CLIENT_S}s;
    keepalive_timeout {int(lim.channel_timeout_s)}s;
    send_timeout {SEND_TIMEOUT_S}s;
    limit_conn_zone $binary_remote_addr zone=per_source:1m;
    limit_conn per_source {lim.per_source};
    limit_conn_status 429;

    upstream page {{
        server 127.0.0.1:{s.upstream_port};
        keepalive 16;
        keepalive_timeout {int(lim.channel_timeout_s) - 5}s;  # before waitress closes it
    }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header Forwarded "";
    proxy_read_timeout 300s;

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers {CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_session_cache shared:vigkit_tls:1m;
    ssl_session_timeout 1h;
    ssl_session_tickets off;

    server {{
        listen {host}:{s.https_port} ssl;
        ssl_certificate {s.chain_file};
        ssl_certificate_key {s.key_file};
        location / {{
            proxy_pass http://page;
        }}
    }}
    server {{
        # plain HTTP: the page answers only its landing page and the probes here
        listen {host}:{s.http_port};
        location / {{
            proxy_pass http://page;
        }}
    }}
}}
"""


def _one_process() -> str:
    """On a kit nginx runs as the kit's own user: nothing to say. Started by root (a
    developer's machine, CI) nginx runs its worker as ``nobody``; in a user namespace that
    maps root alone (tests/web/test_full_card.py makes one) there is no ``nobody`` to
    become and no groups may be set, so nginx runs as one process, dropping nothing."""
    if os.geteuid() != 0:
        return ""
    try:
        mapping = Path("/proc/self/uid_map").read_text()
    except OSError:
        return ""
    for line in mapping.splitlines():
        inside, _, count = (int(n) for n in line.split())
        if inside <= NOBODY < inside + count:
            return ""
    return "user root root;\nmaster_process off;\n"


class TlsFront:
    """nginx for ``settings``, started now, restarted if it stops, ended by ``close``."""

    def __init__(self, settings: FrontSettings, run_dir: Path | None = None) -> None:
        for tool in (NGINX, SETPRIV):
            if shutil.which(tool) is None:
                raise ConfigError(
                    f"{tool} is missing: the page cannot be served over HTTPS",
                    hint="Install it (scripts/install.sh on a kit, scripts/bootstrap.sh here).",
                )
        self.settings = settings
        self._own_dir = run_dir is None
        self.run_dir = run_dir or Path(tempfile.mkdtemp(prefix="vigkit-tls-"))
        self.config_file = self.run_dir / "nginx.conf"
        self.config_file.write_text(nginx_config(settings, self.run_dir))
        conf = str(self.config_file)
        self._command = [NGINX, "-e", "stderr", "-p", f"{self.run_dir}/", "-c", conf]
        try:
            self._check()
            self._ports_free()
        except ConfigError:
            if self._own_dir:
                shutil.rmtree(self.run_dir, ignore_errors=True)
            raise
        self._closing = threading.Event()
        self._started = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._said: deque[str] = deque(maxlen=STDERR_LINES)
        self._failure: str | None = None
        # started from a thread that lives as long as nginx: the parent-death signal is
        # sent when the *thread* that started the child ends
        self._thread = BackgroundThread(self._supervise, name="vigkit-tls", stopping=self._closing)
        self._thread.start()
        self._wait_listening()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _check(self) -> None:
        """``nginx -t``: a missing or mismatched certificate is said before anything runs."""
        done = subprocess.run(
            [*self._command, "-t", "-q"], capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            words = " ".join(line.strip() for line in done.stderr.splitlines()[-3:])
            raise ConfigError(
                f"the secure page cannot start: nginx says: {words}",
                hint="Check the kit's certificate (vigkit tls install) and that no other "
                "program uses the page's ports.",
            )

    def _supervise(self) -> None:
        while not self._closing.is_set():
            # its own process group: a worker left by a master that died is ended with it
            process = subprocess.Popen(
                [SETPRIV, "--pdeathsig", "TERM", *self._command, "-g", "daemon off;"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                process_group=0,
            )
            self._process = process
            self._started.set()
            reader = BackgroundThread(self._read, process, name="vigkit-tls-log")
            reader.start()
            code = process.wait()
            _end_group(process.pid)  # its workers, if the master died without them
            reader.join_within()
            if self._closing.is_set():
                return
            log.error("the secure page stopped (nginx exit %d): starting it again", code)
            self._failure = f"nginx exit {code}: " + " ".join(self._said)
            if self._closing.wait(RESTART_PAUSE_S):
                return

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        """nginx's words, into the kit's log (and kept for an error at start)."""
        assert process.stderr is not None
        with process.stderr:
            for raw in process.stderr:  # until every nginx process has gone
                line = raw.decode("utf-8", "replace").rstrip()
                self._said.append(line)
                log.warning("nginx: %s", line)

    def _ports_free(self) -> None:
        """Bind each port for a moment: a port in use is said now, in words (nginx would
        retry for seconds, and something else listening there would look like nginx)."""
        for port in (self.settings.https_port, self.settings.http_port):
            family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
            with socket.socket(family) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.settings.host, port))
                except OSError as e:
                    raise ConfigError(
                        f"the secure page cannot start: port {port} is in use ({e.strerror})",
                        hint="Another program may be using the port; stop it or choose "
                        "another port.",
                    ) from e

    def _wait_listening(self) -> None:
        """Until nginx has bound its ports (its pid file is written after) and answers."""
        self._started.wait(START_S)
        deadline = time.monotonic() + START_S
        host = self.settings.host
        connect_to = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        pid_file = self.run_dir / "nginx.pid"
        while time.monotonic() < deadline:
            process = self._process
            if process is not None and process.poll() is not None:
                break
            try:
                if pid_file.exists():
                    with socket.create_connection((connect_to, self.settings.https_port), 1):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        said = " ".join(self._said) or self._failure or "nothing"
        self.close()
        raise ConfigError(
            f"the secure page did not start on port {self.settings.https_port}: nginx said: {said}",
            hint="Check the kit's log (journalctl -u vigkit) for nginx's words.",
        )

    def close(self) -> None:
        """End nginx (its connections close) and remove the run folder if it made it."""
        self._closing.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_S)
        self._thread.join_within()
        if self._own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _end_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # nothing left: the usual case
        os.killpg(pgid, signal.SIGKILL)


class SecureServer:
    """The page as a kit serves it: waitress on 127.0.0.1 (a free port) behind the TLS
    front listening on ``host``. ``serve``/``stop``/``close`` as ``KitServer``'s."""

    def __init__(
        self,
        app: WSGIApplication,
        host: str,
        *,
        https_port: int,
        http_port: int,
        chain_file: Path,
        key_file: Path,
        run_dir: Path | None = None,
    ) -> None:
        self.page = KitServer(app, FRONT_ADDRESS, 0, behind_front=True)
        try:
            self.front = TlsFront(
                FrontSettings(host, https_port, http_port, chain_file, key_file, self.page.port),
                run_dir,
            )
        except BaseException:
            self.page.close()
            raise

    @property
    def port(self) -> int:
        """The HTTPS port (the address phones open)."""
        return self.front.settings.https_port

    @property
    def http_port(self) -> int:
        return self.front.settings.http_port

    def serve(self) -> None:
        self.page.serve()

    def stop(self) -> None:
        self.page.stop()

    def close(self) -> None:
        """The front first (phones' connections end), then waitress."""
        try:
            self.front.close()
        finally:
            self.page.close()
